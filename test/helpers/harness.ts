/** A sandbox Nimchat and the app under test, both on loopback, plus customer/agent helpers. */
import axios from 'axios';
import { App, type AppOptions } from '../../src/app';
import { loadConfig } from '../../src/load-config';
import { createLogger } from '../../src/log';
import { NimchatAdminClient } from '../../adapters/nimchat/client';
import { registerAgentBot } from '../../adapters/nimchat/register';
import { NimchatSandbox, type NimchatSandboxOptions } from '../../src/sandbox/nimchat/nimchat-sandbox';
import { recordingSupportBot, type Face, type RecordingBot, type RecordingSupportBot } from './faces';
import { settle } from './settle';

export { RecordingSupportBot } from './faces';

export interface HarnessOptions {
  env?: Record<string, string>;
  sandbox?: NimchatSandboxOptions;
  app?: AppOptions;
  /** Appended to the registered outgoing_url path (e.g. a query). */
  urlSuffix?: string;
  /** Registers with the URL token secret (NIMCHAT_URL_TOKEN_SECRET must be in env). */
  urlTokenSecret?: string;
  /** Configures NIMCHAT_API_TOKEN with the sandbox agent's user token. */
  apiToken?: boolean;
  /** The SDK the example bot is served through (default botbuilder). */
  face?: Face;
}

export interface Customer {
  sourceId: string;
  contactId: number;
  conversationId: number;
  say(text: string): Promise<number>;
  messages(): Promise<Array<{ id: number; content: string | null; message_type: number; content_type?: string; content_attributes?: any; sender?: any }>>;
  /** What the bot and agents wrote to the customer (outgoing, public). */
  received(): Promise<string[]>;
}

export async function startHarness(options: HarnessOptions = {}) {
  const sandbox = new NimchatSandbox({ deliveryRetryDelayMs: 10, deliveryTimeoutMs: 2000, ...options.sandbox });
  await sandbox.start();
  const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
  const placeholder = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Test bot', outgoingUrl: 'http://127.0.0.1:9/unset' });
  const logLines: string[] = [];
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    STORAGE_URL: 'memory:',
    NIMCHAT_BASE_URL: sandbox.baseUrl,
    NIMCHAT_BOT_TOKEN: placeholder.accessToken!,
    NIMCHAT_WEBHOOK_SECRET: placeholder.secret!,
    ...(options.apiToken ? { NIMCHAT_API_TOKEN: sandbox.agentToken } : {}),
    ...options.env,
  });
  let bot: RecordingBot | undefined;
  const app = new App(config, {
    logger: createLogger({ level: 'debug', secrets: config.secrets, write: (line) => logLines.push(line) }),
    createBot: (deps) => (bot = recordingSupportBot(options.face ?? 'botbuilder', deps)),
    drainTimeoutMs: 2000,
    ...options.app,
  });
  await app.start();
  const botUrl = `${app.url}/api/nimchat${options.urlSuffix ?? ''}`;
  await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Test bot', outgoingUrl: botUrl, urlTokenSecret: options.urlTokenSecret });
  const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
  const http = axios.create({ timeout: 5000 });
  const agentHeaders = { api_access_token: sandbox.agentToken };

  const harness = {
    sandbox,
    app,
    admin,
    logLines,
    secret: placeholder.secret!,
    botToken: placeholder.accessToken!,
    botUrl,
    /** The example bot under test (on the agents-sdk face a RecordingAgentsSupportBot: only `seen` is the same). */
    get bot(): RecordingSupportBot {
      return bot as RecordingSupportBot;
    },
    /** Waits until no webhook is in flight and no turn is queued, twice in a row. */
    settle: (): Promise<void> => settle(sandbox, app.queue, app.runtime.delivery, app.runtime.scheduler),
    async customer(name = 'Ada', email?: string): Promise<Customer> {
      const contact = (await http.post(`${pub}/contacts`, { name, ...(email ? { email } : {}) })).data;
      const conv = (await http.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
      const base = `${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages`;
      const c: Customer = {
        sourceId: contact.source_id,
        contactId: contact.id,
        conversationId: conv.id,
        say: async (text) => (await http.post(base, { content: text })).data.id,
        messages: async () => (await http.get(base)).data,
        received: async () => (await c.messages()).filter((m) => m.message_type === 1).map((m) => m.content ?? ''),
      };
      return c;
    },
    async agentSay(conversationId: number, content: string, isPrivate = false): Promise<void> {
      await http.post(`${sandbox.baseUrl}/api/v1/accounts/1/conversations/${conversationId}/messages`, { content, private: isPrivate }, { headers: agentHeaders });
    },
    async agentSetStatus(conversationId: number, status: string): Promise<void> {
      await http.post(`${sandbox.baseUrl}/api/v1/accounts/1/conversations/${conversationId}/toggle_status`, { status }, { headers: agentHeaders });
    },
    /** Bot-token calls made to the sandbox for a conversation, as "METHOD /suffix". */
    botCalls(conversationId: number): string[] {
      const prefix = `/api/v1/accounts/1/conversations/${conversationId}`;
      return sandbox.calls.filter((c) => c.by === 'bot' && c.path.startsWith(prefix)).map((c) => `${c.method} ${c.path.slice(prefix.length) || '/'}`);
    },
    async close(): Promise<void> {
      await app.stop();
      await sandbox.close();
    },
  };
  return harness;
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
