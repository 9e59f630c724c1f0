/**
 * The standard variables turn tracing on: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the app exports its
 * spans with the OTLP/HTTP exporter to that endpoint (here a collector on loopback), and at its stop
 * sends what is still buffered. Without it nothing is registered.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';

let h: Harness | undefined;
const saved = { ...process.env };
afterEach(async () => {
  await h?.close();
  h = undefined;
  process.env = { ...saved };
});

async function startCollector() {
  const requests: Array<{ path: string; contentType: string; body: Buffer }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('OTLP export', () => {
  it('OTEL_EXPORTER_OTLP_ENDPOINT set: the spans reach the collector, the last ones at the stop; no secret in what is sent', async () => {
    const collector = await startCollector();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
    process.env.OTEL_SERVICE_NAME = 'support-bot-under-test';
    try {
      h = await startHarness();
      const c = await h.customer('Ada');
      await c.say('hello');
      await h.settle();
      const secrets = [h.secret, h.botToken];
      await h.close();
      h = undefined;
      const traces = collector.requests.filter((r) => r.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      const sent = Buffer.concat(traces.map((r) => r.body)).toString('latin1');
      expect(sent).toContain('nimchat webhook');
      expect(sent).toContain('nimchat turn');
      expect(sent).toContain('support-bot-under-test');
      for (const secret of secrets) expect(sent).not.toContain(secret);
      // Stopped: the global provider is given back.
      expect(trace.getTracer('x').startSpan('after').isRecording()).toBe(false);
    } finally {
      await collector.close();
    }
  });

  it('without the variables nothing is registered: spans are the no-op', async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    h = await startHarness();
    expect(trace.getTracer('x').startSpan('probe').isRecording()).toBe(false);
  });
});
