/**
 * A tiny HTTP router for the sandbox emulations: path patterns with `:params`, JSON and multipart
 * bodies (busboy), JSON answers. The emulations stay independent of the server under test.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';

export interface UploadedFile {
  field: string;
  name: string;
  contentType: string;
  data: Buffer;
}

export interface SandboxRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  files: UploadedFile[];
}

export interface SandboxReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: Buffer;
  /** From `before`: carry the request out all the same, then answer this (an answer lost after the work was done). */
  afterWork?: boolean;
  /** From `before`: carry the request out and answer as usual (with `delayMs`: late). */
  passThrough?: boolean;
  /** Answered this much later. */
  delayMs?: number;
}

export type SandboxHandler = (req: SandboxRequest) => Promise<SandboxReply> | SandboxReply;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: SandboxHandler;
}

export interface SandboxRouterOptions {
  /** Route `/a/b/` as `/a/b` (what Rails does). */
  ignoreTrailingSlash?: boolean;
}

export class SandboxRouter {
  private readonly routes: Route[] = [];
  private server?: http.Server;
  /** Runs before every route (auth, fault injection); a reply ends the request. */
  before?: (req: SandboxRequest) => SandboxReply | undefined;
  /** Sees every answer (call logs). */
  after?: (req: SandboxRequest, reply: SandboxReply) => void;

  constructor(private readonly options: SandboxRouterOptions = {}) {}

  on(method: string, path: string, handler: SandboxHandler): this {
    const names: string[] = [];
    const source = path.replace(/:([a-z_]+)/gi, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  async listen(port: number, host: string): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://sandbox');
      if (this.options.ignoreTrailingSlash && url.pathname.length > 1 && url.pathname.endsWith('/')) url.pathname = url.pathname.slice(0, -1);
      const method = req.method ?? 'GET';
      let match: { route: Route; params: Record<string, string> } | undefined;
      for (const route of this.routes) {
        if (route.method !== method) continue;
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        match = { route, params: Object.fromEntries(route.names.map((n, i) => [n, decodePathPart(m[i + 1]!)])) };
        break;
      }
      const { body, files } = await readBody(req);
      const request: SandboxRequest = { method, path: url.pathname, params: match?.params ?? {}, query: url.searchParams, headers: req.headers, body, files };
      const given = this.before?.(request);
      const early = given?.passThrough ? undefined : given;
      if (early?.afterWork && match) await match.route.handler(request);
      const reply = early ?? (match ? await match.route.handler(request) : { status: 404, body: { error: 'Not Found' } });
      this.after?.(request, reply);
      if (given?.delayMs) await new Promise((resolve) => setTimeout(resolve, given.delayMs));
      send(res, reply);
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      send(res, { status, body: { error: error instanceof Error ? error.message : String(error) } });
    }
  }
}

function send(res: ServerResponse, reply: SandboxReply): void {
  if (reply.raw) {
    res.writeHead(reply.status, { 'Content-Length': reply.raw.length, ...reply.headers });
    res.end(reply.raw);
    return;
  }
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...reply.headers });
  res.end(text);
}

/** A path segment, percent-decoded; a broken escape (`%zz`) is the caller's mistake (400), not a crash. */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new SandboxHttpError(400, `malformed path segment ${JSON.stringify(part)}`);
  }
}

/** An error a handler throws to answer with a status. */
export class SandboxHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_SANDBOX_BODY = 10 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<{ body: Record<string, unknown>; files: UploadedFile[] }> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) return readMultipart(req);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_SANDBOX_BODY) throw new SandboxHttpError(413, 'Request Entity Too Large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return { body: {}, files: [] };
  try {
    const parsed = JSON.parse(text) as unknown;
    return { body: parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {}, files: [] };
  } catch {
    throw new SandboxHttpError(400, 'invalid JSON');
  }
}

function readMultipart(req: IncomingMessage): Promise<{ body: Record<string, unknown>; files: UploadedFile[] }> {
  return new Promise((resolve, reject) => {
    const body: Record<string, unknown> = {};
    const files: UploadedFile[] = [];
    const parser = busboy({ headers: req.headers, limits: { fileSize: MAX_SANDBOX_BODY, files: 20 } });
    parser.on('field', (name: string, value: string) => {
      body[name] = value;
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => files.push({ field, name: info.filename ?? 'file', contentType: info.mimeType, data: Buffer.concat(chunks) }));
    });
    parser.on('error', reject);
    parser.on('close', () => resolve({ body, files }));
    req.pipe(parser);
  });
}
