/** The durable store: eTags, atomic intake, restart, retention, unusable paths. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConversationState, TurnContext, TestAdapter } from 'botbuilder-core';
import { createStores, type Stores } from '../../../src/storage/create-stores';
import { silentLogger } from '../../../src/log';
import { HandoffError } from '../../../src/errors';
import { ConversationQueue } from '../../../src/conversation-queue';
import { StorageTranscriptStore } from '../../../dialogs/transcript';

let dir: string;
const open: Stores[] = [];
function stores(file = path.join(dir, 'handoff.sqlite'), clock?: { now: () => number; sleep: (ms: number) => Promise<void>; random: () => number }): Stores {
  const s = createStores(`sqlite:${file}`, silentLogger, { clock, retention: { eventsMs: 3600_000, transcriptsMs: 86_400_000, stateMs: 10 * 86_400_000 } });
  open.push(s);
  return s;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-store-'));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SQLite Storage (botbuilder)', () => {
  it('reads served from memory are what the file holds, eTags included, after direct writes, turns, conflicts, deletes and retention', async () => {
    const file = path.join(dir, 'cache.sqlite');
    const clock = { now: () => now, sleep: async () => undefined, random: () => 0.5 };
    let now = 1_000_000;
    const s = stores(file, clock);
    const keys = ['a', 'b', 'c', 'gone', 'old'];
    const fromFile = async () => {
      const other = createStores(`sqlite:${file}`, silentLogger); // another connection: nothing in memory
      try {
        return await other.storage.read(keys);
      } finally {
        await other.close();
      }
    };
    await s.storage.read(keys); // every key cached as missing
    await s.storage.write({ a: { n: 1 }, gone: { n: 0 }, old: { n: 0 } });
    const a1 = (await s.storage.read(['a'])).a!;
    await s.storage.write({ a: { n: 2, eTag: a1.eTag } });
    await expect(s.storage.write({ a: { n: 3, eTag: a1.eTag }, b: { n: 3 } })).rejects.toThrow(/eTag conflict/);
    const turn = s.beginTurn();
    const read = await turn.read(['a', 'b']);
    await turn.write({ a: { ...read.a, n: 4 }, c: { n: 4 } });
    await turn.commit();
    const stale = s.beginTurn();
    await stale.write({ a: { n: 5, eTag: a1.eTag } });
    await expect(stale.commit()).rejects.toThrow();
    await s.storage.delete(['gone']);
    await expect(s.storage.write({ c: { n: 'never', eTag: '99' } })).rejects.toThrow(/eTag conflict/);
    expect(await s.storage.read(keys)).toEqual(await fromFile());
    expect(Object.keys(await s.storage.read(keys))).toEqual(['a', 'c', 'old']);
    now += 11 * 86_400_000;
    await s.storage.write({ b: { n: 6 } }); // written after the clock moved: kept by retention
    await s.storage.read(keys);
    await s.prune(); // removes "a", "c" and "old" (older than the state retention)
    expect(await s.storage.read(keys)).toEqual(await fromFile());
    expect(Object.keys(await s.storage.read(keys))).toEqual(['b']);
    await s.storage.write({ a: { n: 7 } });
    const mine = await s.storage.read(keys);
    expect(mine).toEqual(await fromFile());
    expect(mine.a).toEqual({ n: 7, eTag: '1' });
  });

  it('rejects a write with a stale eTag and keeps the newer value', async () => {
    const { storage } = stores();
    await storage.write({ k: { n: 1 } });
    const first = (await storage.read(['k'])).k!;
    await storage.write({ k: { n: 2, eTag: first.eTag } });
    await expect(storage.write({ k: { n: 3, eTag: first.eTag } })).rejects.toThrow(/eTag conflict/);
    expect((await storage.read(['k'])).k).toMatchObject({ n: 2 });
    await storage.write({ k: { n: 4, eTag: '*' } }); // "*" writes unconditionally, as MemoryStorage
    expect((await storage.read(['k'])).k).toMatchObject({ n: 4 });
    await storage.delete(['k']);
    expect(await storage.read(['k'])).toEqual({});
  });

  it('two concurrent turns of one conversation cannot overwrite each other', async () => {
    const { storage } = stores();
    // botbuilder's BotState writes with eTag "*", so turns of one conversation are serialised by the
    // conversation queue; with it both increments land, without it one is lost.
    const state = new ConversationState(storage);
    const counter = state.createProperty<number>('count');
    const adapter = new TestAdapter();
    const context = (id: string) => new TurnContext(adapter, { type: 'message', channelId: 'test', conversation: { id } as never, from: { id: 'u', name: 'u' }, recipient: { id: 'b', name: 'b' } });
    const turn = async (id: string) => {
      const ctx = context(id);
      const n = await counter.get(ctx, 0);
      await new Promise((r) => setTimeout(r, 5));
      await counter.set(ctx, n + 1);
      await state.saveChanges(ctx);
    };
    const queue = new ConversationQueue();
    await Promise.all([queue.enqueue('c1', () => turn('c1')), queue.enqueue('c1', () => turn('c1'))]);
    expect(await counter.get(context('c1'))).toBe(2);
    await Promise.all([turn('c2'), turn('c2')]);
    expect(await counter.get(context('c2'))).toBe(1); // what the queue prevents

    // Our own read-merge-write stores carry eTags: concurrent appends to an existing transcript all survive.
    const transcripts = new StorageTranscriptStore(storage);
    await transcripts.append('test', 'c3', [{ role: 'customer', text: 'first', at: new Date(0).toISOString() }]);
    await Promise.all(Array.from({ length: 5 }, (_, i) => transcripts.append('test', 'c3', [{ role: 'customer', text: `m${i}`, at: new Date(0).toISOString() }])));
    expect((await transcripts.list('test', 'c3')).map((e) => e.text).sort()).toEqual(['first', 'm0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('survives reopening the file', async () => {
    const file = path.join(dir, 'sub', 'dir', 'state.sqlite'); // folders created
    const first = stores(file);
    await first.storage.write({ 'ownership/x': { owner: 'human' } });
    await first.close();
    const second = stores(file);
    expect((await second.storage.read(['ownership/x']))['ownership/x']).toMatchObject({ owner: 'human' });
  });
});

describe('event inbox', () => {
  it('accepts once per idempotency key, atomically with the stored event', async () => {
    const { inbox } = stores();
    const a = await inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['k1', 'k2'], ttlMs: 60_000, payload: { n: 1 } });
    const b = await inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['k2'], ttlMs: 60_000, payload: { n: 2 } });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect((await inbox.unfinished('p')).map((e) => e.payload)).toEqual([{ n: 1 }]);
  });

  it('after a restart lists the unfinished events in their original order, with their attempts', async () => {
    const file = path.join(dir, 'i.sqlite');
    const s1 = stores(file);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await s1.inbox.accept({ platform: 'p', conversationId: i % 2 ? 'odd' : 'even', dedupeKeys: [`k${i}`], ttlMs: 60_000, payload: { i } });
      if (!r.duplicate) ids.push(r.id);
    }
    await s1.inbox.started(ids[0]!);
    await s1.inbox.markDone(ids[0]!);
    await s1.inbox.started(ids[1]!); // cut mid-turn
    await s1.close();
    const s2 = stores(file);
    const left = await s2.inbox.unfinished('p');
    expect(left.map((e) => e.payload)).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);
    expect(left.map((e) => e.attempts)).toEqual([1, 0, 0, 0]);
    // keys survive too: a redelivery after the restart is still a duplicate
    expect((await s2.inbox.accept({ platform: 'p', conversationId: 'odd', dedupeKeys: ['k3'], ttlMs: 60_000, payload: {} })).duplicate).toBe(true);
  });
});

describe('retention', () => {
  it('deletes finished events, expired keys, old transcripts and idle state; keeps what is recent or unfinished', async () => {
    const clock = { now: sinon.stub().returns(1_000_000_000), sleep: async () => undefined, random: () => 0.5 };
    const s = stores(path.join(dir, 'r.sqlite'), clock);
    const old = await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['old'], ttlMs: 1000, payload: {} });
    const pending = await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['pending'], ttlMs: 10 * 3600_000, payload: {} });
    if (old.duplicate || pending.duplicate) throw new Error('unexpected duplicate');
    await s.inbox.markDone(old.id);
    await s.storage.write({ 'transcript/nimchat/1:1': { entries: [] }, 'conversation/old': { x: 1 } });
    const doneAction = await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} });
    await s.outbox.markDone(doneAction);
    const pendingAction = await s.outbox.add({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} });

    clock.now.returns(1_000_000_000 + 2 * 3600_000); // 2 h later: events (1 h) are old, transcripts (1 d) not
    await s.storage.write({ 'transcript/nimchat/1:2': { entries: [] } });
    expect(await s.prune()).toEqual({ inbox: 1, outbox: 1, dedupe: 1, transcripts: 0, state: 0 });
    expect((await s.inbox.unfinished('p')).length).toBe(1);
    expect((await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['pending'], ttlMs: 1, payload: {} })).duplicate).toBe(true);
    expect(await s.outbox.pending()).toHaveLength(1);
    expect(pendingAction).toBeGreaterThan(doneAction);

    clock.now.returns(1_000_000_000 + 2 * 86_400_000 - 3600_000);
    await s.storage.write({ 'transcript/nimchat/1:2': { entries: [{ text: 'later' }] } });
    clock.now.returns(1_000_000_000 + 2 * 86_400_000); // 2 days: the first transcript is old, the second not
    expect((await s.prune()).transcripts).toBe(1);
    expect(Object.keys(await s.storage.read(['transcript/nimchat/1:1', 'transcript/nimchat/1:2', 'conversation/old']))).toEqual(['transcript/nimchat/1:2', 'conversation/old']);
    clock.now.returns(1_000_000_000 + 11 * 86_400_000); // 11 days: idle state goes too
    expect(await s.prune()).toMatchObject({ transcripts: 1, state: 1 });
  });

  it('keeps the file bounded under steady traffic with retention on', async () => {
    let now = 0;
    const clock = { now: () => now, sleep: async () => undefined, random: () => 0.5 };
    const file = path.join(dir, 'steady.sqlite');
    const s = stores(file, clock);
    const sizes: number[] = [];
    for (let round = 0; round < 6; round++) {
      // 50 conversations at a time, as concurrent webhooks arrive (their writes are group-committed)
      for (let i = 0; i < 2000; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, async (_, c) => {
            const r = await s.inbox.accept({ platform: 'p', conversationId: `c${c}`, dedupeKeys: [`k${round}-${i + c}`], ttlMs: 3600_000, payload: { text: 'x'.repeat(200) } });
            if (!r.duplicate) await s.inbox.markDone(r.id);
          }),
        );
      }
      now += 2 * 3600_000; // every round, everything before is past retention
      await s.prune();
      sizes.push(fs.statSync(file).size);
    }
    // after the first rounds the file stops growing
    expect(sizes[5]!).toBeLessThanOrEqual(sizes[2]! * 1.1);
  });
});

describe('unusable store', () => {
  it('a path that cannot be written is a clear error naming it', () => {
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, 'x');
    expect(() => createStores(`sqlite:${path.join(blocker, 'db.sqlite')}`, silentLogger)).toThrow(HandoffError);
    expect(() => createStores(`sqlite:${path.join(blocker, 'db.sqlite')}`, silentLogger)).toThrow(/cannot use the SQLite store at .*a-file/);
  });

  it('checkWritable reports a store that can no longer be written', async () => {
    const s = stores();
    expect(await s.checkWritable()).toBeUndefined();
    await s.close();
    expect(await s.checkWritable()).toMatch(/closed/);
  });
});
