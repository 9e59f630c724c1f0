/**
 * The supervisor's side of PORT, against stand-in workers over loopback: what it holds while no
 * worker listens, what it answers when none takes a request in time, what it passes again after a
 * worker died, and what it passes through untouched.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FrontDoor } from '../../../src/hosting/front-door';
import { SupervisorMetrics } from '../../../src/hosting/supervisor-metrics';
import { createLogger } from '../../../src/log';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return (server.address() as net.AddressInfo).port;
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stand-in worker: records each request and answers with `answer` (or does what it likes with the socket). */
async function worker(answer: (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void = (_req, res) => res.end('{"ok":true}')) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      answer(req, res, s);
    });
  });
  const port = await listen(server);
  return { port, seen, server };
}

async function front(holdMs = 300) {
  const metrics = new SupervisorMetrics();
  const door = new FrontDoor({ holdMs, logger: createLogger({ level: 'silent' }), metrics });
  door.setRoutes([
    { method: 'POST', path: '/api/nimchat', redeliverStatus: 500 },
    { method: 'POST', path: '/api/woztell', redeliverStatus: 503 },
  ]);
  const server = http.createServer(door.handle);
  const port = await listen(server);
  closers.push(async () => door.close());
  return { door, metrics, url: `http://127.0.0.1:${port}` };
}

