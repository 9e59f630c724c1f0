/**
 * Start-up on a machine where a port is taken: the start fails with a message naming the port and the
 * variable to change, closes whatever it had started, and the real CLI exits non-zero instead of
 * hanging. Also what the start tells once it listens: the bound address in the log line, the banner.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app';
import { sandboxBanner } from '../../src/hosting/banner';
import { loadConfig } from '../../src/load-config';
import { StartupError } from '../../src/errors';
import { createLogger } from '../../src/log';

const ROOT = path.resolve(__dirname, '../..');
const VITE_NODE = path.join(ROOT, 'node_modules/vite-node/vite-node.mjs');
/** How long the CLI may take to give up; it is killed (and the test fails) past it. */
const EXIT_BOUND_MS = 60_000;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-startup-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const held: net.Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Listens on 127.0.0.1:port (another program holding the port). */
async function hold(port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  held.push(server);
}

async function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A PORT whose block PORT..PORT+3 is free now. */
async function freeBlock(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const base = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    if (base + 3 > 65535) continue;
    const free = await Promise.all([0, 1, 2, 3].map((i) => canListen(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no block of 4 free ports found');
}

let storeCount = 0;
const storageUrl = () => `sqlite:${path.join(dir, `state-${++storeCount}.sqlite`)}`;
const quiet = () => createLogger({ level: 'silent' });

/** The environment of a fresh machine: no platform variables. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NIMCHAT_|WOZTELL_|INBENTA_|NODE_ENV$|PORT$|HOST$|STORAGE_URL$)/.test(k)));
  return { ...env, LOG_LEVEL: 'info', ...extra };
}

/** `handoff <args>` as a child process; resolves with its exit once it exits, or fails once EXIT_BOUND_MS has passed. */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [VITE_NODE, 'test/helpers/cli-child.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`handoff ${args.join(' ')} did not exit (it hangs)\nstdout: ${stdout.slice(-1500)}\nstderr: ${stderr.slice(-1500)}`));
    }, EXIT_BOUND_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('start-up with a port taken (in process)', () => {
  it('sandbox port taken: a StartupError naming the port and PORT, and what had started is closed again', async () => {
    const port = await freeBlock();
    await hold(port + 2); // the sandbox WOZTELL's port
    const app = new App(loadConfig({ PORT: String(port), HOST: '127.0.0.1', STORAGE_URL: storageUrl() }), { logger: quiet() });
    const error = await app.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).code).toBe('port_in_use');
    const message = (error as Error).message;
    expect(message).toContain(`The sandbox WOZTELL cannot listen on 127.0.0.1:${port + 2}`);
    expect(message).toContain(`port ${port + 2} is already in use`);
    expect(message).toContain(`Set PORT (now ${port}) to another port (e.g. PORT=${port + 1000} npm start)`);
    expect(message).toContain('WOZTELL on PORT+2');
    // The sandbox Nimchat (PORT+1) had started: it is closed again, as is the store.
    expect(await canListen(port + 1)).toBe(true);
    expect(await canListen(port)).toBe(true);
    expect(await app.stores.checkWritable()).toBeTruthy();
    expect(app.server.server.listening).toBe(false);
  });

  it("bot endpoint's port taken: the sandboxes already listening on PORT+1..+3 are closed", async () => {
    const port = await freeBlock();
    await hold(port);
    const app = new App(loadConfig({ PORT: String(port), HOST: '127.0.0.1', STORAGE_URL: storageUrl() }), { logger: quiet() });
    const error = (await app.start().catch((e: unknown) => e)) as StartupError;
    expect(error).toBeInstanceOf(StartupError);
    expect(error.message).toContain(`The bot endpoint cannot listen on 127.0.0.1:${port}: port ${port} is already in use`);
    expect(error.message).toContain(`Set PORT (now ${port})`);
    for (const offset of [1, 2, 3]) expect(await canListen(port + offset), `PORT+${offset}`).toBe(true);
    expect(await app.stores.checkWritable()).toBeTruthy();
  });

  it('a HOST that is not an address of this machine names HOST', async () => {
    const app = new App(loadConfig({ PORT: '0', HOST: '192.0.2.1', STORAGE_URL: 'memory:', NODE_ENV: 'production', NIMCHAT_BASE_URL: 'http://127.0.0.1:9', NIMCHAT_BOT_TOKEN: 'bot-token' }), { logger: quiet() });
    const error = (await app.start().catch((e: unknown) => e)) as StartupError;
    expect(error).toBeInstanceOf(StartupError);
    expect(error.code).toBe('host_unavailable');
    expect(error.message).toContain('192.0.2.1 is not an address of this machine. Set HOST');
  });
});

describe('start-up with a port taken: the real CLI exits', () => {
  it('sandbox mode with PORT+1..+3 taken: exit code 1 and a message naming the port and PORT, no hang', async () => {
    const port = await freeBlock();
    for (const offset of [1, 2, 3]) await hold(port + offset);
    const run = await runCli(['serve'], cleanEnv({ PORT: String(port), STORAGE_URL: storageUrl() }));
    expect(run.signal).toBeNull();
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`Error (port_in_use): The sandbox Nimchat cannot listen on 127.0.0.1:${port + 1}: port ${port + 1} is already in use`);
    expect(run.stderr).toContain(`Set PORT (now ${port}) to another port`);
    expect(run.stderr).not.toContain('Unexpected error');
    expect(run.stdout).not.toContain('SANDBOX MODE');
  }, EXIT_BOUND_MS + 10_000);

  it("a configured server whose PORT is taken: exit code 1 naming PORT, without the sandbox's ports", async () => {
    const port = await freeBlock();
    await hold(port);
    const run = await runCli(
      ['serve'],
      cleanEnv({ NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', STORAGE_URL: storageUrl(), NIMCHAT_BASE_URL: 'http://127.0.0.1:9', NIMCHAT_BOT_TOKEN: 'bot-token-123' }),
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`The bot endpoint cannot listen on 127.0.0.1:${port}: port ${port} is already in use`);
    expect(run.stderr).toContain(`Set PORT (now ${port}) to another port`);
    expect(run.stderr).not.toContain('PORT+1');
    expect(run.stderr + run.stdout).not.toContain('bot-token-123');
  }, EXIT_BOUND_MS + 10_000);
});

describe('what the start tells once it listens', () => {
  async function started(host: string) {
    const lines: string[] = [];
    const app = new App(loadConfig({ PORT: '0', HOST: host, STORAGE_URL: 'memory:' }), { logger: createLogger({ level: 'info', write: (l) => lines.push(l) }) });
    await app.start();
    const listening = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'listening');
    return { app, listening: listening!, port: app.listenAddress.port };
  }

  it('bound to all interfaces: the log line gives 0.0.0.0 as bound, and a URL that reaches it here', async () => {
    const { app, listening, port } = await started('0.0.0.0');
    try {
      expect(listening).toMatchObject({ address: `0.0.0.0:${port}`, allInterfaces: true, url: `http://127.0.0.1:${port}` });
      expect(String(listening.hint)).toContain('all interfaces');
      expect(app.listenAddress).toEqual({ address: `0.0.0.0:${port}`, host: '0.0.0.0', port, allInterfaces: true });
    } finally {
      await app.stop();
    }
  });

  it('bound to one address: that address, and no all-interfaces hint', async () => {
    const { app, listening, port } = await started('127.0.0.1');
    try {
      expect(listening).toMatchObject({ address: `127.0.0.1:${port}`, url: `http://127.0.0.1:${port}` });
      expect(listening.allInterfaces).toBeUndefined();
      expect(listening.hint).toBeUndefined();
    } finally {
      await app.stop();
    }
  });

  it("the sandbox banner shows the bound address and names every platform's variables, Inbenta's included", async () => {
    const { app, port } = await started('0.0.0.0');
    try {
      const banner = sandboxBanner(app);
      expect(banner).toContain(`Listening on:      0.0.0.0:${port} (all interfaces; from this machine http://127.0.0.1:${port})`);
      expect(banner).toContain('Bot:               the example support bot (botbuilder)');
      for (const name of ['NIMCHAT_BASE_URL', 'NIMCHAT_BOT_TOKEN', 'WOZTELL_ACCESS_TOKEN', 'WOZTELL_CHANNEL_SECRET', 'INBENTA_API_KEY', 'INBENTA_API_SECRET', 'INBENTA_WEBHOOK_SECRET']) {
        expect(banner, name).toContain(name);
      }
      expect(banner).toContain('/sandbox/tickets/<id>/answer');
    } finally {
      await app.stop();
    }
  });
});
