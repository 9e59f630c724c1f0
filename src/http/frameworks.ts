/**
 * One small function per web framework, for developers who serve the webhooks from their own server:
 * each turns the framework's request into a `WebhookInput` (the exact bytes received, for the
 * signature) and writes the `WebhookResult` back. The product itself never sees the framework.
 *
 *   restify:   server.post('/api/nimchat', restifyRoute(handoff.webhooks.nimchat));
 *   express:   app.post('/api/nimchat', expressRoute(handoff.webhooks.nimchat));   (before express.json())
 *   fastify:   fastify.register(fastifyRoute('/api/nimchat', handoff.webhooks.nimchat));
 *   node:http: http.createServer(nodeHttpRoute(handoff.webhooks.nimchat));
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerWebhook, errorBody, writeWebhookResult, type WebhookInput, type WebhookResult } from './webhook-io';

/** A platform's webhook endpoint, free of any server: what the framework functions wrap. */
export type WebhookHandler = (input: WebhookInput) => Promise<WebhookResult>;

type RawRequest = IncomingMessage & { rawBody?: Buffer | string; body?: unknown };

/** Reads the request (or the raw body a framework kept) and answers it with `handler`. */
async function answer(handler: WebhookHandler, req: RawRequest, res: ServerResponse): Promise<void> {
  if (Buffer.isBuffer(req.body) && req.rawBody === undefined) req.rawBody = req.body;
  if (req.rawBody === undefined && req.readableEnded) {
    // A body parser ran first and kept no bytes: the signature cannot be checked over a re-serialised body.
    writeWebhookResult(res, {
      status: 500,
      body: errorBody('raw_body_unavailable', 'the request body was consumed by a body parser before the webhook route; mount the route before it (or keep the raw bytes as req.rawBody)'),
    });
    return;
  }
  await answerWebhook(req, res, async (input) => {
    try {
      return await handler(input);
    } catch {
      return { status: 500, body: errorBody('internal_error', 'the request could not be processed') };
    }
  });
}

/** `node:http`: `http.createServer(nodeHttpRoute(handler))`, or called from a request listener. */
export function nodeHttpRoute(handler: WebhookHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => void answer(handler, req, res);
}

/** restify (10 and later take handlers of two arguments only when they are async). */
export function restifyRoute(handler: WebhookHandler): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => answer(handler, req, res);
}

/** express 4 and 5: mount it before `express.json()`, or after `express.raw({ type: '*\/*' })`. */
export function expressRoute(handler: WebhookHandler): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => void answer(handler, req, res).catch(next);
}

/** The part of fastify's instance the plugin uses (no dependency on fastify's types). */
interface FastifyLike {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(type: string, options: { parseAs: 'buffer' }, parser: (req: unknown, body: Buffer, done: (error: Error | null, body?: Buffer) => void) => void): void;
  route(options: {
    method: string | string[];
    url: string;
    handler: (request: { raw: IncomingMessage; body?: unknown }, reply: { hijack(): void; raw: ServerResponse }) => Promise<void>;
  }): void;
}

/**
 * fastify 4 and 5: a plugin serving `path` (POST, and GET for platforms that check the URL with it)
 * that keeps the body as bytes inside its own scope: `fastify.register(fastifyRoute('/api/nimchat', handler))`.
 */
export function fastifyRoute(path: string, handler: WebhookHandler, methods: string[] = ['POST']): (instance: FastifyLike) => Promise<void> {
  return async (instance) => {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    instance.route({
      method: methods,
      url: path,
      handler: async (request, reply) => {
        reply.hijack();
        const raw = request.raw as RawRequest;
        raw.rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        await answer(handler, raw, reply.raw);
      },
    });
  };
}
