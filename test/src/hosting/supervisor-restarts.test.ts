/**
 * `handoff serve` (the real command line, a supervisor and its worker) under a steady stream of
 * customer messages from the sandbox Nimchat, which delivers as Nimchat does: a 5 s timeout, three
 * attempts 3 s apart on 429 and 500 only, nothing retried after a refused connection or a timeout, and
 * a pending conversation whose message finally failed is opened to humans. Meanwhile the worker is
 * reloaded (SIGHUP), stopped on its own (SIGTERM) and killed (kill -9). No delivery may finally fail
 * and no conversation may be opened to humans.
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

const CONVERSATIONS = 100;
const PER_SECOND = 40;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-supervisor-'));
let served: ServeChild | undefined;
let sandbox: NimchatSandbox | undefined;
afterAll(async () => {
  served?.child.kill('SIGKILL');
  await sandbox?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('handoff serve: the worker restarts, the platform never notices', () => {
  it('reload, SIGTERM and kill -9 of the worker under 40 messages/s: no delivery finally fails, no conversation is opened to humans', async () => {
    sandbox = new NimchatSandbox({ deliveryConcurrency: 64 });
    await sandbox.start();
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const port = await freePort();
    const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Supervised bot', outgoingUrl: `http://127.0.0.1:${port}/api/nimchat` });
    served = await startServeChild([], {
      ...cleanEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      STORAGE_URL: `sqlite:${path.join(dir, 'state.sqlite')}`,
      NIMCHAT_BASE_URL: sandbox.baseUrl,
      NIMCHAT_BOT_TOKEN: bot.accessToken!,
      NIMCHAT_WEBHOOK_SECRET: bot.secret!,
      LOG_LEVEL: 'info',
    });
    const { supervisorPid } = served;
    let workerPid = served.workerPid;

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
    await pause(2000);
    process.kill(supervisorPid, 'SIGHUP');
    workerPid = await served.replaced(workerPid);
    await pause(2000);
    process.kill(workerPid, 'SIGTERM');
    workerPid = await served.replaced(workerPid);
    await pause(2000);
    process.kill(workerPid, 'SIGKILL');
    workerPid = await served.replaced(workerPid);
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

    expect(await served.stop()).toBe(0);
    // The worker went with it.
    expect(() => process.kill(workerPid, 0)).toThrow();
  }, 240_000);
});
