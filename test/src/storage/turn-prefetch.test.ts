/** A turn's unit of work reads what the turn will read in one round trip, and serves those reads from it. */
import type { StoreItems } from 'botbuilder-core';
import { describe, expect, it } from 'vitest';
import { BufferedTurnWrites } from '../../../src/storage/turn-writes';

describe('BufferedTurnWrites.prefetch', () => {
  it('one read of the store for the keys; their later reads (fresh copies) come from it; the unit\'s own writes still win', async () => {
    const rows: StoreItems = { a: { n: 1, eTag: '1' }, b: { n: 2, eTag: '2' } };
    const reads: string[][] = [];
    const unit = new BufferedTurnWrites(
      async (keys) => {
        reads.push(keys);
        return Object.fromEntries(keys.filter((k) => rows[k] !== undefined).map((k) => [k, structuredClone(rows[k])]));
      },
      async () => ({ outboxIds: [] }),
    );
    await unit.prefetch(['a', 'b', 'missing']);
    expect(reads).toEqual([['a', 'b', 'missing']]);
    const first = await unit.read(['a', 'missing']);
    expect(first).toEqual({ a: { n: 1, eTag: '1' } });
    first.a.n = 99; // a caller changing what it got changes nothing for the next reader
    expect((await unit.read(['a'])).a).toEqual({ n: 1, eTag: '1' });
    await unit.write({ b: { n: 3, eTag: '2' } });
    expect((await unit.read(['b'])).b).toMatchObject({ n: 3 });
    expect(await unit.read(['c'])).toEqual({}); // not prefetched: read from the store
    expect(reads).toEqual([['a', 'b', 'missing'], ['c']]);
    await unit.prefetch(['a', 'c']); // nothing new to fetch but c
    expect(reads.at(-1)).toEqual(['c']);
  });
});
