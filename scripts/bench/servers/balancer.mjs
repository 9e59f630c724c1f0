// A round-robin HTTP balancer in front of the replicas (BENCH_BACKENDS: their base URLs, comma-separated):
// each request goes to the next backend in turn, over a keep-alive pool per backend, body and answer
// passed through unchanged (the body is read whole first: webhooks are small). No health checks; the one
// retry is a request whose reused keep-alive socket the backend had just closed (ECONNRESET before any
// answer), sent again on a new connection. Any other failure answers 502, which the runner counts as a failed webhook. It counts the
// requests, the 2xx, the retries and the errors of each backend.
import http from 'node:http';
import process from 'node:process';
import { benchEnv, serveBenchChild } from './child.mjs';

const backends = benchEnv('BENCH_BACKENDS').split(',').map((u) => {
  const url = new URL(u);
  return { host: url.hostname, port: Number(url.port), agent: new http.Agent({ keepAlive: true }), requests: 0, ok: 0, errors: 0, errorCodes: {}, retries: 0 };
});
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
let next = 0;

const server = http.createServer((req, res) => {
  const backend = backends[next++ % backends.length];
  backend.requests++;
  const headers = {};
  for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const forward = (retry) => {
      // The resend goes on a connection of its own: the pool's other idle sockets may be closing too.
      const out = http.request({ agent: retry ? backend.agent : false, host: backend.host, port: backend.port, method: req.method, path: req.url, headers }, (answer) => {
        if (answer.statusCode >= 200 && answer.statusCode < 300) backend.ok++;
        const back = {};
        for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name)) back[name] = value;
        res.writeHead(answer.statusCode ?? 502, back);
        answer.pipe(res);
      });
      out.on('error', (error) => {
        // A kept-alive socket the backend closed as we reused it (its keep-alive timeout): the request
        // never reached the backend, so it is sent once more on a new connection, as proxies do.
        if (retry && out.reusedSocket && error.code === 'ECONNRESET') {
          backend.retries++;
          forward(false);
          return;
        }
        backend.errors++;
        backend.errorCodes[error.code ?? error.message] = (backend.errorCodes[error.code ?? error.message] ?? 0) + 1;
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end('bad gateway');
      });
      out.end(body);
    };
    forward(true);
  });
});
server.keepAliveTimeout = 60_000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const path = process.env.BENCH_PATH ?? '';
serveBenchChild(
  `http://127.0.0.1:${server.address().port}${path}`,
  () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const b of backends) b.agent.destroy();
    }),
  () => ({ backends: backends.map(({ requests, ok, errors, errorCodes, retries }) => ({ requests, ok, errors, errorCodes, retries })) }),
);
