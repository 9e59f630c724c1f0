import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sinon from 'sinon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlatformHttpClient } from '../../../src/http/platform-http-client';
import { backoffDelay, parseRetryAfter, DEFAULT_RETRY } from '../../../src/http/retry-policy';
import { PlatformApiError, PlatformNetworkError } from '../../../src/errors';

type Reply = { status: number; body?: unknown; headers?: Record<string, string>; hang?: boolean };

describe('PlatformHttpClient over loopback', () => {
  let server: http.Server;
  let base: string;
  let replies: Reply[];
  let seen: Array<{ method: string; url: string; token?: string }>;

  beforeEach(async () => {
    replies = [];
    seen = [];
    server = http.createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, token: req.headers['api_access_token'] as string });
      const r = replies.shift() ?? { status: 200, body: { ok: true } };
      if (r.hang) return; // never answers: the client's timeout must fire
      res.writeHead(r.status, { 'Content-Type': 'application/json', ...r.headers });
      res.end(JSON.stringify(r.body ?? {}));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function client(extra: Partial<ConstructorParameters<typeof PlatformHttpClient>[0]> = {}) {
    const sleep = sinon.stub().resolves();
    const clock = { now: () => Date.now(), sleep, random: sinon.stub().returns(0.5) };
    const c = new PlatformHttpClient({ platform: 'nimchat', baseUrl: base, headers: { api_access_token: 'tok-secret-1' }, clock, timeoutMs: 500, ...extra });
    return { c, sleep };
  }

  it('retries a 429 after the Retry-After seconds it was given', async () => {
    replies.push({ status: 429, headers: { 'Retry-After': '7' } }, { status: 200, body: { id: 5 } });
    const { c, sleep } = client();
    const res = await c.request<{ id: number }>({ method: 'POST', path: '/messages', data: { a: 1 } });
    expect(res.data.id).toBe(5);
    expect(seen).toHaveLength(2);
    expect(sleep.calledOnceWithExactly(7000)).toBe(true);
  });

  it('honours an HTTP-date Retry-After', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('2.5', now)).toBe(2500);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('backs off exponentially with jitter on 5xx and gives up after maxAttempts with the platform message', async () => {
    replies.push({ status: 503 }, { status: 502 }, { status: 500, body: { error: 'db down' } });
    const { c, sleep } = client({ retry: { maxAttempts: 3, baseDelayMs: 100 } });
    const error = await c.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformApiError);
    expect((error as PlatformApiError).status).toBe(500);
    expect((error as PlatformApiError).platformMessage).toBe('db down');
    expect(sleep.args.map((a) => a[0])).toEqual([75, 150]); // half fixed + half jitter (random 0.5)
  });

  it('does not retry a 422 and keeps the platform message, never the token', async () => {
    replies.push({ status: 422, body: { error: 'Too many messages' } });
    const { c, sleep } = client();
    const error = (await c.request({ method: 'POST', path: '/m' }).catch((e: unknown) => e)) as PlatformApiError;
    expect(error).toBeInstanceOf(PlatformApiError);
    expect(error.code).toBe('nimchat_api_error');
    expect(error.message).toContain('Too many messages');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('tok-secret-1');
    expect(sleep.called).toBe(false);
    expect(seen[0]!.token).toBe('tok-secret-1');
  });

  it('stops retrying when Retry-After would exceed the total retry budget', async () => {
    replies.push({ status: 429, headers: { 'Retry-After': '120' } });
    const { c, sleep } = client({ retry: { maxTotalMs: 30_000 } });
    const error = (await c.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as PlatformApiError;
    expect(error.code).toBe('nimchat_rate_limited');
    expect(sleep.called).toBe(false);
  });

  it('times out a call that never answers and retries it as a network error', async () => {
    replies.push({ status: 0, hang: true }, { status: 200, body: { ok: 1 } });
    const { c, sleep } = client({ timeoutMs: 100 });
    const res = await c.request({ method: 'GET', path: '/slow' });
    expect(res.status).toBe(200);
    expect(sleep.calledOnce).toBe(true);
  });

  it('sends JSON with the default headers and query parameters, reads JSON or text answers, and refuses an answer over the size limit', async () => {
    const { c } = client({ retry: { maxAttempts: 1 } });
    const posted: unknown[] = [];
    server.removeAllListeners('request');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, token: req.headers['api_access_token'] as string });
        posted.push({ type: req.headers['content-type'], body: Buffer.concat(chunks).toString() });
        if (req.url!.startsWith('/text')) res.end('plain words');
        else if (req.url!.startsWith('/big')) res.end(JSON.stringify({ pad: 'x'.repeat(5000) }));
        else res.end(JSON.stringify({ echoed: true }));
      });
    });
    const json = await c.request({ method: 'POST', path: '/messages', data: { content: 'hé' }, params: { page: 2, skip: undefined, q: 'a b' } });
    expect(json.data).toEqual({ echoed: true });
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/messages?page=2&q=a+b', token: 'tok-secret-1' });
    expect(posted.at(-1)).toEqual({ type: 'application/json', body: '{"content":"hé"}' });
    expect((await c.request({ method: 'GET', path: '/text' })).data).toBe('plain words');
    const error = (await c.request({ method: 'GET', path: '/big', maxContentLength: 1000 }).catch((e: unknown) => e)) as PlatformNetworkError;
    expect(error).toBeInstanceOf(PlatformNetworkError);
    expect(error.reason).toBe('the answer is larger than the size limit');
  });

  it('reports a refused connection as a typed network error', async () => {
    const { c } = client({ baseUrl: 'http://127.0.0.1:9', retry: { maxAttempts: 2 } });
    const error = (await c.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as PlatformNetworkError;
    expect(error).toBeInstanceOf(PlatformNetworkError);
    expect(error.code).toBe('nimchat_network_error');
    expect(error.reason).toBe('ECONNREFUSED');
  });

  it('backoff grows and is capped', () => {
    expect(backoffDelay(1, DEFAULT_RETRY, 0)).toBe(150);
    expect(backoffDelay(2, DEFAULT_RETRY, 0.999)).toBeLessThanOrEqual(600);
    expect(backoffDelay(20, DEFAULT_RETRY, 1)).toBe(10_000);
  });
});
