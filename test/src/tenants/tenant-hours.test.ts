/**
 * A tenant's own business hours and follow-up: Acme is closed today (a holiday in its HANDOFF_HOLIDAYS)
 * and says so in its own words (HANDOFF_CLOSED_MESSAGE); Globex keeps the environment's hours (none:
 * open) but has its own no-answer ladder (HANDOFF_NO_ANSWER_MINUTES) and no wait notices
 * (HANDOFF_WAIT_NOTICE_MINUTES=0), where the environment's are 10 and 5 minutes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { silentLogger } from '../../../src/log';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import { NoAnswerLadder } from '../../../dialogs/handoff-wait/no-answer-ladder';
import { customer, installation, until, type Installation } from '../../helpers/nimchat-installations';

describe("a tenant's own business hours and follow-up", () => {
  let acme: Installation;
  let globex: Installation;
  let app: App;

  beforeAll(async () => {
    [acme, globex] = [await installation(), await installation()];
    const today = new Date().toISOString().slice(0, 10);
    const variables = (i: Installation) => ({ NIMCHAT_BASE_URL: i.sandbox.baseUrl, NIMCHAT_BOT_TOKEN: i.token, NIMCHAT_WEBHOOK_SECRET: i.secret, NIMCHAT_ACCOUNT_ID: '1', NIMCHAT_HANDOFF_TEAM_ID: '1' });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tenants-')), 'tenants.json');
    writeFileSync(file, JSON.stringify({ tenants: { acme: { variables: { ...variables(acme), HANDOFF_TIMEZONE: 'UTC', HANDOFF_HOLIDAYS: today, HANDOFF_CLOSED_MESSAGE: 'Acme is closed today; we open {next}.' } }, globex: { variables: { ...variables(globex), HANDOFF_NO_ANSWER_MINUTES: '2', HANDOFF_WAIT_NOTICE_MINUTES: '0' } } } }));
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

  it("Acme's customer hears Acme is closed, in Acme's words, and stays with the bot; Globex's is handed off, on Globex's ladder", async () => {
    const a = await customer(acme.sandbox, 'Ada');
    const g = await customer(globex.sandbox, 'Grace');
    await a.say('I want to talk to a human');
    await g.say('I want to talk to a human');
    await until("Globex's handoff", () => globex.sandbox.state.conversation(g.id).status === 'open');
    await until("Acme's answer", () => a.received().length > 0);
    expect(a.received().join('\n')).toMatch(/Acme is closed today; we open \S/);
    expect(acme.sandbox.state.conversation(a.id).status).toBe('pending');
    expect((await app.runtime.ownership.get('nimchat', `acme/1:${a.id}`))?.owner ?? 'bot').toBe('bot');
  
    // Globex's ladder: its first step 2 minutes after the handoff (the environment's: 10).
    // (Set once the platform's echo of the handoff has come back: waited for.)
    const alarm = await until("Globex's first alarm", () => app.stores.timers.get(NoAnswerLadder.timerKey('nimchat', `globex/1:${g.id}`)));
    expect((alarm!.dueAt - Date.now()) / 60_000).toBeGreaterThan(1.5);
    expect((alarm!.dueAt - Date.now()) / 60_000).toBeLessThanOrEqual(2);
    // No wait notice for Globex's waiting customer (the environment's would send one now).
    const before = g.received().length;
    await g.say('hello? anyone?');
    // Its turn has run (the message is in the transcript: the notice would have been committed with it).
    await until('the message taken', async () => JSON.stringify(await app.transcripts.list('nimchat', `globex/1:${g.id}`)).includes('hello? anyone?'));
    await new Promise((r) => setTimeout(r, 300));
    expect(g.received().slice(before)).toEqual([]);
  });
});
