/**
 * One sandbox Nimchat and an App that can be stopped and started again on the same store (a SQLite
 * file), on a test clock shared by both; the example bot records what reached it across restarts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import type { Activity } from 'botbuilder-core';
import { App, type AppOptions } from '../../src/app';
import { loadConfig } from '../../src/load-config';
import { createLogger } from '../../src/log';
import { NimchatAdminClient } from '../../adapters/nimchat/client';
import { registerAgentBot } from '../../adapters/nimchat/register';
import { NimchatSandbox } from '../../src/sandbox/nimchat/nimchat-sandbox';
import { recordingSupportBot, type Face } from './faces';
import { settle } from './settle';
import { TestClock } from './test-clock';

export async function startRestartable(startAt: number, env: Record<string, string> = {}, appOptions: AppOptions = {}, face: Face = 'botbuilder') {
  const clock = new TestClock(startAt);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-ladder-'));
  const file = path.join(dir, 'state.sqlite');
  const sandbox = new NimchatSandbox({ deliveryRetryDelayMs: 10, deliveryTimeoutMs: 2000, now: clock.now });
  await sandbox.start();
  const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
  const seen: Array<Partial<Activity>> = [];
  let app: App | undefined;
  const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;

  const r = {
    clock,
    sandbox,
    seen,
    get app(): App {
      return app!;
    },
    /** Starts the App (again) on the same file. */
    async start(extraEnv: Record<string, string> = {}): Promise<App> {
      const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Ladder bot', outgoingUrl: 'http://127.0.0.1:9/unset' });
      const config = loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        STORAGE_URL: `sqlite:${file}`,
        NIMCHAT_BASE_URL: sandbox.baseUrl,
        NIMCHAT_BOT_TOKEN: bot.accessToken!,
        NIMCHAT_WEBHOOK_SECRET: bot.secret!,
        NIMCHAT_HANDOFF_TEAM_ID: '1',
        ...env,
        ...extraEnv,
      });
      app = new App(config, {
        logger: createLogger({ level: 'silent', secrets: config.secrets }),
        createBot: (deps) => {
          const b = recordingSupportBot(face, deps);
          // Every turn of every run, in one list.
          Object.defineProperty(b, 'seen', { value: seen });
          return b;
        },
        clock,
        timers: { pollMs: 3_600_000 },
        drainTimeoutMs: 2000,
        ...appOptions,
        // One attempt per call (the outbox retries), unless the test sets its own client options.
        platformOptions: { ...appOptions.platformOptions, nimchat: { ...appOptions.platformOptions?.nimchat, http: { retry: { maxAttempts: 1 }, ...appOptions.platformOptions?.nimchat?.http } } },
      });
      await app.start();
      await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Ladder bot', outgoingUrl: `${app.url}/api/nimchat` });
      return app;
    },
    async stop(): Promise<void> {
      await app?.stop();
      app = undefined;
    },
    settle: () => settle(sandbox, app!.queue, app!.runtime.delivery),
    /** Moves time on, runs the alarms now due, and waits for what they caused. */
    async advance(ms: number): Promise<void> {
      clock.advance(ms);
      await app!.timerRunner.runDue();
      await r.settle();
    },
    async customer(name = 'Ada', email?: string) {
      const contact = (await axios.post(`${pub}/contacts`, { name, ...(email ? { email } : {}) })).data;
      const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
      const url = `${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages`;
      return {
        id: conv.id as number,
        say: async (content: string) => {
          await axios.post(url, { content });
        },
        received: async () => ((await axios.get(url)).data as Array<{ message_type: number; content: string }>).filter((m) => m.message_type === 1).map((m) => m.content),
      };
    },
    agentSay: (conversationId: number, content: string) =>
      axios.post(`${sandbox.baseUrl}/api/v1/accounts/1/conversations/${conversationId}/messages`, { content }, { headers: { api_access_token: sandbox.agentToken } }),
    agentSetStatus: (conversationId: number, status: string) =>
      axios.post(`${sandbox.baseUrl}/api/v1/accounts/1/conversations/${conversationId}/toggle_status`, { status }, { headers: { api_access_token: sandbox.agentToken } }),
    /** The bot-token calls made for a conversation, as "METHOD /suffix body". */
    botCalls(conversationId: number): Array<{ call: string; body: Record<string, unknown> }> {
      const prefix = `/api/v1/accounts/1/conversations/${conversationId}`;
      return sandbox.calls.filter((c) => c.by === 'bot' && c.path.startsWith(prefix)).map((c) => ({ call: `${c.method} ${c.path.slice(prefix.length) || '/'}`, body: c.body }));
    },
    async close(): Promise<void> {
      await r.stop();
      await sandbox.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}

export type Restartable = Awaited<ReturnType<typeof startRestartable>>;
