/** The timers' contract, on every engine (claimed once when due, a claim that runs out, a timer set again meanwhile, a restart; two claimers at once on a shared engine). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStores } from '../../../src/storage/create-stores';
import { silentLogger } from '../../../src/log';
import type { Stores } from '../../../src/storage/stores';
import { closeEngines, ENGINES, openStores, SHARED_ENGINES } from '../../helpers/store-engines';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-timers-'));
const open: Stores[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
  await closeEngines();
  fs.rmSync(dir, { recursive: true, force: true });
});

const engines: Array<[string, () => Promise<Stores>]> = ENGINES.map((e) => [e.name, async () => openStores(await e.location())]);

const timer = (key: string, dueAt: number, payload: unknown = { step: 1 }) => ({ key, channelId: 'nimchat', conversationId: '1:1', kind: 'k', dueAt, payload });

for (const [name, make] of engines) {
  describe(`timers on ${name}`, () => {
    it('are claimed once when due, oldest first, and finished by their claim', async () => {
      const s = await make();
      await s.timers.set(timer('a', 2000));
      await s.timers.set(timer('b', 1000));
      await s.timers.set(timer('c', 9000));
      expect(await s.timers.claimDue(500, 60_000, 10)).toEqual([]);
      const due = await s.timers.claimDue(2000, 60_000, 10);
      expect(due.map((t) => [t.key, t.attempts, t.payload])).toEqual([
        ['b', 1, { step: 1 }],
        ['a', 1, { step: 1 }],
      ]);
      expect(await s.timers.claimDue(2500, 60_000, 10)).toEqual([]); // claimed
      await s.timers.finish('b', due[0]!.claim);
      expect(await s.timers.get('b')).toBeUndefined();
      // A claim that ran out: due again, for whoever polls next.
      const again = await s.timers.claimDue(62_001, 60_000, 10);
      expect(again.map((t) => [t.key, t.attempts])).toEqual([['a', 2], ['c', 1]]);
      // A stale claim finishes nothing.
      await s.timers.finish('a', due[1]!.claim);
      expect(await s.timers.get('a')).toBeDefined();
    });

    it('a timer set again while claimed is not finished by the old claim; cancel removes it', async () => {
      const s = await make();
      await s.timers.set(timer('x', 1000));
      const [claimed] = await s.timers.claimDue(1000, 60_000, 10);
      await s.timers.set(timer('x', 5000, { step: 2 }));
      await s.timers.finish('x', claimed!.claim);
      expect(await s.timers.get('x')).toMatchObject({ dueAt: 5000, payload: { step: 2 } });
      expect((await s.timers.claimDue(5000, 60_000, 10)).map((t) => [t.key, t.attempts])).toEqual([['x', 1]]);
      await s.timers.cancel('x');
      expect(await s.timers.get('x')).toBeUndefined();
    });
  });
}

it('SQLite timers survive a restart', async () => {
  const file = path.join(dir, 'restart.sqlite');
  const first = createStores(`sqlite:${file}`, silentLogger);
  await first.timers.set(timer('kept', 1000, { generation: 'g' }));
  await first.close();
  const second = createStores(`sqlite:${file}`, silentLogger);
  open.push(second);
  expect((await second.timers.claimDue(1000, 60_000, 10)).map((t) => [t.key, t.payload])).toEqual([['kept', { generation: 'g' }]]);
});

for (const engine of SHARED_ENGINES) {
  it(`two replicas claiming at once on ${engine.name}: each due timer is claimed by one of them`, async () => {
    const location = await engine.location();
    const [a, b] = [await openStores(location), await openStores(location)];
    await Promise.all(Array.from({ length: 300 }, (_, i) => a.timers.set(timer(`t${i}`, 1000 + i))));
    const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).timers.claimDue(5000, 60_000, 30)));
    const keys = claims.flat().map((t) => t.key);
    expect(keys).toHaveLength(new Set(keys).size);
    expect(new Set(keys).size).toBe(300);
  });
}
