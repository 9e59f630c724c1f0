/** Conversation leases on PostgreSQL: one holder at a time (also when two race), renewal, release, expiry, and the conversations nobody holds. */
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log';
import { createPostgresStores, type PostgresStores } from '../../../src/storage/postgres-stores';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';

const opened: PostgresStores[] = [];
afterAll(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  await dropTestDatabases();
});

/** Two replicas (two pools) on one new database. */
async function replicas(): Promise<[PostgresStores, PostgresStores]> {
  const url = await createTestDatabase();
  const pair: [PostgresStores, PostgresStores] = [createPostgresStores(url, silentLogger), createPostgresStores(url, silentLogger)];
  opened.push(...pair);
  await Promise.all(pair.map((s) => s.open()));
  return pair;
}

const expireAll = (s: PostgresStores) => s.database.pool.query("UPDATE handoff_leases SET expires_at = now() - interval '1 second'");

describe('ConversationLeases', () => {
  it('two holders racing for the same conversations: exactly one gets each', async () => {
    const [a, b] = await replicas();
    const keys = Array.from({ length: 25 }, (_, i) => `nimchat:1:${i}`);
    const results = await Promise.all(keys.flatMap((key) => [a.leases.acquire(key, 'replica-a', 30_000), b.leases.acquire(key, 'replica-b', 30_000), a.leases.acquire(key, 'replica-a2', 30_000)]));
    for (let i = 0; i < keys.length; i++) expect(results.slice(i * 3, i * 3 + 3).filter(Boolean)).toHaveLength(1);
    const holders = await Promise.all(keys.map((key) => b.leases.holder(key)));
    holders.forEach((holder, i) => expect(holder).toBe(['replica-a', 'replica-b', 'replica-a2'][results.slice(i * 3, i * 3 + 3).indexOf(true)]));
  });

  it('a live lease is the holder\'s alone: others cannot take, renew or release it; the holder extends and releases it', async () => {
    const [a, b] = await replicas();
    expect(await a.leases.acquire('c', 'a', 30_000)).toBe(true);
    expect(await b.leases.acquire('c', 'b', 30_000)).toBe(false);
    expect(await b.leases.renew('c', 'b', 30_000)).toBe(false);
    expect(await b.leases.release('c', 'b')).toBe(false);
    expect(await a.leases.acquire('c', 'a', 30_000)).toBe(true); // again: extended
    expect(await a.leases.renew('c', 'a', 30_000)).toBe(true);
    expect(await a.leases.holder('c')).toBe('a');
    expect(await a.leases.release('c', 'a')).toBe(true);
    expect(await a.leases.holder('c')).toBeUndefined();
    expect(await b.leases.acquire('c', 'b', 30_000)).toBe(true);
  });

  it('an expired lease (its holder died) is taken over; the old holder can no longer renew it', async () => {
    const [a, b] = await replicas();
    expect(await a.leases.acquire('c', 'a', 30_000)).toBe(true);
    await expireAll(a);
    expect(await a.leases.holder('c')).toBeUndefined();
    expect(await a.leases.renew('c', 'a', 30_000)).toBe(false);
    expect(await b.leases.acquire('c', 'b', 30_000)).toBe(true);
    expect(await a.leases.release('c', 'a')).toBe(false);
    expect(await b.leases.holder('c')).toBe('b');
    expect(await a.leases.acquire('z', 'a', 0)).toBe(true); // a lease of 0 ms is over at once
    expect(await b.leases.acquire('z', 'b', 30_000)).toBe(true);
    await expect(a.leases.acquire('c', 'a', -1)).rejects.toThrow(RangeError);
  });

  it('lists conversations with unfinished events and no live lease, oldest event first', async () => {
    const [a] = await replicas();
    const accept = async (conversationId: string, key: string) => {
      const r = await a.inbox.accept({ platform: conversationId.startsWith('t') ? 'inbenta' : 'nimchat', conversationId, dedupeKeys: [key], ttlMs: 60_000, payload: {} });
      if (r.duplicate) throw new Error('unexpected duplicate');
      return r.id;
    };
    const x1 = await accept('x', 'x1');
    const y1 = await accept('y', 'y1');
    await accept('x', 'x2');
    const z1 = await accept('z', 'z1');
    const t1 = await accept('t', 't1');
    const done = await accept('w', 'w1');
    await a.inbox.markDone(done);
    await a.inbox.markDone(y1);
    const y2 = await accept('y', 'y2');
    expect(await a.leases.acquire('z', 'someone', 30_000)).toBe(true);
    const list = await a.leases.unleased(10);
    expect(list.map((c) => [c.conversationKey, c.oldestEventId, c.unfinishedEvents])).toEqual([
      ['x', x1, 2],
      ['t', t1, 1],
      ['y', y2, 1],
    ]);
    expect(list[0]!.oldestReceivedAt).toBeGreaterThan(0);
    expect((await a.leases.unleased(1)).map((c) => c.conversationKey)).toEqual(['x']);
    await expireAll(a);
    expect((await a.leases.unleased(10)).map((c) => c.conversationKey)).toEqual(['x', 'z', 't', 'y']);
    expect(z1).toBeGreaterThan(x1);
  });

  it('a replica restarted under its name finds the conversations its live leases hold work for (it takes them back at once); another replica does not', async () => {
    const url = await createTestDatabase();
    const before = createPostgresStores(url, silentLogger, { replicaId: 'replica-1' });
    opened.push(before);
    await before.open();
    const accepted = await before.inbox.accept({ platform: 'nimchat', conversationId: 'c', dedupeKeys: ['c1'], ttlMs: 60_000, payload: {} });
    if (accepted.duplicate) throw new Error('unexpected duplicate');
    await before.inbox.accept({ platform: 'nimchat', conversationId: 'd', dedupeKeys: ['d1'], ttlMs: 60_000, payload: {} });
    // It held both conversations' leases, for 30 s, when it died.
    expect((await before.replicas!.claim('c', 30_000)).held).toBe(true);
    expect((await before.replicas!.claim('d', 30_000)).held).toBe(true);
    await before.close();

    const restarted = createPostgresStores(url, silentLogger, { replicaId: 'replica-1' });
    const other = createPostgresStores(url, silentLogger, { replicaId: 'replica-2' });
    opened.push(restarted, other);
    await Promise.all([restarted.open(), other.open()]);
    expect(await restarted.replicas!.unleased(10)).toEqual(['c', 'd']);
    expect((await restarted.replicas!.claim('c', 30_000)).held).toBe(true);
    expect(await other.replicas!.unleased(10)).toEqual([]);
    expect((await other.replicas!.claim('d', 30_000)).held).toBe(false);
  });

  it('a claim takes the lease and reads the work in one statement: the events oldest first (the first marked started), the pending actions; another replica gets nothing and changes nothing', async () => {
    const url = await createTestDatabase();
    const a = createPostgresStores(url, silentLogger, { replicaId: 'replica-a' });
    const b = createPostgresStores(url, silentLogger, { replicaId: 'replica-b' });
    opened.push(a, b);
    await Promise.all([a.open(), b.open()]);
    for (const key of ['k1', 'k2']) await a.inbox.accept({ platform: 'nimchat', conversationId: 'c', dedupeKeys: [key], ttlMs: 60_000, payload: { key } });
    const actionId = await a.outbox.add({ platform: 'nimchat', conversationId: 'c', kind: 'message', payload: { text: 'hi' } });

    const claim = await a.replicas!.claim('c', 30_000);
    expect(claim.held).toBe(true);
    expect(claim.events.map((e) => [e.payload, e.attempts])).toEqual([[{ key: 'k1' }, 0], [{ key: 'k2' }, 0]]);
    expect(claim.startedId).toBe(claim.events[0]!.id);
    expect(claim.actions.map((x) => [x.id, x.kind, x.payload])).toEqual([[actionId, 'message', { text: 'hi' }]]);

    expect(await b.replicas!.claim('c', 30_000)).toEqual({ held: false, events: [], actions: [] });
    const again = await a.replicas!.claim('c', 30_000); // ours: extended, the first event counted once more
    expect(again.events.map((e) => e.attempts)).toEqual([1, 0]);
  });

  it("state read with a claim is served to the conversation's next turn, unless it was written meanwhile outside a turn", async () => {
    const a = createPostgresStores(await createTestDatabase(), silentLogger, { replicaId: 'replica-a' });
    opened.push(a);
    await a.open();
    await a.storage.write({ 'k/owner': { owner: 'ticket' } });
    await a.inbox.accept({ platform: 'nimchat', conversationId: 'c', dedupeKeys: ['x1'], ttlMs: 60_000, payload: {} });
    expect((await a.replicas!.claim('c', 30_000, ['k/owner'])).held).toBe(true);
    // Written by the holder outside a turn (an ownership change of a ticket event): the claim's copy is stale.
    await a.storage.write({ 'k/owner': { owner: 'bot' } });
    const turn = a.beginTurn();
    await turn.prefetch(['k/owner']);
    expect(((await turn.read(['k/owner']))['k/owner'] as { owner: string }).owner).toBe('bot');
  });
});
