/**
 * Three replicas on one PostgreSQL database whose every connection is cut, twice, for 3 s (as a
 * database restart does) while customers of ten conversations write, behind a round-robin balancer, with
 * a Nimchat that redelivers a refused webhook twice, 3 s apart (as Chatwoot does). Nothing accepted is lost, no reply is
 * sent twice (with a lease shorter than the outage: at most one, see the check), each conversation is answered in the order its messages were accepted (the inbox's order:
 * a message refused during the outage and redelivered comes after those accepted meanwhile). The counts
 * are printed.
 */
import type { ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import axios from 'axios';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { NimchatAdminClient } from '../../adapters/nimchat/client';
import { registerAgentBot } from '../../adapters/nimchat/register';
import { NimchatSandbox } from '../../src/sandbox/nimchat/nimchat-sandbox';
import { createTestDatabase, dropTestDatabases } from '../helpers/postgres';
import { freePort } from '../helpers/serve-child';
import { echoReplies, startBalancer, startCuttableProxy, startReplica } from '../helpers/replica-cluster';

const CONVERSATIONS = 10;
const ROUNDS = 12;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('three replicas through a database restart', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await dropTestDatabases();
  });

  // The default lease (10 s) outlasts the outage: the holder keeps its conversations through it. A
  // lease of 1.5 s does not: another replica takes them over and repeats the sends whose done marks
  // were not written; the platform's echoes of them (kept by whichever replica received them) stop that.
  it.each<{ lease: string; env: Record<string, string>; slowReplies: boolean }>([
    { lease: 'the default lease', env: {}, slowReplies: false },
    // Replies answered 400 ms late, so that the cuts find sends in flight.
    { lease: 'a lease shorter than the outage', env: { REPLICA_LEASE_MS: '1500' }, slowReplies: true },
  ])('every connection cut for 3 s, twice, under traffic, with $lease: nothing accepted lost, no reply twice, in order', async ({ lease, env: leaseEnv, slowReplies }) => {
    const sandbox = new NimchatSandbox({ deliveryConcurrency: 4, deliveryRetryDelayMs: 3000, deliveryTimeoutMs: 3000 });
    await sandbox.start();
    if (slowReplies) sandbox.faults.push({ method: 'POST', path: /\/messages$/, delayMs: 400, times: 1_000_000 });
    const ports = [await freePort(), await freePort(), await freePort()];
    const balancer = await startBalancer(ports);
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Replica bot', outgoingUrl: `${balancer.url}/api/nimchat` });
    const databaseUrl = await createTestDatabase();
    const url = new URL(databaseUrl);
    const proxy = await startCuttableProxy({ host: url.hostname, port: Number(url.port) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    let markFailures = 0;
    let foundByEcho = 0;
    let finishedElsewhere = 0;
    let lookFailed = 0;
    for (const [i, name] of ['A', 'B', 'C'].entries()) {
      const env = {
        NODE_ENV: 'production',
        PORT: String(ports[i]),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        STORAGE_URL: url.toString(),
        PG_CONNECT_TIMEOUT_MS: '500',
        PG_STATEMENT_TIMEOUT_MS: '2000',
        ECHO_TAG: name,
        ...leaseEnv,
        NIMCHAT_BASE_URL: sandbox.baseUrl,
        NIMCHAT_BOT_TOKEN: bot.accessToken!,
        NIMCHAT_WEBHOOK_SECRET: bot.secret!,
      };
      children.push(
        await startReplica(name, env, (line) => {
          // REPLICA_LOG=<file>: every replica's log lines, to see what happened in a failing run.
          if (process.env.REPLICA_LOG) appendFileSync(process.env.REPLICA_LOG, `${name} ${line}\n`);
          if (line.includes('could not mark an outbox action done')) markFailures++;
          if (line.includes('an earlier attempt had sent the message')) foundByEcho++;
          if (line.includes('finished by another attempt meanwhile')) finishedElsewhere++;
          if (line.includes('; the action is tried again')) lookFailed++;
        }),
      );
    }

    const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
    const conversations: Array<{ id: number; url: string }> = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const contact = (await axios.post(`${pub}/contacts`, { name: `C${i}` })).data;
      const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
      conversations.push({ id: conv.id, url: `${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages` });
    }
    const sender = (async () => {
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < CONVERSATIONS; i++) {
          await axios.post(conversations[i]!.url, { content: `c${i}-m${round}` });
          await sleep(25);
        }
      }
    })();
    for (let cut = 0; cut < 2; cut++) {
      await sleep(1200);
      proxy.cut();
      await sleep(3000);
      proxy.restore();
    }
    await sender;

    let last = -1;
    for (let stable = 0; stable < 6; ) {
      await sandbox.idle();
      await sleep(500);
      const n = sandbox.calls.filter((c) => c.by === 'bot').length;
      stable = n === last ? stable + 1 : 0;
      last = n;
    }

    // The order the replicas accepted the messages in (the inbox's ids), per conversation: what the
    // replies must follow. A message refused during the outage and redelivered later comes after those
    // accepted meanwhile, whatever order the customer wrote them in.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ conversation: string; payload: string }>('SELECT conversation, payload FROM handoff_inbox ORDER BY id');
    await db.end();
    const acceptedOf = (id: number) =>
      rows
        .filter((r) => r.conversation === `1:${id}`)
        .map((r) => (JSON.parse(r.payload) as { activity: { type: string; text: string } }).activity)
        .filter((a) => a.type === 'message')
        .map((a) => a.text);
    // A conversation Nimchat gave to humans (it could not deliver, even after its retries) is theirs:
    // the bot rightly answers nothing after that. Counted, and left out of the checks.
    const givenAway = new Set(conversations.filter((c) => sandbox.state.conversation(c.id).status === 'open').map((c) => c.id));
    let accepted = 0;
    let lost = 0;
    let duplicates = 0;
    let outOfOrder = 0;
    for (const conv of conversations.filter((c) => !givenAway.has(c.id))) {
      const acceptedTexts = acceptedOf(conv.id);
      accepted += acceptedTexts.length;
      const replies = echoReplies(sandbox.state.conversation(conv.id).messages.filter((m) => m.message_type === 'outgoing' && !m.private).map((m) => m.content)).map((r) => r.text);
      const firstSeen: string[] = [];
      for (const r of replies) {
        if (firstSeen.includes(r)) duplicates++;
        else firstSeen.push(r);
      }
      lost += acceptedTexts.filter((t) => !firstSeen.includes(t)).length;
      const order = firstSeen.filter((t) => acceptedTexts.includes(t));
      if (order.join('|') !== acceptedTexts.filter((t) => firstSeen.includes(t)).join('|')) outOfOrder++;
    }
    const givenUp = sandbox.deliveryLog.filter((d) => d.outcome === 'failed').length;
    console.log(
      `database restart (${lease}): 3 replicas, 2 cuts of 3 s, ${ROUNDS * CONVERSATIONS} sent, ${accepted} accepted, ${lost} lost, ${duplicates} duplicated, ` +
        `${outOfOrder} out of order, ${givenUp} deliveries given up by Nimchat (${givenAway.size} conversations given to humans), ${markFailures} done marks retried, ${foundByEcho} repeated sends found by their echo, ` +
        `${finishedElsewhere} found finished by the replica before, ${lookFailed} looks that could not read the store (tried again later)`,
    );
    await balancer.close();
    await proxy.close();
    await sandbox.close();
    expect(givenAway.size).toBeLessThanOrEqual(2);
    expect(lost).toBe(0);
    // With a lease shorter than the outage one repeat can still escape every look: an echo refused in
    // both outages (never redelivered), and the replica before writing its done mark only after the
    // look gave up. Seen once in CI runs of this test; more than one is a defect.
    expect(duplicates).toBeLessThanOrEqual(leaseEnv.REPLICA_LEASE_MS ? 1 : 0);
    expect(outOfOrder).toBe(0);
  }, 180_000);
});
