// npm run bench: four servers side by side, each in its own child process, against one load generator
// and one fake platform (this process). See docs/performance.md.
//
//   npm run bench                      default sizes (a few minutes)
//   npm run bench -- --quick           small sizes, a smoke run
//   npm run bench -- --memory          also the memory phase (100,000 webhooks per server: slow)
//   npm run bench -- --servers=bare,project-memory --closed=5000 --rate=300
//   npm run bench -- --servers=project-memory --profile=/tmp/prof   CPU profiles of the servers (.cpuprofile)
//   npm run bench -- --servers=cloudadapter,project-sqlite,project-sqlite-menubot   the project's path with the peer's plain bot
// Every size is also an environment variable: --closed=5000 is BENCH_CLOSED=5000, and so on.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakePlatform } from './fake-platform.mjs';
import { Tracker, closedLoop, createTarget, openLoop } from './load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

// ------------------------------------------------------------------ options

const DEFAULTS = {
  warmup: 3000, // webhooks before the closed loop, not counted (300 left every server, and the generator, 25-50% off its steady CPU/webhook)
  closed: 3000, // closed-loop webhooks
  conversations: 300, // conversations of the warm-up, closed and open loops
  inflight: 32, // closed-loop webhooks in flight (until both the 2xx and the reply arrived)
  rate: 200, // open loop, webhooks/s
  duration: 10, // open loop, seconds
  stragglers: 5, // open loop, seconds to wait for the last replies before counting the missing ones
  memory: false, // memory phase on or off
  memoryWebhooks: 100_000,
  memoryConversations: 10_000,
  servers: 'bare,cloudadapter,project-memory,project-sqlite',
  profile: '', // a directory: servers run with --cpu-prof and write their profiles there (figures then include the profiler)
};
const QUICK = { warmup: 300, closed: 600, conversations: 100, rate: 100, duration: 3, stragglers: 3, memoryWebhooks: 10_000, memoryConversations: 1000 };

