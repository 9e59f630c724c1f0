/** Nimchat installations (sandboxes) for tests of several tenants: each with its agent bot, its customers. */
import axios from 'axios';
import { NimchatAdminClient } from '../../adapters/nimchat/client';
import { registerAgentBot } from '../../adapters/nimchat/register';
import { NimchatSandbox } from '../../src/sandbox/nimchat/nimchat-sandbox';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface Installation {
  sandbox: NimchatSandbox;
  admin: NimchatAdminClient;
  token: string;
  secret: string;
}

export async function installation(): Promise<Installation> {
  const sandbox = new NimchatSandbox({ deliveryRetryDelayMs: 10, deliveryTimeoutMs: 2000 });
  await sandbox.start();
  const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
  const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Tenant bot', outgoingUrl: 'http://127.0.0.1:9/unset' });
  return { sandbox, admin, token: bot.accessToken!, secret: bot.secret! };
}

export async function customer(sandbox: NimchatSandbox, name: string, email?: string) {
  const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
  const contact = (await axios.post(`${pub}/contacts`, { name, ...(email ? { email } : {}) })).data;
  const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
  const base = `${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages`;
  return {
    id: conv.id as number,
    say: async (text: string) => (await axios.post(base, { content: text })).data.id as number,
    received: () => sandbox.state.conversation(conv.id).messages.filter((m) => m.message_type === 'outgoing' && !m.private).map((m) => m.content ?? ''),
  };
}

