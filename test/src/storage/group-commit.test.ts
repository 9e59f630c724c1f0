/** The SQLite write path: one writer thread, writes submitted together share one transaction. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStores, type SqliteStores } from '../../../src/storage/sqlite-stores';
import { silentLogger } from '../../../src/log';

let dir: string;
const open: SqliteStores[] = [];
function stores(file = path.join(dir, 'gc.sqlite')): SqliteStores {
  const s = createSqliteStores(file, silentLogger);
  open.push(s);
  return s;
}
const accept = (s: SqliteStores, key: string, conversationId = 'c') => s.inbox.accept({ platform: 'p', conversationId, dedupeKeys: [key], ttlMs: 60_000, payload: { key } });
const nextTurnOfTheLoop = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-gc-'));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('group commit', () => {
  it('50 concurrent accepts are one transaction, each with its own id', async () => {
    const s = stores();
    const before = { ...s.writer.stats };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => accept(s, `k${i}`, `c${i % 7}`)));
    expect(s.writer.stats.commits - before.commits).toBe(1);
    expect(s.writer.stats.batches - before.batches).toBe(1);
    const ids = results.map((r) => (r.duplicate ? -1 : r.id));
    expect(new Set(ids).size).toBe(50);
    expect(ids).toEqual([...ids].sort((a, b) => a - b)); // submission order is commit order
    expect((await s.inbox.unfinished('p')).map((e) => e.payload)).toEqual(Array.from({ length: 50 }, (_, i) => ({ key: `k${i}` })));
  });

  it('writes submitted while a batch is being committed go together in the next one', async () => {
    const s = stores();
    const before = s.writer.stats.commits;
    const first = accept(s, 'first');
    await nextTurnOfTheLoop(); // the first batch has left for the writer thread
    const rest = Array.from({ length: 20 }, (_, i) => accept(s, `later${i}`));
    await Promise.all([first, ...rest]);
    expect(s.writer.stats.commits - before).toBe(2);
  });

  it('a failing operation fails alone: its neighbours in the batch are committed', async () => {
    const s = stores();
    await s.storage.write({ stale: { n: 1 } });
    const old = (await s.storage.read(['stale'])).stale!;
    await s.storage.write({ stale: { n: 2, eTag: old.eTag } });
    const before = s.writer.stats.commits;
    const [a, conflict, b, c] = await Promise.allSettled([
      s.storage.write({ before: { ok: true } }),
      s.storage.write({ other: { part: 'of the failing write' }, stale: { n: 3, eTag: old.eTag } }),
      accept(s, 'neighbour'),
      s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'k', payload: { after: true } }),
    ]);
    expect(s.writer.stats.commits - before).toBe(1);
    expect(a.status).toBe('fulfilled');
    expect(conflict).toMatchObject({ status: 'rejected', reason: { code: 'storage_conflict', message: 'Storage: error writing "stale" due to eTag conflict.' } });
    expect(b).toMatchObject({ status: 'fulfilled', value: { duplicate: false } });
    expect(c.status).toBe('fulfilled');
    const items = await s.storage.read(['before', 'other', 'stale']);
    expect(Object.keys(items)).toEqual(['before', 'stale']); // the failing write is all or nothing
    expect(items.stale).toMatchObject({ n: 2 });
    expect((await s.inbox.unfinished('p')).length).toBe(1);
    expect((await s.outbox.pending()).map((x) => x.payload)).toEqual([{ after: true }]);
  });

  it('SQL that cannot be prepared fails its operation alone, every time, and the statements after it still run as written', async () => {
    const s = stores();
    const bad = { steps: [{ sql: 'INSERT INTO no_such_table (x) VALUES (?)', params: [1] }] };
    const [first, neighbour] = await Promise.allSettled([s.writer.submit(bad), accept(s, 'beside-the-bad-one')]);
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'storage_write_failed', message: expect.stringMatching(/no such table/) } });
    expect(neighbour.status).toBe('fulfilled');
    await expect(s.writer.submit(bad)).rejects.toMatchObject({ message: expect.stringMatching(/no such table/) });
    // Texts first seen after the bad one: each side must still give them the same numbers.
    await s.storage.write({ after: { n: 1 } });
    await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'k', payload: { n: 2 } });
    expect((await s.storage.read(['after'])).after).toMatchObject({ n: 1 });
    expect((await s.outbox.pending()).map((a) => a.payload)).toEqual([{ n: 2 }]);
  });

  it('a duplicate inside one batch is refused by the dedupe check, atomically with the accept', async () => {
    const s = stores();
    const [a, b, c] = await Promise.all([accept(s, 'same'), accept(s, 'same'), s.dedupe.checkAndRemember(['same'], 1000)]);
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(c).toBe(true);
    expect((await s.inbox.unfinished('p')).length).toBe(1);
  });

  it('runs writes in submission order: unawaited writes of one key end with the last; started() before the done mark', async () => {
    const s = stores();
    for (let n = 1; n < 10; n++) void s.storage.write({ k: { n } });
    await s.storage.write({ k: { n: 10 } });
    expect((await s.storage.read(['k'])).k).toMatchObject({ n: 10, eTag: '10' });
    const r = await accept(s, 'e1');
    const other = await accept(s, 'e2');
    if (r.duplicate || other.duplicate) throw new Error('unexpected duplicate');
    void s.inbox.started(other.id);
    void s.inbox.started(other.id);
    void s.inbox.started(r.id);
    await s.inbox.markDone(r.id);
    expect((await s.inbox.unfinished('p')).map((e) => [e.id, e.attempts])).toEqual([[other.id, 2]]);
  });

  it('closing commits the pending writes, then ends the writer thread', async () => {
    const file = path.join(dir, 'close.sqlite');
    const s = stores(file);
    const pending = [...Array.from({ length: 30 }, (_, i) => accept(s, `k${i}`)), s.storage.write({ 'conversation/x': { n: 1 } })];
    await s.close();
    expect((await Promise.allSettled(pending)).every((p) => p.status === 'fulfilled')).toBe(true);
    expect(s.writer.isRunning).toBe(false);
    await expect(accept(s, 'after-close')).rejects.toMatchObject({ code: 'storage_closed' });
    const again = stores(file);
    expect((await again.inbox.unfinished('p')).length).toBe(30);
    expect((await again.storage.read(['conversation/x']))['conversation/x']).toMatchObject({ n: 1 });
  });

  it('a turn is one operation in the batch of whatever else is pending', async () => {
    const s = stores();
    const r = await accept(s, 'turn-event');
    if (r.duplicate) throw new Error('unexpected duplicate');
    const before = s.writer.stats.commits;
    const turn = s.beginTurn();
    await turn.write({ 'conversation/t': { step: 2 } });
    turn.addOutbox({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} });
    turn.markInboxDone(r.id);
    const [committed] = await Promise.all([turn.commit(), accept(s, 'meanwhile-1'), accept(s, 'meanwhile-2')]);
    expect(committed.outboxIds.length).toBe(1);
    expect(s.writer.stats.commits - before).toBe(1);
    expect((await s.inbox.unfinished('p')).map((e) => (e.payload as { key: string }).key)).toEqual(['meanwhile-1', 'meanwhile-2']);
  });

  it('the readiness check and the retention pass are writes of the writer too', async () => {
    const s = stores();
    const before = s.writer.stats.commits;
    expect(await s.checkWritable()).toBeUndefined();
    expect(await s.prune()).toEqual({ inbox: 0, outbox: 0, dedupe: 0, transcripts: 0, state: 0 });
    expect(s.writer.stats.commits - before).toBe(2);
  });
});
