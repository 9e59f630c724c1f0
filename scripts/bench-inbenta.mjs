// Ticket escalation and ticket-event intake against the sandbox Inbenta on loopback.
// Run: npm run bench:inbenta (builds first). STORAGE_URL picks the store (default: a temp SQLite file).
// 1. BENCH_TICKETS escalations at once (find/create user, external_id lookup, create with a
//    30-message history): wall time, latency median/p99, /v1/auth calls.
// 2. BENCH_EVENTS signed POST /api/inbenta deliveries (one `ticket` event each, for a ticket the bot
//    made), sequential: time to the 200 (ack) median/p99.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import axios from 'axios';
import { App } from '../dist/src/app.js';
import { loadConfig } from '../dist/src/load-config.js';
import { createLogger } from '../dist/src/log.js';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 200);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5).toFixed(1), p99: at(0.99).toFixed(1) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-inbenta-'));
const storageUrl = process.env.STORAGE_URL ?? `sqlite:${path.join(dir, 'state.sqlite')}`;
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', STORAGE_URL: storageUrl, LOG_LEVEL: 'silent' });
const app = new App(config, { logger: createLogger({ level: 'silent' }) });
await app.start();
const sandbox = app.inbentaSandbox;
const transcript = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? 'bot' : 'customer', text: `message ${i} with <some> text`, at: new Date().toISOString() }));

const latencies = [];
const started = performance.now();
const created = await Promise.all(
  Array.from({ length: TICKETS }, async (_, i) => {
    const t0 = performance.now();
    const ticket = await app.inbenta.desk.createTicket({
      escalationId: `bench-${i}`,
      reference: { channelId: 'nimchat', conversation: { id: `nimchat:1:1:${100000 + i}` } },
      customer: { email: `bench${i % 50}@example.com`, name: 'Bench' },
      title: `Bench ticket ${i}`,
      description: `Bench ticket ${i}`,
      transcript,
    });
    latencies.push(performance.now() - t0);
    return ticket;
  }),
);
const wall = performance.now() - started;
console.log(`escalations: ${TICKETS} at once in ${wall.toFixed(0)} ms; per escalation ${JSON.stringify(stats(latencies))} ms; /v1/auth calls: ${sandbox.stats.auth}; tickets: ${sandbox.tickets.length}`);

const ticketId = Number(created[0].ticketId);
const acks = [];
for (let i = 0; i < EVENTS; i++) {
  const body = JSON.stringify([{ id: ticketId, item: 'ticket', action: 'update', timestamp: 1_700_000_000 + i }]);
  const t0 = performance.now();
  const res = await axios.post(`${app.url}/api/inbenta`, body, { headers: { 'Content-Type': 'application/json', 'X-Hook-Signature': sandbox.webhookSecret }, validateStatus: () => true });
  acks.push(performance.now() - t0);
  if (res.status !== 200) throw new Error(`delivery ${i} answered ${res.status}`);
}
await app.queue.onIdle();
console.log(`ticket events: ${EVENTS} deliveries, ack ${JSON.stringify(stats(acks))} ms (store: ${app.stores.describe})`);
await app.stop();
fs.rmSync(dir, { recursive: true, force: true });
