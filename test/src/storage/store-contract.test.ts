/**
 * The store contract every engine keeps (memory, SQLite, PostgreSQL; memory where it applies): eTags,
 * idempotency keys (also raced from two connections), the inbox after a restart, the turn unit all or
 * nothing (also raced), retention, the readiness check.
 */
import sinon from 'sinon';
import { afterAll, describe, expect, it } from 'vitest';
import type { Stores } from '../../../src/storage/create-stores';
import { deliveryStep } from '../../../src/timeline/timeline-steps';
import { closeEngines, ENGINES, openStores, SHARED_ENGINES } from '../../helpers/store-engines';

afterAll(closeEngines);

const RETENTION = { eventsMs: 3600_000, transcriptsMs: 86_400_000, stateMs: 10 * 86_400_000 };
const DURABLE_ENGINES = ENGINES.filter((e) => e.name !== 'memory');

function stubClock(start: number) {
  return { now: sinon.stub().returns(start), sleep: async () => undefined, random: () => 0.5 };
}

async function acceptedId(s: Stores, key: string, conversationId = 'c'): Promise<number> {
  const r = await s.inbox.accept({ platform: 'p', conversationId, dedupeKeys: [key], ttlMs: 60_000, payload: { key } });
  if (r.duplicate) throw new Error(`unexpected duplicate ${key}`);
  return r.id;
}

describe.each(ENGINES)('$name: eTags', (engine) => {
  it('a stale eTag is rejected and the newer value kept; "*" and no eTag write unconditionally; an eTag on a missing item writes it', async () => {
    const { storage } = await openStores(await engine.location());
    await storage.write({ k: { n: 1 } });
    const first = (await storage.read(['k'])).k!;
    expect(typeof first.eTag).toBe('string');
    await storage.write({ k: { n: 2, eTag: first.eTag } });
    const second = (await storage.read(['k'])).k!;
    expect(second.eTag).not.toBe(first.eTag);
    await expect(storage.write({ k: { n: 3, eTag: first.eTag } })).rejects.toMatchObject({ code: 'storage_conflict', message: 'Storage: error writing "k" due to eTag conflict.' });
    expect((await storage.read(['k'])).k).toMatchObject({ n: 2 });
    await expect(storage.write({ k: { n: 3, eTag: 'not-an-etag-of-ours' } })).rejects.toThrow(/eTag conflict/);
    await storage.write({ k: { n: 4, eTag: '*' } });
    expect((await storage.read(['k'])).k).toMatchObject({ n: 4 });
    await storage.write({ k: { n: 5 } });
    expect((await storage.read(['k'])).k).toMatchObject({ n: 5 });
    await storage.write({ fresh: { n: 1, eTag: '41' } });
    expect((await storage.read(['fresh'])).fresh).toMatchObject({ n: 1 });
    await storage.delete(['k', 'fresh', 'never-written']);
    expect(await storage.read(['k', 'fresh'])).toEqual({});
  });
});

