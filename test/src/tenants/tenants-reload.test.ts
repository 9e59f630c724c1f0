/**
 * Tenants added, changed and removed without a restart: the app watches TENANTS_FILE. An added tenant
 * is served (its webhooks answered, its secrets redacted), a removed one answers 404 tenant_unknown, and
 * a file with a problem changes nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { createLogger } from '../../../src/log';
import { NimchatAdminClient } from '../../../adapters/nimchat/client';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import { NimchatSandbox } from '../../../src/sandbox/nimchat/nimchat-sandbox';
import { messageCreated, postSigned } from '../../helpers/payloads';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('tenants added and removed while the endpoint runs', () => {
  let sandbox: NimchatSandbox;
  let app: App;
  let file: string;
  let bot: { accessToken?: string; secret?: string };
  const logLines: string[] = [];
  const environment: Record<string, string> = {};

  const tenant = (account: number) => ({
    variables: {
      NIMCHAT_BASE_URL: sandbox.baseUrl,
      NIMCHAT_BOT_TOKEN: '${TENANT_BOT_TOKEN}',
      NIMCHAT_WEBHOOK_SECRET: '${TENANT_WEBHOOK_SECRET}',
      NIMCHAT_ACCOUNT_ID: String(account),
    },
  });
  const write = (tenants: unknown) => writeFileSync(file, JSON.stringify({ tenants }));
  const served = () => [...app.tenants.keys()].sort();
  const post = (tenant: string) => postSigned(`${app.url}/t/${tenant}/api/nimchat`, bot.secret, messageCreated({ id: Math.floor(Math.random() * 1e9) }));

  beforeAll(async () => {
    sandbox = new NimchatSandbox({ deliveryRetryDelayMs: 10, deliveryTimeoutMs: 2000 });
    await sandbox.start();
    bot = await registerAgentBot(new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken), { accountId: 1, inboxId: 1, name: 'Tenant bot', outgoingUrl: 'http://127.0.0.1:9/unset' });
    Object.assign(environment, { TENANT_BOT_TOKEN: bot.accessToken!, TENANT_WEBHOOK_SECRET: bot.secret! });
    file = path.join(mkdtempSync(path.join(tmpdir(), 'tenants-')), 'tenants.json');
    write({ acme: tenant(1) });
    const config = loadConfig({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', TENANTS_FILE: file, ...environment });
    app = new App(config, { logger: createLogger({ level: 'debug', secrets: config.secrets, write: (line) => logLines.push(line) }), tenantsFilePollMs: 50, drainTimeoutMs: 2000 });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await sandbox?.close();
  });

  it('a tenant added to the file is served, a removed one answers 404, without a restart', async () => {
    expect(served()).toEqual(['acme']);
    expect((await post('acme')).status).toBe(200);
    expect((await post('globex')).data.error.code).toBe('tenant_unknown');

    // Globex added (account 1 of the same installation, for this test), Acme kept.
    write({ acme: tenant(1), globex: tenant(1) });
    await until('globex served', () => served().includes('globex'));
    expect((await post('globex')).status).toBe(200);
    expect(logLines.some((l) => l.includes('tenants reloaded') && l.includes('globex'))).toBe(true);
    // Its conversations get turns: a customer of the installation, now delivered to Globex's route, is answered.
    await registerAgentBot(new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken), { accountId: 1, inboxId: 1, name: 'Tenant bot', outgoingUrl: `${app.url}/t/globex/api/nimchat` });
    const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
    const contact = (await axios.post(`${pub}/contacts`, { name: 'Grace' })).data;
    const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
    await axios.post(`${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages`, { content: 'hello' });
    await until('the bot answered', () => sandbox.state.conversation(conv.id).messages.some((m) => m.message_type === 'outgoing'));
    expect(await app.transcripts.list('nimchat', `globex/1:${conv.id}`)).not.toEqual([]);

    // Acme removed.
    write({ globex: tenant(1) });
    await until('acme gone', () => !served().includes('acme'));
    const gone = await post('acme');
    expect(gone.status).toBe(404);
    expect(gone.data.error.code).toBe('tenant_unknown');
    expect((await post('globex')).status).toBe(200);
  });

  it("a changed tenant runs with its new settings: Globex's account changed, a webhook of the old account is refused", async () => {
    write({ globex: tenant(2) });
    await until('globex changed', () => logLines.some((l) => l.includes('tenants reloaded') && l.includes('"changed":["globex"]')));
    const refused = await post('globex');
    expect(refused.status).toBe(401);
    expect(refused.data.error.code).toBe('nimchat_account_mismatch');
    write({ globex: tenant(1) });
    await until('globex back on account 1', async () => (await post('globex')).status === 200);
  });

  it('a file with a problem changes nothing: the tenants served stay, the problem is logged', async () => {
    writeFileSync(file, JSON.stringify({ tenants: { globex: tenant(1), initech: { variables: { NIMCHAT_BASE_URL: 'https://x.example' } } } }));
    await until('the problem logged', () => logLines.some((l) => l.includes('the tenants file has problems')));
    expect(served()).toEqual(['globex']);
    expect((await post('globex')).status).toBe(200);
    const line = logLines.find((l) => l.includes('the tenants file has problems'))!;
    expect(line).toContain('tenant \\"initech\\"');
  });
});
