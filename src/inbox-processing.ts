/**
 * Processing of accepted events, shared by every webhook intake (chat adapters, Inbenta ticket
 * events): each event runs in its conversation's queue, counted as started before it runs and marked
 * done after; at start the unfinished ones are queued again in their order, and one whose processing
 * started too often without finishing is set aside (kept, not processed, until an operator acts).
 */
import type { ConversationQueue } from './conversation-queue';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import type { EventInbox, InboxEvent } from './storage/event-inbox';
import { inboxEventStep } from './timeline/timeline-steps';

/** An event whose processing started this many times without finishing is set aside. */
export const MAX_EVENT_ATTEMPTS = 3;

export interface InboxProcessingDeps {
  inbox: EventInbox;
  queue: ConversationQueue;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Queues one stored event's processing; a failure is logged, and the event is marked done either way,
 * unless `run` resolves `'handled'` (its done mark was committed with its turn, or it is deliberately
 * left unfinished for the next start). Resolves false when the queue is closed (the event stays for recovery).
 */
export function scheduleInboxEvent(deps: InboxProcessingDeps, id: number, conversationId: string, run: () => Promise<'handled' | void>): Promise<boolean> {
  if (deps.queue.isClosed) return Promise.resolve(false);
  return deps.queue.enqueue(conversationId, async () => {
    try {
      // Not awaited: it only has to be committed before the done mark, and the writer keeps order.
      void deps.inbox.started(id).catch((error: unknown) => deps.logger.error('could not count an attempt', { id, error }));
      if ((await run()) === 'handled') return true;
    } catch (error) {
      deps.logger.error('processing a webhook failed', { conversationId, error });
    }
    await deps.inbox.markDone(id).catch((error: unknown) => deps.logger.error('could not mark an event done', { id, error }));
    return true;
  }).catch((error: unknown) => {
    deps.logger.debug('event left for the next start', { id, conversationId, error });
    return false;
  });
}

/** Queues a platform's unfinished events again (through `schedule`), oldest first. Returns how many. */
export async function recoverInboxEvents(deps: InboxProcessingDeps, platform: string, schedule: (event: InboxEvent) => void): Promise<number> {
  let count = 0;
  let cutMidway = 0;
  for (const event of await deps.inbox.unfinished(platform)) {
    if (event.attempts >= MAX_EVENT_ATTEMPTS) {
      deps.logger.error('event set aside: its processing never finished', { id: event.id, conversationId: event.conversationId, attempts: event.attempts });
      // Kept (listed in the console, where an operator retries or discards it), never processed again by itself.
      const reason = `its processing started ${event.attempts} times without finishing`;
      await deps.inbox.setAside(event.id, reason, inboxEventStep(event, 'set_aside', reason));
      continue;
    }
    deps.metrics?.inboxRecovered.inc({ platform });
    schedule(event);
    count++;
    if (event.attempts > 0) cutMidway++;
  }
  // cutMidway: processing that had started; its replies may be sent a second time.
  if (count > 0) deps.logger.info('unfinished events queued again', { count, cutMidway });
  return count;
}
