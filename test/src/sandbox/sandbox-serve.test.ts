/**
 * `handoff sandbox serve --bot-url`: the emulated platforms pointed at a bot endpoint that runs
 * elsewhere. The endpoint here is the app started separately, configured (not in sandbox mode) from
 * the variables the command wrote: a customer's message on the emulated Nimchat reaches it and is
 * answered, a WOZTELL member's too, and Inbenta's webhooks are registered once the endpoint answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { createLogger } from '../../../src/log';
import { eventually } from '../../helpers/console-client';

const ROOT = path.resolve(__dirname, '../../..');
const VITE_NODE = path.join(ROOT, 'node_modules/vite-node/vite-node.mjs');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

let child: ChildProcess | undefined;
let app: App | undefined;
afterEach(async () => {
  await app?.stop();
  child?.kill('SIGKILL');
  app = child = undefined;
});

describe('handoff sandbox serve --bot-url', () => {
  it('emulates the platforms for an endpoint started elsewhere, with the variables it writes', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const envFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-serve-')), '.env.sandbox');
    child = spawn(process.execPath, [VITE_NODE, 'test/helpers/cli-child.ts', 'sandbox', 'serve', '--bot-url', `http://127.0.0.1:${port}`, '--write-env', envFile], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => fs.existsSync(envFile) && output.includes('Sandbox WOZTELL'), 30_000, `the env file (output: ${output})`);
    const env = Object.fromEntries(
      fs
        .readFileSync(envFile, 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    ) as Record<string, string>;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['NIMCHAT_BASE_URL', 'NIMCHAT_BOT_TOKEN', 'NIMCHAT_WEBHOOK_SECRET', 'WOZTELL_ACCESS_TOKEN', 'WOZTELL_CHANNEL_SECRET', 'INBENTA_API_KEY', 'INBENTA_WEBHOOK_SECRET']));

    // The endpoint, configured against the emulations as against real platforms (no sandbox mode).
    const config = loadConfig({ ...env, PORT: String(port), HOST: '127.0.0.1', STORAGE_URL: 'memory:' });
    expect(config.sandbox).toBe(false);
    app = new App(config, { logger: createLogger({ level: 'silent' }), drainTimeoutMs: 1000 });
    await app.start();

    const pub = `${env.NIMCHAT_BASE_URL}/public/api/v1/inboxes/sandbox-inbox`;
    const post = async (url: string, body: unknown): Promise<any> => (await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })).json();
    const contact = await post(`${pub}/contacts`, { name: 'Ada' });
    const conversation = await post(`${pub}/contacts/${contact.source_id}/conversations`, {});
    const messages = `${pub}/contacts/${contact.source_id}/conversations/${conversation.id}/messages`;
    await post(messages, { content: 'hello' });
    await eventually(async () => ((await (await fetch(messages)).json()) as Array<{ message_type: number; content: string }>).some((m) => m.message_type === 1 && m.content === 'How can I help you today?'), 10_000, 'the menu on Nimchat');

    const woztell = output.match(/Sandbox WOZTELL:\s+(http:\/\/\S+)/)![1]!;
    const member = await post(`${woztell}/sandbox/members`, { name: 'Bo' });
    await post(`${woztell}/sandbox/members/${member.memberId}/messages`, { text: 'hello' });
    await eventually(async () => ((await (await fetch(`${woztell}/sandbox/members/${member.memberId}/messages`)).json()) as Array<{ from: string }>).some((m) => m.from === 'bot'), 10_000, 'the menu on WOZTELL');

    await eventually(async () => output.includes(`Inbenta: webhooks go to http://127.0.0.1:${port}`), 10_000, 'the Inbenta webhooks');
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
  });

  it('without --bot-url: exit code 2 and what to give', async () => {
    const run = spawn(process.execPath, [VITE_NODE, 'test/helpers/cli-child.ts', 'sandbox', 'serve'], { cwd: ROOT, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    run.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => run.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('needs --bot-url');
  });
});
