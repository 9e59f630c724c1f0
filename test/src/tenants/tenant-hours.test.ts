/**
 * A tenant's own business hours: Acme is closed today (a holiday in its HANDOFF_HOLIDAYS), Globex keeps
 * the environment's hours (none: open). Acme's customer asking for a human is told when it opens and
 * stays with the bot; Globex's is handed off.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { silentLogger } from '../../../src/log';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import { customer, installation, until, type Installation } from '../../helpers/nimchat-installations';

describe("a tenant's own business hours", () => {
  let acme: Installation;
  let globex: Installation;
  let app: App;

  beforeAll(async () => {
    [acme, globex] = [await installation(), await installation()];
    const today = new Date().toISOString().slice(0, 10);
    const variables = (i: Installation) => ({ NIMCHAT_BASE_URL: i.sandbox.baseUrl, NIMCHAT_BOT_TOKEN: i.token, NIMCHAT_WEBHOOK_SECRET: i.secret, NIMCHAT_ACCOUNT_ID: '1', NIMCHAT_HANDOFF_TEAM_ID: '1' });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tenants-')), 'tenants.json');
    writeFileSync(file, JSON.stringify({ tenants: { acme: { variables: { ...variables(acme), HANDOFF_TIMEZONE: 'UTC', HANDOFF_HOLIDAYS: today } }, globex: { variables: variables(globex) } } }));
    const config = loadConfig({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', TENANTS_FILE: file });
    expect(config.tenants.find((t) => t.id === 'acme')?.hours?.holidays).toEqual([today]);
    app = new App(config, { logger: silentLogger, drainTimeoutMs: 2000 });
    await app.start();
    for (const [id, i] of [['acme', acme], ['globex', globex]] as const) {
      await registerAgentBot(i.admin, { accountId: 1, inboxId: 1, name: 'Tenant bot', outgoingUrl: `${app.url}/t/${id}/api/nimchat` });
    }
  });

  afterAll(async () => {
    await app?.stop();
    await acme?.sandbox.close();
    await globex?.sandbox.close();
  });

  it("Acme's customer hears Acme is closed and stays with the bot; Globex's is handed off", async () => {
    const a = await customer(acme.sandbox, 'Ada');
    const g = await customer(globex.sandbox, 'Grace');
    await a.say('I want to talk to a human');
    await g.say('I want to talk to a human');
    await until("Globex's handoff", () => globex.sandbox.state.conversation(g.id).status === 'open');
    await until("Acme's answer", () => a.received().length > 0);
    expect(a.received().join('\n')).toMatch(/Our team is away right now/);
    expect(acme.sandbox.state.conversation(a.id).status).toBe('pending');
    expect((await app.runtime.ownership.get('nimchat', `acme/1:${a.id}`))?.owner ?? 'bot').toBe('bot');
  });
});
