// What every benchmarked server shares: it is a forked child; the runner asks it over IPC for its CPU
// time and its memory (after a full GC when the child runs with --expose-gc), and tells it to stop.
// A server calls serveBenchChild(url, stop, extra?) once it listens; `extra()` adds figures of its own to the stats.
import process from 'node:process';

export function serveBenchChild(url, stop, extra = () => ({})) {
  process.on('message', async (message) => {
    if (!message || typeof message !== 'object') return;
    if (message.cmd === 'stats') {
      if (message.gc && typeof globalThis.gc === 'function') {
        globalThis.gc();
        globalThis.gc();
      }
      const memory = process.memoryUsage();
      process.send({ id: message.id, cpu: process.cpuUsage(), rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external, gc: typeof globalThis.gc === 'function', ...extra() });
    } else if (message.cmd === 'stop') {
      try {
        await stop();
      } finally {
        process.send({ id: message.id, stopped: true }, () => process.exit(0));
      }
    }
  });
  // The runner is gone (killed): no server outlives it.
  process.on('disconnect', () => process.exit(1));
  process.send({ ready: true, url });
}

/** The environment a server is started with (the runner sets these). */
export function benchEnv(name) {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set (servers are started by scripts/bench/run.mjs)`);
  return value;
}
