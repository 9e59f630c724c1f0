/**
 * Crash test: the server as a child process (vite-node) on a SQLite file, a stream of webhooks over
 * many conversations from the sandbox Nimchat, kill -9 at (seeded) random moments, restart on the same
 * file. Every accepted event (2xx) must get its turn, in order per conversation; duplicated replies
 * are at most the turns cut mid-way. The counts are printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { NimchatAdminClient } from '../../adapters/nimchat/client';
import { registerAgentBot } from '../../adapters/nimchat/register';
import { NimchatSandbox } from '../../src/sandbox/nimchat/nimchat-sandbox';
import { createTestDatabase, dropTestDatabases } from '../helpers/postgres';
import { seeded } from '../helpers/seeded';

const ROOT = path.resolve(__dirname, '../..');
const VITE_NODE = path.join(ROOT, 'node_modules/vite-node/vite-node.mjs');
const CONVERSATIONS = 12;
const KILLS = 3;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash test: kill -9 while webhooks stream in', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-crash-'));
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    await dropTestDatabases();
  });

  it('loses no accepted event, keeps per-conversation order, duplicates ≤ turns cut mid-way', async () => {
    const random = seeded(Number(process.env.CRASH_SEED ?? 20261121));
    const sandbox = new NimchatSandbox({ deliveryConcurrency: 1, deliveryRetryDelayMs: 50, deliveryTimeoutMs: 3000 });
    await sandbox.start();
    const port = await freePort();
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Crash bot', outgoingUrl: `http://127.0.0.1:${port}/api/nimchat` });
    const env = {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      // TEST_STORAGE=postgres runs it on a database of the test server instead of a SQLite file.
      STORAGE_URL: process.env.TEST_STORAGE === 'postgres' ? await createTestDatabase() : `sqlite:${path.join(dir, 'handoff.sqlite')}`,
      NIMCHAT_BASE_URL: sandbox.baseUrl,
      NIMCHAT_BOT_TOKEN: bot.accessToken!,
      NIMCHAT_WEBHOOK_SECRET: bot.secret!,
      // Nimchat opens a conversation when a delivery finally fails (the child was down): keep answering.
      NIMCHAT_BOT_STATUSES: 'pending,open',
    };
    let cutMidway = 0;
    let recovered = 0;
    const start = async (): Promise<void> => {
      const proc = spawn(process.execPath, [VITE_NODE, 'test/helpers/crash-child.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let buffer = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child not ready: ${buffer.slice(-2000)}`)), 60_000);
        proc.stdout!.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.startsWith('READY ')) {
              clearTimeout(timer);
              resolve();
            }
            // With replicas sharing a store (TEST_STORAGE=postgres), each event taken over is logged on its own.
            if (line.includes('an event cut mid-turn runs again')) {
              recovered++;
              cutMidway++;
            }
            if (line.includes('unfinished events queued again')) {
              const entry = JSON.parse(line) as { count: number; cutMidway: number };
              recovered += entry.count;
              cutMidway += entry.cutMidway;
            }
          }
        });
        proc.stderr!.on('data', (chunk: Buffer) => (buffer += chunk.toString()));
        proc.once('exit', (code) => reject(new Error(`child exited (${code}) before it was ready: ${buffer.slice(-2000)}`)));
      });
    };

    // customers
    const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
    const conversations: Array<{ id: number; url: string }> = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const contact = (await axios.post(`${pub}/contacts`, { name: `C${i}` })).data;
      const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
      conversations.push({ id: conv.id, url: `${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages` });
    }

    await start();
    let killing = true;
    const sender = (async () => {
      let round = 0;
      for (let after = 0; killing || after < 4; round++) {
        if (!killing) after++;
        for (let i = 0; i < CONVERSATIONS; i++) {
          await axios.post(conversations[i]!.url, { content: `c${i}-m${round}` });
          await sleep(60 + Math.floor(random() * 60));
        }
      }
      return round;
    })();
    for (let k = 0; k < KILLS; k++) {
      await sleep(400 + Math.floor(random() * 1600));
      const proc = child!;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      await sleep(Math.floor(random() * 300));
      await start();
    }
    killing = false;
    const rounds = await sender;

    // quiet: every delivery finished, and replies stopped changing
    let last = -1;
    for (let stable = 0; stable < 4; ) {
      await sandbox.idle();
      await sleep(300);
      const n = sandbox.calls.filter((c) => c.by === 'bot').length;
      stable = n === last ? stable + 1 : 0;
      last = n;
    }

    // ... and the store agrees: no action waits for a retry (the outbox backs off for seconds after a
    // failed send, longer than the quiet above) and no accepted event is unfinished.
    const sqliteFile = env.STORAGE_URL.startsWith('sqlite:') ? env.STORAGE_URL.slice('sqlite:'.length) : undefined;
    const store = sqliteFile ? new Database(sqliteFile, { readonly: true, fileMustExist: true }) : undefined;
    const outstanding = () =>
      store
        ? (store.prepare("SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') + (SELECT count(*) FROM inbox WHERE done_at IS NULL AND set_aside_at IS NULL) AS n").get() as { n: number }).n
        : 0;
    for (let i = 0; i < 120 && outstanding() > 0; i++) await sleep(500);
    await sandbox.idle();

    let accepted = 0;
    let lost = 0;
    const lostTexts: string[] = [];
    let duplicates = 0;
    let outOfOrder = 0;
    for (const conv of conversations) {
      const acceptedTexts = sandbox.deliveryLog
        .filter((d) => d.outcome === 'delivered' && d.event === 'message_created')
        .map((d) => JSON.parse(d.body) as { message_type: string; content: string; conversation: { id: number } })
        .filter((p) => p.message_type === 'incoming' && p.conversation.id === conv.id)
        .map((p) => p.content);
      accepted += acceptedTexts.length;
      const replies = sandbox.state
        .conversation(conv.id)
        .messages.filter((m) => m.message_type === 'outgoing' && !m.private)
        .map((m) => String(m.content).replace(/^echo: /, ''));
      const firstSeen: string[] = [];
      for (const r of replies) {
        if (firstSeen.includes(r)) duplicates++;
        else firstSeen.push(r);
      }
      const missing = acceptedTexts.filter((t) => !firstSeen.includes(t));
      lost += missing.length;
      lostTexts.push(...missing);
      const order = firstSeen.filter((t) => acceptedTexts.includes(t));
      const expected = acceptedTexts.filter((t) => firstSeen.includes(t));
      if (order.join('|') !== expected.join('|')) outOfOrder++;
    }
    const attempted = rounds * CONVERSATIONS;
    console.log(
      `crash test: ${KILLS} kills, ${attempted} messages sent, ${accepted} accepted (2xx), ${lost} lost, ` +
        `${recovered} recovered at restart (${cutMidway} cut mid-turn), ${duplicates} duplicated replies, ${outOfOrder} conversations out of order`,
    );
    // What the store knows of a lost message, for whoever reads a failing run.
    for (const text of lostTexts) {
      const events = store?.prepare('SELECT id, attempts, done_at, set_aside_at, set_aside_reason FROM inbox WHERE payload LIKE ?').all(`%"${text}"%`);
      const actions = store?.prepare('SELECT id, kind, status, attempts, last_error, next_attempt_at FROM outbox WHERE payload LIKE ?').all(`%echo: ${text}"%`);
      console.log(`lost ${text}: inbox ${JSON.stringify(events)}, outbox ${JSON.stringify(actions)}, platform calls ${JSON.stringify(sandbox.calls.filter((c) => JSON.stringify(c.body ?? '').includes(text)).map((c) => `${c.method} ${c.path} ${c.status ?? ''}`))}`);
    }
    store?.close();
    child?.kill('SIGTERM');
    await sandbox.close();
    expect(accepted).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(cutMidway);
  }, 180_000);
});
