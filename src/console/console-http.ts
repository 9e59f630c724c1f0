/**
 * The console's HTTP plumbing on node's request and response (restify's are those): JSON answers in
 * the product's error shape, bodies read with a size limit and validated with zod, security headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';

/** Small forms and commands only. */
const MAX_BODY_BYTES = 64 * 1024;

/** Every answer of the console: no caching, no sniffing, no framing, no referrer. */
export const BASE_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** The page loads only its own script, style and API: nothing from elsewhere. */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export class ConsoleHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { ...BASE_HEADERS, Location: location, 'Content-Length': 0, ...headers });
  res.end();
}

/** The raw body, at most MAX_BODY_BYTES (413 past it). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ConsoleHttpError(413, 'payload_too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON body validated with `schema` (an empty body is `{}`): 400 naming the problem otherwise. */
export async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const text = await readBody(req);
  let value: unknown = {};
  if (text.trim() !== '') {
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(type)) throw new ConsoleHttpError(415, 'unsupported_media_type', 'send the body as application/json');
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      throw new ConsoleHttpError(400, 'invalid_json', 'the body is not valid JSON');
    }
  }
  return parseWith(schema, value, 'body');
}

/** Validates with zod; a failure is a 400 that names the fields (never echoes values). */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ConsoleHttpError(400, 'invalid_request', `the ${what} is invalid: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return parsed.data;
}

/** A request's cookies by name. */
export function cookiesOf(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** Whether the request came over HTTPS (directly, or through a proxy that says so). */
export function isSecureRequest(req: IncomingMessage): boolean {
  return Boolean((req.socket as { encrypted?: boolean }).encrypted) || /^https$/i.test(String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim());
}
