/**
 * What every pipeline of one running bot shares: the stores, the turn-aware storage, the
 * per-conversation queue and the scheduler that runs each conversation's work on it (this process
 * alone, or replicas sharing the store), the outbox delivery, ownership and transcripts, metrics and
 * logging. Its lifecycle: `start` once the platforms are set up, `stop` to drain.
 */
import type { Storage } from 'botbuilder-core';
import { systemClock, type Clock } from '../clock';
import { ConversationQueue } from '../conversation-queue';
import { silentLogger, type Logger } from '../log';
import type { Metrics } from '../metrics';
import { OutboxDelivery, type OutboxDeliveryOptions } from '../outbox/outbox-delivery';
import { SentMessages } from '../outbox/sent-messages';
import { OwnershipStore } from '../ownership';
import { createStores, type Stores } from '../storage/create-stores';
import { StorageTranscriptStore, type TranscriptStore } from '../transcript';
import { ConversationRunner } from '../replicas/conversation-runner';
import type { ConversationScheduler } from '../scheduling/conversation-scheduler';
import { LocalScheduler } from '../scheduling/local-scheduler';
import { TurnStorage } from './turn-storage';
import { SatisfactionSurvey, type SatisfactionOptions } from '../satisfaction/satisfaction-survey';
import { recordStep } from '../timeline/record-step';
import { ownershipStep } from '../timeline/timeline-steps';

export interface PipelineRuntimeOptions {
  /** Default: `memory:` stores (nothing survives a restart). */
  stores?: Stores;
  queue?: ConversationQueue;
  metrics?: Metrics;
  logger?: Logger;
  clock?: Clock;
  outbox?: Omit<OutboxDeliveryOptions, 'clock' | 'logger' | 'metrics'>;
  /** Accepted events not yet processed past which webhooks are refused with the platform's redelivery status (default 10,000). */
  backlogLimit?: number;
  /** How long redeliveries are recognised (default 24 h). */
  dedupeTtlMs?: number;
  /** With a store several replicas share: how long a conversation lease lasts unrenewed (default 10 s). */
  leaseMs?: number;
  /** How long a repeated message send waits for the platform's echo of an earlier attempt (default 5 s). */
  echoWaitMs?: number;
  /**
   * A customer's messages that follow each other within this many ms (before the bot answered) reach
   * the bot as one message turn; 0 (the default) turns each message into its own turn.
   */
  debounceMs?: number;
  /** The satisfaction survey after a human stretch (default: off). */
  satisfaction?: SatisfactionOptions;
}

export class PipelineRuntime {
  readonly stores: Stores;
  /** The Storage to give the bot: inside a turn its writes are committed with the turn. */
  readonly storage: Storage;
  readonly queue: ConversationQueue;
  readonly delivery: OutboxDelivery;
  readonly ownership: OwnershipStore;
  readonly transcripts: TranscriptStore;
  readonly metrics?: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly backlogLimit: number;
  readonly dedupeTtlMs: number;
  readonly debounceMs: number;
  /** Who runs each conversation's work: this process's queue alone, or, with a store replicas share, whoever holds its lease. */
  readonly scheduler: ConversationScheduler;
  /** The platforms' echoes of the bot's messages: evidence a repeated send looks for first. */
  readonly sent: SentMessages;
  /** The satisfaction question after a human stretch, and its answers. */
  readonly satisfaction: SatisfactionSurvey;

  constructor(options: PipelineRuntimeOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics;
    this.stores = options.stores ?? createStores('memory:', this.logger, { clock: this.clock });
    this.storage = new TurnStorage(this.stores.storage);
    this.queue = options.queue ?? new ConversationQueue();
    this.delivery = new OutboxDelivery(this.stores.outbox, { ...options.outbox, clock: this.clock, logger: this.logger, metrics: this.metrics });
    this.ownership = new OwnershipStore(this.storage, ({ channelId, conversationId, before, after, transition }) =>
      recordStep(
        this.stores.timeline,
        { ...ownershipStep(channelId, conversationId, { from: before.owner, to: after.owner, reason: after.reason, transition, platformStatus: after.platformStatus, details: after.details }), at: this.clock.now() },
        this.logger,
      ),
    );
    this.transcripts = new StorageTranscriptStore(this.storage);
    this.sent = new SentMessages({ echoes: this.stores.echoes, clock: this.clock, logger: this.logger, shared: !!this.stores.replicas, echoWaitMs: options.echoWaitMs });
    this.backlogLimit = options.backlogLimit ?? 10_000;
    this.dedupeTtlMs = options.dedupeTtlMs ?? 24 * 3600_000;
    this.debounceMs = options.debounceMs ?? 0;
    this.satisfaction = new SatisfactionSurvey(options.satisfaction ?? { enabled: false }, { storage: this.storage, transcripts: this.transcripts, clock: this.clock, logger: this.logger });
    if (this.stores.replicas) {
      const runner = new ConversationRunner({
        coordination: this.stores.replicas,
        inbox: this.stores.inbox,
        queue: this.queue,
        delivery: this.delivery,
        logger: this.logger,
        clock: this.clock,
        leaseMs: options.leaseMs,
      });
      this.delivery.revivedElsewhere = (conversationId) => runner.wake(conversationId);
      this.scheduler = runner;
    } else {
      this.scheduler = new LocalScheduler({ inbox: this.stores.inbox, queue: this.queue, delivery: this.delivery, logger: this.logger, metrics: this.metrics });
    }
  }

  /** Once every platform has registered: what the last stop left runs first, then new work. */
  start(): Promise<void> {
    return this.scheduler.start();
  }

  /**
   * Refuses new events (the platforms redeliver them), lets the running turns finish and their
   * deliveries run, each wait at most `timeoutMs`; what remains stays in the store for the next start.
   */
  async stop(timeoutMs = 10_000): Promise<{ drained: boolean; delivered: boolean }> {
    await this.scheduler.stop();
    const drained = await this.queue.drain(timeoutMs);
    if (!drained) this.logger.warn('shutdown: some turns did not finish in time', { depth: this.queue.depth });
    // A delivery whose outcome needs a turn now (the queue is closed) is not marked done: after the
    // next start it is repeated from its last step, and only its outcome is left to record.
    const delivered = await this.delivery.whenIdle(timeoutMs);
    this.delivery.stop();
    if (!delivered) this.logger.warn('shutdown: some platform actions are still pending; they are delivered after the next start', { pending: this.delivery.backlog });
    return { drained, delivered };
  }
}
