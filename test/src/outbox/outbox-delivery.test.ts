import { describe, expect, it } from 'vitest';
import { PlatformApiError } from '../../../src/errors';
import { OutboxDelivery } from '../../../src/outbox/outbox-delivery';
import { SettledElsewhereError } from '../../../src/outbox/step-progress';
import { currentTurn, runInTurnScope } from '../../../src/turn-scope';
import { MemoryOutbox } from '../../../src/storage/outbox';
import { TestClock } from '../../helpers/test-clock';

async function idle(delivery: OutboxDelivery): Promise<void> {
  for (let i = 0; i < 200 && delivery.backlog > 0; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('OutboxDelivery', () => {
  it("an action's result is what its executor answered, else the messages it said it created (a handoff's note): a later look rules their echoes out", async () => {
    const outbox = new MemoryOutbox();
    const delivery = new OutboxDelivery(outbox, { baseDelayMs: 5 });
    delivery.register('p', 'handoff', {
      execute: async (_action, progress) => {
        progress.created?.('41');
        return { platformStatus: 'open' };
      },
    });
    delivery.register('p', 'message', { execute: async () => '42' });
    let seen: string[] | undefined;
    delivery.register('p', 'probe', { execute: async (_action, progress) => void (seen = await progress.earlierResults()) });
    for (const kind of ['handoff', 'message', 'probe']) await delivery.submit({ platform: 'p', conversationId: 'c', kind, payload: {} });
    await idle(delivery);
    expect(seen).toEqual(['42', '41']);
  });

  it('an attempt that finds its action finished elsewhere (another replica marked it done) ends it here: not failed, not retried, its success not told again; the next action goes', async () => {
    const outbox = new MemoryOutbox();
    const delivery = new OutboxDelivery(outbox, { baseDelayMs: 5 });
    const told: string[] = [];
    let settledAsked = false;
    delivery.register('p', 'message', {
      execute: async (action, progress) => {
        if (action.payload !== 'first') return 'm2';
        // The store answers for the action itself: pending here, so the step treats it as finished elsewhere only when told so.
        settledAsked = (await progress.settledElsewhere?.()) === false;
        throw new SettledElsewhereError();
      },
      succeeded: (action) => void told.push(`ok ${String(action.payload)}`),
      failed: (action) => void told.push(`failed ${String(action.payload)}`),
    });
    const first = await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'first' });
    await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'second' });
    await idle(delivery);
    expect(settledAsked).toBe(true);
    expect(told).toEqual(['ok second']);
    expect((await outbox.get(first))?.status).toBe('pending'); // left as the store has it: the other replica's mark is the truth
  });

  it('an action committed a while ago (it waited behind a slow send) is attempted only if the store still holds it pending: another replica may have delivered it meanwhile', async () => {
    const outbox = new MemoryOutbox();
    const clock = new TestClock(1_000_000);
    const delivery = new OutboxDelivery(outbox, { baseDelayMs: 5, clock });
    const sent: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    delivery.register('p', 'message', {
      execute: async (action) => {
        if (action.payload === 'first') await slow;
        sent.push(String(action.payload));
      },
    });
    await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'first' });
    const second = await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'second' });
    // While the first send hangs, the conversation passes to another replica, which delivers the second.
    clock.advance(5_000);
    await outbox.markDone(second);
    release();
    await idle(delivery);
    expect(sent).toEqual(['first']);

    // Attempted at once after its commit, a fresh action's first attempt is still not written.
    const third = await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'third' });
    await idle(delivery);
    expect(sent).toEqual(['first', 'third']);
    expect(third).toBeGreaterThan(second);
  });

  it('delivers an action once however it is announced (committed, then found again by resume)', async () => {
    const outbox = new MemoryOutbox();
    const delivery = new OutboxDelivery(outbox, { baseDelayMs: 5 });
    const sent: unknown[] = [];
    delivery.register('p', 'message', { execute: async (action) => void sent.push(action.payload) });
    const id = await outbox.add({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'hi' });
    delivery.enqueue([{ id, platform: 'p', conversationId: 'c', kind: 'message', payload: 'hi', attempts: 0, nextAttemptAt: 0 }]);
    await delivery.resume();
    await idle(delivery);
    expect(sent).toEqual(['hi']);
  });

  it("an operator's retry of a failed action: delivered here when this process owns its conversations; announced to the replicas' runner (not delivered here) when they share the store", async () => {
    for (const replicas of [false, true]) {
      const outbox = new MemoryOutbox();
      const delivery = new OutboxDelivery(outbox, { baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 1 });
      const sent: unknown[] = [];
      let down = true;
      delivery.register('p', 'message', {
        execute: async (action) => {
          if (down) throw new PlatformApiError('p', 503, 'POST', '/m', 'down');
          sent.push(action.payload);
        },
      });
      const woken: string[] = [];
      if (replicas) delivery.revivedElsewhere = (conversationId) => woken.push(conversationId);
      const id = await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'menu' });
      await idle(delivery);
      expect((await outbox.get(id))?.status).toBe('failed');
      down = false;
      expect(await delivery.retry(id)).toBe(true);
      await idle(delivery);
      await new Promise((r) => setTimeout(r, 20));
      expect((await outbox.get(id))?.status).toBe(replicas ? 'pending' : undefined); // the memory outbox forgets a done action
      expect(sent).toEqual(replicas ? [] : ['menu']);
      expect(woken).toEqual(replicas ? ['c'] : []);
    }
  });

  it("an operator's discard during an attempt waits for it to end, then acts on its outcome: a failed attempt is discarded, a delivered one is no longer there", async () => {
    for (const outcome of ['fails', 'delivers'] as const) {
      const outbox = new MemoryOutbox();
      const delivery = new OutboxDelivery(outbox, { baseDelayMs: 60_000, maxDelayMs: 60_000 });
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const failed: string[] = [];
      delivery.register('p', 'message', {
        execute: async () => {
          await held;
          if (outcome === 'fails') throw new PlatformApiError('p', 503, 'POST', '/m', 'down');
        },
        failed: (_action, message) => void failed.push(message),
      });
      const id = await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'menu' });
      await new Promise((r) => setTimeout(r, 10));
      expect(delivery.attemptsOf(id, (await outbox.get(id))!.attempts)).toEqual({ attempts: 1, attempting: true });
      const discarded = delivery.discard(id, 'discarded by an operator');
      setTimeout(release, 20);
      expect(await discarded).toBe(outcome === 'fails' ? 'discarded' : 'not_found');
      expect(failed).toEqual(outcome === 'fails' ? ['discarded by an operator'] : []);
      delivery.stop();
    }
  });

  it("replicas: the lane's last done mark gives the lease up when the holder asked; a holder woken while that mark is under way learns that it did", async () => {
    /** A store whose done-and-release mark waits for the test, and says whether it released. */
    class ReleasingOutbox extends MemoryOutbox {
      marks: string[] = [];
      gate: Promise<void> = Promise.resolve();
      async markDoneAndRelease(id: number, holder: string): Promise<boolean> {
        await this.gate;
        await this.markDone(id);
        this.marks.push(`release by ${holder}`);
        return true;
      }
      override async markDone(id: number): Promise<void> {
        this.marks.push('done');
        return super.markDone(id);
      }
    }
    const outbox = new ReleasingOutbox();
    const delivery = new OutboxDelivery(outbox);
    delivery.register('p', 'message', { execute: async () => new Promise((r) => setTimeout(r, 10)) });
    // Two actions: only the last one's mark releases.
    await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 1 });
    await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 2 });
    expect(await delivery.whenConversationIdle('c', 'A')).toEqual({ released: true });
    expect(outbox.marks).toEqual(['done', 'done', 'release by A']);

    // Not asked: plain marks.
    outbox.marks = [];
    await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 3 });
    expect(await delivery.whenConversationIdle('c')).toEqual({ released: false });
    expect(outbox.marks).toEqual(['done']);

    // Asked, then work again while the releasing mark is under way: keepLease waits for it and says it released.
    outbox.marks = [];
    let open!: () => void;
    outbox.gate = new Promise<void>((resolve) => (open = resolve));
    await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 4 });
    void delivery.whenConversationIdle('c', 'A');
    await new Promise((r) => setTimeout(r, 30)); // the mark is waiting at the gate
    const kept = delivery.keepLease('c');
    open();
    expect(await kept).toBe(true);

    // Asked, then work again before the mark: the mark does not release.
    outbox.marks = [];
    await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 5 });
    void delivery.whenConversationIdle('c', 'A');
    expect(await delivery.keepLease('c')).toBe(false);
    await delivery.whenConversationIdle('c');
    expect(outbox.marks).toEqual(['done']);
  });

  it("keeps a conversation's order: a retrying action holds back the ones behind it", async () => {
    const outbox = new MemoryOutbox();
    const delivery = new OutboxDelivery(outbox, { baseDelayMs: 5, maxDelayMs: 10 });
    const sent: unknown[] = [];
    let failures = 2;
    delivery.register('p', 'message', {
      execute: async (action) => {
        if (action.payload === 'first' && failures-- > 0) throw new PlatformApiError('p', 503, 'POST', '/m', 'down');
        sent.push(action.payload);
      },
    });
    for (const text of ['first', 'second', 'third']) await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: text });
    await idle(delivery);
    expect(sent).toEqual(['first', 'second', 'third']);
  });

  it("a done mark the store refuses holds the lane: it is tried again, the conversation's next action waits for it, nothing is sent twice", async () => {
    const outbox = new MemoryOutbox();
    let refusals = 3;
    const markDone = outbox.markDone.bind(outbox);
    const marks: string[] = [];
    outbox.markDone = async (id, step) => {
      if (refusals-- > 0) {
        marks.push(`refused ${id}`);
        throw new Error('the store is away');
      }
      marks.push(`done ${id}`);
      return markDone(id, step);
    };
    const delivery = new OutboxDelivery(outbox, { baseDelayMs: 2, maxDelayMs: 4 });
    const sent: string[] = [];
    delivery.register('p', 'message', { execute: async (action) => void sent.push(`${String(action.payload)} after ${marks.length} marks`) });
    const first = await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'first' });
    const second = await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'second' });
    await idle(delivery);
    // The second reply went out only once the first one's mark was written (four marks of the first).
    expect(sent).toEqual(['first after 0 marks', 'second after 4 marks']);
    expect(marks).toEqual([`refused ${first}`, `refused ${first}`, `refused ${first}`, `done ${first}`, `done ${second}`]);
    expect(await outbox.pending()).toEqual([]);
  });

  it('records the outcome before the done mark: when recording fails the action is repeated from its last step', async () => {
    const outbox = new MemoryOutbox();
    const delivery = new OutboxDelivery(outbox, { baseDelayMs: 60 });
    const steps: string[] = [];
    let recorded = 0;
    delivery.register('p', 'handoff', {
      execute: async (_action, progress) => {
        for (const step of ['note', 'open']) {
          if (progress.done(step)) continue;
          steps.push(step);
          await progress.mark(step);
        }
      },
      succeeded: async () => {
        if (recorded++ === 0) throw new Error('the queue is closed');
      },
    });
    await delivery.submit({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} });
    await new Promise((r) => setTimeout(r, 30));
    expect(await outbox.pending()).toHaveLength(1); // not done while its outcome is not recorded
    await idle(delivery);
    expect(steps).toEqual(['note', 'open']); // the retry repeated no step
    expect(recorded).toBe(2);
    expect(await outbox.pending()).toHaveLength(0);
  });

  it('actions an operator discarded through another replica while they waited (for their retry, or behind it) are not attempted; the next action of their conversation goes', async () => {
    const outbox = new MemoryOutbox(); // one store, shared by replicas A and B
    const a = new OutboxDelivery(outbox, { baseDelayMs: 30, maxDelayMs: 30 });
    const b = new OutboxDelivery(outbox, {});
    const calls: unknown[] = [];
    const executor = {
      execute: async (action: { payload: unknown }) => {
        calls.push(action.payload);
        if (action.payload === 'first') throw new PlatformApiError('p', 503, 'POST', '/m', 'down');
      },
    };
    a.register('p', 'message', executor);
    b.register('p', 'message', executor);
    const first = await a.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'first' });
    const second = await a.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'second' });
    await a.submit({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'third' });
    for (let i = 0; i < 100 && calls.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 5)); // its retry is recorded
    // B has no lane for the conversation.
    expect(await b.discard(first, 'given up')).toBe('discarded');
    expect(await b.discard(second, 'given up')).toBe('discarded');
    await idle(a);
    expect(calls).toEqual(['first', 'third']);
    expect((await outbox.get(first))?.status).toBe('discarded');
    expect((await outbox.get(second))?.status).toBe('discarded');
  });

  it('an action discarded through another replica during a failing attempt is neither retried nor reported as failed a second time', async () => {
    for (const maxAttempts of [3, 1]) {
      const outbox = new MemoryOutbox();
      const a = new OutboxDelivery(outbox, { baseDelayMs: 1, maxDelayMs: 1, maxAttempts });
      const b = new OutboxDelivery(outbox, {});
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let attempts = 0;
      const reported: string[] = [];
      for (const [delivery, name] of [[a, 'A'], [b, 'B']] as const) {
        delivery.register('p', 'handoff', {
          execute: async () => {
            attempts++;
            await gate;
            throw new PlatformApiError('p', 503, 'POST', '/assign', 'down');
          },
          failed: (_action, message) => void reported.push(`${name}: ${message}`),
        });
      }
      const id = await a.submit({ platform: 'p', conversationId: 'c', kind: 'handoff', payload: {} });
      for (let i = 0; i < 100 && attempts === 0; i++) await new Promise((r) => setTimeout(r, 2));
      expect(await b.discard(id, 'given up')).toBe('discarded');
      release();
      await idle(a);
      await new Promise((r) => setTimeout(r, 20));
      expect(attempts).toBe(1);
      expect(reported).toEqual(['B: given up']);
      expect((await outbox.get(id))?.status).toBe('discarded');
      expect(a.backlog).toBe(0);
    }
  });

  it('an action read back from the store is attempted only if the store still holds it pending (its first attempt is written and counted)', async () => {
    const outbox = new MemoryOutbox();
    const delivery = new OutboxDelivery(outbox, {});
    const sent: unknown[] = [];
    delivery.register('p', 'message', { execute: async (action) => void sent.push(action.payload) });
    const kept = await outbox.add({ platform: 'p', conversationId: 'c', kind: 'message', payload: 'kept' });
    const dropped = await outbox.add({ platform: 'p', conversationId: 'd', kind: 'message', payload: 'dropped' });
    const read = await outbox.pending(); // a replica taking the conversations over reads them …
    expect(await outbox.discard(dropped, 'given up')).toBe('discarded'); // … as an operator discards one elsewhere
    let counted: number | undefined;
    delivery.register('p', 'message', {
      execute: async (action) => {
        counted = (await outbox.get(action.id))?.attempts;
        sent.push(action.payload);
      },
    });
    delivery.enqueue(read);
    await idle(delivery);
    expect(sent).toEqual(['kept']);
    expect(counted).toBe(1);
    expect(kept).toBeLessThan(dropped);
  });

  it("never runs an action inside the turn scope it was submitted from", async () => {
    const delivery = new OutboxDelivery(new MemoryOutbox(), {});
    const scopes: unknown[] = [];
    delivery.register('p', 'message', { execute: async () => void scopes.push(currentTurn()) });
    await runInTurnScope({ conversationId: 'a' }, () => delivery.submit({ platform: 'p', conversationId: 'b', kind: 'message', payload: 1 }));
    await idle(delivery);
    expect(scopes).toEqual([undefined]);
  });
});
