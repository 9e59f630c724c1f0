/**
 * What every pipeline of one running bot shares: the stores, the turn-aware storage, the
 * per-conversation queue, the outbox delivery, ownership and transcripts, metrics and logging, and the
 * backlog of accepted events not yet processed.
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
import { TurnStorage } from './turn-storage';
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
  /** With a store several replicas share: who runs each conversation's work (else this process's queue alone). */
  readonly runner?: ConversationRunner;
  /** The platforms' echoes of the bot's messages: evidence a repeated send looks for first. */
  readonly sent: SentMessages;
  private pendingEvents = 0;

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
    // With replicas an echo reaches any of them, and one that did not send cannot judge it: off there.
    this.sent = new SentMessages({ storage: this.stores.storage, clock: this.clock, logger: this.logger, enabled: !this.stores.replicas, echoWaitMs: options.echoWaitMs });
    this.backlogLimit = options.backlogLimit ?? 10_000;
    this.dedupeTtlMs = options.dedupeTtlMs ?? 24 * 3600_000;
    if (this.stores.replicas) {
      this.runner = new ConversationRunner({
        coordination: this.stores.replicas,
        inbox: this.stores.inbox,
        queue: this.queue,
        delivery: this.delivery,
        logger: this.logger,
        clock: this.clock,
        leaseMs: options.leaseMs,
      });
      const runner = this.runner;
      this.delivery.revivedElsewhere = (conversationId) => runner.wake(conversationId);
    }
  }

  /** Accepted events whose processing has not finished. */
  get backlog(): number {
    return this.pendingEvents;
  }

  /** Counts an accepted event until its processing ends (the returned function). */
  trackEvent(): () => void {
    this.pendingEvents++;
    this.metrics?.backlog.set(this.pendingEvents);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.pendingEvents--;
      this.metrics?.backlog.set(this.pendingEvents);
    };
  }
}
