/** Two replicas sharing one (fake) store: per-conversation order, exactly once, take-over after a replica dies. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationQueue } from '../../../src/conversation-queue';
import { OutboxDelivery } from '../../../src/outbox/outbox-delivery';
import { ConversationRunner } from '../../../src/replicas/conversation-runner';
import type { ReplicaCoordination } from '../../../src/replicas/replica-coordination';
import type { EventInbox, InboxEvent } from '../../../src/storage/event-inbox';
import { MemoryOutbox } from '../../../src/storage/outbox';

/** The shared database: events and leases, with the conditional writes a real engine makes atomically. */
class SharedStore {
  events: Array<InboxEvent & { done: boolean }> = [];
  leases = new Map<string, { holder: string; until: number }>();
  /** Turns running now per conversation, whichever replica runs them. */
  running = new Map<string, number>();
  /** Replicas that died: their calls fail, as a dead process's would never come. */
  dead = new Set<string>();
  private nextId = 1;

  add(conversationId: string): number {
    const id = this.nextId++;
    this.events.push({ id, platform: 'fake', conversationId, payload: { n: id }, receivedAt: Date.now(), attempts: 0, done: false });
    return id;
  }

  inbox(): EventInbox {
    return {
      accept: async () => ({ duplicate: true }),
      started: async (id) => void (this.events.find((e) => e.id === id)!.attempts += 1),
      markDone: async (id) => void (this.events.find((e) => e.id === id)!.done = true),
      unfinished: async () => this.events.filter((e) => !e.done),
      setAside: async (id) => void (this.events.find((e) => e.id === id)!.done = true), // no longer work for a replica
      listSetAside: async () => [],
      reviveSetAside: async () => undefined,
      discardSetAside: async () => false,
    };
  }

  coordination(replicaId: string): ReplicaCoordination {
    const live = (c: string) => {
      const l = this.leases.get(c);
      return l && l.until > Date.now() ? l : undefined;
    };
    const hasWork = (c: string) => this.events.some((e) => e.conversationId === c && !e.done);
    const alive = () => {
      if (this.dead.has(replicaId)) throw new Error('this replica is gone');
    };
    return {
      replicaId,
      claim: async (c, ttl) => {
        alive();
        const l = live(c);
        if (l && l.holder !== replicaId) return { held: false, events: [], actions: [] };
        this.leases.set(c, { holder: replicaId, until: Date.now() + ttl });
        return { held: true, events: this.events.filter((e) => e.conversationId === c && !e.done).map((e) => ({ ...e })), actions: [] };
      },
      renew: async (c, ttl) => {
        alive();
        const l = live(c);
        if (!l || l.holder !== replicaId) return false;
        l.until = Date.now() + ttl;
        return true;
      },
      dropClaimedState: () => undefined,
      releaseIfIdle: async (c) => {
        alive();
        if (hasWork(c)) return false;
        if (live(c)?.holder === replicaId) this.leases.delete(c);
        return true;
      },
      release: async (c) => void (live(c)?.holder === replicaId && this.leases.delete(c)),
      unleased: async () => [...new Set(this.events.filter((e) => !e.done && (live(e.conversationId)?.holder ?? replicaId) === replicaId).map((e) => e.conversationId))],
      unfinishedOf: async (c) => (alive(), this.events).filter((e) => e.conversationId === c && !e.done).map((e) => ({ ...e })),
      pendingActionsOf: async () => [],
    };
  }
}

const runners: ConversationRunner[] = [];
afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
});

