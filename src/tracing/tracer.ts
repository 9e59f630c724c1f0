/**
 * The product's spans, through the OpenTelemetry API: a webhook's way from the intake to the platform
 * calls its turn makes. Without a registered tracer provider (no `OTEL_*` setup, see start-tracing.ts)
 * every call here is the API's no-op. Attributes carry ids and outcomes only: never a message's text,
 * a token or a secret.
 *
 * The ack ends a webhook's span before its turn runs, possibly in another process (a restart, another
 * replica). So the span context travels with the stored work (`carryTrace`): the turn's span is a child
 * of the webhook's, each delivery attempt's a child of the turn's, and each platform call a child of
 * the attempt's. One webhook, one trace.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';

/** Asked for at each span: a provider registered (or given back) later is the one used. */
function tracer() {
  return trace.getTracer('botbuilder-handoff-adapters');
}

/** The key under which a stored payload carries its W3C trace context. */
const CARRIER_KEY = 'traceparent';

/** The context a request's `traceparent` / `tracestate` headers name (or the current one). */
export function contextFromHeaders(headers: IncomingHttpHeaders): Context {
  return propagation.extract(context.active(), headers, {
    get: (carrier, key) => carrier[key],
    keys: (carrier) => Object.keys(carrier),
  });
}

/**
 * A payload about to be stored, with the active span's context in it (plain objects only; anything
 * else, or no span being recorded, is returned as it is).
 */
export function carryTrace<T>(payload: T): T {
  const span = trace.getActiveSpan();
  if (!span?.isRecording() || !isPlainObject(payload)) return payload;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier[CARRIER_KEY] ? { ...payload, [CARRIER_KEY]: carrier[CARRIER_KEY] } : payload;
}

/**
 * The context a stored payload carries (see carryTrace); the root context when none: work read back
 * from the store (or queued behind another conversation's turn) is never another trace's child.
 */
export function carriedContext(payload: unknown): Context {
  const traceparent = isPlainObject(payload) ? payload[CARRIER_KEY] : undefined;
  if (typeof traceparent !== 'string') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { [CARRIER_KEY]: traceparent });
}

/**
 * Runs `fn` in a new span under `parent`: ended when `fn` settles, its status an error when `fn`
 * throws. Only the error's type and code are recorded: a platform's error message may quote what was sent.
 */
export async function inSpan<T>(name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context }, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, options.parent ?? context.active());
  try {
    return await context.with(trace.setSpan(options.parent ?? context.active(), span), () => fn(span));
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof code === 'string' ? code : error instanceof Error ? error.name : 'error' });
    span.setAttribute('error.type', typeof code === 'string' ? code : error instanceof Error ? error.name : 'error');
    throw error;
  } finally {
    span.end();
  }
}

/** Whether spans are being recorded now (attributes that cost something are computed only then). */
export function tracing(): boolean {
  return trace.getActiveSpan()?.isRecording() ?? false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

export { SpanKind, SpanStatusCode };
