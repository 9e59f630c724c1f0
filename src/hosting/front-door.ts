/**
 * The supervisor's side of PORT: every request is read whole, then passed to the worker's private
 * port and its answer streamed back. While no worker can take a request (one is starting, a reload
 * swaps them, one crashed) the request waits; past `holdMs` from its arrival a webhook is answered
 * with the status its platform delivers again on (Nimchat 500) and any other request with 503, so
 * nothing is refused and nothing runs into the platform's timeout. A webhook (or a GET) whose worker
 * died before answering is passed again to the next one: a webhook carries its platform's delivery
 * id, so the worker that already stored it answers "duplicate". Other requests are not repeated.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { errorBody, writeWebhookResult } from '../http/webhook-io';
import type { Logger } from '../log';
import { CLIENT_ADDRESS_HEADER, type WebhookRouteInfo } from './worker-protocol';
import type { SupervisorMetrics } from './supervisor-metrics';

export interface FrontDoorOptions {
  /** How long a request may wait for a worker (default 4 s: under Nimchat's 5 s timeout). */
  holdMs?: number;
  /** Bodies past this are refused with 413 here (the worker's own limits are smaller). */
  maxBodyBytes?: number;
  /** Request bytes held at once (read, waiting or being answered; default 64 MB): past it, the redelivery status. */
  maxHeldBytes?: number;
  logger: Logger;
  metrics: SupervisorMetrics;
}

interface Waiting {
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  client: string;
  /** The status it is answered with when no worker takes it in time; undefined: not a webhook. */
  redeliverStatus?: number;
  /** A webhook or a GET: safe to pass again when the worker died before answering. */
  repeatable: boolean;
  deadline?: NodeJS.Timeout;
  upstream?: http.ClientRequest;
  /** The worker's answer is being streamed back (nothing else may answer it). */
  answering: boolean;
  finished: boolean;
  sentTo: number;
}

// Hop-by-hop headers: they describe one connection, not the request.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

export class FrontDoor {
  private readonly holdMs: number;
  private readonly maxBodyBytes: number;
  private readonly maxHeldBytes: number;
  /** Bytes of the requests read and not answered yet (what a restart piles up). */
  private heldBytes = 0;
  private target?: { port: number; agent: http.Agent };
  private readonly waiting = new Set<Waiting>();
  private routes = new Map<string, number>();
  private closed = false;

  constructor(private readonly options: FrontDoorOptions) {
    this.holdMs = options.holdMs ?? 4000;
    this.maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    this.maxHeldBytes = options.maxHeldBytes ?? 64 * 1024 * 1024;
  }

