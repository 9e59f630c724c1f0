/** The pipeline with a fake connector: no HTTP, no platform; plain data in, what the connector was asked to do out. */
import { describe, expect, it } from 'vitest';
import { ActivityTypes, type Activity, type TurnContext } from 'botbuilder-core';
import { PlatformApiError } from '../../../src/errors';
import { Metrics } from '../../../src/metrics';
import { ChannelAdapter } from '../../../src/pipeline/channel-adapter';
import { runStep, type Connector, type PlanResult, type StepProgress } from '../../../src/pipeline/connector';
import { PipelineRuntime } from '../../../src/pipeline/pipeline-runtime';
import type { OwnershipEvent } from '../../../src/ownership';
import type { WebhookInput } from '../../../src/http/webhook-io';
import type { ErrorCode } from '../../../src/error-codes';
import { promptInView, type PromptInView } from '../../../src/control/prompt-in-view';

interface FakeBody {
  conv: string;
  id: string;
  text?: string;
  ownership?: OwnershipEvent[];
  ignore?: boolean;
}

class FakeConnector implements Connector {
  readonly platform = 'fake';
  readonly channelId = 'fake';
  readonly serviceUrl = 'http://fake';
  readonly redeliverStatus = 503;
  readonly sent: string[] = [];
  readonly steps: string[] = [];
  failSends = 0;
  failStep?: { step: string; times: number };

  authenticate(input: WebhookInput): ReturnType<Connector['authenticate']> {
    return input.headers['x-key'] === 'ok' ? {} : { refused: { status: 401, code: 'fake_unauthorized' as ErrorCode, message: 'no key' } };
  }

  plan(body: unknown): PlanResult {
    const b = body as FakeBody;
    if (typeof b.conv !== 'string' || typeof b.id !== 'string') throw new TypeError('not a fake body');
    if (b.ignore) return { ignored: 'told to' };
    return {
      event: {
        conversationId: b.conv,
        dedupeKeys: [`fake:${b.id}`],
        ownership: b.ownership ?? [],
        activity: {
          type: ActivityTypes.Message,
          id: b.id,
          text: b.text ?? b.id,
          channelId: 'fake',
          serviceUrl: this.serviceUrl,
          conversation: { id: b.conv, isGroup: false, conversationType: 'fake', name: b.conv },
          from: { id: `user-${b.conv}`, name: 'Ada', role: 'user' },
          recipient: { id: 'bot', name: 'Bot', role: 'bot' },
          timestamp: new Date(),
        },
      },
    };
  }

  checkConversationId(): void {}

  async sendMessage(activity: Partial<Activity>): Promise<string> {
    if (this.failSends > 0) {
      this.failSends--;
      throw new PlatformApiError('fake', 500, 'POST', '/messages', 'down');
    }
    this.sent.push(`${activity.conversation!.id}:${activity.text}`);
    return String(this.sent.length);
  }

  parseControl(value: unknown) {
    return value as Record<string, never>;
  }

  async handoff(_conversationId: string, _request: unknown, note: string, progress: StepProgress) {
    for (const step of ['note', 'assign', 'open']) {
      await runStep(progress, step, async () => {
        if (this.failStep?.step === step && this.failStep.times-- > 0) throw new PlatformApiError('fake', 503, 'POST', `/${step}`, 'down');
        this.steps.push(step === 'note' ? `note:${note.split('\n')[0]}` : step);
      });
    }
    return { platformStatus: 'open', message: 'handed over' };
  }

  async control(): Promise<void> {}
}

