/**
 * Traces of a webhook's whole way, seen by an in-memory exporter: the webhook, its turn (after the
 * ack), the delivery of the reply and its platform call are one trace; a `traceparent` the request
 * carries is its parent; no span carries a configured secret or the text of a message.
 */
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MENU_TEXT } from '../../../src/bot/support-dialog';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { tracedProcessor } from '../../../src/scheduling/conversation-scheduler';
import { BufferedTurnWrites } from '../../../src/storage/turn-writes';
import { startTracing, type TracingHandle } from '../../../src/tracing/start-tracing';
import { carriedContext, carryTrace, inSpan } from '../../../src/tracing/tracer';
import { startHarness, type Harness } from '../../helpers/harness';
import { startWoztellHarness } from '../../helpers/woztell-harness';
import { conversation, messageCreated, postSigned } from '../../helpers/payloads';

const exporter = new InMemorySpanExporter();
let tracing: TracingHandle | undefined;
let h: Harness | undefined;

beforeAll(() => {
  tracing = startTracing({}, { spanProcessor: new SimpleSpanProcessor({ exporter }) });
});
afterAll(async () => {
  await tracing?.shutdown();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  exporter.reset();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const traceId = (span: ReadableSpan) => span.spanContext().traceId;

async function until(check: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; waited < ms && !check(); waited += 20) await new Promise((r) => setTimeout(r, 20));
}

describe('traces', () => {
  it('a customer message: webhook → turn → the reply delivered → its Nimchat call, one trace, no secret and no text in it', async () => {
    expect(tracing).toBeDefined();
    h = await startHarness();
    const c = await h.customer('Ada');
    exporter.reset();
    await c.say('where is my order 1234?');
    await until(() => exporter.getFinishedSpans().some((s) => s.name === 'POST' && s.attributes['handoff.platform'] === 'nimchat'));
    await h.settle();
    expect(await c.received()).toEqual([MENU_TEXT]);

    const spans = exporter.getFinishedSpans();
    const webhook = spans.find((s) => s.name === 'nimchat webhook')!;
    expect(webhook).toBeDefined();
    expect(webhook.attributes['http.response.status_code']).toBe(200);
    const trace = spans.filter((s) => traceId(s) === traceId(webhook));
    const turn = trace.find((s) => s.name === 'nimchat turn')!;
    const delivery = trace.find((s) => s.name === 'nimchat message')!;
    const call = trace.find((s) => s.name === 'POST')!;
    expect(parentOf(turn)).toBe(spanId(webhook));
    expect(turn.attributes['handoff.conversation.id']).toBe(`1:${c.conversationId}`);
    expect(parentOf(delivery)).toBe(spanId(turn));
    expect(delivery.attributes['handoff.action.outcome']).toBe('finished');
    expect(parentOf(call)).toBe(spanId(delivery));
    expect(call.attributes['url.path']).toBe(`/api/v1/accounts/1/conversations/${c.conversationId}/messages`);
    expect(call.attributes['http.response.status_code']).toBe(200);

    // Nothing a span carries is a secret or a message's words.
    const carried = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
    for (const secret of [h.secret, h.botToken]) expect(carried).not.toContain(secret);
    expect(carried).not.toContain('1234');
    expect(carried).not.toContain(MENU_TEXT);
  });

  it('WOZTELL: the same way, and its access token (sent in the query) is in no span', async () => {
    const w = await startWoztellHarness();
    try {
      const m = w.sandbox.createMember('Ada');
      w.sandbox.customerSays(m.memberId, { text: 'my parcel 5678' });
      await w.settle();
      await until(() => exporter.getFinishedSpans().some((s) => s.name === 'POST' && s.attributes['handoff.platform'] === 'woztell'));
      const spans = exporter.getFinishedSpans();
      const webhook = spans.find((s) => s.name === 'woztell webhook' && s.attributes['http.response.status_code'] === 200)!;
      const names = spans.filter((s) => traceId(s) === traceId(webhook)).map((s) => s.name);
      expect(names).toEqual(expect.arrayContaining(['woztell webhook', 'woztell turn', 'woztell message', 'POST']));
      const carried = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
      for (const secret of [w.sandbox.accessToken, w.sandbox.channelSecret]) expect(carried).not.toContain(secret);
      expect(carried).not.toContain('5678');
    } finally {
      await w.close();
    }
  });

  it("a webhook carrying a traceparent is a child of the caller's span", async () => {
    h = await startHarness();
    const c = await h.customer('Bo');
    exporter.reset();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const body = messageCreated({ id: 98_765, content: 'hello' }, conversation(c.conversationId));
    const answer = await postSigned(h.botUrl, h.secret, body, { delivery: 'traced-1', headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } });
    expect(answer.status).toBe(200);
    await until(() => exporter.getFinishedSpans().some((s) => s.name === 'nimchat message'));
    await h.settle();
    const webhook = exporter.getFinishedSpans().find((s) => s.name === 'nimchat webhook')!;
    expect(traceId(webhook)).toBe(callerTrace);
    expect(parentOf(webhook)).toBe(callerSpan);
    const names = exporter.getFinishedSpans().filter((s) => traceId(s) === callerTrace).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['nimchat webhook', 'nimchat turn', 'nimchat message', 'POST']));
  });

  it('the context travels with the stored work: a turn run in another context (a restart, another replica) is still the webhook\'s child, and so is the delivery of what it asked for', async () => {
    let stored: unknown;
    await inSpan('nimchat webhook', {}, async () => {
      stored = carryTrace({ activity: { type: 'message' } });
    });
    let action: { payload: unknown } | undefined;
    const turn = tracedProcessor('nimchat', async () => {
      const writes = new BufferedTurnWrites(async () => ({}), async () => ({ outboxIds: [] }));
      action = writes.addOutbox({ platform: 'nimchat', conversationId: '1:5', kind: 'message', payload: { activity: {} } });
    });
    // Nothing of the webhook's context is active here.
    await context.with(ROOT_CONTEXT, () => turn({ id: 1, platform: 'nimchat', conversationId: '1:5', payload: stored, receivedAt: 0, attempts: 0 }));
    await context.with(ROOT_CONTEXT, () => inSpan('nimchat message', { parent: carriedContext(action!.payload) }, async () => undefined));
    const [webhook, turnSpan, delivery] = ['nimchat webhook', 'nimchat turn', 'nimchat message'].map((name) => exporter.getFinishedSpans().find((span) => span.name === name)!);
    expect(parentOf(turnSpan!)).toBe(spanId(webhook!));
    expect(traceId(turnSpan!)).toBe(traceId(webhook!));
    expect(parentOf(delivery!)).toBe(spanId(turnSpan!));
  });
});
