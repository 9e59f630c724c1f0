/**
 * `handoff serve` (the real command line, a supervisor and its worker) under a steady stream of
 * customer messages from the sandbox Nimchat, which delivers as Nimchat does: a 5 s timeout, three
 * attempts 3 s apart on 429 and 500 only, nothing retried after a refused connection or a timeout, and
 * a pending conversation whose message finally failed is opened to humans. Meanwhile the worker is
 * reloaded (SIGHUP), stopped on its own (SIGTERM) and killed (kill -9). No delivery may finally fail
 * and no conversation may be opened to humans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { afterAll, describe, expect, it } from 'vitest';
import { NimchatAdminClient } from '../../../adapters/nimchat/client';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import { NimchatSandbox } from '../../../src/sandbox/nimchat/nimchat-sandbox';

const ROOT = path.resolve(__dirname, '../../..');
const VITE_NODE = path.join(ROOT, 'node_modules/vite-node/vite-node.mjs');
const CONVERSATIONS = 100;
const PER_SECOND = 40;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-supervisor-'));
let child: ChildProcess | undefined;
let sandbox: NimchatSandbox | undefined;
afterAll(async () => {
  child?.kill('SIGKILL');
  await sandbox?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The supervisor's log lines, parsed, as they come; waits for one that matches. */
function logOf(proc: ChildProcess) {
  const lines: Array<Record<string, unknown>> = [];
  let text = '';
  const waiters: Array<{ match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }> = [];
  proc.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    let end: number;
    while ((end = text.indexOf('\n')) >= 0) {
      const raw = text.slice(0, end);
      text = text.slice(end + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(raw) as Record<string, unknown>;
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
  return {
    lines,
    next(match: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('log line not seen in time')), timeoutMs);
        waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
  };
}

describe('handoff serve: the worker restarts, the platform never notices', () => {
  it('reload, SIGTERM and kill -9 of the worker under 40 messages/s: no delivery finally fails, no conversation is opened to humans', async () => {
    sandbox = new NimchatSandbox({ deliveryConcurrency: 64 });
    await sandbox.start();
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const port = await freePort();
    const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Supervised bot', outgoingUrl: `http://127.0.0.1:${port}/api/nimchat` });
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NIMCHAT_|WOZTELL_|INBENTA_|NODE_ENV$|PORT$|HOST$|STORAGE_URL$)/.test(k)));
    child = spawn(process.execPath, [VITE_NODE, 'test/helpers/cli-child.ts', 'serve'], {
      cwd: ROOT,
      env: {
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        STORAGE_URL: `sqlite:${path.join(dir, 'state.sqlite')}`,
        NIMCHAT_BASE_URL: sandbox.baseUrl,
        NIMCHAT_BOT_TOKEN: bot.accessToken!,
        NIMCHAT_WEBHOOK_SECRET: bot.secret!,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const log = logOf(child);
    const first = await log.next((l) => l.msg === 'supervising the worker');
    const supervisorPid = Number(first.supervisor);
    let workerPid = Number(first.worker);

    const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
    const conversations: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const contact = (await axios.post(`${pub}/contacts`, { name: `Customer ${i}` })).data;
      const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
      conversations.push(`${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages`);
    }

    // The stream: 40 messages a second, round robin over the conversations, until told to stop.
    let sending = true;
    let sent = 0;
    const stream = (async () => {
      const started = Date.now();
      while (sending) {
        const due = started + (sent * 1000) / PER_SECOND;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const url = conversations[sent % CONVERSATIONS]!;
        sent++;
        void axios.post(url, { content: `question ${sent}` });
      }
    })();
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const nextWorker = async (after: number) => Number((await log.next((l) => (l.msg === 'reloaded: the new worker serves' || l.msg === 'the new worker serves') && l.worker !== after && !seenWorkers.has(Number(l.worker)))).worker);
    const seenWorkers = new Set<number>([workerPid]);

    await pause(2000);
    process.kill(supervisorPid, 'SIGHUP');
    workerPid = await nextWorker(workerPid);
    seenWorkers.add(workerPid);
    await pause(2000);
    process.kill(workerPid, 'SIGTERM');
    workerPid = await nextWorker(workerPid);
    seenWorkers.add(workerPid);
    await pause(2000);
    process.kill(workerPid, 'SIGKILL');
    workerPid = await nextWorker(workerPid);
    seenWorkers.add(workerPid);
    await pause(2000);
    sending = false;
    await stream;

    // Every message is delivered, at last (retries take up to 3 s each).
    const deadline = Date.now() + 60_000;
    const customerDeliveries = () => sandbox!.deliveryLog.filter((d) => d.event === 'message_created');
    while (Date.now() < deadline) {
      await sandbox.deliveries.idle();
      await pause(500);
      if (sandbox.deliveries.pending === 0) break;
    }
    const failed = sandbox.deliveryLog.filter((d) => d.outcome === 'failed');
    const retried = sandbox.deliveryLog.filter((d) => d.statuses.length > 1);
    const opened = [...sandbox.state.conversations.values()].filter((c) => c.messages.some((m) => m.message_type === 'activity' && /error with the agent bot/.test(m.content ?? '')));
    console.log(
      `supervisor: ${sent} customer messages, ${customerDeliveries().length} message deliveries, ${sandbox.deliveryLog.length} deliveries in all, ` +
        `${retried.length} needed a second attempt, ${failed.length} finally failed, ${opened.length} conversations opened to humans`,
    );
    expect(failed.map((d) => `${d.event} ${d.statuses.join(',')}`)).toEqual([]);
    expect(opened.map((c) => c.id)).toEqual([]);
    expect(sent).toBeGreaterThan(PER_SECOND * 6);

    process.kill(supervisorPid, 'SIGTERM');
    const exit = await new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    expect(exit).toBe(0);
    // The worker went with it.
    expect(() => process.kill(workerPid, 0)).toThrow();
  }, 240_000);
});