describe.each(SHARED_ENGINES)('$name: two connections to one store', (engine) => {
  it('a write with an eTag another connection has moved on from is rejected; of two racing writes with one eTag exactly one wins', async () => {
    const url = await engine.location();
    const a = await openStores(url);
    const b = await openStores(url);
    await a.storage.write({ k: { n: 0 } });
    const seen = (await b.storage.read(['k'])).k!;
    await a.storage.write({ k: { n: 1, eTag: seen.eTag } });
    await expect(b.storage.write({ k: { n: 2, eTag: seen.eTag } })).rejects.toThrow(/eTag conflict/);

    for (let round = 0; round < 10; round++) {
      const current = (await a.storage.read(['k'])).k!;
      const results = await Promise.allSettled([a.storage.write({ k: { by: 'a', round, eTag: current.eTag } }), b.storage.write({ k: { by: 'b', round, eTag: current.eTag } })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const winner = results[0]!.status === 'fulfilled' ? 'a' : 'b';
      expect((await b.storage.read(['k'])).k).toMatchObject({ by: winner, round });
    }
  });

  it('the same redelivery accepted on two connections at once is one event: exactly one accept wins per key', async () => {
    const url = await engine.location();
    const a = await openStores(url);
    const b = await openStores(url);
    const keys = Array.from({ length: 20 }, (_, i) => `delivery-${i}`);
    const attempts = keys.flatMap((key) => [a, b, a, b].map((s, n) => s.inbox.accept({ platform: 'p', conversationId: `c-${key}`, dedupeKeys: [key, `message-${key}`], ttlMs: 60_000, payload: { key, n } })));
    const results = await Promise.all(attempts);
    for (let i = 0; i < keys.length; i++) expect(results.slice(i * 4, i * 4 + 4).filter((r) => !r.duplicate)).toHaveLength(1);
    expect((await a.inbox.unfinished('p')).map((e) => (e.payload as { key: string }).key).sort()).toEqual([...keys].sort());
    const remembered = await Promise.all([a.dedupe.checkAndRemember(['fresh-key'], 60_000), b.dedupe.checkAndRemember(['fresh-key'], 60_000)]);
    expect(remembered.filter((duplicate) => !duplicate)).toHaveLength(1);
  });

  it('of two racing turns with the same eTag exactly one commits; the other writes nothing (state, outbox, done mark)', async () => {
    const url = await engine.location();
    const a = await openStores(url);
    const b = await openStores(url);
    await a.storage.write({ 'conversation/x': { step: 0 } });
    const read = (await a.storage.read(['conversation/x']))['conversation/x']!;
    const idA = await acceptedId(a, 'ea');
    const idB = await acceptedId(b, 'eb');
    const unit = (s: Stores, by: string, id: number) => {
      const turn = s.beginTurn();
      void turn.write({ 'conversation/x': { step: 1, by, eTag: read.eTag }, [`side/${by}`]: { by } });
      turn.addOutbox({ platform: 'p', conversationId: 'x', kind: 'reply', payload: { by } });
      turn.markInboxDone(id);
      return turn.commit();
    };
    const [ra, rb] = await Promise.allSettled([unit(a, 'a', idA), unit(b, 'b', idB)]);
    expect([ra.status, rb.status].sort()).toEqual(['fulfilled', 'rejected']);
    const winner = ra.status === 'fulfilled' ? 'a' : 'b';
    const loser = winner === 'a' ? 'b' : 'a';
    const items = await a.storage.read(['conversation/x', 'side/a', 'side/b']);
    expect(items['conversation/x']).toMatchObject({ by: winner });
    expect(items[`side/${loser}`]).toBeUndefined();
    expect((await a.outbox.pending()).map((x) => x.payload)).toEqual([{ by: winner }]);
    expect((await a.inbox.unfinished('p')).map((e) => e.id)).toEqual([winner === 'a' ? idB : idA]);
  });
});

describe.each(ENGINES)('$name: idempotency keys', (engine) => {
  it('a key is a duplicate until its TTL ends, then accepted again; a duplicate remembers none of its keys', async () => {
    const clock = stubClock(1_000_000);
    const s = await openStores(await engine.location(), { clock });
    expect(await s.dedupe.checkAndRemember(['k1'], 1000)).toBe(false);
    expect(await s.dedupe.checkAndRemember(['k1'], 1000)).toBe(true);
    // k1 is live: nothing of this call is remembered, so k2 is new afterwards
    expect(await s.dedupe.checkAndRemember(['k2', 'k1'], 1000)).toBe(true);
    expect(await s.dedupe.checkAndRemember(['k2'], 1000)).toBe(false);
    clock.now.returns(1_001_000); // k1 has expired
    expect(await s.dedupe.checkAndRemember(['k1'], 1000)).toBe(false);
    const accepted = await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['k3', 'k3'], ttlMs: 1000, payload: {} });
    expect(accepted.duplicate).toBe(false);
    await s.dedupe.forget(['k3']);
    expect((await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['k3'], ttlMs: 1000, payload: {} })).duplicate).toBe(false);
    expect((await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: [], ttlMs: 1000, payload: {} })).duplicate).toBe(false);
  });
});

