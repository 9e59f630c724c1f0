/**
 * The emulations' webhook delivery: side by side by default (the platforms promise no order), and, when
 * a test asks for it, one key's deliveries one after another in order while other keys go on.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliverer } from '../../../src/sandbox/webhook-delivery';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A receiver that answers each delivery after `delayOf(body)` ms and records when each arrived and ended. */
async function receiver(delayOf: (body: string) => number) {
  const log: string[] = [];
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      log.push(`start ${body}`);
      setTimeout(() => {
        log.push(`end ${body}`);
        res.end('{}');
      }, delayOf(body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, log };
}

const deliverer = () => new WebhookDeliverer({ timeoutMs: 2000, attempts: 1, retryDelayMs: 10, concurrency: 4, now: () => Date.now() });
const job = (url: string, body: string, orderKey?: string) => ({ url, event: 'e', body, headers: () => ({}), retryOn: () => false, orderKey });

describe('WebhookDeliverer', () => {
  it('delivers one key in order, one at a time, while other keys go side by side', async () => {
    const { url, log } = await receiver((body) => (body === 'a1' ? 150 : 10));
    const d = deliverer();
    d.deliver(job(url, 'a1', 'a'));
    d.deliver(job(url, 'a2', 'a'));
    d.deliver(job(url, 'b1', 'b'));
    await d.idle();
    // a2 starts only once a1 ended; b1 did not wait for a1.
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('without keys, a slow delivery does not hold the next one back (no order)', async () => {
    const { url, log } = await receiver((body) => (body === 'x1' ? 150 : 10));
    const d = deliverer();
    d.deliver(job(url, 'x1'));
    d.deliver(job(url, 'x2'));
    await d.idle();
    expect(log.indexOf('end x2')).toBeLessThan(log.indexOf('end x1'));
  });
});