function setup(options: { logic?: (context: TurnContext) => Promise<void>; backlogLimit?: number } = {}) {
  const connector = new FakeConnector();
  const metrics = new Metrics();
  const runtime = new PipelineRuntime({ metrics, backlogLimit: options.backlogLimit, outbox: { baseDelayMs: 5, maxDelayMs: 20 } });
  const seen: Array<Partial<Activity>> = [];
  const welcomed: Array<Partial<Activity>> = [];
  const logic =
    options.logic ??
    (async (context: TurnContext) => {
      if (context.activity.type === ActivityTypes.ConversationUpdate) {
        welcomed.push(context.activity);
        await context.sendActivity('welcome');
        return;
      }
      seen.push(context.activity);
      if (context.activity.type === 'message') await context.sendActivity(`echo ${context.activity.text}`);
    });
  const silenced: string[] = [];
  const adapter = new ChannelAdapter(connector, { runtime, logic, onSilencedMessage: async (context, owner) => void silenced.push(`${owner}:${context.activity.text}`) });
  const post = (body: unknown, key = 'ok') =>
    adapter.handle({ method: 'POST', headers: { 'x-key': key }, rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), query: new URLSearchParams() });
  const idle = async () => {
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await runtime.queue.onIdle();
      await runtime.delivery.whenIdle(100);
      if (runtime.queue.depth === 0 && runtime.delivery.backlog === 0 && runtime.scheduler.backlog === 0) return;
    }
  };
  return { connector, runtime, metrics, adapter, post, idle, seen, welcomed, silenced };
}

