/**
 * The timeline and the console's reads and acts, the same on both engines: steps written with the
 * accept (duplicate or not), the turn's unit and the outbox marks; the conversation summary's rules;
 * set-aside events; the outbox's list, revive and discard; retention.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sinon from 'sinon';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock';
import { createLogger } from '../../../src/log';
import { createMemoryStores } from '../../../src/storage/memory-stores';
import { createPostgresStores } from '../../../src/storage/postgres-stores';
import { createSqliteStores } from '../../../src/storage/sqlite-stores';
import type { Stores } from '../../../src/storage/stores';
import { foldSummary, type ConversationSummary, type TimelineStep } from '../../../src/storage/timeline';
import type { RetentionPolicy } from '../../../src/storage/retention';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
const opened: Stores[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
afterAll(async () => {
  await dropTestDatabases();
});

async function sqliteStores(c: Clock, retention: Partial<RetentionPolicy>): Promise<Stores> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'timeline-'));
  dirs.push(dir);
  return createSqliteStores(path.join(dir, 'db.sqlite'), logger, { clock: c, retention });
}

async function postgresStores(c: Clock, retention: Partial<RetentionPolicy>): Promise<Stores> {
  const s = createPostgresStores(await createTestDatabase(), logger, { clock: c, retention });
  await s.open();
  return s;
}

function clock(start = 1_000_000_000_000): Clock & { now: sinon.SinonStub } {
  return { now: sinon.stub().returns(start), random: () => 0.5, sleep: async () => undefined } as unknown as Clock & { now: sinon.SinonStub };
}

const engines: Array<[string, (c: Clock) => Promise<Stores>]> = [
  ['memory', async (c) => createMemoryStores({ clock: c, retention: { eventsMs: 3600_000 } })],
  ['sqlite', (c) => sqliteStores(c, { eventsMs: 3600_000, stateMs: 7200_000 })],
  ['postgres', (c) => postgresStores(c, { eventsMs: 3600_000, stateMs: 7200_000 })],
];

const step = (over: Partial<TimelineStep>): TimelineStep => ({ platform: 'nimchat', conversationId: '1:1', kind: 'turn', ...over });

describe.each(engines)('timeline on %s', (_name, make) => {
  const open = async (c = clock()) => {
    const s = await make(c);
    opened.push(s);
    return { s, c };
  };

  it('records the accept with its webhook step, and a redelivery as a duplicate step, in the same operation', async () => {
    const { s } = await open();
    const input = { platform: 'nimchat', conversationId: '1:1', dedupeKeys: ['k1'], ttlMs: 60_000, payload: { n: 1 }, timeline: step({ kind: 'webhook', detail: { event: 'message', keys: ['k1'] } }) };
    expect((await s.inbox.accept(input)).duplicate).toBe(false);
    expect((await s.inbox.accept(input)).duplicate).toBe(true);
    const entries = await s.timeline.entries('1:1', { limit: 10 });
    expect(entries.map((e) => [e.kind, e.detail.duplicate])).toEqual([
      ['webhook', false],
      ['webhook', true],
    ]);
    expect(entries[0]!.id).toBeLessThan(entries[1]!.id);
    expect(await s.timeline.latestId()).toBe(entries[1]!.id);
    // The accepted event's id is the event's, not the step's.
    expect((await s.inbox.unfinished('nimchat')).map((e) => e.payload)).toEqual([{ n: 1 }]);
  });

  it("records a turn unit's steps only when it commits, in order, and not at all when it is rejected", async () => {
    const { s } = await open();
    const unit = s.beginTurn();
    unit.addTimeline(step({ kind: 'turn', owner: 'bot', message: { role: 'customer', text: 'hi' } }));
    unit.addTimeline(step({ kind: 'queued', message: { role: 'bot', text: 'hello!' } }));
    expect(await s.timeline.entries('1:1', { limit: 10 })).toEqual([]);
    await unit.commit();
    expect((await s.timeline.entries('1:1', { limit: 10 })).map((e) => e.kind)).toEqual(['turn', 'queued']);

    await s.storage.write({ k: { v: 1 } });
    const etag = ((await s.storage.read(['k'])).k as { eTag: string }).eTag;
    await s.storage.write({ k: { v: 2 } });
    const stale = s.beginTurn();
    stale.addTimeline(step({ kind: 'turn', message: { role: 'customer', text: 'lost' } }));
    await stale.write({ k: { v: 3, eTag: etag } });
    await expect(stale.commit()).rejects.toThrow();
    expect((await s.timeline.entries('1:1', { limit: 10 })).map((e) => e.message?.text)).toEqual(['hi', 'hello!']);
  });

  it('keeps one summary per conversation: owner since when, last message, waiting since a handoff or an unanswered customer message', async () => {
    const { s, c } = await open();
    const at = (ms: number) => c.now.returns(1_000_000_000_000 + ms);
    at(0);
    await s.timeline.record([step({ owner: 'bot', message: { role: 'customer', text: 'hello' } })]);
    at(10);
    await s.timeline.record([step({ kind: 'queued', message: { role: 'bot', text: 'menu' } })]);
    let sum = (await s.timeline.conversation('1:1'))!;
    expect(sum).toMatchObject({ platform: 'nimchat', owner: 'bot', ownerSince: 1_000_000_000_000, lastMessage: { role: 'bot', text: 'menu', at: 1_000_000_000_010 } });
    expect(sum.waitingSince).toBeUndefined();
    at(20);
    await s.timeline.record([step({ kind: 'ownership', owner: 'human' })]);
    sum = (await s.timeline.conversation('1:1'))!;
    expect(sum).toMatchObject({ owner: 'human', ownerSince: 1_000_000_000_020, waitingSince: 1_000_000_000_020, lastMessage: { text: 'menu' } });
    at(30);
    await s.timeline.record([step({ owner: 'human', message: { role: 'customer', text: 'anyone?' } })]);
    expect((await s.timeline.conversation('1:1'))!.waitingSince).toBe(1_000_000_000_020); // still since the handoff
    at(40);
    await s.timeline.record([step({ kind: 'turn', owner: 'human', message: { role: 'agent', text: 'Sam here' } })]);
    expect((await s.timeline.conversation('1:1'))!.waitingSince).toBeUndefined();
    at(50);
    await s.timeline.record([step({ owner: 'human', message: { role: 'customer', text: 'thanks' } })]);
    sum = (await s.timeline.conversation('1:1'))!;
    expect(sum.waitingSince).toBe(1_000_000_000_050);
    expect(sum.ownerSince).toBe(1_000_000_000_020);
    at(60);
    await s.timeline.record([step({ kind: 'webhook', detail: { event: 'x' } })]); // no owner, no message: the summary is untouched
    expect((await s.timeline.conversation('1:1'))!.lastAt).toBe(1_000_000_000_050);
    at(70);
    await s.timeline.record([step({ kind: 'ownership', owner: 'bot' })]);
    sum = (await s.timeline.conversation('1:1'))!;
    expect(sum).toMatchObject({ owner: 'bot', ownerSince: 1_000_000_000_070, lastAt: 1_000_000_000_070 });
    expect(sum.waitingSince).toBeUndefined();
  });

  it('lists conversations most recent first, filtered by platform, owner and tenant', async () => {
    const { s, c } = await open();
    c.now.returns(1);
    await s.timeline.record([step({ conversationId: 'a', owner: 'bot' })]);
    c.now.returns(2);
    await s.timeline.record([step({ conversationId: 'b', platform: 'woztell', owner: 'human' })]);
    c.now.returns(3);
    await s.timeline.record([step({ conversationId: 'c', owner: 'ticket' })]);
    const ids = async (f: Parameters<Stores['timeline']['conversations']>[0]) => (await s.timeline.conversations(f)).map((x) => x.conversationId);
    expect(await ids({ limit: 10 })).toEqual(['c', 'b', 'a']);
    expect(await ids({ limit: 2 })).toEqual(['c', 'b']);
    expect(await ids({ limit: 10, platform: 'nimchat' })).toEqual(['c', 'a']);
    expect(await ids({ limit: 10, owner: 'human' })).toEqual(['b']);
    expect(await ids({ limit: 10, platform: 'woztell', owner: 'bot' })).toEqual([]);
    // A tenant's (ids `<tenant>/…`), the limit counted among them only.
    c.now.returns(4);
    await s.timeline.record([step({ conversationId: 'acme/1:1', platform: 'nimchat@acme', owner: 'bot' })]);
    c.now.returns(5);
    await s.timeline.record([step({ conversationId: 'acmeco/1:1', platform: 'nimchat@acmeco', owner: 'bot' })]);
    expect(await ids({ limit: 1, tenant: 'acme' })).toEqual(['acme/1:1']);
    expect(await ids({ limit: 10, tenant: 'acme', owner: 'human' })).toEqual([]);
    expect(await ids({ limit: 10, tenant: 'globex' })).toEqual([]);
  });

  it("a tenant's set-aside events and waiting actions: read as its own, the limit counted among them only", async () => {
    const { s } = await open();
    // One of Acme's, then more of Globex's (and of a tenant whose id starts the same) than the limit.
    for (const conversationId of ['acme/1:1', 'globex/1:1', 'globex/1:2', 'acmeco/1:1']) {
      const event = await s.inbox.accept({ platform: 'nimchat', conversationId, dedupeKeys: [], ttlMs: 1, payload: {} });
      if (event.duplicate) throw new Error('unexpected');
      await s.inbox.setAside(event.id, 'never finished');
      await s.outbox.add({ platform: 'nimchat', conversationId, kind: 'message', payload: {} });
    }
    expect((await s.inbox.listSetAside(2, 'acme')).map((e) => e.conversationId)).toEqual(['acme/1:1']);
    expect((await s.outbox.list({ statuses: ['pending'], limit: 2, tenant: 'acme' })).map((a) => a.conversationId)).toEqual(['acme/1:1']);
    expect((await s.outbox.list({ statuses: ['pending'], limit: 10, tenant: 'globex' })).map((a) => a.conversationId)).toEqual(['globex/1:2', 'globex/1:1']);
    expect(await s.inbox.listSetAside(10)).toHaveLength(4);
    expect(await s.outbox.list({ statuses: ['pending'], limit: 10 })).toHaveLength(4);
  });

  it('sets an event aside instead of finishing it; revives it with its attempts reset, or discards it, each with its step', async () => {
    const { s } = await open();
    const a = await s.inbox.accept({ platform: 'nimchat', conversationId: '1:1', dedupeKeys: [], ttlMs: 1, payload: { a: 1 } });
    const b = await s.inbox.accept({ platform: 'nimchat', conversationId: '1:1', dedupeKeys: [], ttlMs: 1, payload: { b: 1 } });
    if (a.duplicate || b.duplicate) throw new Error('unexpected');
    for (let i = 0; i < 3; i++) await s.inbox.started(a.id);
    await s.inbox.setAside(a.id, 'never finished', step({ kind: 'event', detail: { what: 'set_aside' } }));
    await s.inbox.setAside(b.id, 'never finished');
    expect(await s.inbox.unfinished('nimchat')).toEqual([]);
    const listed = await s.inbox.listSetAside(10);
    expect(listed.map((e) => e.id).sort()).toEqual([a.id, b.id].sort());
    expect(listed.find((e) => e.id === a.id)).toMatchObject({ attempts: 3, setAsideReason: 'never finished', payload: { a: 1 } });
    const revived = await s.inbox.reviveSetAside(a.id, step({ kind: 'event', detail: { what: 'retried' } }));
    expect(revived).toMatchObject({ id: a.id, attempts: 0 });
    expect(revived!.setAsideAt).toBeUndefined();
    expect((await s.inbox.unfinished('nimchat')).map((e) => e.id)).toEqual([a.id]);
    expect(await s.inbox.reviveSetAside(a.id)).toBeUndefined(); // not set aside any more
    expect(await s.inbox.discardSetAside(b.id, step({ kind: 'event', detail: { what: 'discarded' } }))).toBe(true);
    expect(await s.inbox.discardSetAside(b.id)).toBe(false);
    expect(await s.inbox.listSetAside(10)).toEqual([]);
    expect((await s.inbox.unfinished('nimchat')).map((e) => e.id)).toEqual([a.id]);
    expect((await s.timeline.entries('1:1', { limit: 10 })).map((e) => e.detail.what)).toEqual(['set_aside', 'retried', 'discarded']);
  });

  it('lists pending and failed outbox actions newest first; revives a failed one (attempts reset) or a pending one (due now); discards either; each mark can carry its step', async () => {
    const { s, c } = await open();
    const one = await s.outbox.add({ platform: 'nimchat', conversationId: '1:1', kind: 'message', payload: { activityId: 'x' } });
    const two = await s.outbox.add({ platform: 'nimchat', conversationId: '1:1', kind: 'handoff', payload: {} });
    const three = await s.outbox.add({ platform: 'nimchat', conversationId: '1:2', kind: 'message', payload: {} });
    await s.outbox.attempt(two);
    await s.outbox.markRetry(two, 5_000_000_000_000, 'HTTP 500', step({ kind: 'delivery', detail: { outcome: 'retry' } }));
    await s.outbox.attempt(one);
    await s.outbox.attempt(one);
    await s.outbox.markFailed(one, 'HTTP 422', step({ kind: 'delivery', detail: { outcome: 'failed' } }));
    expect((await s.outbox.get(one))!.attempts).toBe(2);
    await s.outbox.markDone(three, step({ conversationId: '1:2', kind: 'delivery', detail: { outcome: 'done' } }));
    const listed = await s.outbox.list({ statuses: ['pending', 'failed'], limit: 10 });
    expect(listed.map((a) => [a.id, a.status, a.lastError])).toEqual([
      [two, 'pending', 'HTTP 500'],
      [one, 'failed', 'HTTP 422'],
    ]);
    expect(await s.outbox.list({ statuses: ['failed'], limit: 10 })).toHaveLength(1);
    expect((await s.outbox.get(one))!.status).toBe('failed');

    c.now.returns(1_000_000_000_500);
    const revived = await s.outbox.revive(one, 1_000_000_000_500, step({ kind: 'delivery', detail: { outcome: 'retried' } }));
    expect(revived).toMatchObject({ id: one, attempts: 0, nextAttemptAt: 1_000_000_000_500 });
    expect((await s.outbox.get(one))!.status).toBe('pending');
    const due = await s.outbox.revive(two, 1_000_000_000_500);
    expect(due).toMatchObject({ id: two, nextAttemptAt: 1_000_000_000_500 });
    expect(due!.attempts).toBeGreaterThan(0); // a pending action keeps its count
    expect(await s.outbox.revive(three, 1)).toBeUndefined(); // done

    expect(await s.outbox.discard(two, 'discarded by an operator', step({ kind: 'delivery', detail: { outcome: 'discarded' } }))).toBe('discarded');
    expect(await s.outbox.discard(two, 'again')).toBe('not_found');
    expect((await s.outbox.get(two))).toMatchObject({ status: 'discarded', lastError: 'discarded by an operator' });
    expect((await s.outbox.list({ statuses: ['pending', 'failed'], limit: 10 })).map((a) => a.id)).toEqual([one]);
    expect(await s.outbox.pending()).toHaveLength(1);
    expect((await s.timeline.entries('1:1', { limit: 10 })).map((e) => e.detail.outcome)).toEqual(['retry', 'failed', 'retried', 'discarded']);
    expect((await s.timeline.entries('1:2', { limit: 10 })).map((e) => e.detail.outcome)).toEqual(['done']);
  });
});

const durable: Array<[string, (c: Clock, retention: Partial<RetentionPolicy>) => Promise<Stores>]> = [
  ['SQLite', sqliteStores],
  ['PostgreSQL', postgresStores],
];

describe.each(durable)('timeline retention (%s)', (_name, make) => {
  it('prunes timeline entries with finished events, summaries with idle state, set-aside events from when they were set aside', async () => {
    const c = clock();
    const s = await make(c, { eventsMs: 3600_000, stateMs: 7200_000, transcriptsMs: 7200_000 });
    opened.push(s);
    await s.timeline.record([step({ conversationId: 'old', owner: 'bot' })]);
    const aside = await s.inbox.accept({ platform: 'p', conversationId: 'old', dedupeKeys: [], ttlMs: 1, payload: {} });
    if (aside.duplicate) throw new Error('unexpected');
    await s.inbox.setAside(aside.id, 'x');
    c.now.returns(1_000_000_000_000 + 2 * 3600_000);
    await s.timeline.record([step({ conversationId: 'new', owner: 'bot' })]);
    const result = await s.prune();
    expect(result.timeline).toBe(1);
    expect(result.inbox).toBe(1);
    expect(await s.timeline.entries('old', { limit: 10 })).toEqual([]);
    expect(await s.timeline.entries('new', { limit: 10 })).toHaveLength(1);
    expect(await s.inbox.listSetAside(10)).toEqual([]);
    expect((await s.timeline.conversations({ limit: 10 })).map((x) => x.conversationId)).toEqual(['new', 'old']); // the summary is state: kept 2 h
    c.now.returns(1_000_000_000_000 + 3 * 3600_000);
    expect((await s.prune()).conversations).toBe(1);
    expect((await s.timeline.conversations({ limit: 10 })).map((x) => x.conversationId)).toEqual(['new']);
  });
});

describe.each(durable)('foldSummary and the %s rule agree', (_name, make) => {
  it('on a random sequence of steps', async () => {
    const c = clock();
    const s = await make(c, {});
    opened.push(s);
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let expected: ConversationSummary | undefined;
    for (let i = 0; i < 300; i++) {
      const at = 1_000_000_000_000 + i * 10;
      c.now.returns(at);
      const owners = [undefined, 'bot', 'human', 'ticket'] as const;
      const roles = [undefined, 'customer', 'bot', 'agent'] as const;
      const owner = owners[rand(4)];
      const role = roles[rand(4)];
      const st = step({ ...(owner ? { owner } : {}), ...(role ? { message: { role, text: `m${i}` } } : {}) });
      expected = foldSummary(expected, st, at);
      await s.timeline.record([st]);
      const actual = await s.timeline.conversation('1:1');
      expect(actual, `step ${i}`).toEqual(expected);
    }
  });
});
