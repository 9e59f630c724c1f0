/**
 * Two tenants on one endpoint, each on a Nimchat installation of its own whose ids collide (account 1,
 * inbox 1, conversation 1 on both): served from a tenants file whose secrets come from the environment,
 * each at `/t/<tenant>/api/nimchat`, with its own bot token and secret. Their conversations, transcripts,
 * ownership and handoffs stay apart; one tenant's signature on another's route, or a payload naming an
 * account that is not the tenant's, is refused; no token reaches a log line; metrics carry the tenant.
 */
import http from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { createLogger } from '../../../src/log';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import { messageCreated, postSigned } from '../../helpers/payloads';
import { customer, installation, until, type Installation } from '../../helpers/nimchat-installations';
import { consoleClient } from '../../helpers/console-client';
import { endpointBanner } from '../../../src/hosting/banner';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ACME_CONSOLE_TOKEN = 'acme-operator-console-token';
const CHROMIUM = '/usr/bin/chromium';
const CONSOLE_TOKEN = 'the-whole-endpoint-console-token';

// On memory and on PostgreSQL (the store keys its rows by conversation id: a tenant's carry its prefix).
describe.each(['memory', 'PostgreSQL'])('two tenants on one endpoint (%s)', (store) => {
  let acme: Installation;
  let globex: Installation;
  let app: App;
  const logLines: string[] = [];

  beforeAll(async () => {
    [acme, globex] = [await installation(), await installation()];
    const dir = mkdtempSync(path.join(tmpdir(), 'tenants-'));
    const file = path.join(dir, 'tenants.json');
    const variables = (name: string, i: Installation) => ({
      NIMCHAT_BASE_URL: i.sandbox.baseUrl,
      NIMCHAT_BOT_TOKEN: `\${${name}_BOT_TOKEN}`,
      NIMCHAT_WEBHOOK_SECRET: `\${${name}_WEBHOOK_SECRET}`,
      NIMCHAT_ACCOUNT_ID: '1',
      NIMCHAT_HANDOFF_TEAM_ID: '1',
    });
    writeFileSync(file, JSON.stringify({ tenants: { acme: { title: 'Acme', variables: variables('ACME', acme), consoleToken: '${ACME_CONSOLE_TOKEN}' }, globex: { variables: variables('GLOBEX', globex) } } }));
    // The file holds no secret: they come from the environment.
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      STORAGE_URL: store === 'memory' ? 'memory:' : await createTestDatabase(),
      TENANTS_FILE: file,
      ACME_BOT_TOKEN: acme.token,
      ACME_WEBHOOK_SECRET: acme.secret,
      GLOBEX_BOT_TOKEN: globex.token,
      GLOBEX_WEBHOOK_SECRET: globex.secret,
      ACME_CONSOLE_TOKEN,
      CONSOLE_TOKEN,
    });
    app = new App(config, { logger: createLogger({ level: 'debug', secrets: config.secrets, write: (line) => logLines.push(line) }), drainTimeoutMs: 2000 });
    await app.start();
    for (const [id, i] of [['acme', acme], ['globex', globex]] as const) {
      await registerAgentBot(i.admin, { accountId: 1, inboxId: 1, name: 'Tenant bot', outgoingUrl: `${app.url}/t/${id}/api/nimchat` });
    }
  });

  afterAll(async () => {
    await app?.stop();
    await acme?.sandbox.close();
    await globex?.sandbox.close();
    await dropTestDatabases();
  });

  it('conversations with the same ids on two installations are two conversations: each answered on its own installation, with its own transcript and owner', async () => {
    const a = await customer(acme.sandbox, 'Ada');
    const g = await customer(globex.sandbox, 'Grace');
    expect(a.id).toBe(g.id); // the ids collide on the platforms
    await a.say('hello from acme');
    await g.say('hello from globex');
    await until('both answered', () => a.received().length > 0 && g.received().length > 0);

    // Only Acme's customer asks for a human: only Acme's conversation is handed off, on Acme's Nimchat.
    await a.say('I want to talk to a human');
    await until("Acme's handoff", () => acme.sandbox.state.conversation(a.id).status === 'open');
    await sleep(300);
    expect(globex.sandbox.state.conversation(g.id).status).toBe('pending');
    expect(globex.sandbox.state.conversation(g.id).messages.some((m) => m.private)).toBe(false);

    const ids = { acme: `acme/1:${a.id}`, globex: `globex/1:${g.id}` };
    const acmeTranscript = (await app.transcripts.list('nimchat', ids.acme)).map((e) => e.text);
    const globexTranscript = (await app.transcripts.list('nimchat', ids.globex)).map((e) => e.text);
    expect(acmeTranscript).toContain('hello from acme');
    expect(acmeTranscript).not.toContain('hello from globex');
    expect(globexTranscript).toContain('hello from globex');
    expect(globexTranscript).not.toContain('I want to talk to a human');
    expect((await app.runtime.ownership.get('nimchat', ids.acme))?.owner).toBe('human');
    expect((await app.runtime.ownership.get('nimchat', ids.globex))?.owner ?? 'bot').toBe('bot');
    // Each installation was called with its own token only.
    expect(acme.sandbox.calls.filter((c) => c.by === 'bot').length).toBeGreaterThan(0);
    expect(globex.sandbox.calls.filter((c) => c.by === 'bot').length).toBeGreaterThan(0);
  });

  it("refuses one tenant's signature on another tenant's route, and a payload naming an account that is not the tenant's", async () => {
    const body = messageCreated({ id: 9001, content: 'forged' });
    // Signed with Acme's secret, posted to Globex's route.
    expect((await postSigned(`${app.url}/t/globex/api/nimchat`, acme.secret, body)).status).toBe(401);
    // Signed with Acme's own secret on Acme's route, but naming account 2.
    const other = await postSigned(`${app.url}/t/acme/api/nimchat`, acme.secret, { ...body, account: { id: 2, name: 'Someone else' } });
    expect(other.status).toBe(401);
    expect(other.data.error.code).toBe('nimchat_account_mismatch');
    // A tenant nobody configured.
    const unknown = await postSigned(`${app.url}/t/initech/api/nimchat`, acme.secret, body);
    expect(unknown.status).toBe(404);
    expect(unknown.data.error.code).toBe('tenant_unknown');
    // The environment's route serves no platform here.
    expect((await postSigned(`${app.url}/api/nimchat`, acme.secret, body)).status).toBe(404);
    // The start banner says where the tenants' webhooks go.
    expect(endpointBanner(app)).toMatch(/\(POST \/t\/<tenant>\/api\/<platform> for 2 tenants \(acme, globex\), GET \/healthz/);
  });

  it("a tenant's adapter refuses to act on another tenant's conversation", async () => {
    const acmeAdapter = app.adapters().find((a) => a.tenant === 'acme')!;
    const reference = { channelId: 'nimchat', serviceUrl: globex.sandbox.baseUrl, conversation: { id: 'globex/1:1', isGroup: false, conversationType: 'nimchat', name: '' } };
    await expect(acmeAdapter.deliverMessage(reference, { type: 'message', text: 'x' })).rejects.toThrow(/not a conversation of tenant "acme"/);
    // Nor on one of no tenant.
    await expect(acmeAdapter.deliverMessage({ ...reference, conversation: { ...reference.conversation, id: '1:1' } }, { type: 'message', text: 'x' })).rejects.toThrow(/not a conversation of tenant "acme"/);
  });

  it("the console shows a tenant's operator that tenant's conversations only; CONSOLE_TOKEN sees every one", async () => {
    const acmeOperator = consoleClient(app.url);
    expect((await acmeOperator.login(ACME_CONSOLE_TOKEN)).status).toBe(200);
    const theirs = (await acmeOperator.get('/console/api/conversations')).data.conversations.map((c: { conversationId: string }) => c.conversationId);
    expect(theirs.length).toBeGreaterThan(0);
    expect(theirs.every((id: string) => id.startsWith('acme/'))).toBe(true);
    // Another tenant's timeline is as if it did not exist; the endpoint-wide health figures are not theirs either.
    const globexId = `globex/1:1`;
    expect((await acmeOperator.get(`/console/api/conversations/${encodeURIComponent(globexId)}/timeline`)).data.entries).toEqual([]);
    expect((await acmeOperator.get(`/console/api/conversations/${encodeURIComponent('acme/1:1')}/timeline`)).data.entries.length).toBeGreaterThan(0);
    expect((await acmeOperator.get('/console/api/health')).data.samples).toEqual([]);
    expect((await acmeOperator.get('/console/api/session')).data.tenant).toBe('acme');

    const everyone = consoleClient(app.url);
    expect((await everyone.login(CONSOLE_TOKEN)).status).toBe(200);
    const all = (await everyone.get('/console/api/conversations')).data.conversations.map((c: { conversationId: string }) => c.conversationId);
    expect(all).toEqual(expect.arrayContaining(['acme/1:1', 'globex/1:1']));
    // Globex has no console token: no wrong token opens anything.
    expect((await consoleClient(app.url).login('globex-guess-of-a-token')).status).toBe(401);
  });

  it("a tenant's operator's live stream announces its own conversations' changes only, without the endpoint's newest id", async () => {
    const acmeOperator = consoleClient(app.url);
    expect((await acmeOperator.login(ACME_CONSOLE_TOKEN)).status).toBe(200);
    const events: Array<{ event: string; data: string }> = [];
    const req = http.get(`${app.url}/console/api/stream`, { headers: { Cookie: acmeOperator.cookie! } }, (res) => {
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, data });
        }
      });
    });
    try {
      await until('hello', () => events.some((e) => e.event === 'hello'));
      expect(events.find((e) => e.event === 'hello')!.data).toBe('{}');
      // Globex's customer talks: nothing for Acme's operator (the poll runs every second).
      const g = await customer(globex.sandbox, 'Gil');
      await g.say('busy at globex');
      await until("Globex's answer", () => g.received().length > 0);
      await new Promise((r) => setTimeout(r, 2500));
      expect(events.filter((e) => e.event === 'changed')).toEqual([]);
      // Acme's customer talks: announced, with no endpoint-wide id.
      const a = await customer(acme.sandbox, 'Abe');
      await a.say('busy at acme');
      const changed = await until('a changed event', () => events.find((e) => e.event === 'changed'), 5000);
      expect(changed.data).toBe('{}');
    } finally {
      req.destroy();
    }
  });

  it.skipIf(!existsSync(CHROMIUM))(`a tenant's operator in a real browser (${CHROMIUM}): logs in with the tenant's token, sees its conversations and no other's`, async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${app.url}/console`);
      await page.fill('input[name=token]', ACME_CONSOLE_TOKEN);
      await page.press('input[name=token]', 'Enter');
      await page.locator('[data-conversation="acme/1:1"]').waitFor({ timeout: 10_000 });
      expect(await page.locator('[data-conversation^="globex/"]').count()).toBe(0);
      await page.locator('[data-conversation="acme/1:1"]').click();
      await page.locator('[data-testid=timeline] [data-kind=webhook]').first().waitFor({ timeout: 10_000 });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('no token or secret of either tenant is in a log line; metrics carry the tenant as a label', async () => {
    const secrets = [acme.token, acme.secret, globex.token, globex.secret];
    expect(logLines.length).toBeGreaterThan(0);
    // Whatever line would carry one (an error quoting a request, say) has it redacted: the tenants' secrets are the logger's.
    app.logger.warn('a line quoting credentials', { detail: `token ${globex.token}, secret ${acme.secret}` });
    expect(logLines.at(-1)).toContain('a line quoting credentials');
    expect(logLines.filter((line) => secrets.some((s) => line.includes(s)))).toEqual([]);
    const metrics = (await axios.get(`${app.url}/metrics`)).data as string;
    expect(metrics).toMatch(/handoff_webhooks_received_total\{platform="nimchat",tenant="acme"\} \d+/);
    expect(metrics).toMatch(/handoff_turns_total\{platform="nimchat",tenant="globex",type="message"\} \d+/);
    // The calls each tenant's credentials made, under its label.
    expect(metrics).toMatch(/handoff_outgoing_calls_total\{platform="nimchat",tenant="acme",status="200"\} \d+/);
  });
});
