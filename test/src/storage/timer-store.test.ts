/** The timers' contract, on memory and on SQLite (claimed once when due, a claim that runs out, a timer set again meanwhile, a restart). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStores } from '../../../src/storage/create-stores';
import { silentLogger } from '../../../src/log';
import type { Stores } from '../../../src/storage/stores';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-timers-'));
const open: Stores[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const engines: Array<[string, () => Stores]> = [
  ['memory', () => createStores('memory:', silentLogger)],
  ['sqlite', () => createStores(`sqlite:${path.join(dir, `t-${open.length}.sqlite`)}`, silentLogger)],
];

const timer = (key: string, dueAt: number, payload: unknown = { step: 1 }) => ({ key, channelId: 'nimchat', conversationId: '1:1', kind: 'k', dueAt, payload });

for (const [name, make] of engines) {
  describe(`timers on ${name}`, () => {
    it('are claimed once when due, oldest first, and finished by their claim', async () => {
      const s = make();
      open.push(s);
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
      const s = make();
      open.push(s);
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
