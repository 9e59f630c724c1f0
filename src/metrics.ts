/**
 * Prometheus metrics of one running app (its own registry, so tests and several apps never mix). A
 * tenant's series carry its id as `tenant` (absent without tenants): as many values as tenants configured.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly webhooksReceived = new Counter({
    name: 'handoff_webhooks_received_total',
    help: 'Webhook requests received, by platform',
    labelNames: ['platform', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly webhooksRejected = new Counter({
    name: 'handoff_webhooks_rejected_total',
    help: 'Webhook requests refused (4xx), by platform and reason code',
    labelNames: ['platform', 'tenant', 'reason'] as const,
    registers: [this.registry],
  });
  readonly webhooksDeduplicated = new Counter({
    name: 'handoff_webhooks_deduplicated_total',
    help: 'Webhook deliveries dropped as duplicates, by platform',
    labelNames: ['platform', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly reclaimed = new Counter({
    name: 'handoff_reclaimed_total',
    help: 'Conversations the platform had given to humans because it could not reach the bot, found again, by platform and outcome (returned_to_bot, left_with_humans)',
    labelNames: ['platform', 'tenant', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly webhooksDeferred = new Counter({
    name: 'handoff_webhooks_deferred_total',
    help: 'Webhooks answered with the platform\'s redelivery status because the backlog of unprocessed events was full, by platform',
    labelNames: ['platform', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly backlog = new Gauge({
    name: 'handoff_backlog',
    help: 'Accepted webhook events whose processing has not finished',
    registers: [this.registry],
  });
  readonly turns = new Counter({
    name: 'handoff_turns_total',
    help: 'Bot turns run, by platform and activity type',
    labelNames: ['platform', 'tenant', 'type'] as const,
    registers: [this.registry],
  });
  readonly turnErrors = new Counter({
    name: 'handoff_turn_errors_total',
    help: 'Bot turns that failed, by platform',
    labelNames: ['platform', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly outgoingCalls = new Counter({
    name: 'handoff_outgoing_calls_total',
    help: 'HTTP calls to platforms, by platform and status (HTTP status, or "network")',
    labelNames: ['platform', 'tenant', 'status'] as const,
    registers: [this.registry],
  });
  readonly outgoingDuration = new Histogram({
    name: 'handoff_outgoing_call_duration_seconds',
    help: 'Duration of single HTTP attempts to platforms',
    labelNames: ['platform', 'tenant'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly webhookAck = new Histogram({
    name: 'handoff_webhook_ack_seconds',
    help: 'Time from a webhook read to its answer (durable accept included), by platform',
    labelNames: ['platform', 'tenant'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly handoffs = new Counter({
    name: 'handoff_handoffs_total',
    help: 'Handoffs carried out on a platform, by platform and outcome (accepted, failed)',
    labelNames: ['platform', 'tenant', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly satisfaction = new Counter({
    name: 'handoff_satisfaction_ratings_total',
    help: 'Satisfaction ratings customers gave after a human stretch, by platform and rating (1 poor to 5 excellent)',
    labelNames: ['platform', 'tenant', 'rating'] as const,
    registers: [this.registry],
  });
  readonly surveys = new Counter({
    name: 'handoff_satisfaction_surveys_total',
    help: 'Satisfaction surveys after a human stretch, by platform and outcome (asked, not_asked, dropped, answered)',
    labelNames: ['platform', 'tenant', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'handoff_queue_depth',
    help: 'Turns waiting or running in the per-conversation queues',
    registers: [this.registry],
  });

  readonly outboxRetries = new Counter({
    name: 'handoff_outbox_retries_total',
    help: 'Outbox actions (replies, handoffs, control, ticket relays) that failed an attempt and will be retried',
    labelNames: ['platform', 'tenant', 'kind'] as const,
    registers: [this.registry],
  });
  readonly outboxFailed = new Counter({
    name: 'handoff_outbox_failed_total',
    help: 'Outbox actions that failed for good (reported to the bot: handoff.status failed, conversation.deliveryFailed)',
    labelNames: ['platform', 'tenant', 'kind'] as const,
    registers: [this.registry],
  });
  readonly inboxRecovered = new Counter({
    name: 'handoff_inbox_recovered_total',
    help: 'Accepted webhook events processed again at start because the process stopped before their turn finished',
    labelNames: ['platform', 'tenant'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'handoff_' });
  }

  /** The exposition text served at /metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
