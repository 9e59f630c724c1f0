/**
 * Pieces for tests of replicas on PostgreSQL: a round-robin load balancer in front of them, a TCP hop
 * in front of the database that can cut it away (as a restart does), and a replica as a child process
 * (the real App with the echo bot of crash-child.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const VITE_NODE = path.join(ROOT, 'node_modules/vite-node/vite-node.mjs');

/** A load balancer: each request to the next backend in turn; a backend that refuses is skipped (as after a failed health check). */
export async function startBalancer(backends: number[]): Promise<{ url: string; close(): Promise<void> }> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tryBackend = (left: number) => {
        const port = backends[next++ % backends.length]!;
        const out = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        out.on('error', () => (left > 1 ? tryBackend(left - 1) : (res.writeHead(502), res.end())));
        out.end(body);
      };
      tryBackend(backends.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** A TCP hop in front of PostgreSQL that can drop every connection and refuse new ones. */
export async function startCuttableProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return client.destroy();
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      up = false;
      dropAll();
    },
    restore() {
      up = true;
    },
    close: () => new Promise<void>((r) => (dropAll(), server.close(() => r()))),
  };
}

/**
 * A replica (test/helpers/crash-child.ts) on `port` with `env`; resolves once it prints READY.
 * `onLine` sees every line of its output.
 */
export function startReplica(name: string, env: Record<string, string>, onLine: (line: string) => void = () => undefined): Promise<ChildProcess> {
  return new Promise<ChildProcess>((resolve, reject) => {
    const proc = spawn(process.execPath, [VITE_NODE, 'test/helpers/crash-child.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${name} not ready: ${buffer.slice(-2000)}`)), 60_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('READY ')) {
          clearTimeout(timer);
          resolve(proc);
        }
        onLine(line);
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => (buffer += chunk.toString()));
  });
}

/** The echo replies of a sandbox conversation ("echo: <text> [replica]"): the texts answered, in order, and by whom. */
export function echoReplies(contents: Array<string | null>): Array<{ text: string; replica?: string }> {
  return contents.map((content) => {
    const match = /^echo: (.*) \[([A-Z])\]$/.exec(String(content));
    return match ? { text: match[1]!, replica: match[2] } : { text: String(content) };
  });
}
