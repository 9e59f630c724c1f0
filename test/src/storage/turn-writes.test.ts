/** Units of work, eTags and the outbox: one table of cases, run against every engine (memory, SQLite, PostgreSQL). */
import { afterAll, describe, expect, it } from 'vitest';
import type { Stores } from '../../../src/storage/create-stores';
import { closeEngines, ENGINES, openStores } from '../../helpers/store-engines';

afterAll(closeEngines);

async function acceptedId(s: Stores, key: string): Promise<number> {
  const r = await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: [key], ttlMs: 60_000, payload: { key } });
  if (r.duplicate) throw new Error('unexpected duplicate');
  return r.id;
}

const cases: Array<[string, (s: Stores) => Promise<void>]> = [
  [
    'a unit reads its own writes; the store sees them only after the commit',
    async (s) => {
      await s.storage.write({ a: { n: 1 } });
      const turn = s.beginTurn();
      await turn.write({ a: { n: 2 }, b: { n: 1 } });
      expect(await turn.read(['a', 'b', 'missing'])).toEqual({ a: { n: 2, eTag: '*' }, b: { n: 1, eTag: '*' } });
      expect(await s.storage.read(['a', 'b'])).toMatchObject({ a: { n: 1 } });
      expect(Object.keys(await s.storage.read(['b']))).toEqual([]);
      await turn.commit();
      expect(await s.storage.read(['a', 'b'])).toMatchObject({ a: { n: 2 }, b: { n: 1 } });
    },
  ],
  [
    'a unit reads an item as it was when written (later changes to the object are not buffered)',
    async (s) => {
      const turn = s.beginTurn();
      const item = { list: [1] };
      await turn.write({ k: item });
      item.list.push(2);
      expect((await turn.read(['k'])).k).toMatchObject({ list: [1] });
      await turn.commit();
      expect((await s.storage.read(['k'])).k).toMatchObject({ list: [1] });
    },
  ],
  [
    'a buffered delete hides the stored item; the commit deletes it; a write after it writes again',
    async (s) => {
      await s.storage.write({ gone: { n: 1 }, back: { n: 1 } });
      const turn = s.beginTurn();
      await turn.delete(['gone', 'back']);
      expect(await turn.read(['gone', 'back'])).toEqual({});
      await turn.write({ back: { n: 2 } });
      expect((await turn.read(['back'])).back).toMatchObject({ n: 2 });
      expect(Object.keys(await s.storage.read(['gone', 'back']))).toEqual(['gone', 'back']); // not yet
      await turn.commit();
      const after = await s.storage.read(['gone', 'back']);
      expect(Object.keys(after)).toEqual(['back']);
      expect(after.back).toMatchObject({ n: 2 });
    },
  ],
  [
    'a stale eTag rejects the whole unit: nothing of it is written',
    async (s) => {
      await s.storage.write({ k: { n: 1 } });
      const read = (await s.storage.read(['k'])).k!;
      const id = await acceptedId(s, 'e');
      const turn = s.beginTurn();
      expect((await turn.read(['k'])).k).toMatchObject({ n: 1, eTag: read.eTag });
      await turn.write({ k: { n: 2, eTag: read.eTag }, side: { written: true } });
      await turn.delete(['doomed']);
      turn.addOutbox({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: { n: 1 } });
      turn.markInboxDone(id);
      await s.storage.write({ k: { n: 10, eTag: read.eTag }, doomed: { still: 'here' } }); // another writer got there first
      await expect(turn.commit()).rejects.toThrow('Storage: error writing "k" due to eTag conflict.');
      const items = await s.storage.read(['k', 'side', 'doomed']);
      expect(items.k).toMatchObject({ n: 10 });
      expect(items.side).toBeUndefined();
      expect(items.doomed).toMatchObject({ still: 'here' });
      expect(await s.outbox.pending()).toEqual([]);
      expect((await s.inbox.unfinished('p')).map((e) => e.id)).toEqual([id]);
    },
  ],
  [
    'the current eTag commits; an eTag on a missing item writes it; a later write of a key keeps the first condition',
    async (s) => {
      await s.storage.write({ k: { n: 1 } });
      const read = (await s.storage.read(['k'])).k!;
      const turn = s.beginTurn();
      await turn.write({ k: { n: 2, eTag: read.eTag }, fresh: { n: 1, eTag: '12345' } });
      const again = (await turn.read(['k'])).k!;
      expect(again.eTag).toBe(read.eTag);
      await turn.write({ k: { ...again, n: 3 } });
      await turn.commit();
      const items = await s.storage.read(['k', 'fresh']);
      expect(items).toMatchObject({ k: { n: 3 }, fresh: { n: 1 } });
      expect(items.k!.eTag).not.toBe(read.eTag);

      const stale = s.beginTurn();
      await stale.write({ k: { n: 4, eTag: read.eTag } });
      await stale.write({ k: { n: 5, eTag: '*' } }); // builds on its own version: the first condition still holds
      await expect(stale.commit()).rejects.toThrow(/eTag conflict/);
      expect((await s.storage.read(['k'])).k).toMatchObject({ n: 3 });
    },
  ],
  [
    'outbox rows are added in call order; the commit gives their ids in that order',
    async (s) => {
      const earlier = await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'control', payload: { n: 0 } });
      const turn = s.beginTurn();
      for (let n = 1; n <= 3; n++) turn.addOutbox({ platform: 'p', conversationId: 'c', kind: `k${n}`, payload: { n } });
      expect(await s.outbox.pending()).toHaveLength(1);
      const { outboxIds } = await turn.commit();
      expect(outboxIds).toHaveLength(3);
      expect(outboxIds[0]!).toBeGreaterThan(earlier);
      expect(outboxIds).toEqual([...outboxIds].sort((a, b) => a - b));
      const pending = await s.outbox.pending();
      expect(pending.map((a) => [a.id, a.kind, a.payload])).toEqual([
        [earlier, 'control', { n: 0 }],
        [outboxIds[0], 'k1', { n: 1 }],
        [outboxIds[1], 'k2', { n: 2 }],
        [outboxIds[2], 'k3', { n: 3 }],
      ]);
    },
  ],
  [
    'the commit marks the inbox event done, with the state of its turn',
    async (s) => {
      const id = await acceptedId(s, 'done-by-turn');
      const keep = await acceptedId(s, 'still-open');
      const turn = s.beginTurn();
      await turn.write({ 'conversation/c': { turns: 1 } });
      turn.markInboxDone(id);
      expect((await s.inbox.unfinished('p')).map((e) => e.id)).toEqual([id, keep]);
      await turn.commit();
      expect((await s.inbox.unfinished('p')).map((e) => e.id)).toEqual([keep]);
      expect((await s.storage.read(['conversation/c']))['conversation/c']).toMatchObject({ turns: 1 });
    },
  ],
  [
    'an empty unit commits nothing; a unit commits once',
    async (s) => {
      const empty = s.beginTurn();
      expect(await empty.commit()).toEqual({ outboxIds: [] });
      await expect(empty.commit()).rejects.toMatchObject({ code: 'turn_committed' });
      await expect(empty.write({ k: {} })).rejects.toMatchObject({ code: 'turn_committed' });
      expect(() => empty.addOutbox({ platform: 'p', conversationId: 'c', kind: 'k', payload: {} })).toThrow(/already committed/);
    },
  ],
  [
    'Storage eTags as MemoryStorage: stale rejected, "*" and none unconditional, all or nothing per write',
    async (s) => {
      await s.storage.write({ k: { n: 1 } });
      const first = (await s.storage.read(['k'])).k!;
      await s.storage.write({ k: { n: 2, eTag: first.eTag } });
      await expect(s.storage.write({ k: { n: 3, eTag: first.eTag } })).rejects.toThrow(/eTag conflict/);
      await expect(s.storage.write({ a: { n: 1 }, k: { n: 3, eTag: first.eTag } })).rejects.toThrow(/eTag conflict/);
      expect(Object.keys(await s.storage.read(['a']))).toEqual([]);
      await s.storage.write({ k: { n: 4, eTag: '*' } });
      await s.storage.write({ k: { n: 5 } });
      await s.storage.write({ missing: { n: 1, eTag: '7' } });
      expect(await s.storage.read(['k', 'missing'])).toMatchObject({ k: { n: 5 }, missing: { n: 1 } });
    },
  ],
  [
    'outbox: pending lists every pending action whatever its next attempt; markProgress replaces the payload',
    async (s) => {
      const a = await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'ticket', payload: { steps: [] } });
      const b = await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'relay', payload: {} });
      const c = await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'relay', payload: {} });
      await s.outbox.markRetry(a, Date.now() + 3600_000, 'later');
      await s.outbox.markDone(c);
      await s.outbox.markProgress(a, { steps: ['user created'] });
      const pending = await s.outbox.pending();
      expect(pending.map((x) => x.id)).toEqual([a, b]);
      expect(pending[0]!.payload).toEqual({ steps: ['user created'] });
      expect(await s.outbox.attempt(a)).toBe(1);
      expect(await s.outbox.attempt(a)).toBe(2);
      expect(await s.outbox.pending()).toHaveLength(2);
    },
  ],
];

describe.each(ENGINES)('$name', (engine) => {
  it.each(cases)('%s', async (_name, run) => {
    await run(await openStores(await engine.location()));
  });
});
