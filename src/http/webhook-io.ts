/**
 * The one thin seam between HTTP and the adapters' pipelines: adapters take a `WebhookInput` and
 * return a `WebhookResult`, so they run with restify, plain Node http, or no server at all (tests).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { WebhookRejectedError } from '../errors';
import type { ErrorCode } from '../error-codes';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { platformLabels } from '../tenants/tenant-scope';

export interface WebhookInput {
  method: string;
  headers: IncomingHttpHeaders;
  /** The exact bytes received (signatures are computed over them). */
  rawBody: Buffer;
  query: URLSearchParams;
}

export interface WebhookResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The error body every endpoint answers with. */
export function errorBody(code: ErrorCode, message: string): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message } };
}

/** Reads a request's raw body up to `limit` bytes (413 past it). */
export async function readWebhookInput(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<WebhookInput> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain so the connection can answer
    throw new WebhookRejectedError(413, 'payload_too_large', `the body is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw new WebhookRejectedError(413, 'payload_too_large', `the body is larger than ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return { method: req.method ?? 'POST', headers: req.headers, rawBody: Buffer.concat(chunks), query: url.searchParams };
}

/**
 * The request as a WebhookInput (a body a framework already read as `rawBody`, else read here up to
 * the limit), the refusal to answer (413), or `disconnected` when the client went away mid-body (its
 * doing, not ours: nobody is left to answer). Other errors are thrown.
 */
export async function webhookInputOf(
  req: IncomingMessage & { rawBody?: Buffer | string },
): Promise<{ input: WebhookInput } | { refused: WebhookRejectedError } | { disconnected: true }> {
  if (req.rawBody !== undefined) {
    return {
      input: {
        method: req.method ?? 'POST',
        headers: req.headers,
        rawBody: Buffer.isBuffer(req.rawBody) ? req.rawBody : Buffer.from(req.rawBody),
        query: new URL(req.url ?? '/', 'http://localhost').searchParams,
      },
    };
  }
  try {
    return { input: await readWebhookInput(req) };
  } catch (error) {
    if (error instanceof WebhookRejectedError) return { refused: error };
    if (req.destroyed || (error as NodeJS.ErrnoException).code === 'ECONNRESET') return { disconnected: true };
    throw error;
  }
}

/** A refused webhook: counted, logged (without the body), answered as a JSON error. */
export function refuseWebhook(deps: { metrics?: Metrics; logger: Logger }, platform: string, status: number, code: ErrorCode, message: string): WebhookResult {
  deps.metrics?.webhooksRejected.inc({ ...platformLabels(platform), reason: code });
  deps.logger.warn('webhook rejected', { status, code, reason: message });
  return { status, body: errorBody(code, message) };
}

/** Writes a result as JSON (works for restify's and Node's response objects). */
export function writeWebhookResult(res: ServerResponse, result: WebhookResult): void {
  const payload = typeof result.body === 'string' ? result.body : JSON.stringify(result.body ?? {});
  const contentType = typeof result.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(result.status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload), ...result.headers });
  res.end(payload);
}

/** The value of a header as one string. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Who is told about a webhook that never reached its handler (optional: your own server may not care). */
export interface WebhookObserver {
  platform: string;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Reads a request (or the raw body a framework kept) and answers it with `handle`: the one way from a
 * server's request to a platform's handler. A body past the limit is refused (413, counted and logged
 * when `observer` is given); a client gone mid-body gets nothing (logged at debug).
 */
export async function answerWebhook(
  req: IncomingMessage & { rawBody?: Buffer | string },
  res: ServerResponse,
  handle: (input: WebhookInput) => Promise<WebhookResult>,
  observer?: WebhookObserver,
): Promise<void> {
  const read = await webhookInputOf(req);
  if ('disconnected' in read) {
    observer?.logger.debug('the client disconnected before its webhook body was read', { platform: observer.platform });
    return;
  }
  if ('refused' in read) {
    const { status, code, message } = read.refused;
    if (!observer) return writeWebhookResult(res, { status, body: errorBody(code, message) });
    observer.metrics?.webhooksReceived.inc(platformLabels(observer.platform));
    writeWebhookResult(res, refuseWebhook(observer, observer.platform, status, code, message));
    return;
  }
  const result = await handle(read.input);
  if (!res.headersSent) writeWebhookResult(res, result);
}
