/**
 * The scheduler of one process alone: events run on the in-memory per-conversation queue, in the
 * order they were accepted, the turn after the webhook's answer. An event is counted as started in
 * the store when it runs; at start the unfinished ones run again, oldest first whatever their
 * platform, and one that started too often without finishing is set aside for an operator.
 */
import type { ConversationQueue } from '../conversation-queue';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { OutboxDelivery } from '../outbox/outbox-delivery';
import type { EventInbox, InboxEvent } from '../storage/event-inbox';
import { inboxEventStep } from '../timeline/timeline-steps';
import { MAX_EVENT_ATTEMPTS, tracedProcessor, type ConversationScheduler, type StoredEventProcessor } from './conversation-scheduler';
import { platformLabels } from '../tenants/tenant-scope';

export interface LocalSchedulerOptions {
  inbox: EventInbox;
  queue: ConversationQueue;
  delivery: OutboxDelivery;
  logger: Logger;
  metrics?: Metrics;
}

export class LocalScheduler implements ConversationScheduler {
  private readonly processors = new Map<string, StoredEventProcessor>();
  /** Events scheduled and not started yet, per conversation, in their order. */
  private readonly waiting = new Map<string, InboxEvent[]>();
  private pending = 0;

  constructor(private readonly options: LocalSchedulerOptions) {}

  register(platform: string, processor: StoredEventProcessor): void {
    this.processors.set(platform, tracedProcessor(platform, processor));
  }

  get backlog(): number {
    return this.pending;
  }

  get active(): number {
    return this.options.queue.activeKeys;
  }

  async start(): Promise<void> {
    const { inbox, logger, metrics } = this.options;
    await this.options.delivery.resume();
    const unfinished: InboxEvent[] = [];
    for (const platform of this.processors.keys()) unfinished.push(...(await inbox.unfinished(platform)));
    // One conversation's events may come from several platforms (a chat and its ticket): their order is the store's.
    unfinished.sort((a, b) => a.id - b.id);
    let cutMidway = 0;
    for (const event of unfinished) {
      if (event.attempts >= MAX_EVENT_ATTEMPTS) {
        logger.error('event set aside: its processing never finished', { id: event.id, conversationId: event.conversationId, attempts: event.attempts });
        // Kept (listed in the console, where an operator retries or discards it), never processed again by itself.
        const reason = `its processing started ${event.attempts} times without finishing`;
        await inbox.setAside(event.id, reason, inboxEventStep(event, 'set_aside', reason));
        continue;
      }
      metrics?.inboxRecovered.inc(platformLabels(event.platform));
      if (event.attempts > 0) cutMidway++;
      this.schedule(event);
    }
    // cutMidway: processing that had started; its replies may be sent a second time (unless looked for first).
    const count = unfinished.length;
    if (count > 0) logger.info('unfinished events queued again', { count, cutMidway });
  }

  accepted(event: InboxEvent): void {
    // After the caller's current work (the webhook's answer): the turn never holds up an ack.
    const ended = this.track();
    setImmediate(() => this.schedule(event, ended));
  }

  requeue(event: InboxEvent): boolean {
    if (!this.processors.has(event.platform)) return false;
    this.schedule(event);
    return true;
  }

  async pendingAfter(event: InboxEvent): Promise<InboxEvent[]> {
    return (this.waiting.get(event.conversationId) ?? []).filter((e) => e.id > event.id);
  }

  run(conversationId: string, task: () => Promise<void>): Promise<void> {
    return this.options.queue.enqueue(conversationId, task);
  }

  async stop(): Promise<void> {}

  private schedule(event: InboxEvent, ended: () => void = this.track()): void {
    const { queue, inbox, logger } = this.options;
    const processor = this.processors.get(event.platform);
    if (!processor) {
      ended();
      logger.error('no processor for an accepted event: it stays for the next start', { id: event.id, platform: event.platform });
      return;
    }
    if (queue.isClosed) {
      ended(); // stopping: the event stays unfinished in the store for the next start
      return;
    }
    const waiting = this.waiting.get(event.conversationId) ?? [];
    waiting.push(event);
    this.waiting.set(event.conversationId, waiting);
    void queue
      .enqueue(event.conversationId, async () => {
        this.started(event);
        // Not awaited: it only has to be committed before the done mark, and the store's writer keeps order.
        void inbox.started(event.id).catch((error: unknown) => logger.error('could not count an attempt', { id: event.id, error }));
        try {
          await processor(event);
        } catch (error) {
          // Nothing of it was committed: it stays unfinished and runs again at the next start (set aside after 3 attempts).
          logger.error('an event could not be processed; it is left for the next start', { id: event.id, conversationId: event.conversationId, error });
        }
      })
      .catch((error: unknown) => logger.debug('event left for the next start', { id: event.id, conversationId: event.conversationId, error }))
      .finally(() => {
        this.started(event); // also when the queue refused it
        ended();
      });
  }

  /** The event no longer waits (its processing starts, or it was never queued). */
  private started(event: InboxEvent): void {
    const waiting = this.waiting.get(event.conversationId);
    if (!waiting) return;
    const i = waiting.indexOf(event);
    if (i >= 0) waiting.splice(i, 1);
    if (waiting.length === 0) this.waiting.delete(event.conversationId);
  }

  /** Counts an event until its processing ends (the returned function, idempotent). */
  private track(): () => void {
    this.pending++;
    this.options.metrics?.backlog.set(this.pending);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.pending--;
      this.options.metrics?.backlog.set(this.pending);
    };
  }
}