async function call(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(url, { method: init.method ?? (init.body ? 'POST' : 'GET'), body: init.body, headers: init.headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('FrontDoor', () => {
  it('holds a webhook while no worker listens, then passes it on with its exact bytes and headers, and the client address of its own', async () => {
    const { door, url } = await front(5000);
    const w = await worker();
    const body = '{"event":"message_created", "id": 1}';
    const answer = call(`${url}/api/nimchat?token=abc`, { body, headers: { 'content-type': 'application/json', 'x-chatwoot-signature': 'sha256=00', 'x-handoff-client-address': '10.9.9.9' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(w.seen).toHaveLength(0);
    door.serveAt(w.port);
    expect((await answer).status).toBe(200);
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0]!.body).toBe(body);
    expect(w.seen[0]!.url).toBe('/api/nimchat?token=abc');
    expect(w.seen[0]!.headers['x-chatwoot-signature']).toBe('sha256=00');
    // The client's own claim is replaced by the address the supervisor saw.
    expect(w.seen[0]!.headers['x-handoff-client-address']).toBe('127.0.0.1');
  });

  it('answers what no worker took in time with the status the platform delivers again on (Nimchat 500, WOZTELL 503), anything else 503; health says alive, not ready', async () => {
    const { url, metrics } = await front(200);
    expect((await call(`${url}/api/nimchat`, { body: '{}' })).status).toBe(500);
    const woztell = await call(`${url}/api/woztell`, { body: '{}' });
    expect(woztell.status).toBe(503);
    expect(JSON.parse(woztell.text).error.code).toBe('worker_restarting');
    expect((await call(`${url}/console`)).status).toBe(503);
    expect((await call(`${url}/healthz`)).status).toBe(200);
    expect((await call(`${url}/readyz`)).status).toBe(503);
    expect(await metrics.text()).toMatch(/handoff_supervisor_answered_unavailable_total\{status="500"\} 1/);
  });

  it('passes a webhook again when its worker died before answering; the next worker answers it', async () => {
    const { door, url, metrics } = await front(5000);
    const dying = await worker((req) => req.socket.destroy());
    const next = await worker();
    door.serveAt(dying.port);
    const answer = call(`${url}/api/nimchat`, { body: '{"id":7}' });
    while (dying.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    door.hold();
    door.serveAt(next.port);
    expect((await answer).status).toBe(200);
    expect(next.seen.map((s) => s.body)).toEqual(['{"id":7}']);
    expect(await metrics.text()).toMatch(/handoff_supervisor_passed_again_total 1/);
  });

  it('a request the worker is still answering when it is being replaced gets that answer (a reload does not cut it)', async () => {
    const { door, url } = await front(5000);
    const slow = await worker((_req, res) => setTimeout(() => res.end('{"done":true}'), 300));
    door.serveAt(slow.port);
    const answer = call(`${url}/console/api/takeover`, { body: '{}' });
    while (slow.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    door.hold(); // a reload: the old worker drains, the next one is not there yet
    const got = await answer;
    expect(got.status).toBe(200);
    expect(got.text).toBe('{"done":true}');
  });

  it('does not repeat a request that is neither a webhook nor a GET when its worker died with it: 502', async () => {
    const { door, url } = await front(5000);
    const dying = await worker((req) => req.socket.destroy());
    door.serveAt(dying.port);
    const answer = await call(`${url}/console/api/takeover`, { body: '{}' });
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text).error.code).toBe('worker_unavailable');
    expect(dying.seen).toHaveLength(1);
  });

  it('answers a webhook the worker holds past the platform\'s patience with the redelivery status', async () => {
    const { door, url } = await front(200);
    const stuck = await worker(() => undefined);
    door.serveAt(stuck.port);
    expect((await call(`${url}/api/nimchat`, { body: '{}' })).status).toBe(500);
  });

  it('appends its own counters to the worker\'s /metrics', async () => {
    const { door, url } = await front();
    const w = await worker((_req, res) => res.end('worker_metric 1\n'));
    door.serveAt(w.port);
    const text = (await call(`${url}/metrics`)).text;
    expect(text).toMatch(/^worker_metric 1\n/);
    expect(text).toMatch(/handoff_supervisor_worker_starts_total/);
  });

  it('streams a long answer (Server-Sent Events) as it comes, and closes it when the page leaves', async () => {
    const { door, url } = await front();
    let left = false;
    const w = await worker((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: changed\ndata: 1\n\n');
      res.on('close', () => (left = true));
    });
    door.serveAt(w.port);
    const res = await fetch(`${url}/console/live`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('event: changed\ndata: 1\n\n');
    await reader.cancel();
    // The page left: the worker's stream is closed too (it stops pushing to nobody).
    for (let i = 0; i < 100 && !left; i++) await new Promise((r) => setTimeout(r, 20));
    expect(left).toBe(true);
  });

  it('refuses a body past its limit with 413', async () => {
    const metrics = new SupervisorMetrics();
    const door = new FrontDoor({ holdMs: 200, maxBodyBytes: 10, logger: createLogger({ level: 'silent' }), metrics });
    const port = await listen(http.createServer(door.handle));
    const answer = await call(`http://127.0.0.1:${port}/api/nimchat`, { body: 'x'.repeat(11) });
    expect(answer.status).toBe(413);
    door.close();
  });

  it('holds at most maxHeldBytes of requests while no worker listens: past it, the redelivery status at once; nothing stays counted', async () => {
    const metrics = new SupervisorMetrics();
    const door = new FrontDoor({ holdMs: 5000, maxHeldBytes: 1000, logger: createLogger({ level: 'silent' }), metrics });
    door.setRoutes([{ method: 'POST', path: '/api/nimchat', redeliverStatus: 500 }]);
    const port = await listen(door.createServer());
    const url = `http://127.0.0.1:${port}`;
    const first = call(`${url}/api/nimchat`, { body: 'a'.repeat(600) });
    while (door.held < 600) await new Promise((r) => setTimeout(r, 10));
    const second = await call(`${url}/api/nimchat`, { body: 'b'.repeat(600) });
    expect(second.status).toBe(500);
    expect(JSON.parse(second.text).error.code).toBe('front_full');
    const w = await worker();
    door.serveAt(w.port);
    expect((await first).status).toBe(200);
    expect(w.seen.map((x) => x.body.length)).toEqual([600]);
    expect(door.held).toBe(0);
    door.close();
  });

  it('once closed, answers what waits and what comes with the redelivery status at once', async () => {
    const { door, url } = await front(60_000);
    const waiting = call(`${url}/api/nimchat`, { body: '{}' });
    await new Promise((r) => setTimeout(r, 50));
    door.close();
    const answer = await waiting;
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.text).error.code).toBe('shutting_down');
    expect((await call(`${url}/api/woztell`, { body: '{}' })).status).toBe(503);
  });
});