  /** The HTTP server that listens on PORT with this in front. */
  createServer(): http.Server {
    const server = http.createServer(this.handle);
    // A client that half-closes after its request still gets the answer.
    (server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
    return server;
  }

  /** The worker's webhook routes and the status each platform delivers again on. */
  setRoutes(routes: WebhookRouteInfo[]): void {
    this.routes = new Map(routes.map((r) => [`${r.method} ${r.path}`, r.redeliverStatus]));
  }

  /** A worker listens on `port`: what waits goes to it, then every new request. */
  serveAt(port: number): void {
    if (this.closed) return;
    // A previous worker's agent is left alone: its requests finish (or fail) on their own, and its idle
    // sockets close with that worker.
    this.target = { port, agent: new http.Agent({ keepAlive: true, maxSockets: 256 }) };
    for (const w of this.waiting) if (!w.upstream && !w.answering) this.pass(w);
  }

  /** No worker takes requests now (one stops or died): new ones wait. */
  hold(): void {
    // Requests passed to the worker before are not touched (destroying its agent would cut them).
    this.target = undefined;
  }

  /** Stopping for good: what waits, and what comes, is answered at once with the redelivery status. */
  close(): void {
    this.closed = true;
    this.hold();
    for (const w of this.waiting) if (!w.upstream && !w.answering) this.answerUnavailable(w, 'shutting_down', 'the endpoint is stopping; deliver again');
  }

  /** Requests read and not answered yet. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Whether a worker takes requests now. */
  get serving(): boolean {
    return this.target !== undefined;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const pathname = url.split('?')[0]!;
    // Read now: a socket reset later has no address any more (and an empty one must not pass for loopback).
    const client = req.socket.remoteAddress ?? 'unknown';
    // The supervisor answers for itself while no worker does: alive, not ready.
    if (!this.target && req.method === 'GET' && pathname === '/healthz') return writeWebhookResult(res, { status: 200, body: { status: 'ok', worker: 'restarting' } });
    if (!this.target && req.method === 'GET' && pathname === '/readyz') return writeWebhookResult(res, { status: 503, body: { status: 'not ready', reason: this.closed ? 'shutting down' : 'the worker is restarting' } });

    // A tenant's webhook (`/t/<tenant>/api/<platform>`) is its platform's.
    const route = pathname.replace(/^\/t\/[^/]+(?=\/api\/)/, '');
    let redeliverStatus = this.routes.get(`${req.method} ${route}`);
    // Before the first worker said which routes are webhooks: the platforms' routes are under /api/.
    if (redeliverStatus === undefined && this.routes.size === 0 && route.startsWith('/api/')) redeliverStatus = 500;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBodyBytes) return this.refuseTooLarge(req, res);

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    let ended = false;
    const release = () => {
      this.heldBytes -= size;
      size = 0;
    };
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      this.heldBytes += chunk.length;
      if (size > this.maxBodyBytes) {
        refused = true;
        release();
        this.refuseTooLarge(req, res);
        return;
      }
      if (this.heldBytes > this.maxHeldBytes) {
        // Memory is the limit while a restart piles requests up: the platform delivers again later.
        refused = true;
        release();
        req.resume();
        if (!res.headersSent) writeWebhookResult(res, { status: redeliverStatus ?? 503, body: errorBody('front_full', 'too many requests are waiting for the worker; deliver again') });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined); // a client gone mid-body: nobody is left to answer
    req.on('close', () => {
      // Gone before its body ended: its bytes are held no more.
      if (!ended && !refused) release();
    });
    req.on('end', () => {
      ended = true;
      if (refused) return;
      const w: Waiting = {
        req,
        res,
        body: Buffer.concat(chunks),
        client,
        redeliverStatus,
        repeatable: redeliverStatus !== undefined || req.method === 'GET' || req.method === 'HEAD',
        answering: false,
        finished: false,
        sentTo: 0,
      };
      this.waiting.add(w);
      res.on('close', () => this.forget(w));
      if (this.closed) return this.answerUnavailable(w, 'shutting_down', 'the endpoint is stopping; deliver again');
      // A webhook must be answered before its platform gives up, whoever holds it meanwhile.
      if (redeliverStatus !== undefined || !this.target) w.deadline = setTimeout(() => this.expire(w), this.holdMs);
      if (this.target) this.pass(w);
    });
  };

