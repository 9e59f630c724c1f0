/**
 * A client that half-closes its side of the connection once it has sent the request (a shutdown(WR)
 * after the body) still gets the answer: the endpoint's server and the supervisor's front alike.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { FrontDoor } from '../../../src/hosting/front-door';
import { SupervisorMetrics } from '../../../src/hosting/supervisor-metrics';
import { createLogger } from '../../../src/log';
import { startHarness } from '../../helpers/harness';
import { messageCreated } from '../../helpers/payloads';
import { nimchatSignature } from '../../helpers/signing';

/** Sends `request` raw, half-closes, and resolves with everything read until the server closes. */
function halfClosed(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The request first, the half-close a moment later: while the server works on the answer.
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request, () => setTimeout(() => socket.end(), 1)));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer in 5 s')));
  });
}

const body = '{"event": "message_created"';
const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

describe('a half-closed request is answered', () => {
  let close: () => Promise<void> = async () => undefined;
  afterAll(() => close());

  it('by the endpoint (a webhook and /healthz)', async () => {
    const h = await startHarness();
    close = () => h.close();
    const port = Number(new URL(h.app.url).port);
    // A well-formed, signed webhook: answered once it is stored, which takes a moment.
    const raw = JSON.stringify(messageCreated());
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signed = [
      'POST /api/nimchat HTTP/1.1',
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(raw)}`,
      'X-Chatwoot-Delivery: half-close-1',
      `X-Chatwoot-Timestamp: ${timestamp}`,
      `X-Chatwoot-Signature: ${nimchatSignature(h.secret, timestamp, raw)}`,
      '',
      raw,
    ].join('\r\n');
    expect(await halfClosed(port, signed)).toMatch(/^HTTP\/1\.1 200 /);
    expect(await halfClosed(port, post('/api/nimchat'))).toMatch(/^HTTP\/1\.1 (400|401) /);
    expect(await halfClosed(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 [\s\S]*"ok"/);
  });

  it('by the supervisor in front of a worker', async () => {
    const door = new FrontDoor({ holdMs: 2000, logger: createLogger({ level: 'silent' }), metrics: new SupervisorMetrics() });
    const worker = http.createServer((req, res) => req.resume().on('end', () => res.end('{"ok":true}')));
    await new Promise<void>((r) => worker.listen(0, '127.0.0.1', () => r()));
    door.serveAt((worker.address() as net.AddressInfo).port);
    const server = door.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const answer = await halfClosed((server.address() as net.AddressInfo).port, post('/api/nimchat'));
    door.close();
    server.close();
    worker.close();
    expect(answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*\{"ok":true\}/);
  });
});
