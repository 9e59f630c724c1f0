/**
 * Turns tracing on when the standard OpenTelemetry variables ask for it: an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), unless `OTEL_SDK_DISABLED=true`
 * or `OTEL_TRACES_EXPORTER=none`. Spans then go through a batch processor to the standard OTLP/HTTP
 * exporter, which reads its own `OTEL_EXPORTER_OTLP_*` settings (headers, timeout, protocol details);
 * the service is `OTEL_SERVICE_NAME` (default `botbuilder-handoff-adapters`) with
 * `OTEL_RESOURCE_ATTRIBUTES`. When the application registered its own tracer provider first, that one
 * is kept and receives the spans. Otherwise nothing is registered and every span is the API's no-op.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';

export interface TracingHandle {
  /** Sends what is buffered and stops (at the app's stop). */
  shutdown(): Promise<void>;
}

/** Whether the environment asks for traces to be exported. */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (/^true$/i.test(env.OTEL_SDK_DISABLED ?? '')) return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).includes('none')) return false;
  return !!(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Registers a tracer provider exporting to OTLP when the environment asks for it (or with the given
 * span processor: tests), the async-local context and the W3C propagator. Undefined when nothing was
 * registered (not asked for, or the application had registered its own provider).
 */
export function startTracing(env: NodeJS.ProcessEnv, options: { spanProcessor?: SpanProcessor } = {}): TracingHandle | undefined {
  if (!options.spanProcessor && !tracingWanted(env)) return undefined;
  const detected = detectResources({ detectors: [envDetector] });
  const resource = resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'botbuilder-handoff-adapters' }).merge(detected);
  const provider = new TracerProvider({ resource, spanProcessors: [options.spanProcessor ?? new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })] });
  if (!trace.setGlobalTracerProvider(provider)) {
    // The application traces already: its provider (and its context manager) stay.
    provider.shutdown().catch(() => undefined);
    return undefined;
  }
  // Each registered only where the application registered none; only what was registered here is undone.
  const contextManager = new AsyncLocalStorageContextManager();
  const ownContext = context.setGlobalContextManager(contextManager);
  if (ownContext) contextManager.enable();
  const ownPropagator = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        if (ownContext) {
          contextManager.disable();
          context.disable();
        }
        if (ownPropagator) propagation.disable();
      }
    },
  };
}
