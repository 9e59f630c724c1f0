/**
 * Two replicas of the endpoint (child processes) on one PostgreSQL database, behind a round-robin
 * load balancer: webhooks of every conversation land on either replica, one replica is killed with
 * kill -9 mid-stream and not restarted. Every accepted event must get its turn, in order per
 * conversation; duplicated replies are at most the turns cut mid-way; both replicas answered; the
 * survivor took the dead one's conversations over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import axios from 'axios';
import { afterAll, describe, expect, it } from 'vitest';
import { NimchatAdminClient } from '../../adapters/nimchat/client';
import { registerAgentBot } from '../../adapters/nimchat/register';
import { NimchatSandbox } from '../../src/sandbox/nimchat/nimchat-sandbox';
import { createTestDatabase, dropTestDatabases } from '../helpers/postgres';

const ROOT = path.resolve(__dirname, '../..');
const VITE_NODE = path.join(ROOT, 'node_modules/vite-node/vite-node.mjs');
const CONVERSATIONS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A load balancer: each request to the next backend in turn; a backend that refuses is skipped (as after a failed health check). */
async function startBalancer(backends: number[]): Promise<{ url: string; close(): Promise<void> }> {
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

describe('two replicas on one PostgreSQL database', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await dropTestDatabases();
  });

  it('kill -9 one replica mid-stream: nothing accepted is lost, each conversation stays in order, the other replica takes over', async () => {
    const sandbox = new NimchatSandbox({ deliveryConcurrency: 4, deliveryRetryDelayMs: 50, deliveryTimeoutMs: 3000 });
    await sandbox.start();
    const ports = [await freePort(), await freePort()];
    const balancer = await startBalancer(ports);
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Replica bot', outgoingUrl: `${balancer.url}/api/nimchat` });
    const storageUrl = await createTestDatabase();
    let cutMidway = 0;
    let cutBeforeKill = 0;
    let killed = false;
    const start = (name: string, port: number) =>
      new Promise<ChildProcess>((resolve, reject) => {
        const env = {
          ...process.env,
          NODE_ENV: 'production',
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'info',
          STORAGE_URL: storageUrl,
          REPLICA_LEASE_MS: '1500',
          ECHO_TAG: name,
          NIMCHAT_BASE_URL: sandbox.baseUrl,
          NIMCHAT_BOT_TOKEN: bot.accessToken!,
          NIMCHAT_WEBHOOK_SECRET: bot.secret!,
          NIMCHAT_BOT_STATUSES: 'pending,open',
        };
        const proc = spawn(process.execPath, [VITE_NODE, 'test/helpers/crash-child.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(proc);
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
            if (line.includes('an event cut mid-turn runs again')) {
              cutMidway++;
              // While both replicas live, no turn is ever cut: one running an event another one runs is a broken lease.
              if (!killed) cutBeforeKill++;
            }
          }
        });
        proc.stderr!.on('data', (chunk: Buffer) => (buffer += chunk.toString()));
      });
    const a = await start('A', ports[0]!);
    await start('B', ports[1]!);

    const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
    const conversations: Array<{ id: number; url: string }> = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const contact = (await axios.post(`${pub}/contacts`, { name: `C${i}` })).data;
      const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
      conversations.push({ id: conv.id, url: `${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages` });
    }
    const ROUNDS = 8;
    const sender = (async () => {
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < CONVERSATIONS; i++) {
          await axios.post(conversations[i]!.url, { content: `c${i}-m${round}` });
          await sleep(25);
        }
      }
    })();
    await sleep(1200);
    const killedAt = Date.now();
    killed = true;
    a.kill('SIGKILL');
    await sender;

    // quiet: every delivery finished and replies stopped changing (the dead replica's leases expire first)
    let last = -1;
    for (let stable = 0; stable < 6; ) {
      await sandbox.idle();
      await sleep(400);
      const n = sandbox.calls.filter((c) => c.by === 'bot').length;
      stable = n === last ? stable + 1 : 0;
      last = n;
    }

    let accepted = 0;
    let lost = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    const byReplica = { A: 0, B: 0, afterKillByB: 0 };
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
        .map((m) => {
          const match = /^echo: (.*) \[(A|B)\]$/.exec(String(m.content));
          if (match) byReplica[match[2] as 'A' | 'B']++;
          if (match?.[2] === 'B' && new Date(m.created_at * 1000).getTime() > killedAt) byReplica.afterKillByB++;
          return match ? match[1]! : String(m.content);
        });
      const firstSeen: string[] = [];
      for (const r of replies) {
        if (firstSeen.includes(r)) duplicates++;
        else firstSeen.push(r);
      }
      lost += acceptedTexts.filter((t) => !firstSeen.includes(t)).length;
      const order = firstSeen.filter((t) => acceptedTexts.includes(t));
      const expected = acceptedTexts.filter((t) => firstSeen.includes(t));
      if (order.join('|') !== expected.join('|')) outOfOrder++;
    }
    console.log(
      `replicas: ${ROUNDS * CONVERSATIONS} sent, ${accepted} accepted, ${lost} lost, ${duplicates} duplicated (${cutMidway} cut mid-turn), ` +
        `${outOfOrder} out of order, ${cutBeforeKill} turns run twice before the kill; answered by A ${byReplica.A}, by B ${byReplica.B} (${byReplica.afterKillByB} after the kill)`,
    );
    await balancer.close();
    await sandbox.close();
    // A webhook in flight to the killed replica may be given up by Nimchat (it opens the conversation): not accepted.
    expect(accepted).toBeGreaterThanOrEqual(ROUNDS * CONVERSATIONS - 3);
    expect(lost).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(cutBeforeKill).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(cutMidway);
    expect(byReplica.A).toBeGreaterThan(0);
    expect(byReplica.afterKillByB).toBeGreaterThan(0);
  }, 180_000);
});