describe.each(DURABLE_ENGINES)('$name: restart', (engine) => {
  it('after close and reopen: the unfinished events in their original order with their attempts; keys, state and outbox kept', async () => {
    const url = await engine.location();
    const s1 = await openStores(url);
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(await acceptedId(s1, `k${i}`, i % 2 ? 'odd' : 'even'));
    await s1.inbox.started(ids[0]!);
    await s1.inbox.markDone(ids[0]!);
    await s1.inbox.started(ids[1]!); // cut mid-turn
    await s1.storage.write({ 'ownership/x': { owner: 'human' } });
    const action = await s1.outbox.add({ platform: 'p', conversationId: 'odd', kind: 'handoff', payload: { step: 1 } });
    await s1.close();
    const s2 = await openStores(url);
    const left = await s2.inbox.unfinished('p');
    expect(left.map((e) => e.id)).toEqual(ids.slice(1));
    expect(left.map((e) => (e.payload as { key: string }).key)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
    expect(left.map((e) => e.conversationId)).toEqual(['odd', 'even', 'odd', 'even', 'odd']);
    expect(left.map((e) => e.attempts)).toEqual([1, 0, 0, 0, 0]);
    expect((await s2.inbox.accept({ platform: 'p', conversationId: 'odd', dedupeKeys: ['k3'], ttlMs: 60_000, payload: {} })).duplicate).toBe(true);
    expect((await s2.storage.read(['ownership/x']))['ownership/x']).toMatchObject({ owner: 'human' });
    expect((await s2.outbox.pending()).map((a) => [a.id, a.payload])).toEqual([[action, { step: 1 }]]);
    expect(await s2.inbox.unfinished('other-platform')).toEqual([]);
  });

  it('an attempt counted without waiting is stored before the done mark (markDone and a turn commit)', async () => {
    const s = await openStores(await engine.location());
    const a = await acceptedId(s, 'a');
    const b = await acceptedId(s, 'b');
    const c = await acceptedId(s, 'c');
    void s.inbox.started(a);
    await s.inbox.markDone(a);
    void s.inbox.started(b);
    void s.inbox.started(b);
    const turn = s.beginTurn();
    turn.markInboxDone(b);
    await turn.commit();
    void s.inbox.started(c);
    void s.inbox.started(c);
    await s.inbox.started(c);
    expect((await s.inbox.unfinished('p')).map((e) => [e.id, e.attempts])).toEqual([[c, 3]]);
  });
});

describe.each(DURABLE_ENGINES)('$name: retention', (engine) => {
  it('deletes finished events and actions, expired keys, old transcripts and idle state; keeps what is recent or unfinished', async () => {
    const clock = stubClock(1_000_000_000);
    const s = await openStores(await engine.location(), { clock, retention: RETENTION });
    const old = await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['old'], ttlMs: 1000, payload: {} });
    const pending = await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['pending'], ttlMs: 10 * 3600_000, payload: {} });
    if (old.duplicate || pending.duplicate) throw new Error('unexpected duplicate');
    await s.inbox.markDone(old.id);
    await s.storage.write({ 'transcript/nimchat/1:1': { entries: [] }, 'conversation/old': { x: 1 } });
    const doneAction = await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} });
    await s.outbox.markDone(doneAction);
    const failedAction = await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} });
    await s.outbox.markFailed(failedAction, 'gave up');
    await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} });

    clock.now.returns(1_000_000_000 + 2 * 3600_000); // 2 h later: events (1 h) are old, transcripts (1 d) not
    await s.storage.write({ 'transcript/nimchat/1:2': { entries: [] } });
    expect(await s.prune()).toEqual({ inbox: 1, outbox: 2, dedupe: 1, transcripts: 0, state: 0 });
    expect((await s.inbox.unfinished('p')).length).toBe(1);
    expect((await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['pending'], ttlMs: 1, payload: {} })).duplicate).toBe(true);
    expect(await s.outbox.pending()).toHaveLength(1);
    expect(await s.prune()).toEqual({ inbox: 0, outbox: 0, dedupe: 0, transcripts: 0, state: 0 });

    clock.now.returns(1_000_000_000 + 2 * 86_400_000 - 3600_000);
    await s.storage.write({ 'transcript/nimchat/1:2': { entries: [{ text: 'later' }] } });
    clock.now.returns(1_000_000_000 + 2 * 86_400_000); // 2 days: the first transcript is old, the second not
    expect((await s.prune()).transcripts).toBe(1);
    expect(Object.keys(await s.storage.read(['transcript/nimchat/1:1', 'transcript/nimchat/1:2', 'conversation/old']))).toEqual(['transcript/nimchat/1:2', 'conversation/old']);
    clock.now.returns(1_000_000_000 + 11 * 86_400_000); // 11 days: idle state goes too
    expect(await s.prune()).toMatchObject({ transcripts: 1, state: 1 });
    expect((await s.inbox.unfinished('p')).length).toBe(1); // unfinished events are never pruned
  });
});

describe.each(ENGINES)('$name: readiness', (engine) => {
  it('checkWritable: undefined while the store can be written, a reason once it is closed', async () => {
    const s = await openStores(await engine.location());
    expect(await s.checkWritable()).toBeUndefined();
    if (engine.name === 'memory') return; // nothing to close
    await s.close();
    expect(await s.checkWritable()).toMatch(/closed/);
    await expect(s.storage.write({ k: {} })).rejects.toMatchObject({ code: 'storage_closed' });
  });
});