function replica(store: SharedStore, name: string, log: string[], options: { leaseMs?: number; slow?: number } = {}) {
  const queue = new ConversationQueue();
  const runner = new ConversationRunner({
    coordination: store.coordination(name),
    inbox: store.inbox(),
    queue,
    delivery: new OutboxDelivery(new MemoryOutbox()),
    leaseMs: options.leaseMs ?? 300,
    sweepMs: 50,
  });
  runner.register('fake', async (event) => {
    const c = event.conversationId;
    store.running.set(c, (store.running.get(c) ?? 0) + 1);
    log.push(`${name}:${c}:${event.id}${store.running.get(c)! > 1 ? ':OVERLAP' : ''}`);
    await new Promise((r) => setTimeout(r, options.slow ?? 2));
    if (store.dead.has(name)) throw new Error('died mid-turn: nothing of it was committed');
    store.events.find((e) => e.id === event.id)!.done = true; // the turn's commit marks it done
    store.running.set(c, store.running.get(c)! - 1);
  });
  runners.push(runner);
  return runner;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ConversationRunner (replicas sharing a store)', () => {
  it("reads a conversation's events once per webhook, with its lease: not again only to find out nothing is left (the release checks that in its own statement)", async () => {
    const store = new SharedStore();
    const reads: string[] = [];
    const coordination = store.coordination('A');
    const counted: ReplicaCoordination = {
      ...coordination,
      unfinishedOf: async (c) => (reads.push('events'), coordination.unfinishedOf(c)),
      claim: async (c, ttl) => (reads.push('claim'), coordination.claim(c, ttl)),
      releaseIfIdle: async (c) => (reads.push('release'), coordination.releaseIfIdle(c)),
    };
    const delivery = new OutboxDelivery(new MemoryOutbox());
    // The turn's reply keeps the conversation's lane busy for a moment after the turn.
    delivery.register('fake', 'reply', { execute: () => new Promise((r) => setTimeout(r, 60)) });
    const runner = new ConversationRunner({ coordination: counted, inbox: store.inbox(), queue: new ConversationQueue(), delivery, leaseMs: 3000, sweepMs: 60_000 });
    runner.register('fake', async (event) => {
      await delivery.submit({ platform: 'fake', conversationId: event.conversationId, kind: 'reply', payload: {} });
      store.events.find((e) => e.id === event.id)!.done = true;
    });
    runners.push(runner);
    store.add('c1');
    runner.wake('c1');
    await until(() => runner.active === 0 && !store.leases.has('c1'));
    // The claim reads the events with the lease: nothing read again.
    expect(reads).toEqual(['claim', 'release']);
    // Work another replica stored while we held the lease is still found: by the release's check, then one read.
    reads.length = 0;
    store.add('c1');
    runner.wake('c1');
    await until(() => reads.includes('claim'));
    store.add('c1'); // accepted elsewhere: no announcement here
    await until(() => runner.active === 0 && !store.leases.has('c1') && store.events.every((e) => e.done));
    expect(store.events.every((e) => e.done)).toBe(true);
  });

  it('events accepted by either replica run once each, per conversation in accepted order, never two at a time', async () => {
    const store = new SharedStore();
    const log: string[] = [];
    const a = replica(store, 'A', log);
    const b = replica(store, 'B', log);
    for (let i = 0; i < 60; i++) {
      const conversation = `c${i % 3}`;
      store.add(conversation);
      (i % 2 ? a : b).wake(conversation);
      if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => store.events.every((e) => e.done));
    expect(log).toHaveLength(60);
    expect(log.some((l) => l.endsWith('OVERLAP'))).toBe(false);
    for (const c of ['c0', 'c1', 'c2']) {
      const ids = log.filter((l) => l.split(':')[1] === c).map((l) => Number(l.split(':')[2]));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    }
    expect(new Set(log.map((l) => l.split(':')[0]))).toEqual(new Set(['A', 'B']));
  });

  it('a replica that dies holding a lease: the other takes its conversation over once the lease expires, in order', async () => {
    const store = new SharedStore();
    const log: string[] = [];
    // A dies in the middle of the first turn: its lease is no longer renewed, nothing it did is committed.
    const a = replica(store, 'A', log, { slow: 100 });
    runners.splice(runners.indexOf(a), 1);
    store.add('c1');
    store.add('c1');
    a.wake('c1');
    await until(() => log.length === 1);
    store.dead.add('A');
    store.running.set('c1', 0);
    const b = replica(store, 'B', log);
    b.start();
    const diedAt = Date.now();
    await until(() => store.events.every((e) => e.done));
    // The cut turn runs again (once), then the next one, after the lease ran out (300 ms).
    expect(log).toEqual(['A:c1:1', 'B:c1:1', 'B:c1:2']);
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(150);
  });

  it('a turn that cannot be committed is tried again before the next event of its conversation, and set aside after 3 attempts', async () => {
    const store = new SharedStore();
    const log: string[] = [];
    const queue = new ConversationQueue();
    const runner = new ConversationRunner({ coordination: store.coordination('A'), inbox: store.inbox(), queue, delivery: new OutboxDelivery(new MemoryOutbox()), leaseMs: 300, sweepMs: 50, clock: { now: () => Date.now(), sleep: async () => undefined, random: () => 0.5 } });
    runners.push(runner);
    const failing = new Set([1, 3]);
    let tries = 0;
    runner.register('fake', async (event) => {
      log.push(String(event.id));
      if (event.id === 1 && tries++ < 1) throw new Error('commit failed once');
      if (failing.has(event.id) && event.id === 3) throw new Error('never commits');
      store.events.find((e) => e.id === event.id)!.done = true;
    });
    for (let i = 0; i < 4; i++) store.add('c1');
    runner.wake('c1');
    await until(() => store.events.every((e) => e.done));
    expect(log).toEqual(['1', '1', '2', '3', '3', '3', '4']);
  });

  it('a proactive turn waits for the replica holding the conversation, then runs in its order', async () => {
    const store = new SharedStore();
    const log: string[] = [];
    const a = replica(store, 'A', log, { slow: 100 });
    const b = replica(store, 'B', log);
    store.add('c1');
    a.wake('c1');
    await until(() => log.length === 1);
    await b.withLease('c1', async () => void log.push('B:proactive'));
    expect(log).toEqual(['A:c1:1', 'B:proactive']);
  });
});