function readOptions(argv, env) {
  const options = { ...DEFAULTS };
  const flags = new Map();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg} (expected --name or --name=value)`);
    flags.set(m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase()), m[2] ?? 'true');
  }
  const quick = flags.get('quick') === 'true' || /^(1|true|yes)$/i.test(env.BENCH_QUICK ?? '');
  if (quick) Object.assign(options, QUICK);
  flags.delete('quick');
  for (const key of Object.keys(DEFAULTS)) {
    const envName = `BENCH_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    const raw = flags.has(key) ? flags.get(key) : env[envName];
    flags.delete(key);
    if (raw === undefined || raw === '') continue;
    if (typeof DEFAULTS[key] === 'boolean') options[key] = /^(1|true|yes)$/i.test(raw);
    else if (typeof DEFAULTS[key] === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${key} must be a positive number`);
      options[key] = n;
    } else options[key] = raw;
  }
  if (flags.size > 0) throw new Error(`unknown option(s): ${[...flags.keys()].join(', ')}`);
  options.quick = quick;
  return options;
}

const options = readOptions(process.argv.slice(2), process.env);

// ------------------------------------------------------------------ the servers

const SECRET = 'bench-webhook-secret-0123456789';
const TOKEN = 'bench-bot-token-0123456789';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-bench-'));
const sqliteFile = path.join(tmp, 'bench.sqlite');
const menuSqliteFile = path.join(tmp, 'bench-menubot.sqlite');

function projectEnv(platformUrl, storageUrl) {
  return {
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    STORAGE_URL: storageUrl,
    NIMCHAT_BASE_URL: platformUrl,
    NIMCHAT_BOT_TOKEN: TOKEN,
    NIMCHAT_WEBHOOK_SECRET: SECRET,
  };
}

const SERVERS = {
  bare: { script: 'servers/bare.mjs', kind: 'nimchat', env: (p) => ({ NIMCHAT_BASE_URL: p, NIMCHAT_BOT_TOKEN: TOKEN, NIMCHAT_WEBHOOK_SECRET: SECRET }) },
  cloudadapter: { script: 'servers/cloudadapter.mjs', kind: 'connector', env: () => ({}) },
  'project-memory': { script: 'servers/project.mjs', kind: 'nimchat', env: (p) => projectEnv(p, 'memory:'), project: true },
  'project-sqlite': { script: 'servers/project.mjs', kind: 'nimchat', env: (p) => projectEnv(p, `sqlite:${sqliteFile}`), project: true, file: sqliteFile },
  // Not in the default set: the project's path hosting the peer's plain menu bot (no dialogs, no bot state).
  'project-sqlite-menubot': { script: 'servers/project.mjs', kind: 'nimchat', env: (p) => ({ ...projectEnv(p, `sqlite:${menuSqliteFile}`), BENCH_BOT: 'menu' }), project: true, file: menuSqliteFile },
};

const chosen = options.servers.split(',').map((s) => s.trim()).filter(Boolean);
for (const name of chosen) if (!SERVERS[name]) throw new Error(`unknown server ${name} (known: ${Object.keys(SERVERS).join(', ')})`);
if (chosen.some((n) => SERVERS[n].project) && !fs.existsSync(path.join(root, 'dist/src/app.js'))) {
  throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
}

class Child {
  constructor(name, spec, platformUrl) {
    this.name = name;
    this.output = [];
    this.seq = 0;
    this.waiters = new Map();
    this.proc = fork(path.join(here, spec.script), [], {
      cwd: root,
      execArgv: ['--expose-gc', ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profile)}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [])],
      env: { ...process.env, ...spec.env(platformUrl) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      stream.setEncoding('utf8');
      let rest = '';
      stream.on('data', (chunk) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop();
        for (const line of lines) if (line.trim()) this.output.push(line);
      });
    }
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start in 30 s:\n${this.output.join('\n')}`)), 30_000);
      this.exited.then(({ code }) => reject(new Error(`${name} exited (${code}) before listening:\n${this.output.join('\n')}`)));
      this.proc.on('message', (message) => {
        if (message?.ready) {
          clearTimeout(timer);
          this.url = message.url;
          resolve();
        } else if (message?.id !== undefined) {
          this.waiters.get(message.id)?.(message);
          this.waiters.delete(message.id);
        }
      });
    });
  }

  ask(cmd, extra = {}) {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no answer to ${cmd}`)), 60_000);
      this.waiters.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.proc.send({ id, cmd, ...extra });
    });
  }

  /** CPU time so far (µs, user + system) and memory, after a full GC when `gc`. */
  async stats(gc = false) {
    const m = await this.ask('stats', { gc });
    return { cpuUs: m.cpu.user + m.cpu.system, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  }

  async stop() {
    const stopped = this.ask('stop').catch(() => undefined);
    const result = await Promise.race([this.exited, sleep(15_000).then(() => undefined)]);
    await stopped;
    if (!result) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

// ------------------------------------------------------------------ numbers

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const sortNum = (values) => Float64Array.from(values).sort();
const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : '–');
const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const mib = (bytes) => (Number.isFinite(bytes) ? (bytes / 1048576).toFixed(1) : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

function table(title, head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

const progress = (text) => process.stderr.write(`[bench] ${text}\n`);

// ------------------------------------------------------------------ phases

const tracker = new Tracker();
const platform = await startFakePlatform((key, valid) => tracker.onReply(key, valid));
const results = {};

async function measuredClosedLoop(child, target, sizes) {
  const before = await child.stats(false);
  const genBefore = process.cpuUsage();
  const run = await closedLoop(target, sizes);
  const genCpu = process.cpuUsage(genBefore);
  const after = await child.stats(false);
  const ok = run.records.filter((r) => !r.lost && r.status >= 200 && r.status < 300 && r.replyAt !== undefined);
  const acks = sortNum(run.records.filter((r) => r.ackAt !== undefined).map((r) => r.ackAt - r.sentAt));
  const replies = sortNum(ok.map((r) => r.replyAt - r.sentAt));
  return {
    webhooks: run.records.length,
    failed: run.records.length - ok.length,
    repliesPerS: (ok.length / run.elapsedMs) * 1000,
    cpuPerWebhookUs: (after.cpuUs - before.cpuUs) / run.records.length,
    serverCpuPct: ((after.cpuUs - before.cpuUs) / 1000 / run.elapsedMs) * 100,
    genCpuPerWebhookUs: (genCpu.user + genCpu.system) / run.records.length,
    ackP50: percentile(acks, 0.5),
    ackP99: percentile(acks, 0.99),
    replyP50: percentile(replies, 0.5),
    replyP99: percentile(replies, 0.99),
    elapsedMs: run.elapsedMs,
  };
}

async function benchServer(name) {
  const spec = SERVERS[name];
  progress(`${name}: starting`);
  const child = new Child(name, spec, platform.url);
  await child.ready;
  const result = { name, otherCalls: {} };
  results[name] = result;
  try {
    const target = createTarget({ kind: spec.kind, url: child.url, secret: SECRET, platformUrl: platform.url, tracker });
    result.start = await child.stats(true);
    const convs = { conversations: options.conversations, firstConv: 1 };

    progress(`${name}: warm-up, ${options.warmup} webhooks`);
    const warm = await closedLoop(target, { total: options.warmup, inFlight: options.inflight, ...convs });
    result.warmupFailed = warm.records.filter((r) => r.lost || !(r.status >= 200 && r.status < 300) || r.replyAt === undefined).length;
    await sleep(500);

    progress(`${name}: closed loop, ${options.closed} webhooks, ${options.inflight} in flight`);
    result.closed = await measuredClosedLoop(child, target, { total: options.closed, inFlight: options.inflight, ...convs });
    await sleep(500);

    progress(`${name}: open loop, ${options.rate}/s for ${options.duration} s`);
    const cpuBefore = await child.stats(false);
    const open = await openLoop(target, { rate: options.rate, durationS: options.duration, stragglerMs: options.stragglers * 1000, ...convs });
    const cpuAfter = await child.stats(false);
    const records = open.records;
    const acked = records.filter((r) => r.ackAt !== undefined && r.ackAt <= open.deadline);
    const acks = sortNum(acked.map((r) => r.ackAt - r.sentAt));
    const repliedInTime = records.filter((r) => r.replyAt !== undefined && r.replyAt <= open.deadline);
    const replyLatencies = sortNum(repliedInTime.map((r) => r.replyAt - r.sentAt));
    result.open = {
      sent: open.total,
      acked2xx: acked.filter((r) => r.status >= 200 && r.status < 300).length,
      ackP50: percentile(acks, 0.5),
      ackP99: percentile(acks, 0.99),
      ackMax: acks.length ? acks[acks.length - 1] : NaN,
      replyP50: percentile(replyLatencies, 0.5),
      replyP99: percentile(replyLatencies, 0.99),
      // The missing ones count against the p99: a webhook without a reply is slower than any that has one.
      replyP99All: repliedInTime.length < records.length * 0.99 ? Infinity : percentile(replyLatencies, 0.99),
      missing: records.length - repliedInTime.length,
      cpuPerWebhookUs: (cpuAfter.cpuUs - cpuBefore.cpuUs) / open.total,
      maxLagMs: open.maxLagMs,
    };
    // Let the late ones finish (or time out) before the next phase, and say how late they were.
    const lateStart = performance.now();
    await open.all;
    open.agent.destroy();
    const late = records.filter((r) => r.replyAt !== undefined && r.replyAt > open.deadline);
    result.open.late = late.length;
    result.open.lateLastMs = late.length ? Math.max(...late.map((r) => r.replyAt)) - open.deadline : 0;
    result.open.never = records.filter((r) => r.replyAt === undefined).length;
    if (result.open.never > 0) progress(`${name}: ${result.open.never} open-loop webhooks got no reply within 30 s (waited ${ms(performance.now() - lateStart)} ms)`);
    await sleep(500);

    if (options.memory) {
      progress(`${name}: memory, ${options.memoryWebhooks} webhooks over ${options.memoryConversations} conversations`);
      const before = await child.stats(true);
      const run = await measuredClosedLoop(child, target, {
        total: options.memoryWebhooks,
        inFlight: options.inflight,
        conversations: options.memoryConversations,
        firstConv: 100_001,
        onProgress: (n) => progress(`${name}: memory, ${n} done`),
      });
      await sleep(500);
      const after = await child.stats(true);
      let fileBytes;
      if (spec.file) fileBytes = ['', '-wal', '-shm'].reduce((sum, s) => sum + (fs.existsSync(spec.file + s) ? fs.statSync(spec.file + s).size : 0), 0);
      result.memory = { ...run, before, after, fileBytes };
    }
    result.end = await child.stats(true);
  } finally {
    result.otherCalls = platform.takeOtherCalls();
    result.counters = tracker.takeCounters();
    progress(`${name}: stopping`);
    await child.stop();
    result.output = child.output;
  }
}

// ------------------------------------------------------------------ run

const startedAt = new Date();
const cpus = os.cpus();
console.log(`# npm run bench, ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}`);
console.log(`machine: nproc ${os.availableParallelism?.() ?? cpus.length}, ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(
  `sizes: warm-up ${options.warmup}; closed loop ${options.closed} webhooks over ${options.conversations} conversations, ${options.inflight} in flight; ` +
    `open loop ${options.rate}/s for ${options.duration} s (stragglers ${options.stragglers} s); ` +
    (options.memory ? `memory ${options.memoryWebhooks} webhooks over ${options.memoryConversations} conversations` : 'memory phase off (--memory)') +
    (options.quick ? ' [--quick]' : ''),
);
console.log(`servers: child processes (node --expose-gc${options.profile ? ' --cpu-prof' : ''}); load generator + fake platform: this process`);

for (const name of chosen) {
  try {
    await benchServer(name);
  } catch (error) {
    progress(`${name}: FAILED: ${error.stack ?? error}`);
    results[name] ??= { name };
    results[name].error = String(error.message ?? error);
  }
}
await platform.close();
fs.rmSync(tmp, { recursive: true, force: true });

const ran = chosen.map((n) => results[n]).filter(Boolean);
const closedOf = (n) => results[n]?.closed;

table(
  `## Closed loop: ${options.closed} webhooks, ${options.conversations} conversations, ${options.inflight} in flight (until the 2xx AND the reply)`,
  ['server', 'replies/s', 'CPU/webhook µs', 'server CPU', 'ack p50 ms', 'ack p99 ms', 'reply p50 ms', 'reply p99 ms', 'failed', 'generator CPU/webhook µs'],
  ran.map((r) =>
    r.closed
      ? [r.name, int(r.closed.repliesPerS), int(r.closed.cpuPerWebhookUs), `${r.closed.serverCpuPct.toFixed(0)}%`, ms(r.closed.ackP50), ms(r.closed.ackP99), ms(r.closed.replyP50), ms(r.closed.replyP99), r.closed.failed, int(r.closed.genCpuPerWebhookUs)]
      : [r.name, 'error', '', '', '', '', '', '', '', ''],
  ),
);

table(
  '## Ratios (closed loop): replies/s and CPU per webhook, relative to cloudadapter and to bare',
  ['server', 'replies/s ÷ cloudadapter', 'replies/s ÷ bare', 'CPU/webhook ÷ cloudadapter', 'CPU/webhook ÷ bare'],
  ran.map((r) => [
    r.name,
    ratio(r.closed?.repliesPerS, closedOf('cloudadapter')?.repliesPerS),
    ratio(r.closed?.repliesPerS, closedOf('bare')?.repliesPerS),
    ratio(r.closed?.cpuPerWebhookUs, closedOf('cloudadapter')?.cpuPerWebhookUs),
    ratio(r.closed?.cpuPerWebhookUs, closedOf('bare')?.cpuPerWebhookUs),
  ]),
);

table(
  `## Open loop: ${options.rate} webhooks/s for ${options.duration} s (fixed schedule; latencies from the scheduled send time)`,
  ['server', 'sent', 'acked 2xx', 'ack p50 ms', 'ack p99 ms', 'ack max ms', 'reply p50 ms', 'reply p99 ms', `missing after +${options.stragglers} s`, 'late (arrived later)', 'CPU/webhook µs', 'generator lag max ms'],
  ran.map((r) =>
    r.open
      ? [
          r.name,
          r.open.sent,
          r.open.acked2xx,
          ms(r.open.ackP50),
          ms(r.open.ackP99),
          ms(r.open.ackMax),
          ms(r.open.replyP50),
          r.open.replyP99All === Infinity ? `> window (${ms(r.open.replyP99)} of those in time)` : ms(r.open.replyP99),
          r.open.missing,
          r.open.late ? `${r.open.late} (last +${ms(r.open.lateLastMs)} ms)${r.open.never ? `, ${r.open.never} never` : ''}` : r.open.never ? `${r.open.never} never` : 0,
          int(r.open.cpuPerWebhookUs),
          ms(r.open.maxLagMs),
        ]
      : [r.name, 'error', '', '', '', '', '', '', '', '', '', ''],
  ),
);

if (options.memory) {
  table(
    `## Memory: ${options.memoryWebhooks} webhooks over ${options.memoryConversations} new conversations, ${options.inflight} in flight (RSS after a full GC)`,
    ['server', 'RSS at start MiB', 'RSS before MiB', 'RSS after MiB', 'RSS growth MiB', 'per conversation KiB', 'heap used before → after MiB', 'heap total after MiB', 'external after MiB', 'store file MiB', 'replies/s', 'CPU/webhook µs', 'failed'],
    ran.map((r) =>
      r.memory
        ? [
            r.name,
            mib(r.start?.rss),
            mib(r.memory.before.rss),
            mib(r.memory.after.rss),
            mib(r.memory.after.rss - r.memory.before.rss),
            ((r.memory.after.rss - r.memory.before.rss) / 1024 / options.memoryConversations).toFixed(2),
            `${mib(r.memory.before.heapUsed)} → ${mib(r.memory.after.heapUsed)}`,
            mib(r.memory.after.heapTotal),
            mib(r.memory.after.external),
            r.memory.fileBytes === undefined ? '–' : mib(r.memory.fileBytes),
            int(r.memory.repliesPerS),
            int(r.memory.cpuPerWebhookUs),
            r.memory.failed,
          ]
        : [r.name, 'error', '', '', '', '', '', '', '', '', '', '', ''],
    ),
  );
} else {
  table(
    '## RSS of each server after a full GC (the memory phase is off: --memory)',
    ['server', 'at start MiB', 'after the phases MiB'],
    ran.map((r) => [r.name, mib(r.start?.rss), mib(r.end?.rss)]),
  );
}

console.log('\n## Checks\n');
for (const r of ran) {
  const calls = Object.entries(r.otherCalls ?? {});
  const notes = [
    r.error ? `ERROR ${r.error}` : undefined,
    r.warmupFailed ? `${r.warmupFailed} warm-up webhooks failed or got no reply` : undefined,
    r.counters?.badReplies ? `${r.counters.badReplies} replies were not the menu` : undefined,
    r.counters?.unmatched ? `${r.counters.unmatched} replies matched no webhook` : undefined,
    calls.length ? `other platform calls: ${calls.map(([k, v]) => `${k} ×${v}`).join(', ')}` : 'no other platform calls',
    r.output?.length ? `${r.output.length} lines of server output, first: ${r.output.slice(0, 3).map((l) => l.slice(0, 200)).join(' / ')}` : 'no server output',
  ].filter(Boolean);
  console.log(`- ${r.name}: ${notes.join('; ')}`);
}
console.log(`\ntotal ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
