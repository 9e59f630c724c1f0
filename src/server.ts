/**
 * The restify server: the product's HTTP endpoints. Webhook bodies are read raw by the adapters (no body
 * parser), and every error, restify's own included, is a JSON `{error: {code, message}}`.
 */
import restify, { type Request, type Response, type Server } from 'restify';
import { writeWebhookResult, errorBody } from './http/webhook-io';
import type { Metrics } from './metrics';
import type { Logger } from './log';
import type { ErrorCode } from './error-codes';

export interface WebhookRoute {
  method: 'GET' | 'POST';
  path: string;
  /** Answers the request; undefined means the platform is not configured. */
  handle?: (req: Request, res: Response) => Promise<void>;
  platform: string;
}

export interface ServerDeps {
  metrics: Metrics;
  logger: Logger;
  routes: () => WebhookRoute[];
  /** Every platform's routes, declared before the platforms start (one not configured answers 404). */
  declared: Array<Pick<WebhookRoute, 'method' | 'path' | 'platform'>>;
  /** Undefined when ready; otherwise why not. */
  notReadyReason: () => Promise<string | undefined> | string | undefined;
}

export function createServer(deps: ServerDeps): Server {
  const server = restify.createServer({ name: 'botbuilder-handoff-adapters', handleUncaughtExceptions: false });

  server.get('/healthz', async (_req: Request, res: Response) => {
    writeWebhookResult(res, { status: 200, body: { status: 'ok' } });
  });
  server.get('/readyz', async (_req: Request, res: Response) => {
    const reason = await deps.notReadyReason();
    writeWebhookResult(res, reason ? { status: 503, body: { status: 'not ready', reason } } : { status: 200, body: { status: 'ready' } });
  });
  server.get('/metrics', async (_req: Request, res: Response) => {
    const text = await deps.metrics.text();
    res.writeHead(200, { 'Content-Type': deps.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  });

  const declared = new Set<string>();
  for (const route of deps.declared) {
    const key = `${route.method} ${route.path}`;
    if (declared.has(key)) continue;
    declared.add(key);
    let current: WebhookRoute | undefined;
    const handler = async (req: Request, res: Response) => {
      // Resolved once the app has composed its adapters (before it listens); fixed from then on.
      current ??= deps.routes().find((r) => r.method === route.method && r.path === route.path);
      if (!current?.handle) {
        writeWebhookResult(res, { status: 404, body: errorBody('platform_not_configured', `${route.platform} is not configured on this server`) });
        return;
      }
      try {
        await current.handle(req, res);
      } catch (error) {
        deps.logger.error('webhook handler failed', { path: route.path, error });
        if (!res.headersSent) writeWebhookResult(res, { status: 500, body: errorBody('internal_error', 'the request could not be processed') });
      }
    };
    if (route.method === 'GET') server.get(route.path, handler);
    else server.post(route.path, handler);
  }

  // restify's own errors (404, 405, …) in our JSON shape.
  server.on('restifyError', (_req: Request, _res: Response, err: { statusCode?: number; body?: { code?: string }; message: string; toJSON?: () => unknown }, callback: () => void) => {
    const named = (err.body?.code ?? '').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
    const code: ErrorCode = named === 'resource_not_found' || named === 'method_not_allowed' ? named : 'http_error';
    err.toJSON = () => errorBody(code, err.message || named || code);
    callback();
  });
  return server;
}
