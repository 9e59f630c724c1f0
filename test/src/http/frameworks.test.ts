/**
 * The one-line routes for a developer's own web server: each framework's request reaches the same
 * handler with the exact bytes sent (so a signature over them holds), and the handler's answer goes
 * back as it is. express with a JSON body parser in front cannot give the bytes: a clear error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import express from 'express';
import Fastify from 'fastify';
import restify from 'restify';
import { expressRoute, fastifyRoute, nodeHttpRoute, restifyRoute, type WebhookHandler } from '../../../src/http/frameworks';
import type { WebhookInput } from '../../../src/http/webhook-io';

// Not ASCII, not canonical JSON: a re-serialised body would differ from it.
const BODY = '{"content":"Grüße  👋","n":1.50}';

function recordingHandler(): { handler: WebhookHandler; seen: WebhookInput[] } {
  const seen: WebhookInput[] = [];
  return {
    seen,
    handler: async (input) => {
      seen.push(input);
      return { status: 202, body: { ok: true, bytes: input.rawBody.length }, headers: { 'X-Handled': 'yes' } };
    },
  };
}

async function post(url: string, body = BODY, type = 'application/json'): Promise<{ status: number; json: any; handled: string | null }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': type, 'X-Sig': 'abc' }, body });
  return { status: res.status, json: await res.json(), handled: res.headers.get('x-handled') };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function expectExactInput(seen: WebhookInput[]): void {
  expect(seen).toHaveLength(1);
  expect(seen[0]!.rawBody.toString('utf8')).toBe(BODY);
  expect(seen[0]!.headers['x-sig']).toBe('abc');
  expect(seen[0]!.query.get('token')).toBe('t1');
}

describe('routes for your own web server', () => {
  it('node:http', async () => {
    const { handler, seen } = recordingHandler();
    const server = http.createServer(nodeHttpRoute(handler));
    const url = await listen(server);
    closers.push(() => new Promise((r) => server.close(() => r())));
    const res = await post(`${url}/api/nimchat?token=t1`);
    expect(res).toEqual({ status: 202, json: { ok: true, bytes: Buffer.byteLength(BODY) }, handled: 'yes' });
    expectExactInput(seen);
  });

  it('restify 12 (an async handler of two arguments, as restify 10+ demands)', async () => {
    const { handler, seen } = recordingHandler();
    const server = restify.createServer();
    server.post('/api/nimchat', restifyRoute(handler));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const res = await post(`${server.url.replace('[::]', '127.0.0.1')}/api/nimchat?token=t1`);
    expect(res.status).toBe(202);
    expect(res.handled).toBe('yes');
    expectExactInput(seen);
  });

  it('express, mounted before express.json(); with the parser first, a clear 500 and no call', async () => {
    const { handler, seen } = recordingHandler();
    const app = express();
    app.post('/api/nimchat', expressRoute(handler));
    app.use(express.json());
    app.post('/parsed-first', expressRoute(handler));
    const url = await listen(http.createServer(app));
    const res = await post(`${url}/api/nimchat?token=t1`);
    expect(res.status).toBe(202);
    expectExactInput(seen);
    const parsed = await post(`${url}/parsed-first?token=t1`);
    expect(parsed.status).toBe(500);
    expect(parsed.json.error.code).toBe('raw_body_unavailable');
    expect(seen).toHaveLength(1);
  });

  it('express after express.raw(): the kept bytes are used', async () => {
    const { handler, seen } = recordingHandler();
    const app = express();
    app.use(express.raw({ type: '*/*' }));
    app.post('/api/nimchat', expressRoute(handler));
    const url = await listen(http.createServer(app));
    expect((await post(`${url}/api/nimchat?token=t1`)).status).toBe(202);
    expectExactInput(seen);
  });

  it('fastify: a plugin that keeps the bytes in its own scope (the app keeps parsing JSON elsewhere)', async () => {
    const { handler, seen } = recordingHandler();
    const app = Fastify();
    await app.register(fastifyRoute('/api/nimchat', handler));
    app.post('/elsewhere', async (request) => ({ parsed: request.body }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const res = await post(`${url}/api/nimchat?token=t1`);
    expect(res.status).toBe(202);
    expect(res.handled).toBe('yes');
    expectExactInput(seen);
    expect((await post(`${url}/elsewhere`)).json).toEqual({ parsed: { content: 'Grüße  👋', n: 1.5 } });
  });

  it('a handler that throws answers 500 with a JSON error, on every framework', async () => {
    const failing: WebhookHandler = async () => {
      throw new Error('boom');
    };
    const server = http.createServer(nodeHttpRoute(failing));
    const url = await listen(server);
    closers.push(() => new Promise((r) => server.close(() => r())));
    const res = await post(`${url}/x?token=t1`);
    expect(res.status).toBe(500);
    expect(res.json.error.code).toBe('internal_error');
  });
});
