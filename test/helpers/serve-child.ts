/**
 * `handoff serve` as users run it: the built command line (dist/, a supervisor and its worker) as a
 * child process, with its JSON log lines parsed as they come. Built, not under vite-node: a worker
 * must start as fast as it does for users (under vite-node each one transforms the sources again,
 * seconds that grow with the machine's load, and a restart then outlasts the platform's patience).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
// @ts-expect-error: a plain .mjs script without types
import { staleReason } from '../../scripts/build-stamp.mjs';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/** The environment without any platform or endpoint variable of the test runner's own. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NIMCHAT_|WOZTELL_|INBENTA_|NODE_ENV$|PORT$|HOST$|STORAGE_URL$)/.test(k)));
}

export type LogLine = Record<string, unknown>;

export interface ServeChild {
  child: ChildProcess;
  lines: LogLine[];
  supervisorPid: number;
  /** The worker serving now (as the log last said). */
  workerPid: number;
  /** Waits for a log line that matches (one already seen counts). */
  next(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Waits until a worker other than `pid` serves; returns its pid. */
  replaced(pid: number): Promise<number>;
  /** SIGTERM to the supervisor; resolves with its exit code. */
  stop(): Promise<number | null>;
}

export async function startServeChild(args: string[], env: NodeJS.ProcessEnv): Promise<ServeChild> {
  const stale = (staleReason as (root: string) => string | undefined)(ROOT);
  if (stale !== undefined) throw new Error(`dist/ is not the build of the sources (${stale}): run \`npm run build\` first`);
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: LogLine[] = [];
  const waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    let end: number;
    while ((end = text.indexOf('\n')) >= 0) {
      const raw = text.slice(0, end);
      text = text.slice(end + 1);
      let line: LogLine;
      try {
        line = JSON.parse(raw) as LogLine;
      } catch {
        line = { banner: raw };
      }
      lines.push(line);
      for (const w of waiters.splice(0)) {
        if (w.match(line)) w.resolve(line);
        else waiters.push(w);
      }
    }
  });
  const next = (match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('log line not seen in time')), timeoutMs);
      waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  };
  const first = await next((l) => l.msg === 'supervising the worker');
  const served = new Set<number>([Number(first.worker)]);
  const handle: ServeChild = {
    child,
    lines,
    supervisorPid: Number(first.supervisor),
    workerPid: Number(first.worker),
    next,
    async replaced(pid: number): Promise<number> {
      const line = await next((l) => (l.msg === 'reloaded: the new worker serves' || l.msg === 'the new worker serves') && Number(l.worker) !== pid && !served.has(Number(l.worker)));
      const worker = Number(line.worker);
      served.add(worker);
      handle.workerPid = worker;
      return worker;
    },
    stop(): Promise<number | null> {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
  return handle;
}
