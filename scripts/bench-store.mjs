// Cost of the durable path per accepted webhook, SQLite against memory, and the file size after
// 100,000 events with retention on. Run: npm run bench:store (builds first).
// Per event: inbox accept (dedupe keys + event row, one transaction), a state read and write
// (as a turn does), then the event marked done.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStores } from '../dist/src/storage/create-stores.js';
import { silentLogger } from '../dist/src/log.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5000);
const TOTAL = Number(process.env.BENCH_EVENTS ?? 100_000);

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p99: at(0.99) };
}

async function oneEvent(stores, i, payload) {
  const accepted = await stores.inbox.accept({ platform: 'bench', conversationId: `c${i % 200}`, dedupeKeys: [`bench:delivery:${i}`, `bench:message:${i}`], ttlMs: 24 * 3600_000, payload });
  const key = `conversation/bench/c${i % 200}`;
  const item = (await stores.storage.read([key]))[key] ?? {};
  await stores.storage.write({ [key]: { ...item, turns: (item.turns ?? 0) + 1 } });
  if (!accepted.duplicate) await stores.inbox.markDone(accepted.id);
}

async function measure(url) {
  const stores = createStores(url, silentLogger);
  const payload = { body: { event: 'message_created', content: 'x'.repeat(300) } };
  for (let i = 0; i < 500; i++) await oneEvent(stores, -1 - i, payload); // warm up
  const times = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = process.hrtime.bigint();
    await oneEvent(stores, i, payload);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await stores.close();
  return stats(times);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
const file = path.join(dir, 'handoff.sqlite');
const memory = await measure('memory:');
const sqlite = await measure(`sqlite:${file}`);
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir);

// 100,000 events, one every 100 ms of (simulated) time, retention 1 h for events, dedupe TTL 1 h,
// a retention pass every simulated 10 minutes as the app runs it (hourly by default).
let now = Date.now();
const clock = { now: () => now, sleep: async () => undefined, random: Math.random };
const stores = createStores(`sqlite:${file}`, silentLogger, { clock, retention: { eventsMs: 3600_000 } });
const payload = { body: { event: 'message_created', content: 'x'.repeat(300) } };
const started = process.hrtime.bigint();
for (let i = 0; i < TOTAL; i++) {
  const accepted = await stores.inbox.accept({ platform: 'bench', conversationId: `c${i % 500}`, dedupeKeys: [`d:${i}`], ttlMs: 3600_000, payload });
  if (!accepted.duplicate) await stores.inbox.markDone(accepted.id);
  now += 100;
  if (i % 6000 === 5999) stores.prune();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const size = (f) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
const bytes = size(file) + size(`${file}-wal`);
await stores.close();
fs.rmSync(dir, { recursive: true, force: true });

const ms = (x) => `${x.toFixed(3)} ms`;
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(`durable path per accepted webhook (${SAMPLES} samples): memory median ${ms(memory.median)}, p99 ${ms(memory.p99)}; sqlite median ${ms(sqlite.median)}, p99 ${ms(sqlite.p99)}`);
console.log(`${TOTAL} events with retention on (1 h, simulated 100 ms apart): file ${(bytes / 1024 / 1024).toFixed(2)} MiB (db + wal), ${(TOTAL / seconds).toFixed(0)} events/s`);
