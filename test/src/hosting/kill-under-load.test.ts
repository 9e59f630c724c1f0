/**
 * kill -9 of `handoff serve`'s worker while replies are in flight: a stream of 50 customer messages a
 * second over 20 conversations, a bot that echoes each one, and a sandbox Nimchat that creates each
 * reply at once but answers 300 ms later (so every kill finds sends whose message exists and whose
 * answer never came). After the kills every customer message has its reply, in order, and at most one
 * reply per kill was posted twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { afterAll, describe, expect, it } from 'vitest';
import { NimchatAdminClient } from '../../../adapters/nimchat/client';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import { NimchatSandbox } from '../../../src/sandbox/nimchat/nimchat-sandbox';
import { cleanEnv, freePort, startServeChild, type ServeChild } from '../../helpers/serve-child';
import { seeded } from '../../helpers/seeded';

const CONVERSATIONS = 20;
const PER_SECOND = 50;
const KILLS = 5;
const ROOT = path.resolve(__dirname, '../../..');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-kill-'));
let served: ServeChild | undefined;
let sandbox: NimchatSandbox | undefined;
afterAll(async () => {
  served?.child.kill('SIGKILL');
  await sandbox?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 of the worker with replies in flight', () => {
  it('no message lost, order kept, at most one duplicate reply per kill', async () => {
    const random = seeded(Number(process.env.KILL_SEED ?? 20261207));
    // A conversation's webhooks one after another (they reach the bot in the order the customer wrote
    // them), conversations side by side: one lane for all made the echoes wait behind everything.
    sandbox = new NimchatSandbox({ deliveryConcurrency: 16, deliveryOrderedPerConversation: true });
    await sandbox.start();
    // Every reply: created (and echoed) at once, answered 300 ms later.
    sandbox.faults.push({ method: 'POST', path: /\/conversations\/\d+\/messages$/, delayMs: 300, times: 1_000_000 });
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const port = await freePort();
    const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Echo bot', outgoingUrl: `http://127.0.0.1:${port}/api/nimchat` });
    served = await startServeChild(['--bot', path.join(ROOT, 'test/fixtures/echo-bot/bot.cjs')], {
      ...cleanEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      STORAGE_URL: `sqlite:${path.join(dir, 'state.sqlite')}`,
      NIMCHAT_BASE_URL: sandbox.baseUrl,
      NIMCHAT_BOT_TOKEN: bot.accessToken!,
      NIMCHAT_WEBHOOK_SECRET: bot.secret!,
      LOG_LEVEL: 'info',
    });

    const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
    const conversations: Array<{ id: number; url: string; said: string[] }> = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      const contact = (await axios.post(`${pub}/contacts`, { name: `Customer ${i}` })).data;
      const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
      conversations.push({ id: conv.id, url: `${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages`, said: [] });
    }

    // One conversation's messages are sent one after another (a customer types in order).
    let sending = true;
    let sent = 0;
    const stream = (async () => {
      const started = Date.now();
      const inFlight = new Map<number, Promise<unknown>>();
      while (sending) {
        const due = started + (sent * 1000) / PER_SECOND;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const c = conversations[sent % CONVERSATIONS]!;
        const text = `message ${++sent}`;
        const previous = inFlight.get(c.id) ?? Promise.resolve();
        inFlight.set(c.id, previous.then(async () => {
          c.said.push(text);
          await axios.post(c.url, { content: text });
        }));
      }
      await Promise.all(inFlight.values());
    })();

    let workerPid = served.workerPid;
    const restarts: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      await new Promise((r) => setTimeout(r, 700 + random() * 1300));
      const killedAt = Date.now();
      process.kill(workerPid, 'SIGKILL');
      workerPid = await served.replaced(workerPid);
      restarts.push(Date.now() - killedAt);
    }
    await new Promise((r) => setTimeout(r, 1000));
    sending = false;
    await stream;

    // Every message answered (the last ones after their retries), then quiet.
    const replies = (id: number) =>
      sandbox!.state.conversation(id).messages.filter((m) => m.message_type === 'outgoing' && (m.content ?? '').startsWith('echo: ')).map((m) => m.content!.slice('echo: '.length));
    const deadline = Date.now() + 60_000;
    let total = 0;
    for (;;) {
      const now = conversations.reduce((n, c) => n + new Set(replies(c.id)).size, 0);
      if ((now === sent && now === total) || Date.now() > deadline) break;
      total = now;
      await new Promise((r) => setTimeout(r, 1000));
    }

    let duplicates = 0;
    let lost = 0;
    let outOfOrder = 0;
    for (const c of conversations) {
      const got = replies(c.id);
      duplicates += got.length - new Set(got).size;
      lost += c.said.filter((text) => !got.includes(text)).length;
      const firsts = [...new Set(got)];
      if (firsts.join('|') !== c.said.filter((text) => firsts.includes(text)).join('|')) outOfOrder++;
    }
    const resent = served.lines.filter((l) => l.msg === 'an earlier attempt had sent the message: not sent again').length;
    const failed = sandbox.deliveryLog.filter((d) => d.outcome === 'failed');
    const opened = [...sandbox.state.conversations.values()].filter((c) => c.status !== 'pending').length;
    console.log(
      `kill -9: ${KILLS} kills (a new worker served ${restarts.join(', ')} ms after each), ${sent} customer messages, ${lost} lost, ${duplicates} duplicate replies, ` +
        `${outOfOrder} conversations out of order, ${resent} replies found by their echo instead of being posted again; ` +
        `${failed.length} deliveries finally failed (${[...new Set(failed.map((f) => f.statuses.join('/')))].join(', ')}), ${opened} conversations opened to humans`,
    );
    expect(lost).toBe(0);
    expect(outOfOrder).toBe(0);
    expect(duplicates).toBeLessThanOrEqual(KILLS);
    expect(await served.stop()).toBe(0);
  }, 240_000);
});