  private pass(w: Waiting): void {
    const target = this.target;
    if (!target || w.finished) return;
    w.sentTo++;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(w.req.headers)) if (!HOP_BY_HOP.has(name) && name !== CLIENT_ADDRESS_HEADER && value !== undefined) headers[name] = value;
    headers['content-length'] = w.body.length;
    headers[CLIENT_ADDRESS_HEADER] = w.client;
    const upstream = http.request({ host: '127.0.0.1', port: target.port, method: w.req.method, path: w.req.url, headers, agent: target.agent });
    w.upstream = upstream;
    // Only a webhook keeps its deadline once passed on (its platform's patience); anything else waits for its answer.
    if (w.redeliverStatus === undefined && w.deadline) {
      clearTimeout(w.deadline);
      w.deadline = undefined;
    }
    upstream.on('response', (answer) => {
      if (w.finished || w.res.headersSent) {
        answer.resume();
        return;
      }
      w.answering = true;
      if (w.deadline) clearTimeout(w.deadline);
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
      if (w.req.method === 'GET' && w.req.url?.split('?')[0] === '/metrics' && answer.statusCode === 200) return this.answerMetrics(w, answer, out);
      w.res.writeHead(answer.statusCode ?? 502, out);
      // Server-Sent Events and other long answers stream through as they come; a half-closed
      // client of a stream has left (a half-closed webhook client is still answered).
      w.res.flushHeaders();
      if (String(answer.headers['content-type'] ?? '').startsWith('text/event-stream')) w.req.socket.once('end', () => w.res.destroy());
      answer.pipe(w.res);
      answer.on('error', () => w.res.destroy());
      answer.on('aborted', () => w.res.destroy());
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (w.upstream === upstream) w.upstream = undefined;
      if (w.finished) return;
      if (w.answering) {
        w.res.destroy();
        return;
      }
      // A kept-alive socket the worker closed just as it was reused: the request never reached it.
      const neverReached = error.code === 'ECONNREFUSED' || ((upstream as { reusedSocket?: boolean }).reusedSocket === true && error.code === 'ECONNRESET');
      if (!neverReached && !w.repeatable) return this.answerUnavailable(w, 'worker_unavailable', 'the worker stopped before it answered; the request may or may not have been carried out');
      this.options.metrics.passedAgain.inc();
      this.options.logger.debug('passing a request again: the worker did not answer it', { path: w.req.url, code: error.code });
      // The worker is gone or going: the next one (or this one, if it was a socket's hiccup) takes it.
      if (!w.deadline) w.deadline = setTimeout(() => this.expire(w), this.holdMs);
      setTimeout(() => {
        if (!w.finished && !w.upstream && !w.answering) this.pass(w);
      }, 50).unref();
    });
    upstream.end(w.body);
  }

  /** The worker's metrics with the supervisor's after them (one scrape shows both). */
  private answerMetrics(w: Waiting, answer: IncomingMessage, headers: http.OutgoingHttpHeaders): void {
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.on('error', () => w.res.destroy());
    answer.on('end', () => {
      const send = (own: string) => {
        const body = Buffer.concat([...chunks, Buffer.from(own)]);
        if (w.res.headersSent || w.finished) return;
        w.res.writeHead(200, { ...headers, 'content-length': body.length });
        w.res.end(body);
      };
      this.options.metrics.text().then(send, () => send(''));
    });
  }

  /** No worker answered in time. */
  private expire(w: Waiting): void {
    if (w.finished || w.answering) return;
    w.upstream?.destroy();
    w.upstream = undefined;
    this.options.metrics.answeredForWorker.inc({ status: String(w.redeliverStatus ?? 503) });
    this.answerUnavailable(w, 'worker_restarting', 'no worker took the request in time (it is restarting); deliver again');
  }

  private answerUnavailable(w: Waiting, code: 'worker_restarting' | 'shutting_down' | 'worker_unavailable', message: string): void {
    const status = code === 'worker_unavailable' ? 502 : (w.redeliverStatus ?? 503);
    if (!w.res.headersSent) writeWebhookResult(w.res, { status, body: errorBody(code, message) });
    this.forget(w);
  }

  private refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (!res.headersSent) writeWebhookResult(res, { status: 413, body: errorBody('payload_too_large', `the body is larger than ${this.maxBodyBytes} bytes`) });
  }

  /** Request bytes held now. */
  get held(): number {
    return this.heldBytes;
  }

  private forget(w: Waiting): void {
    if (w.finished) return;
    w.finished = true;
    this.heldBytes -= w.body.length;
    if (w.deadline) clearTimeout(w.deadline);
    // The client went away before the worker answered: the worker need not go on writing to nobody.
    if (!w.res.writableFinished) w.upstream?.destroy();
    this.waiting.delete(w);
  }
}
