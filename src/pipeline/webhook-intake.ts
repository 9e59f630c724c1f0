/**
 * The one intake of every platform's webhooks (chat messages, ticket events alike): the endpoint
 * shutting down or over its backlog → the platform's redelivery status; authenticity and parsing
 * (pure, in the source) → a refusal naming the problem; each event the body carries stored once (a
 * dedupe key seen before makes it a duplicate) and handed to the scheduler; then the 2xx. Counted
 * and timed per platform.
 */
import { ZodError, z } from 'zod';
import { parseJsonBody } from '../http/json-body';
import { errorBody, refuseWebhook, type WebhookInput, type WebhookResult } from '../http/webhook-io';
import type { Logger } from '../log';
import type { SentEcho } from '../outbox/sent-messages';
import type { TimelineStep } from '../storage/timeline';
import type { Refusal } from './connector';
import type { PipelineRuntime } from './pipeline-runtime';
import { carryTrace, contextFromHeaders, inSpan, SpanKind } from '../tracing/tracer';
import { platformLabels } from '../tenants/tenant-scope';

/** One event a webhook carries, as it is stored (JSON) and later handed to its platform's processor. */
export interface IntakeEvent {
  /** The conversation it belongs to: its events run one at a time, in order. */
  conversationId: string;
  /** Idempotency keys: a redelivery carrying any of them is stored once. */
  dedupeKeys: string[];
  payload: unknown;
  /** The timeline's "webhook received" step. */
  timeline: TimelineStep;
}

/**
 * What a webhook's body becomes: refused, acknowledged without an event (`echo`: the platform's copy
 * of a message the bot sent, kept as evidence of the send), one event, or a batch (some of it maybe
 * not for the bot: `ignored` counts those).
 */
export type IntakePlan = { refused: Refusal } | { ignored: string; echo?: SentEcho } | { event: IntakeEvent } | { batch: IntakeEvent[]; ignored: number };

/** A platform's side of the intake. A zod error thrown by `plan` is a 400 `payload_invalid`. */
export interface IntakeSource {
  readonly platform: string;
  /** The status the platform redelivers on. */
  readonly redeliverStatus: number;
  /** Authenticity of the request, before its body is read as JSON (pure): a refusal, or claims for `plan`. */
  authenticate(input: WebhookInput, nowMs: number): { refused: Refusal } | { claims?: Record<string, unknown> };
  /** Validates and plans the parsed body (a lookup may make it asynchronous). */
  plan(body: unknown, input: WebhookInput, claims: Record<string, unknown> | undefined): IntakePlan | Promise<IntakePlan>;
}

export class WebhookIntake {
  private readonly logger: Logger;
  private readonly received;
  private readonly ack;

  constructor(
    private readonly source: IntakeSource,
    private readonly runtime: PipelineRuntime,
  ) {
    this.logger = runtime.logger.child({ platform: source.platform });
    const labels = platformLabels(source.platform);
    this.received = runtime.metrics?.webhooksReceived.labels(labels);
    this.ack = runtime.metrics?.webhookAck.labels(labels);
  }

  /**
   * Transport-free entry: the events are stored before the answer; their turns run after it. Traced
   * as one span (under the request's `traceparent` when it has one), which the stored events carry.
   */
  handle(input: WebhookInput): Promise<WebhookResult> {
    const platform = this.source.platform;
    return inSpan(`${platform} webhook`, { kind: SpanKind.SERVER, parent: contextFromHeaders(input.headers), attributes: { 'handoff.platform': platform } }, async (span) => {
      const result = await this.handleTraced(input);
      span.setAttribute('http.response.status_code', result.status);
      return result;
    });
  }

