// Cost of the durable path per accepted webhook, SQLite against memory; 2,000 accepts with 32 in
// flight (group commit) with the main thread's blocking; the file size after 100,000 events with
// retention on. Run: npm run bench:store (builds first).
// Per event: inbox accept (dedupe keys + event row, one operation), then the turn as one unit of
// work: a state read, the state written and the event marked done, committed together.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { createStores } from '../dist/src/storage/create-stores.js';
import { silentLogger } from '../dist/src/log.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5000);
const TOTAL = Number(process.env.BENCH_EVENTS ?? 100_000);
const CONCURRENT = 2000;
const IN_FLIGHT = 32;

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p99: at(0.99) };
}

async function oneEvent(stores, i, payload) {
  const accepted = await stores.inbox.accept({ platform: 'bench', conversationId: `c${i % 200}`, dedupeKeys: [`bench:delivery:${i}`, `bench:message:${i}`], ttlMs: 24 * 3600_000, payload });
  const key = `conversation/bench/c${i % 200}`;
  const turn = stores.beginTurn();
  const item = (await turn.read([key]))[key] ?? {};
  await turn.write({ [key]: { ...item, turns: (item.turns ?? 0) + 1 } });
  if (!accepted.duplicate) turn.markInboxDone(accepted.id);
  await turn.commit();
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

/** Accepts with IN_FLIGHT webhooks at a time, each arriving in a macrotask of its own (as from a socket). */
async function concurrentAccepts(url) {
  const stores = createStores(url, silentLogger);
  const payload = { body: { event: 'message_created', content: 'x'.repeat(300) } };
  for (let i = 0; i < 200; i++) await stores.inbox.accept({ platform: 'bench', conversationId: 'w', dedupeKeys: [`warm:${i}`], ttlMs: 3600_000, payload });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const latencies = [];
  let next = 0;
  delay.enable();
  const busy = performance.eventLoopUtilization();
  const commitsBefore = stores.writer?.stats.commits ?? 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CONCURRENT) {
        const i = next++;
        const t = process.hrtime.bigint();
        await nextMacrotask();
        await stores.inbox.accept({ platform: 'bench', conversationId: `c${i % 200}`, dedupeKeys: [`d:${i}`, `m:${i}`], ttlMs: 3600_000, payload });
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
  const busyMs = performance.eventLoopUtilization(busy).active;
  delay.disable();
  const commits = (stores.writer?.stats.commits ?? 0) - commitsBefore;
  await stores.close();
  return { totalMs, busyMs, ...stats(latencies), loopP99: delay.percentile(99) / 1e6, loopMax: delay.max / 1e6, commits };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
const file = path.join(dir, 'handoff.sqlite');
const memory = await measure('memory:');
const sqlite = await measure(`sqlite:${file}`);
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir);
const concurrent = await concurrentAccepts(`sqlite:${path.join(dir, 'concurrent.sqlite')}`);
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
  if (i % 6000 === 5999) await stores.prune();
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const size = (f) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
const bytes = size(file) + size(`${file}-wal`);
await stores.close();
fs.rmSync(dir, { recursive: true, force: true });

const ms = (x) => `${x.toFixed(3)} ms`;
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(`durable path per accepted webhook (${SAMPLES} samples): memory median ${ms(memory.median)}, p99 ${ms(memory.p99)}; sqlite median ${ms(sqlite.median)}, p99 ${ms(sqlite.p99)}`);
console.log(
  `${CONCURRENT} accepts, ${IN_FLIGHT} in flight (sqlite): ${concurrent.totalMs.toFixed(0)} ms in all, ${concurrent.commits} transactions; ack median ${ms(concurrent.median)}, p99 ${ms(concurrent.p99)}; ` +
    `main thread busy ${concurrent.busyMs.toFixed(1)} ms; event-loop delay p99 ${ms(concurrent.loopP99)}, max ${ms(concurrent.loopMax)}`,
);
console.log(`${TOTAL} events with retention on (1 h, simulated 100 ms apart): file ${(bytes / 1024 / 1024).toFixed(2)} MiB (db + wal), ${(TOTAL / seconds).toFixed(0)} events/s`);
