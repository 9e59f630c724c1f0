/**
 * The console's JSON, SSE and action endpoints over real HTTP on loopback, against the app in sandbox
 * mode (the emulated platforms play the customers and agents through the console's own play routes).
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleClient, eventually, type ConsoleClient } from '../../helpers/console-client';
import { startSandboxApp } from '../../helpers/sandbox-app';

type Sandboxed = Awaited<ReturnType<typeof startSandboxApp>>;

let s: Sandboxed | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

interface Entry {
  id: number;
  kind: string;
  at: number;
  durationMs?: number;
  owner?: string;
  message?: { role: string; text: string };
  detail: Record<string, any>;
}

async function nimchatCustomer(c: ConsoleClient, name = 'Ada') {
  const made = await c.act('/console/api/play/nimchat/customers', { name });
  expect(made.status).toBe(200);
  const { sourceId, displayId, conversationId } = made.data as { sourceId: string; displayId: number; conversationId: string };
  const path = `/console/api/play/nimchat/customers/${sourceId}/conversations/${displayId}/messages`;
  return {
    conversationId,
    displayId,
    say: async (content: string) => expect((await c.act(path, { content })).status).toBe(200),
    received: async () => ((await c.get(path)).data as Array<{ message_type: number; content: string }>).filter((m) => m.message_type === 1).map((m) => m.content),
  };
}

async function timeline(c: ConsoleClient, conversationId: string): Promise<Entry[]> {
  const res = await c.get(`/console/api/conversations/${encodeURIComponent(conversationId)}/timeline`);
  expect(res.status).toBe(200);
  return res.data.entries as Entry[];
}

describe('console: conversations and timelines', () => {
  it('lists conversations, the most recent first, filtered by platform and owner, with the waiting time of handed-off ones', async () => {
    s = await startSandboxApp();
    const c = consoleClient(s.url);
    const ada = await nimchatCustomer(c, 'Ada');
    await ada.say('hello');
    const member = (await c.act('/console/api/play/woztell/members', { name: 'Ben' })).data as { memberId: string; conversationId: string };
    expect((await c.act(`/console/api/play/woztell/members/${member.memberId}/messages`, { text: 'hello' })).status).toBe(200);
    const cleo = await nimchatCustomer(c, 'Cleo');
    await cleo.say('I want a human');
    await s.settle();

    const all = (await c.get('/console/api/conversations')).data.conversations as Array<Record<string, any>>;
    expect(all.map((x) => x.conversationId).sort()).toEqual([ada.conversationId, cleo.conversationId, member.conversationId].sort());
    expect(all[0]!.lastAt).toBeGreaterThanOrEqual(all[1]!.lastAt);

    const nimchat = (await c.get('/console/api/conversations?platform=nimchat')).data.conversations as Array<Record<string, any>>;
    expect(nimchat.map((x) => x.conversationId).sort()).toEqual([ada.conversationId, cleo.conversationId].sort());
    const woztell = (await c.get('/console/api/conversations?platform=woztell')).data.conversations as Array<Record<string, any>>;
    expect(woztell.map((x) => x.conversationId)).toEqual([member.conversationId]);

    const human = (await c.get('/console/api/conversations?owner=human')).data.conversations as Array<Record<string, any>>;
    expect(human.map((x) => x.conversationId)).toEqual([cleo.conversationId]);
    expect(human[0]!.waitingMs).toBeGreaterThanOrEqual(0);
    expect(human[0]!.ownerSince).toBeGreaterThan(0);
    expect(human[0]!.lastMessage.role).toBe('bot');
    expect(human[0]!.lastMessage.text).toMatch(/human/);

    const bots = (await c.get('/console/api/conversations?owner=bot')).data.conversations as Array<Record<string, any>>;
    expect(bots.map((x) => x.conversationId).sort()).toEqual([ada.conversationId, member.conversationId].sort());
    expect(bots.every((x) => x.waitingMs === undefined)).toBe(true);
    const adaRow = bots.find((x) => x.conversationId === ada.conversationId)!;
    expect(adaRow.lastMessage.text).toMatch(/How can I help you today\?/);
  });

  it("a conversation's timeline holds every step in order: webhook, turn, the reply queued and sent with the platform's answer, the handoff's steps and the owner it changed", async () => {
    s = await startSandboxApp();
    const c = consoleClient(s.url);
    const ada = await nimchatCustomer(c);
    await ada.say('hello');
    await s.settle();
    await ada.say('I want a human');
    await s.settle();

    const entries = await timeline(c, ada.conversationId);
    const ids = entries.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const kinds = entries.map((e) => `${e.kind}${e.detail.outcome ? `:${e.detail.outcome}` : ''}${e.detail.action ? `:${e.detail.action}` : ''}`);
    // The first message: received, its turn, the menu queued then sent.
    const firstWebhook = kinds.indexOf('webhook');
    const firstTurn = kinds.indexOf('turn');
    const firstQueued = kinds.indexOf('queued:message');
    const firstSent = kinds.indexOf('delivery:done:message');
    expect(firstWebhook).toBeGreaterThanOrEqual(0);
    expect(firstWebhook).toBeLessThan(firstTurn);
    expect(firstTurn).toBeLessThan(firstQueued);
    expect(firstQueued).toBeLessThan(firstSent);

    const webhook = entries[firstWebhook]!;
    expect(webhook.detail.duplicate).toBe(false);
    expect(webhook.detail.event).toBe('message');
    expect(webhook.detail.keys.some((k: string) => k.startsWith('nimchat:delivery:'))).toBe(true);
    expect(webhook.detail.text).toBe('hello');

    const turn = entries[firstTurn]!;
    expect(turn.message).toEqual({ role: 'customer', text: 'hello' });
    expect(typeof turn.durationMs).toBe('number');
    expect(turn.owner).toBe('bot');

    expect(entries[firstQueued]!.message?.role).toBe('bot');
    expect(entries[firstQueued]!.message?.text).toMatch(/How can I help you today\?/);
    const sent = entries[firstSent]!;
    expect(sent.detail.attempt).toBe(1);
    expect(sent.detail.result).toBeDefined();
    expect(typeof sent.durationMs).toBe('number');

    // The handoff: queued with its note, each step done, then done; the owner became human (why: handoff).
    const handoffQueued = entries.find((e) => e.kind === 'queued' && e.detail.action === 'handoff')!;
    expect(handoffQueued.detail.note).toMatch(/^Handoff/);
    const steps = entries.filter((e) => e.kind === 'delivery' && e.detail.action === 'handoff' && e.detail.outcome === 'step').map((e) => e.detail.step);
    expect(steps.length).toBeGreaterThan(0);
    const handoffDone = entries.findIndex((e) => e.kind === 'delivery' && e.detail.action === 'handoff' && e.detail.outcome === 'done');
    const toHuman = entries.findIndex((e) => e.kind === 'ownership' && e.detail.to === 'human');
    expect(handoffDone).toBeGreaterThan(entries.indexOf(handoffQueued));
    expect(toHuman).toBeGreaterThan(entries.indexOf(handoffQueued));
    expect(entries[toHuman]!.detail).toMatchObject({ from: 'bot', to: 'human', reason: 'handoff' });
    // `after` gives only what is newer.
    const after = (await c.get(`/console/api/conversations/${encodeURIComponent(ada.conversationId)}/timeline?after=${ids.at(-2)}`)).data.entries as Entry[];
    expect(after.map((e) => e.id)).toEqual([ids.at(-1)]);
  });

  it('an agent answering and the release show as ownership changes with their reasons; the agent message is the last message', async () => {
    s = await startSandboxApp();
    const c = consoleClient(s.url);
    const ada = await nimchatCustomer(c);
    await ada.say('I want a human');
    await s.settle();
    expect((await c.act(`/console/api/play/nimchat/conversations/${ada.displayId}/messages`, { content: 'Hi, Sam here' })).status).toBe(200);
    await s.settle();
    let row = (await c.get('/console/api/conversations')).data.conversations[0];
    expect(row.lastMessage).toMatchObject({ role: 'agent', text: 'Hi, Sam here' });
    expect(row.waitingMs).toBeUndefined(); // answered
    await ada.say('thanks');
    await s.settle();
    row = (await c.get('/console/api/conversations')).data.conversations[0];
    expect(row.waitingMs).toBeGreaterThanOrEqual(0); // the customer waits again
    expect((await c.act(`/console/api/play/nimchat/conversations/${ada.displayId}/status`, { status: 'pending' })).status).toBe(200);
    await s.settle();
    const entries = await timeline(c, ada.conversationId);
    const release = entries.find((e) => e.kind === 'ownership' && e.detail.to === 'bot' && e.detail.from === 'human')!;
    expect(release.detail.transition).toBe('released');
    row = (await c.get('/console/api/conversations')).data.conversations[0];
    expect(row.owner).toBe('bot');
    expect(row.waitingMs).toBeUndefined();
  });
});

describe('console: outbox and set-aside events', () => {
  const failingOutbox = { outbox: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, platformOptions: { nimchat: { http: { retry: { maxAttempts: 1, baseDelayMs: 1, maxTotalMs: 10 } } } } };

  it('a handoff that failed for good is listed with its last error; Retry delivers it and the conversation goes to a human', async () => {
    s = await startSandboxApp({}, failingOutbox);
    const c = consoleClient(s.url);
    s.app.sandbox!.faults.push({ method: 'POST', path: /\/toggle_status$/, status: 500, times: 10_000 });
    const ada = await nimchatCustomer(c);
    await ada.say('I want a human');
    await s.settle();
    const failed = await eventually(async () => ((await c.get('/console/api/outbox')).data.actions as Array<Record<string, any>>).find((a) => a.kind === 'handoff' && a.status === 'failed'), 8000, 'the failed handoff');
    expect(failed.lastError).toMatch(/500/);
    expect(failed.steps.length).toBeGreaterThan(0); // the note and the assignment went through
    await eventually(async () => (await ada.received()).some((t) => /couldn't reach a human/.test(t)), 8000, "the bot's failure message");

    s.app.sandbox!.faults.length = 0;
    const res = await c.act(`/console/api/outbox/${failed.id}/retry`);
    expect(res.status).toBe(200);
    await eventually(async () => ((await c.get('/console/api/outbox')).data.actions as unknown[]).length === 0, 8000, 'the outbox to empty');
    await s.settle();
    const row = (await c.get('/console/api/conversations')).data.conversations[0];
    expect(row.owner).toBe('human');
    const entries = await timeline(c, ada.conversationId);
    const outcomes = entries.filter((e) => e.kind === 'delivery' && e.detail.outboxId === failed.id).map((e) => e.detail.outcome);
    expect(outcomes).toContain('retry');
    expect(outcomes.indexOf('failed')).toBeLessThan(outcomes.indexOf('retried'));
    expect(outcomes.indexOf('retried')).toBeLessThan(outcomes.lastIndexOf('done'));
    // Retrying what is done now is refused and changes nothing.
    expect((await c.act(`/console/api/outbox/${failed.id}/retry`)).status).toBe(404);
  });

  it('Discard of a pending handoff takes it out of the outbox and tells the bot handoff.status failed (the customer is told); a second Discard is 404', async () => {
    s = await startSandboxApp({}, { outbox: { maxAttempts: 12, baseDelayMs: 60_000, maxDelayMs: 120_000 }, platformOptions: failingOutbox.platformOptions });
    const c = consoleClient(s.url);
    s.app.sandbox!.faults.push({ method: 'POST', path: /\/toggle_status$/, status: 500, times: 10_000 });
    const ada = await nimchatCustomer(c);
    await ada.say('I want a human');
    const pending = await eventually(
      async () => ((await c.get('/console/api/outbox')).data.actions as Array<Record<string, any>>).find((a) => a.kind === 'handoff' && a.status === 'pending' && a.lastError),
      8000,
      'the handoff waiting for its retry',
    );
    expect(await ada.received()).not.toContainEqual(expect.stringMatching(/couldn't reach a human/));
    const res = await c.act(`/console/api/outbox/${pending.id}/discard`, { reason: 'Nimchat is down for maintenance' });
    expect(res.status).toBe(200);
    await s.settle();
    expect(((await c.get('/console/api/outbox')).data.actions as unknown[]).length).toBe(0);
    expect(s.app.runtime.delivery.backlog).toBe(0);
    await eventually(async () => (await ada.received()).some((t) => /couldn't reach a human/.test(t)), 8000, "the bot's failure message");
    const entries = await timeline(c, ada.conversationId);
    const discarded = entries.find((e) => e.kind === 'delivery' && e.detail.outcome === 'discarded')!;
    expect(discarded.detail).toMatchObject({ outboxId: pending.id, by: 'operator' });
    expect(discarded.detail.error).toMatch(/Nimchat is down for maintenance/);
    expect(entries.some((e) => e.kind === 'turn' && e.detail.activity === 'handoff.status')).toBe(true);
    expect((await c.act(`/console/api/outbox/${pending.id}/discard`)).status).toBe(404);
  });

  it('an event whose processing never finished is set aside (not marked done): listed, then Retry runs its turn, or Discard finishes it', async () => {
    s = await startSandboxApp();
    const c = consoleClient(s.url);
    const ada = await nimchatCustomer(c);
    await ada.say('hello');
    await s.settle();
    const inbox = s.app.stores.inbox;
    // Two events of this conversation that "crashed the process" three times each.
    const stored = async (text: string) => {
      const accepted = await inbox.accept({
        platform: 'nimchat',
        conversationId: ada.conversationId,
        dedupeKeys: [],
        ttlMs: 1000,
        payload: {
          conversationId: ada.conversationId,
          dedupeKeys: [],
          ownership: [],
          activity: { type: 'message', id: text, text, channelId: 'nimchat', serviceUrl: 'http://x', conversation: { id: ada.conversationId }, from: { id: 'c', role: 'user' }, recipient: { id: 'b', role: 'bot' } },
        },
      });
      if (accepted.duplicate) throw new Error('duplicate');
      for (let i = 0; i < 3; i++) await inbox.started(accepted.id);
      return accepted.id;
    };
    const first = await stored('it crashed once');
    const second = await stored('it crashed twice');
    await s.app.runtime.start(); // what a restart does with what was left
    const listed = (await c.get('/console/api/set-aside')).data.events as Array<Record<string, any>>;
    expect(listed.map((e) => e.id).sort()).toEqual([first, second].sort());
    expect(listed[0]!.reason).toMatch(/3 times/);
    expect(listed.find((e) => e.id === first)!.summary).toMatch(/it crashed once/);
    expect(await inbox.unfinished('nimchat')).toEqual([]); // never run again by itself

    expect((await c.act(`/console/api/set-aside/${first}/retry`)).status).toBe(200);
    await s.settle();
    expect((await ada.received()).length).toBe(2); // the menu again, for the retried message
    expect((await c.act(`/console/api/set-aside/${second}/discard`)).status).toBe(200);
    expect(((await c.get('/console/api/set-aside')).data.events as unknown[]).length).toBe(0);
    expect((await c.act(`/console/api/set-aside/${second}/retry`)).status).toBe(404);
    const entries = await timeline(c, ada.conversationId);
    const events = entries.filter((e) => e.kind === 'event').map((e) => `${e.detail.what}:${e.detail.eventId}`);
    expect(events).toEqual(expect.arrayContaining([`set_aside:${first}`, `set_aside:${second}`, `retried:${first}`, `discarded:${second}`]));
    const retriedAt = entries.findIndex((e) => e.kind === 'event' && e.detail.what === 'retried');
    expect(entries.slice(retriedAt).some((e) => e.kind === 'turn' && e.message?.text === 'it crashed once')).toBe(true);
  });

  it('bad input gets a clear 4xx and changes nothing', async () => {
    s = await startSandboxApp({}, failingOutbox);
    const c = consoleClient(s.url);
    s.app.sandbox!.faults.push({ method: 'POST', path: /\/toggle_status$/, status: 500, times: 10_000 });
    const ada = await nimchatCustomer(c);
    await ada.say('I want a human');
    const failed = await eventually(async () => ((await c.get('/console/api/outbox')).data.actions as Array<Record<string, any>>).find((a) => a.status === 'failed'), 8000, 'a failed action');
    await s.settle(); // the bot's message about the failure is delivered too
    const before = (await c.get('/console/api/outbox')).data.actions;
    const csrf = await c.csrf();
    const cases: Array<[Promise<{ status: number; data: any }>, number, string]> = [
      [c.get('/console/api/conversations?owner=robot'), 400, 'invalid_request'],
      [c.get('/console/api/conversations?limit=0'), 400, 'invalid_request'],
      [c.get('/console/api/conversations/x/timeline?after=-1'), 400, 'invalid_request'],
      [c.post('/console/api/outbox/abc/retry', {}, { 'X-Console-CSRF': csrf }), 400, 'invalid_request'],
      [c.post(`/console/api/outbox/${failed.id}/discard`, { reason: 5 }, { 'X-Console-CSRF': csrf }), 400, 'invalid_request'],
      [c.post(`/console/api/outbox/${failed.id}/discard`, { reason: 'x', extra: true }, { 'X-Console-CSRF': csrf }), 400, 'invalid_request'],
      [c.post('/console/api/outbox/999999/retry', {}, { 'X-Console-CSRF': csrf }), 404, 'not_found'],
      [c.get('/console/api/nothing-here'), 404, 'not_found'],
      [c.act('/console/api/play/nimchat/customers', { name: 'x'.repeat(500) }), 400, 'invalid_request'],
      [c.act('/console/api/play/woztell/members/..%2F..%2Fbot/messages', { text: 'hi' }), 400, 'invalid_request'],
    ];
    for (const [promise, status, code] of cases) {
      const res = await promise;
      expect(res.status, JSON.stringify(res.data)).toBe(status);
      expect(res.data.error.code).toBe(code);
      expect(typeof res.data.error.message).toBe('string');
    }
    expect((await c.get('/console/api/outbox')).data.actions).toEqual(before);
    const raw = await new Promise<{ status: number; body: string }>((resolve) => {
      const req = http.request(`${s!.url}/console/api/outbox/${failed.id}/discard`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Console-CSRF': csrf } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.end('{not json');
    });
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body).error.code).toBe('invalid_json');
    expect((await c.get('/console/api/outbox')).data.actions).toEqual(before);
  });
});

describe('console: live updates and health', () => {
  it('the SSE stream says hello, then announces each change without a reload', async () => {
    s = await startSandboxApp();
    const c = consoleClient(s.url);
    const events: Array<{ event: string; data: string }> = [];
    const req = http.get(`${s.url}/console/api/stream`, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, data });
        }
      });
    });
    try {
      await eventually(async () => events.some((e) => e.event === 'hello'), 5000, 'hello');
      expect(s.app.console!.live.listeners).toBe(1);
      const ada = await nimchatCustomer(c);
      await ada.say('hello');
      const changed = await eventually(async () => events.find((e) => e.event === 'changed'), 5000, 'a changed event');
      expect(JSON.parse(changed.data).latestId).toBeGreaterThan(0);
    } finally {
      req.destroy();
    }
    await eventually(async () => s!.app.console!.live.listeners === 0, 5000, 'the listener to leave');
  });

  it('health samples come from the /metrics registry: webhooks/s, ack p50/p99, turns, handoffs, backlog', async () => {
    s = await startSandboxApp();
    const c = consoleClient(s.url);
    const sampler = s.app.console!.sampler;
    await sampler.sample(); // the baseline
    const ada = await nimchatCustomer(c);
    await ada.say('hello');
    await ada.say('I want a human');
    await s.settle();
    const sample = (await sampler.sample())!;
    expect(sample.webhooksPerSec).toBeGreaterThan(0);
    expect(sample.turnsPerSec).toBeGreaterThan(0);
    expect(sample.ackP50Ms).toBeGreaterThan(0);
    expect(sample.ackP99Ms).toBeGreaterThanOrEqual(sample.ackP50Ms!);
    expect(sample.handoffs).toBe(1);
    expect(sample.errors).toBe(0);
    expect(sample.backlog).toBe(0);
    const health = (await c.get('/console/api/health')).data;
    expect(health.samples.at(-1)).toEqual(sample);
    const metrics = (await c.get('/metrics')).data as string;
    expect(metrics).toMatch(/handoff_webhook_ack_seconds_bucket/);
    expect(metrics).toMatch(/handoff_handoffs_total\{platform="nimchat",outcome="accepted"\} 1/);
  });
});
