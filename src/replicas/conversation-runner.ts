/**
 * Per-conversation order across replicas sharing one store. Any replica accepts any webhook; the
 * replica holding a conversation's lease runs all of its work: the events every replica accepted for
 * it (read back from the store, oldest first), and its outbox actions (delivered by the holder's own
 * lanes, so they stay in order). The holder keeps the lease while there is work and gives it up only
 * when the store confirms, in the same statement, that none is left; so an event accepted elsewhere
 * while it held the lease is always seen, by it or by whoever takes the lease next. A replica that
 * dies stops renewing: its leases expire after `leaseMs` and the sweep on the other replicas finds the
 * conversations with work and no live lease, and takes them over in their order.
 *
 * Cost per webhook on top of the store's own writes: the claim (the lease taken, the conversation's
 * unfinished events and pending actions read, the first event marked started: one statement) and the
 * release that checks nothing is left (two round trips; a conversation that stays busy keeps its lease
 * and pays them once for many events).
 */
import { systemClock, type Clock } from '../clock';
import type { ConversationQueue } from '../conversation-queue';
import { silentLogger, type Logger } from '../log';
import type { OutboxDelivery } from '../outbox/outbox-delivery';
import type { EventInbox, InboxEvent } from '../storage/event-inbox';
import { inboxEventStep } from '../timeline/timeline-steps';
import { outsideTurn } from '../turn-scope';
import type { Claim, ReplicaCoordination } from './replica-coordination';
import type { AcceptClaim } from '../storage/event-inbox';
import { MAX_EVENT_ATTEMPTS, tracedProcessor, type ConversationScheduler, type StoredEventProcessor } from '../scheduling/conversation-scheduler';

export interface ConversationRunnerOptions {
  coordination: ReplicaCoordination;
  inbox: EventInbox;
  queue: ConversationQueue;
  delivery: OutboxDelivery;
  logger?: Logger;
  clock?: Clock;
  /** How long a lease lasts without renewal (default 10 s): a dead replica's conversations wait this long. */
  leaseMs?: number;
  /** How often each replica looks for conversations with work and no live lease (default 1 s). */
  sweepMs?: number;
  /** How long a proactive turn waits for another replica to give the conversation's lease up (default 30 s). */
  proactiveWaitMs?: number;
}

interface Drain {
  /** Set when more work was announced while the drain ran: look again before releasing. */
  dirty: boolean;
  lost: boolean;
  /** The lease is being given up: a renewal still in flight then finds it gone, which is no loss. */
  releasing: boolean;
  /** The last done mark of the conversation's deliveries may give the lease up (nothing else to do). */
  releaseRequested?: boolean;

  wake?: () => void;
  /** Work to run once the lease is held (proactive turns), in order. */
  extra: ProactiveTask[];
}

interface ProactiveTask {
  run(): Promise<void>;
  fail(error: Error): void;
}

export class ConversationRunner implements ConversationScheduler {
  private readonly processors = new Map<string, StoredEventProcessor>();
  /** Per platform, the state keys its turn of a conversation reads first (read with the claim). */
  private readonly turnKeys = new Map<string, (conversationId: string) => string[]>();
  private readonly drains = new Map<string, Drain>();
  /** Conversations whose accept here may be taking the lease; what was announced for them meanwhile. */
  private readonly accepting = new Map<string, { woken: boolean; extra: ProactiveTask[] }>();
  private readonly coordination: ReplicaCoordination;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly leaseMs: number;
  private sweepTimer?: NodeJS.Timeout;
  private stopping = false;
  private readonly drainsEnded: Array<() => void> = [];

  constructor(private readonly options: ConversationRunnerOptions) {
    this.coordination = options.coordination;
    this.logger = (options.logger ?? silentLogger).child({ component: 'replicas', replica: options.coordination.replicaId });
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? 10_000;
  }

  /** Conversations this replica is draining now (holding or seeking their lease). */
  get active(): number {
    return this.drains.size;
  }

  /** The processor of a platform's stored events. */
  register(platform: string, processor: StoredEventProcessor, turnKeys?: (conversationId: string) => string[]): void {
    this.processors.set(platform, tracedProcessor(platform, processor));
    if (turnKeys) this.turnKeys.set(platform, turnKeys);
  }

  /** The keys any platform's turn of the conversation reads first (a key no row has costs nothing). */
  private stateKeysOf(conversationId: string): string[] {
    return [...new Set([...this.turnKeys.values()].flatMap((keysOf) => keysOf(conversationId)))];
  }