describe.each(ENGINES)('$name: outbox', (engine) => {
  it('a discarded action is not attempted, retried or failed any more (nothing written, no timeline step); a delivery still marks it done', async () => {
    const s = await openStores(await engine.location());
    const action = { platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} };
    const id = await s.outbox.add(action);
    expect(await s.outbox.attempt(id)).toBe(1);
    expect(await s.outbox.markRetry(id, Date.now() + 60_000, 'HTTP 503')).toBe(true);
    expect(await s.outbox.discard(id, 'given up')).toBe('discarded');
    expect(await s.outbox.discard(id, 'again')).toBe('not_found');
    const record = { ...action, id, attempts: 2, nextAttemptAt: 0 };
    expect(await s.outbox.attempt(id)).toBeUndefined();
    expect(await s.outbox.markRetry(id, Date.now(), 'HTTP 503', deliveryStep(record, 'retry', { error: 'HTTP 503' }))).toBe(false);
    expect(await s.outbox.markFailed(id, 'gave up', deliveryStep(record, 'failed', { error: 'gave up' }))).toBe(false);
    expect(await s.outbox.get(id)).toMatchObject({ status: 'discarded', attempts: 1, lastError: 'given up' });
    expect(await s.timeline.entries('c', { limit: 10 })).toEqual([]);
    await s.outbox.markDone(id);
    if (engine.name !== 'memory') expect((await s.outbox.get(id))?.status).toBe('done'); // memory forgets done actions
  });
  it('a retry or failure mark stores how many attempts there were, a first one made without a write included; the count never goes down', async () => {
    const s = await openStores(await engine.location());
    const action = { platform: 'p', conversationId: 'c', kind: 'message', payload: {} };
    const once = await s.outbox.add(action);
    // Attempted once at once after its commit (nothing written for it), then failed for good.
    expect(await s.outbox.markFailed(once, 'HTTP 422', undefined, 1)).toBe(true);
    expect(await s.outbox.get(once)).toMatchObject({ status: 'failed', attempts: 1 });
    const twice = await s.outbox.add(action);
    expect(await s.outbox.markRetry(twice, Date.now(), 'HTTP 503', undefined, 1)).toBe(true);
    expect(await s.outbox.attempt(twice)).toBe(2);
    expect(await s.outbox.markRetry(twice, Date.now(), 'HTTP 503', undefined, 1)).toBe(true);
    expect((await s.outbox.get(twice))?.attempts).toBe(2);
  });
});

describe.each(ENGINES)('$name: echoes', (engine) => {
  it('added once per message, listed per conversation since a time, removed by key', async () => {
    const { echoes } = await openStores(await engine.location());
    const at = Date.now();
    await echoes.add([
      { platform: 'p', conversationId: 'c', messageId: '1', fingerprint: 'a', at },
      { platform: 'p', conversationId: 'c', messageId: '2', fingerprint: 'b', at: at + 1 },
      { platform: 'p', conversationId: 'other', messageId: '1', fingerprint: 'a', at },
    ]);
    // The same echo again (a redelivery) changes nothing.
    await echoes.add([{ platform: 'p', conversationId: 'c', messageId: '1', fingerprint: 'changed', at: at + 5 }]);
    expect((await echoes.list('p', 'c', at - 10)).map((e) => [e.messageId, e.fingerprint])).toEqual([
      ['1', 'a'],
      ['2', 'b'],
    ]);
    expect((await echoes.list('p', 'c', at + 1)).map((e) => e.messageId)).toEqual(['2']);
    await echoes.remove([{ platform: 'p', conversationId: 'c', messageId: '1' }]);
    expect((await echoes.list('p', 'c', 0)).map((e) => e.messageId)).toEqual(['2']);
    expect((await echoes.list('p', 'other', 0)).map((e) => e.messageId)).toEqual(['1']);
  });
});

// Replicas share PostgreSQL only (SQLite's echoes are one process's documents).
describe.each(SHARED_ENGINES.filter((e) => e.name === 'postgres'))('$name: echoes from two replicas', (engine) => {
  it('two replicas adding echoes of one conversation at once both keep theirs', async () => {
    const url = await engine.location();
    const a = await openStores(url);
    const b = await openStores(url);
    const at = Date.now();
    for (let round = 0; round < 10; round++) {
      await Promise.all([
        a.echoes.add([{ platform: 'p', conversationId: `c${round}`, messageId: 'from-a', fingerprint: 'x', at }]),
        b.echoes.add([{ platform: 'p', conversationId: `c${round}`, messageId: 'from-b', fingerprint: 'x', at }]),
      ]);
      expect((await a.echoes.list('p', `c${round}`, 0)).map((e) => e.messageId).sort()).toEqual(['from-a', 'from-b']);
    }
  });
});

describe.each(SHARED_ENGINES.filter((e) => e.name === 'postgres'))('$name: a turn committed twice', (engine) => {
  it("the same event's unit committed again (its first commit's answer was lost) writes nothing: no second reply", async () => {
    const s = await openStores(await engine.location());
    const id = await acceptedId(s, 'twice');
    const unit = (run: number) => {
      const turn = s.beginTurn();
      void turn.write({ [`side/${run}`]: { run } });
      turn.addOutbox({ platform: 'p', conversationId: 'c', kind: 'reply', payload: { run } });
      turn.markInboxDone(id);
      return turn.commit();
    };
    expect((await unit(1)).outboxIds).toHaveLength(1);
    expect(await unit(2)).toEqual({ outboxIds: [] });
    expect((await s.outbox.pending()).map((x) => x.payload)).toEqual([{ run: 1 }]);
    expect((await s.storage.read(['side/2']))['side/2']).toBeUndefined();
  });
});
