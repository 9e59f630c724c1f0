/**
 * Ticket events take the intake every platform's webhooks take: the backlog limit, the store's
 * failure, the metrics and the shutdown refusal hold for them as for chat messages.
 */
import { describe, expect, it } from 'vitest';
import { InbentaTicketEvents } from '../../../adapters/inbenta/ticket-events';
import { TicketLinks } from '../../../adapters/inbenta/ticket-links';
import type { InbentaTicketingClient } from '../../../adapters/inbenta/client';
import { Metrics } from '../../../src/metrics';
import { PipelineRuntime } from '../../../src/pipeline/pipeline-runtime';

const SECRET = 'hook-secret-123';

async function setup(options: { backlogLimit?: number } = {}) {
  const metrics = new Metrics();
  const runtime = new PipelineRuntime({ metrics, backlogLimit: options.backlogLimit });
  const links = new TicketLinks(runtime.storage);
  for (const ticketId of [7, 8]) {
    await links.save({ ticketId, fullUuid: `T-${ticketId}`, escalationId: `e${ticketId}`, creatorId: 1, channelId: 'nimchat', conversationId: `1:${ticketId}`, reference: {}, createdAt: new Date(0).toISOString() });
  }
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const listed: number[] = [];
  // The first reply event's processing waits on the gate: its event stays in the backlog meanwhile.
  const client = {
    listReplies: async (ticketId: number) => {
      listed.push(ticketId);
      await gate;
      return [];
    },
  } as unknown as InbentaTicketingClient;
  const events = new InbentaTicketEvents({ client, links, webhookSecret: SECRET, runtime, adapterFor: () => undefined });
  const post = (batch: unknown) => events.handle({ method: 'POST', headers: { 'x-hook-signature': SECRET }, rawBody: Buffer.from(JSON.stringify(batch)), query: new URLSearchParams() });
  const reply = (id: number, parent: number) => ({ id, item: 'reply', action: 'add', timestamp: id, parent });
  // The turn starts after the answer (setImmediate): wait for that, then for the queue.
  const idle = async () => {
    await new Promise((r) => setImmediate(r));
    await runtime.queue.onIdle();
  };
  return { runtime, metrics, events, post, reply, listed, open, idle };
}

describe('Inbenta ticket events through the one intake', () => {
  it('over the backlog limit a batch gets 503 backlog_full and nothing of it is stored; it is counted like any webhook', async () => {
    const t = await setup({ backlogLimit: 1 });
    expect(await t.post([t.reply(101, 7), { id: 5, item: 'ticket', action: 'update', parent: null, timestamp: 1 }, { id: 9, item: 'ticket', action: 'add' }])).toEqual({
      status: 200,
      body: { ok: true, accepted: 1, ignored: 2 }, // ticket 5 and 9 are not the bot's
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(t.listed).toEqual([7]); // running, held
    const refused = await t.post([t.reply(102, 8)]);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { code: 'backlog_full' } });
    expect(await t.runtime.stores.inbox.unfinished('inbenta')).toHaveLength(1);
    const text = await t.metrics.text();
    expect(text).toMatch(/handoff_webhooks_received_total\{platform="inbenta"\} 2/);
    expect(text).toMatch(/handoff_webhooks_deferred_total\{platform="inbenta"\} 1/);
    t.open();
    await t.idle();
    // Redelivered once there is room: taken.
    expect((await t.post([t.reply(102, 8)])).body).toEqual({ ok: true, accepted: 1, ignored: 0 });
    await t.idle();
    expect(t.listed).toEqual([7, 8]);
    expect(await t.runtime.stores.inbox.unfinished('inbenta')).toHaveLength(0);
  });

  it('a store that cannot take the batch answers 503 storage_unavailable (Inbenta delivers again), and a redelivered batch counts as ignored', async () => {
    const t = await setup();
    const accept = t.runtime.stores.inbox.accept.bind(t.runtime.stores.inbox);
    t.runtime.stores.inbox.accept = async () => {
      throw new Error('disk full');
    };
    const failed = await t.post([t.reply(101, 7)]);
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ error: { code: 'storage_unavailable' } });
    t.runtime.stores.inbox.accept = accept;
    t.open();
    expect((await t.post([t.reply(101, 7)])).body).toEqual({ ok: true, accepted: 1, ignored: 0 });
    expect((await t.post([t.reply(101, 7)])).body).toEqual({ ok: true, accepted: 0, ignored: 1 });
    expect(await t.metrics.text()).toMatch(/handoff_webhooks_deduplicated_total\{platform="inbenta"\} 1/);
  });

  it('while the endpoint stops, a batch gets 503 shutting_down; the challenge needs the signature', async () => {
    const t = await setup();
    t.open();
    await t.runtime.stop(100);
    const refused = await t.post([t.reply(101, 7)]);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: { code: 'shutting_down' } });
    const challenge = (signature: string) => t.events.answerChallenge({ method: 'GET', headers: { 'x-hook-signature': signature, 'x-inbenta-challenge': 'abc' }, rawBody: Buffer.alloc(0), query: new URLSearchParams() });
    expect(challenge(SECRET)).toEqual({ status: 200, body: 'abc' });
    expect(challenge('wrong').status).toBe(401);
  });
});

describe('a ticket event whose processing fails', () => {
  it('stays unfinished (to run again, as any event does), where it used to be marked done and lost', async () => {
    const runtime = new PipelineRuntime({ metrics: new Metrics() });
    const links = new TicketLinks(runtime.storage);
    await links.save({ ticketId: 7, fullUuid: 'T-7', escalationId: 'e7', creatorId: 1, channelId: 'nimchat', conversationId: '1:7', reference: {}, createdAt: new Date(0).toISOString() });
    // Inbenta down while the answer is read.
    const client = { listReplies: async () => Promise.reject(new Error('Inbenta answered 503')) } as unknown as InbentaTicketingClient;
    const events = new InbentaTicketEvents({ client, links, webhookSecret: SECRET, runtime, adapterFor: () => undefined });
    const posted = await events.handle({ method: 'POST', headers: { 'x-hook-signature': SECRET }, rawBody: Buffer.from(JSON.stringify([{ id: 101, item: 'reply', action: 'add', timestamp: 1, parent: 7 }])), query: new URLSearchParams() });
    expect(posted.status).toBe(200);
    await new Promise((r) => setImmediate(r));
    await runtime.queue.onIdle();
    expect((await runtime.stores.inbox.unfinished('inbenta')).map((e) => (e.payload as { id: number }).id)).toEqual([101]);
  });
});
