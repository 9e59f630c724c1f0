/** The scheduler of one process alone: order per conversation, recovery across platforms, set-aside, backlog. */
import { describe, expect, it } from 'vitest';
import { ConversationQueue } from '../../../src/conversation-queue';
import { silentLogger } from '../../../src/log';
import { OutboxDelivery } from '../../../src/outbox/outbox-delivery';
import { LocalScheduler } from '../../../src/scheduling/local-scheduler';
import { MemoryEventInbox, type InboxEvent } from '../../../src/storage/event-inbox';
import { MemoryOutbox } from '../../../src/storage/outbox';
import { MemoryDedupeStore } from '../../../src/storage/dedupe-store';

function setup() {
  const inbox = new MemoryEventInbox(new MemoryDedupeStore());
  const queue = new ConversationQueue();
  const scheduler = new LocalScheduler({ inbox, queue, delivery: new OutboxDelivery(new MemoryOutbox()), logger: silentLogger });
  const ran: string[] = [];
  const processor = (platform: string) => async (event: InboxEvent) => {
    ran.push(`${platform}:${String(event.payload)}`);
    await inbox.markDone(event.id);
  };
  const store = async (platform: string, conversationId: string, payload: string) => {
    const accepted = await inbox.accept({ platform, conversationId, dedupeKeys: [`${platform}:${payload}`], ttlMs: 60_000, payload });
    if (accepted.duplicate) throw new Error('duplicate');
    return accepted.id;
  };
  const idle = async () => {
    await new Promise((r) => setImmediate(r));
    await queue.onIdle();
  };
  return { inbox, queue, scheduler, ran, processor, store, idle };
}

describe('LocalScheduler', () => {
  it("at start, one conversation's unfinished events run in the order they were stored, whichever platform took them", async () => {
    const t = setup();
    // Registered chat first, tickets second (as the app does): the order must still be the store's.
    t.scheduler.register('chat', t.processor('chat'));
    t.scheduler.register('tickets', t.processor('tickets'));
    await t.store('tickets', 'c1', 'ticket closed');
    await t.store('chat', 'c1', 'thanks, bye');
    await t.store('chat', 'c2', 'hello');
    await t.scheduler.start();
    await t.idle();
    expect(t.ran.filter((r) => !r.endsWith('hello'))).toEqual(['tickets:ticket closed', 'chat:thanks, bye']);
    expect(t.ran).toContain('chat:hello');
    expect(await t.inbox.unfinished('chat')).toEqual([]);
  });

  it('an event that started three times without finishing is set aside at start, and run again only when requeued', async () => {
    const t = setup();
    t.scheduler.register('chat', t.processor('chat'));
    const id = await t.store('chat', 'c1', 'poison');
    for (let i = 0; i < 3; i++) await t.inbox.started(id);
    await t.scheduler.start();
    await t.idle();
    expect(t.ran).toEqual([]);
    const [setAside] = await t.inbox.listSetAside(10);
    expect(setAside).toMatchObject({ id, setAsideReason: expect.stringMatching(/3 times/) });
    const revived = (await t.inbox.reviveSetAside(id))!; // what the console's retry does first
    expect(t.scheduler.requeue({ ...revived, platform: 'unknown' })).toBe(false);
    expect(t.scheduler.requeue(revived)).toBe(true);
    await t.idle();
    expect(t.ran).toEqual(['chat:poison']);
  });

  it('counts an accepted event in the backlog until its processing ends; a processor that throws leaves the event for the next start', async () => {
    const t = setup();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    t.scheduler.register('chat', async (event) => {
      await held;
      if (event.payload === 'fails') throw new Error('commit failed');
      await t.inbox.markDone(event.id);
    });
    for (const payload of ['ok', 'fails']) {
      const id = await t.store('chat', 'c1', payload);
      t.scheduler.accepted({ id, platform: 'chat', conversationId: 'c1', payload, receivedAt: 0, attempts: 0 });
    }
    expect(t.scheduler.backlog).toBe(2);
    await new Promise((r) => setImmediate(r));
    expect(t.scheduler.active).toBe(1);
    release();
    await t.idle();
    expect(t.scheduler.backlog).toBe(0);
    expect((await t.inbox.unfinished('chat')).map((e) => [e.payload, e.attempts])).toEqual([['fails', 1]]);
  });
});