  /** Nothing is counted here: the store holds the accepted events, and whoever holds a conversation runs them. */
  readonly backlog = 0;

  /** Starts the sweep (at start, once the processors are registered): it also takes over what a previous run left, conversation by conversation (its actions, then its events). */
  async start(): Promise<void> {
    this.sweep();
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepMs ?? 1000);
    this.sweepTimer.unref();
  }

  /** Stops sweeping, lets running turns finish and gives every lease up (others take over at once). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const drain of this.drains.values()) drain.wake?.();
    if (this.drains.size > 0) await new Promise<void>((resolve) => this.drainsEnded.push(resolve));
  }

  /**
   * The lease an accept takes in its own statement when it is free: only for a conversation this
   * replica is not working on (a drain of ours holds or seeks its lease and reads the event itself).
   */
  claimOnAccept(conversationId: string): AcceptClaim | undefined {
    if (this.stopping || this.drains.has(conversationId) || this.accepting.has(conversationId)) return undefined;
    // Until its outcome is known, no drain starts here for the conversation: the accept may hold the lease.
    this.accepting.set(conversationId, { woken: false, extra: [] });
    return { holder: this.coordination.replicaId, ttlMs: this.leaseMs, stateKeys: this.stateKeysOf(conversationId) };
  }

  /** An accept that was to take the lease stored nothing (a duplicate, or the store failed). */
  acceptAbandoned(conversationId: string): void {
    this.settleAccept(conversationId);
  }

  /**
   * An event this replica stored: whoever holds its conversation's lease runs it (maybe another
   * replica). When its accept took the lease (`claim`), the work it read is run without claiming again.
   */
  accepted(event: InboxEvent, asked?: { claim?: Claim }): void {
    // Only the accept that was given the claim settles it (others accepted meanwhile are announcements).
    if (asked) this.settleAccept(event.conversationId, asked.claim);
    if (!asked?.claim?.held) this.wake(event.conversationId);
  }

  /** The outcome of an accept that was to take the lease: a drain from its claim, or as the announcements meanwhile asked. */
  private settleAccept(conversationId: string, claim?: Claim): void {
    const pending = this.accepting.get(conversationId);
    if (!pending) return;
    this.accepting.delete(conversationId);
    const deadline = pending.extra.length > 0 ? this.clock.now() + (this.options.proactiveWaitMs ?? 30_000) : undefined;
    if (claim?.held) {
      if (this.stopping) {
        for (const task of pending.extra) task.fail(new Error('the endpoint is shutting down'));
        void this.coordination.release(conversationId).catch(() => undefined);
        return;
      }
      this.startDrain(conversationId, pending.extra, deadline, claim);
      if (pending.woken) this.drains.get(conversationId)!.dirty = true;
    } else if (pending.woken || pending.extra.length > 0) {
      if (this.stopping) for (const task of pending.extra) task.fail(new Error('the endpoint is shutting down'));
      else this.startDrain(conversationId, pending.extra, deadline);
    }
  }

  requeue(event: InboxEvent): boolean {
    if (!this.processors.has(event.platform)) return false;
    this.wake(event.conversationId);
    return true;
  }

  run(conversationId: string, task: () => Promise<void>): Promise<void> {
    return this.withLease(conversationId, task);
  }

  /** Read from the store: whichever replica accepted them, this one holds the conversation. */
  async pendingAfter(event: InboxEvent): Promise<InboxEvent[]> {
    return (await this.coordination.unfinishedOf(event.conversationId)).filter((e) => e.id > event.id);
  }

  /** New work for a conversation: run it here if the lease is free. */
  wake(conversationId: string): void {
    if (this.stopping) return;
    const accepting = this.accepting.get(conversationId);
    if (accepting) {
      accepting.woken = true;
      return;
    }
    const drain = this.drains.get(conversationId);
    if (drain) {
      drain.dirty = true;
      drain.wake?.();
      return;
    }
    this.startDrain(conversationId);
  }

  /**
   * Runs `turn` in the conversation's order across replicas: at once when this replica holds its
   * lease, else once the lease is free (waiting at most `proactiveWaitMs` for another holder).
   */
  withLease(conversationId: string, turn: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const task: ProactiveTask = { run: () => turn().then(resolve, (error: unknown) => reject(error as Error)), fail: reject };
      const accepting = this.accepting.get(conversationId);
      if (accepting) {
        accepting.extra.push(task);
        return;
      }
      const drain = this.drains.get(conversationId);
      if (drain) {
        drain.extra.push(task);
        drain.wake?.();
        return;
      }
      this.startDrain(conversationId, [task], this.clock.now() + (this.options.proactiveWaitMs ?? 30_000));
    });
  }

  private startDrain(conversationId: string, extra: ProactiveTask[] = [], deadline?: number, claimed?: Claim): void {
    const drain: Drain = { dirty: false, lost: false, releasing: false, extra };
    this.drains.set(conversationId, drain);
    outsideTurn(() => {
      void this.drain(conversationId, drain, deadline, claimed)
        .then((held) => {
          if (!held) for (const task of drain.extra.splice(0)) task.fail(new Error(`conversation ${conversationId} is busy on another replica; try again`));
        })
        .catch((error: unknown) => this.logger.error('conversation work failed', { conversationId, error }))
        .finally(() => {
          this.drains.delete(conversationId);
          // Announced while the lease was being given up: look again (the store may already have it).
          const left = drain.extra.splice(0);
          if ((drain.dirty || left.length > 0) && !this.stopping) this.startDrain(conversationId, left, left.length > 0 ? this.clock.now() + (this.options.proactiveWaitMs ?? 30_000) : undefined);
          else for (const task of left) task.fail(new Error('the endpoint is shutting down'));
          if (this.drains.size === 0) for (const resolve of this.drainsEnded.splice(0)) resolve();
        });
    });
  }

  /** Holds the lease while there is work; returns false when it could not be taken. */
  private async drain(conversationId: string, drain: Drain, deadline?: number, claimed?: Claim): Promise<boolean> {
    const { coordination } = this;
    const stateKeys = this.stateKeysOf(conversationId);
    let claim = claimed ?? (await coordination.claim(conversationId, this.leaseMs, stateKeys));
    while (!claim.held) {
      // Someone else holds it: they will see our event before they give it up.
      if (deadline === undefined || this.clock.now() >= deadline || this.stopping) return false;
      await this.clock.sleep(100);
      claim = await coordination.claim(conversationId, this.leaseMs, stateKeys);
    }
    const renewal = setInterval(() => {
      coordination.renew(conversationId, this.leaseMs).then(
        (held) => {
          // Gone because a done mark of ours gave it up is no loss; gone otherwise, it was taken over.
          if (!held && !drain.releasing && !(drain.releaseRequested && this.options.delivery.mayHaveReleased(conversationId))) {
            drain.lost = true;
            drain.wake?.();
            this.logger.warn('a conversation lease was lost before its work was done', { conversationId });
          }
        },
        (error: unknown) => this.logger.warn('could not renew a conversation lease', { conversationId, error }),
      );
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    renewal.unref();
    const failures = new Map<number, number>();
    try {
      // A previous holder's actions that were not delivered go first, before anything new.
      this.options.delivery.enqueue(claim.actions);
      // The conversation's unfinished events are read when something may have been added that no other
      // check would find: at first (with the claim), after a local announcement, while our deliveries
      // keep the lease (another replica's events), and after a release that found work. Once the events
      // read are run and the deliveries are done, the release's own check (in its statement) sees
      // anything accepted elsewhere meanwhile: no read only to find out there is nothing.
      let claimed: InboxEvent[] | undefined = claim.events;
      let startedId = claim.startedId;
      let mustRead = false;
      for (;;) {
        if (drain.lost) return true;
        for (const task of drain.extra.splice(0)) await this.options.queue.enqueue(conversationId, () => task.run()).catch((error: unknown) => task.fail(error as Error));
        if (this.stopping) break;
        if (drain.dirty) mustRead = true;
        drain.dirty = false;
        if (mustRead || claimed) {
          const reread = mustRead;
          const events = mustRead ? await coordination.unfinishedOf(conversationId) : claimed!;
          mustRead = false;
          claimed = undefined;
          for (const read of events) {
            if (drain.lost || this.stopping) break;
            const started = read.id === startedId;
            if (started) startedId = undefined;
            // Read again after the claim counted its start: that count is this run's, not an earlier one's.
            const event = started && reread ? { ...read, attempts: Math.max(0, read.attempts - 1) } : read;
            // After a failure the events are read again: the failed one goes first again, nothing overtakes it.
            const ran = await this.runEvent(event, failures, started);
            // The claim's state was for the first turn only: what it did not take is stale from now on.
            coordination.dropClaimedState(conversationId);
            if (!ran) {
              mustRead = true;
              break;
            }
          }
          if (mustRead || drain.extra.length > 0) continue;
        }
        if (drain.extra.length > 0) continue;
        if (this.options.delivery.isBusy(conversationId)) {
          // Our actions for it are still being delivered (or wait for a retry): keep the lease, they keep
          // their order; meanwhile another replica's events for it are looked for now and then. With
          // nothing else to do, the last action's done mark gives the lease up when nothing is left.
          drain.releaseRequested = !drain.dirty;
          const idle = this.options.delivery.whenConversationIdle(conversationId, drain.releaseRequested ? coordination.replicaId : undefined);
          const outcome = await this.waitForWork(drain, idle);
          if (outcome === 'released') return true;
          drain.releaseRequested = false;
          if (outcome === 'woken') {
            mustRead = true;
            // Work again: the lease is kept from now on (given up already by a mark under way: taken again).
            if (await this.options.delivery.keepLease(conversationId)) {
              drain.dirty = true;
              return true;
            }
          }
          continue;
        }
        if (drain.dirty) continue;
        drain.releasing = true;
        if (await coordination.releaseIfIdle(conversationId)) return true;
        drain.releasing = false;
        mustRead = true;
        // Work appeared that is not ours yet: another replica's event (read at the top), or an action no
        // lane of ours has (queued now; what is in a lane already is not queued twice).
        this.options.delivery.enqueue(await coordination.pendingActionsOf(conversationId));
      }
      drain.releasing = true;
      await coordination.release(conversationId).catch((error: unknown) => this.logger.warn('could not give a lease up', { conversationId, error }));
      return true;
    } finally {
      clearInterval(renewal);
      coordination.dropClaimedState(conversationId);
    }
  }

  /** One stored event through its platform's processor, in the conversation's queue; set aside after repeated failures. False when it failed. */
  private async runEvent(event: InboxEvent, failures: Map<number, number>, started = false): Promise<boolean> {
    const { inbox } = this.options;
    // Counted in the store when each try starts (by whichever replica): a crash mid-turn counts too.
    const attempts = event.attempts;
    const processor = this.processors.get(event.platform);
    if (attempts >= MAX_EVENT_ATTEMPTS || !processor) {
      // Kept for an operator (the console retries or discards it), never processed again by itself.
      const reason = processor ? `its processing started ${attempts} times without finishing` : `no processor for ${event.platform} events`;
      this.logger.error('event set aside', { id: event.id, conversationId: event.conversationId, attempts, platform: event.platform, reason });
      await inbox.setAside(event.id, reason, inboxEventStep(event, 'set_aside', reason));
      return true;
    }
    // Started before and never finished: a replica died in its turn (or its commit failed); it runs again once.
    if (attempts > 0) this.logger.info('an event cut mid-turn runs again', { id: event.id, conversationId: event.conversationId, attempts });
    try {
      // The claim counted the first event's attempt already.
      if (!started) await inbox.started(event.id);
      await this.options.queue.enqueue(event.conversationId, () => processor(event));
      return true;
    } catch (error) {
      failures.set(event.id, (failures.get(event.id) ?? 0) + 1);
      this.logger.error('a stored event could not be processed; it is tried again', { id: event.id, conversationId: event.conversationId, error });
      await this.clock.sleep(200 * (failures.get(event.id) ?? 1));
      return false;
    }
  }

  /**
   * Until `idle` settles (`idle`, or `released` when the last done mark gave the lease up), or new work
   * is announced or a renewal tick passes (`woken`: another replica's event may have arrived).
   */
  private async waitForWork(drain: Drain, idle: Promise<{ released: boolean }>): Promise<'idle' | 'released' | 'woken'> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      idle.then(({ released }) => {
        if (released) drain.releasing = true;
        return released ? ('released' as const) : ('idle' as const);
      }),
      new Promise<'woken'>((resolve) => {
        drain.wake = () => resolve('woken');
        timer = setTimeout(() => resolve('woken'), Math.max(50, Math.floor(this.leaseMs / 3)));
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    drain.wake = undefined;
    return outcome;
  }

  private sweep(): void {
    if (this.stopping) return;
    this.coordination.unleased(100).then(
      (conversations) => {
        for (const conversationId of conversations) if (!this.drains.has(conversationId)) this.wake(conversationId);
      },
      (error: unknown) => this.logger.warn('could not look for conversations without a replica', { error }),
    );
  }
}
