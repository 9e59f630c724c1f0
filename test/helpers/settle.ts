/** Waits until a sandbox has no webhook in flight, the app's queue is empty, its outbox delivered and (replicas) no conversation has work under way, three times in a row. */
import type { ConversationQueue } from '../../src/conversation-queue';
import type { OutboxDelivery } from '../../src/outbox/outbox-delivery';

export interface DeliveringSandbox {
  idle(): Promise<void>;
  deliveries: { pending: number };
}

export async function settle(sandbox: DeliveringSandbox, queue: ConversationQueue, delivery?: OutboxDelivery, scheduler?: { active: number }): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < 500 && quiet < 3; i++) {
    await sandbox.idle();
    await queue.onIdle();
    await delivery?.whenIdle(50);
    await new Promise((r) => setTimeout(r, 5));
    // With replicas sharing the store, the lease holder runs the turns (not the local queue).
    quiet = sandbox.deliveries.pending === 0 && queue.depth === 0 && (delivery?.active ?? 0) === 0 && (scheduler?.active ?? 0) === 0 ? quiet + 1 : 0;
  }
}