describe('ChannelPipeline with a fake connector', () => {
  it('refuses what is not authentic (401), not JSON or not a payload (400), and stores nothing', async () => {
    const t = setup();
    expect((await t.post({ conv: 'c1', id: '1' }, 'wrong')).status).toBe(401);
    expect((await t.post('{nope')).status).toBe(400);
    await t.idle();
    expect(t.seen).toHaveLength(0);
    expect(await t.runtime.stores.inbox.unfinished('fake')).toHaveLength(0);
    expect(await t.metrics.text()).toMatch(/handoff_webhooks_rejected_total\{platform="fake",reason="fake_unauthorized"\} 1/);
  });

  it('acks before the turn starts, runs one turn per event whatever the redeliveries, and sends the reply after the turn committed', async () => {
    const t = setup();
    const result = await t.post({ conv: 'c1', id: '1', text: 'hi' });
    expect(result).toEqual({ status: 200, body: { ok: true } });
    expect(t.seen).toHaveLength(0); // the turn runs after the answer
    expect((await t.post({ conv: 'c1', id: '1', text: 'hi' })).body).toEqual({ ok: true, duplicate: true });
    expect((await t.post({ conv: 'c1', id: '2', ignore: true })).body).toEqual({ ok: true, ignored: 'told to' });
    await t.idle();
    expect(t.seen.map((a) => a.text)).toEqual(['hi']);
    expect(t.connector.sent).toEqual(['c1:welcome', 'c1:echo hi']);
  });

  it('work a turn left running writes on its own once the turn has committed (not into the finished unit, which would throw)', async () => {
    let late: Promise<void> | undefined;
    const t = setup({
      logic: async (context) => {
        if (context.activity.type !== 'message') return;
        await context.sendActivity('now');
        // Not awaited by the turn: it finishes after the commit.
        late = new Promise<void>((resolve) => setTimeout(resolve, 20)).then(() => t.runtime.storage.write({ 'late-note': { text: 'written after the turn' } }));
      },
    });
    await t.post({ conv: 'c1', id: '1', text: 'hi' });
    await t.idle();
    await late;
    expect(await t.runtime.stores.storage.read(['late-note'])).toMatchObject({ 'late-note': { text: 'written after the turn' } });
    expect(t.connector.sent).toEqual(['c1:now']);
  });

  it('keeps each conversation in order while conversations run side by side', async () => {
    const order: string[] = [];
    const t = setup({
      logic: async (context) => {
        if (context.activity.type !== ActivityTypes.Message) return;
        await new Promise((r) => setTimeout(r, Number(context.activity.text) % 3));
        order.push(`${context.activity.conversation.id}:${context.activity.text}`);
        await context.sendActivity(context.activity.text!);
      },
    });
    for (let i = 0; i < 12; i++) await t.post({ conv: `c${i % 2}`, id: String(i), text: String(i) });
    await t.idle();
    expect(order.filter((o) => o.startsWith('c0'))).toEqual(['c0:0', 'c0:2', 'c0:4', 'c0:6', 'c0:8', 'c0:10']);
    expect(t.connector.sent.filter((o) => o.startsWith('c1'))).toEqual(['c1:1', 'c1:3', 'c1:5', 'c1:7', 'c1:9', 'c1:11']);
  });

  it('past the backlog limit answers the status the platform redelivers on, and counts it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const t = setup({ backlogLimit: 2, logic: () => gate });
    expect((await t.post({ conv: 'c1', id: '1' })).status).toBe(200);
    expect((await t.post({ conv: 'c2', id: '2' })).status).toBe(200);
    const third = await t.post({ conv: 'c3', id: '3' });
    expect(third.status).toBe(503);
    expect(third.body).toMatchObject({ error: { code: 'backlog_full' } });
    expect(await t.metrics.text()).toMatch(/handoff_webhooks_deferred_total\{platform="fake"\} 1/);
    release();
    await t.idle();
    expect((await t.post({ conv: 'c3', id: '3' })).status).toBe(200); // the redelivery is taken once there is room
  });

  it('a human owner keeps messages from the bot; an explicit return to a bot status tells the bot completed, then the message reaches it', async () => {
    const t = setup();
    await t.post({ conv: 'c1', id: '1', text: 'first', ownership: [{ type: 'status_observed', status: 'open', botStatus: false, explicit: true, observedAt: 10 }] });
    await t.idle();
    expect(t.seen).toHaveLength(0);
    expect(t.silenced).toEqual(['human:first']);
    await t.post({ conv: 'c1', id: '2', text: 'second', ownership: [{ type: 'status_observed', status: 'pending', botStatus: true, explicit: true, observedAt: 20 }] });
    await t.idle();
    expect(t.seen.map((a) => a.name ?? a.text)).toEqual(['handoff.status', 'second']);
    expect(t.seen[0]!.value).toMatchObject({ state: 'completed' });
  });

  it('a reply whose platform is down is retried from the outbox until it is delivered; sendActivity resolves with an id at once', async () => {
    const ids: string[] = [];
    const t = setup({
      logic: async (context) => {
        if (context.activity.type !== ActivityTypes.Message) return;
        const r = await context.sendActivity('menu');
        ids.push(r!.id);
      },
    });
    t.connector.failSends = 3;
    await t.post({ conv: 'c1', id: '1' });
    await t.idle();
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.connector.sent).toEqual(['c1:menu']);
    expect(await t.metrics.text()).toMatch(/handoff_outbox_retries_total\{platform="fake",kind="message"\} 3/);
  });

  it('a handoff retried after a failed step resumes after the last step done (the note is not posted again) and tells the bot accepted', async () => {
    const t = setup({
      logic: async (context) => {
        t.seen.push(context.activity);
        if (context.activity.type === 'message') await context.sendActivity({ type: 'event', name: 'handoff.initiate', value: { reason: 'asked' } });
      },
    });
    t.connector.failStep = { step: 'assign', times: 2 };
    await t.post({ conv: 'c1', id: '1', text: 'human please' });
    await t.idle();
    expect(t.connector.steps).toEqual(['note:Handoff requested: asked', 'assign', 'open']);
    expect(t.seen.find((a) => a.name === 'handoff.status')?.value).toMatchObject({ state: 'accepted', message: 'handed over' });
    expect(await t.runtime.ownership.owner('fake', 'c1')).toBe('human');
  });

  it('events left unfinished run again when the runtime starts, with the logic given at construction (no webhook needed first)', async () => {
    const first = setup();
    const stores = first.runtime.stores;
    const planned = first.connector.plan({ conv: 'c9', id: 'r', text: 'left over' }) as { event: unknown };
    await stores.inbox.accept({ platform: 'fake', conversationId: 'c9', dedupeKeys: ['fake:r'], ttlMs: 1000, payload: planned.event });
    const seen: string[] = [];
    const runtime = new PipelineRuntime({ stores });
    new ChannelAdapter(new FakeConnector(), { runtime, logic: async (context) => void seen.push(context.activity.text ?? context.activity.type!) });
    await runtime.start();
    await runtime.queue.onIdle();
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(['conversationUpdate', 'left over']);
  });

  it('tells the turn whether the bot\'s newest message was a prompt (from the transcript), for the handoff recognizer', async () => {
    const views: Array<PromptInView | undefined> = [];
    const t = setup({
      logic: async (context) => {
        if (context.activity.type !== ActivityTypes.Message) return;
        views.push(promptInView(context));
        if (context.activity.text === 'ask') await context.sendActivity({ type: 'message', text: 'What is your name?', inputHint: 'expectingInput' });
        else await context.sendActivity('noted');
      },
    });
    for (const [id, text] of [['1', 'ask'], ['2', 'Agent Smith'], ['3', 'more']]) await t.post({ conv: 'c1', id, text });
    await t.idle();
    expect(views).toEqual([
      { expectingInput: false, text: undefined },
      { expectingInput: true, text: 'What is your name?' },
      { expectingInput: false, text: 'noted' },
    ]);
  });

  it("a conversation's first message reaches the bot after a conversationUpdate with the customer and the bot as membersAdded, once; not while a human owns it", async () => {
    const t = setup();
    await t.post({ conv: 'c1', id: '1', text: 'hi' });
    await t.post({ conv: 'c1', id: '2', text: 'again' });
    await t.post({ conv: 'c2', id: '3', text: 'hello', ownership: [{ type: 'agent_message', observedAt: 1 }] });
    await t.idle();
    expect(t.welcomed.map((a) => a.conversation!.id)).toEqual(['c1']);
    const update = t.welcomed[0]!;
    expect(update.membersAdded!.map((m) => m.id)).toEqual(['user-c1', 'bot']);
    expect(update.recipient!.id).toBe('bot');
    // The welcome goes out before the first answer, and a second message is not a new conversation.
    expect(t.connector.sent.filter((x) => x.startsWith('c1:'))).toEqual(['c1:welcome', 'c1:echo hi', 'c1:echo again']);
  });

  it('a store that cannot take the event answers the status the platform redelivers on, not 500', async () => {
    const t = setup();
    t.runtime.stores.inbox.accept = async () => {
      throw new Error('disk full');
    };
    const result = await t.post({ conv: 'c1', id: '1' });
    expect(result.status).toBe(503);
    expect(result.body).toMatchObject({ error: { code: 'storage_unavailable' } });
  });

  it('events left unfinished wait for the bot logic when the runtime starts before it is known, then run in order', async () => {
    const first = setup();
    const stores = first.runtime.stores;
    for (const [id, text] of [['a', 'one'], ['b', 'two']]) {
      const planned = first.connector.plan({ conv: 'c9', id, text }) as { event: unknown };
      await stores.inbox.accept({ platform: 'fake', conversationId: 'c9', dedupeKeys: [`fake:${id}`], ttlMs: 1000, payload: planned.event });
    }
    const runtime = new PipelineRuntime({ stores });
    const adapter = new ChannelAdapter(new FakeConnector(), { runtime });
    await runtime.start();
    await new Promise((r) => setTimeout(r, 20));
    const seen: string[] = [];
    adapter.pipeline.useLogic(async (context) => void seen.push(context.activity.text ?? context.activity.type!));
    await runtime.queue.onIdle();
    expect(seen).toEqual(['conversationUpdate', 'one', 'two']);
  });
});