  private async handleTraced(input: WebhookInput): Promise<WebhookResult> {
    const started = performance.now();
    this.received?.inc();
    const { source, runtime } = this;
    if (runtime.queue.isClosed) return { status: source.redeliverStatus, body: errorBody('shutting_down', 'the bot is shutting down; deliver again') };
    const auth = source.authenticate(input, runtime.clock.now());
    if ('refused' in auth) return this.refuse(auth.refused);
    const body = parseJsonBody(input.rawBody);
    if ('refused' in body) return this.refuse(body.refused);
    const planned = await this.plan(body.value, input, auth.claims);
    if ('refused' in planned) return this.refuse(planned.refused);
    if ('ignored' in planned && !('batch' in planned)) {
      this.logger.debug('webhook acknowledged without a turn', { reason: planned.ignored });
      // Kept before the answer: a send whose outcome was never learnt is found by it later. Not kept,
      // the platform delivers it again (a repeated send without it would reach the customer twice).
      if (planned.echo) {
        try {
          await runtime.sent.echoed(source.platform, planned.echo);
        } catch (error) {
          this.logger.warn('could not keep the echo of a sent message; asking for it again', { conversationId: planned.echo.conversationId, error });
          return { status: source.redeliverStatus, body: errorBody('storage_unavailable', 'the echo could not be stored; deliver again') };
        }
      }
      return { status: 200, body: { ok: true, ignored: planned.ignored } };
    }
    const events = 'batch' in planned ? planned.batch : [planned.event];
    if (events.length > 0 && runtime.scheduler.backlog >= runtime.backlogLimit) {
      runtime.metrics?.webhooksDeferred.inc(platformLabels(source.platform));
      return { status: source.redeliverStatus, body: errorBody('backlog_full', 'too many events are waiting to be processed; deliver again later') };
    }
    let accepted = 0;
    try {
      for (const event of events) if ((await this.accept(event)) === 'accepted') accepted++;
    } catch (error) {
      // Not all was stored: the platform must deliver again (what was stored is then a duplicate).
      this.logger.error('could not store a webhook event', { conversationId: events[accepted]?.conversationId, error });
      return { status: source.redeliverStatus, body: errorBody('storage_unavailable', 'the event could not be stored; deliver again') };
    }
    this.ack?.observe((performance.now() - started) / 1000);
    if ('batch' in planned) return { status: 200, body: { ok: true, accepted, ignored: planned.ignored + events.length - accepted } };
    return { status: 200, body: accepted === 0 ? { ok: true, duplicate: true } : { ok: true } };
  }

  /**
   * Stores an event (once: a dedupe key seen before makes it a duplicate) and hands it to the
   * scheduler. What a webhook carries, and what a platform found it had missed, go the same way.
   * Throws when the store fails.
   */
  async accept(event: IntakeEvent): Promise<'accepted' | 'duplicate'> {
    const { runtime, source } = this;
    const claim = runtime.scheduler.claimOnAccept?.(event.conversationId);
    // Its turn's span is a child of this webhook's, wherever and whenever it runs.
    const payload = carryTrace(event.payload);
    let stored;
    try {
      stored = await runtime.stores.inbox.accept({ platform: source.platform, ...event, payload, ttlMs: runtime.dedupeTtlMs, ...(claim ? { claim } : {}) });
    } catch (error) {
      if (claim) runtime.scheduler.acceptAbandoned?.(event.conversationId);
      throw error;
    }
    if (stored.duplicate) {
      if (claim) runtime.scheduler.acceptAbandoned?.(event.conversationId);
      runtime.metrics?.webhooksDeduplicated.inc(platformLabels(source.platform));
      this.logger.debug('duplicate delivery dropped', { keys: event.dedupeKeys });
      return 'duplicate';
    }
    runtime.scheduler.accepted({ id: stored.id, platform: source.platform, conversationId: event.conversationId, payload, receivedAt: runtime.clock.now(), attempts: 0 }, claim ? { claim: stored.claim } : undefined);
    return 'accepted';
  }

  private async plan(body: unknown, input: WebhookInput, claims: Record<string, unknown> | undefined): Promise<IntakePlan> {
    try {
      return await this.source.plan(body, input, claims);
    } catch (error) {
      if (!(error instanceof ZodError)) throw error;
      return { refused: { status: 400, code: 'payload_invalid', message: `the payload is not a ${this.source.platform} webhook: ${z.prettifyError(error).replace(/\n/g, '; ')}` } };
    }
  }

  private refuse(refusal: Refusal): WebhookResult {
    return refuseWebhook({ metrics: this.runtime.metrics, logger: this.logger }, this.source.platform, refusal.status, refusal.code, refusal.message);
  }
}
