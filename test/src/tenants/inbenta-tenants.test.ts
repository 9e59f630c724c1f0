/**
 * Each tenant its own Inbenta project: Acme's and Globex's customers leave a message on one endpoint;
 * the two projects number their tickets alike (both sandboxes count from 1), yet each ticket, each agent
 * answer, each forwarded message and each closing stays with its own tenant. A third tenant without a
 * project (and an endpoint without one) is not offered tickets. A ticket event signed with another
 * tenant's secret is refused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { createLogger } from '../../../src/log';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import { registerTicketWebhooks } from '../../../adapters/inbenta/register';
import { inbentaRegisterWebhooks } from '../../../src/cli/inbenta';
import type { InbentaIntegration } from '../../../adapters/inbenta/platform';
import { InbentaSandbox } from '../../../src/sandbox/inbenta/inbenta-sandbox';
import type { TurnContext } from 'botbuilder-core';
import { DESCRIPTION_PROMPT } from '../../../dialogs/ticket-dialog';
import { WELCOME_BACK_TEXT } from '../../../src/bot/support-bot';
import { customer, installation, until, type Installation } from '../../helpers/nimchat-installations';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';

const project = (name: string) => ({ apiKey: `${name}-inbenta-key-0001`, apiSecret: `${name}-inbenta-secret-0001`, webhookSecret: `${name}-inbenta-hooks-0001` });

afterAll(() => dropTestDatabases());

describe.each(['memory', 'PostgreSQL'])('each tenant its own Inbenta project (%s)', (store) => {
  const nimchat: Record<string, Installation> = {};
  const inbenta: Record<string, InbentaSandbox> = {};
  const logLines: string[] = [];
  let app: App;

  beforeAll(async () => {
    for (const id of ['acme', 'globex', 'initech']) nimchat[id] = await installation();
    for (const id of ['acme', 'globex']) {
      inbenta[id] = new InbentaSandbox({ batchWindowMs: 10, deliveryRetryDelayMs: 10, project: project(id) });
      await inbenta[id].start();
    }
    const variables = (id: string) => {
      const i = nimchat[id]!;
      const ib = inbenta[id];
      return {
        NIMCHAT_BASE_URL: i.sandbox.baseUrl,
        NIMCHAT_BOT_TOKEN: i.token,
        NIMCHAT_WEBHOOK_SECRET: i.secret,
        NIMCHAT_ACCOUNT_ID: '1',
        // Globex keeps its conversations open while a ticket has them (the customer's words go to the ticket).
        ...(id === 'globex' ? { NIMCHAT_RESOLVE_ON_TICKET: 'false' } : {}),
        ...(ib ? { INBENTA_API_KEY: ib.apiKey, INBENTA_API_SECRET: ib.apiSecret, INBENTA_AUTH_URL: ib.authUrl, INBENTA_WEBHOOK_SECRET: ib.webhookSecret } : {}),
      };
    };
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tenants-')), 'tenants.json');
    writeFileSync(file, JSON.stringify({ tenants: Object.fromEntries(['acme', 'globex', 'initech'].map((id) => [id, { variables: variables(id) }])) }));
    const config = loadConfig({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', STORAGE_URL: store === 'memory' ? 'memory:' : await createTestDatabase(), TENANTS_FILE: file });
    app = new App(config, { logger: createLogger({ level: 'debug', secrets: config.secrets, write: (line) => logLines.push(line) }), drainTimeoutMs: 2000 });
    await app.start();
    for (const [id, i] of Object.entries(nimchat)) await registerAgentBot(i.admin, { accountId: 1, inboxId: 1, name: 'Tenant bot', outgoingUrl: `${app.url}/t/${id}/api/nimchat` });
    // Acme's through the command line (its project read from the tenants file), Globex's in code.
    const saved = process.env.TENANTS_FILE;
    process.env.TENANTS_FILE = file;
    try {
      const lines: string[] = [];
      expect(await inbentaRegisterWebhooks({ tenant: 'acme', url: app.url }, (line) => lines.push(line))).toBe(0);
      expect(lines[0]).toContain(`${app.url}/t/acme/api/inbenta`);
      await expect(inbentaRegisterWebhooks({ tenant: 'initech', url: app.url }, () => undefined)).rejects.toThrow(/tenant "initech" has no Inbenta project/);
      await expect(inbentaRegisterWebhooks({ tenant: 'acme', url: `${app.url}/api/inbenta` }, () => undefined)).rejects.toThrow(/the tenant's route/);
    } finally {
      if (saved === undefined) delete process.env.TENANTS_FILE;
      else process.env.TENANTS_FILE = saved;
    }
    expect(inbenta.acme!.hooks.map((hook) => hook.url)).toEqual([`${app.url}/t/acme/api/inbenta`, `${app.url}/t/acme/api/inbenta`]);
    const parts = app.tenants.get('globex')!.get('inbenta')!.parts as InbentaIntegration;
    await registerTicketWebhooks(parts.client, `${app.url}/t/globex/api/inbenta`, inbenta.globex!.webhookSecret);
  });

  afterAll(async () => {
    await app?.stop();
    for (const i of Object.values(nimchat)) await i.sandbox.close();
    for (const ib of Object.values(inbenta)) await ib.close();
  });

  const ownerOf = async (tenant: string, id: number) => (await app.runtime.ownership.get('nimchat', `${tenant}/1:${id}`))?.owner ?? 'bot';

  it('tickets, answers, forwards and closings stay with their tenant, though both projects number tickets alike', async () => {
    const a = await customer(nimchat.acme!.sandbox, 'Ada', 'ada@acme.test');
    const g = await customer(nimchat.globex!.sandbox, 'Grace', 'grace@globex.test');
    for (const [c, words] of [
      [a, 'My Acme anvil is cracked'],
      [g, 'My Globex invoice is wrong'],
    ] as const) {
      await c.say('I want to leave a message');
      await until('the description prompt', () => c.received().includes(DESCRIPTION_PROMPT));
      await c.say(words);
    }
    await until("both tickets' references", () => a.received().some((t) => t.includes('SANDBOX-')) && g.received().some((t) => t.includes('SANDBOX-')));

    const [acmeTicket, globexTicket] = [inbenta.acme!.tickets, inbenta.globex!.tickets];
    expect(acmeTicket).toHaveLength(1);
    expect(globexTicket).toHaveLength(1);
    expect(acmeTicket[0]!.uuid).toBe(globexTicket[0]!.uuid); // the same number in two projects
    expect(acmeTicket[0]!.message).toBe('My Acme anvil is cracked');
    expect(globexTicket[0]!.message).toBe('My Globex invoice is wrong');
    expect(JSON.stringify(acmeTicket[0]!.history)).not.toContain('Globex');
    expect(await ownerOf('acme', a.id)).toBe('ticket');
    expect(await ownerOf('globex', g.id)).toBe('ticket');
    // Each conversation's ticket is kept with its project: the same number elsewhere is not its ticket.
    expect((await app.runtime.ownership.get('nimchat', `acme/1:${a.id}`))?.details).toMatchObject({ ticketId: acmeTicket[0]!.uuid, desk: 'inbenta@acme' });
    expect((await app.runtime.ownership.get('nimchat', `globex/1:${g.id}`))?.details).toMatchObject({ ticketId: globexTicket[0]!.uuid, desk: 'inbenta@globex' });

    // Both agents answer ticket n at once (the two events alike but for the project): each customer reads
    // their own answer, and only theirs.
    const replies = [inbenta.acme!.agentAnswers(acmeTicket[0]!.uuid, 'We are sending a new anvil'), inbenta.globex!.agentAnswers(globexTicket[0]!.uuid, 'Your invoice is corrected')];
    expect(replies[0]!.uuid).toBe(replies[1]!.uuid);
    await until("Acme's answer", () => a.received().some((t) => t.includes('We are sending a new anvil')));
    await until("Globex's answer", () => g.received().some((t) => t.includes('Your invoice is corrected')));
    await new Promise((r) => setTimeout(r, 200));
    expect(g.received().join('\n')).not.toContain('anvil');
    expect(a.received().join('\n')).not.toContain('invoice');

    // Globex's customer writes while the ticket owns the conversation: added to Globex's ticket only.
    await g.say('It was invoice 42');
    await until("the forward to Globex's ticket", () => globexTicket[0]!.replies.some((r) => String(r.message).includes('invoice 42')));
    expect(acmeTicket[0]!.replies.some((r) => String(r.message).includes('invoice 42'))).toBe(false);

    // Globex closes its ticket: Globex's conversation goes back to the bot, Acme's stays with its ticket.
    // The bot takes its time over the news (a notice sent beside its turn, outside it, used to void
    // that turn's commit on PostgreSQL: no welcome back, no survey).
    const slowStatus = { onTurn: async (context: TurnContext, next: () => Promise<void>) => {
      if (context.activity.name === 'handoff.status') await new Promise((r) => setTimeout(r, 300));
      await next();
    } };
    for (const adapter of app.adapters()) adapter.use(slowStatus);
    inbenta.globex!.closeTicket(globexTicket[0]!.uuid);
    await until("Globex's closing", async () => (await ownerOf('globex', g.id)) === 'bot');
    await until("Globex's closing notice", () => g.received().some((t) => t.includes('has been closed')));
    await until("the bot's welcome back", () => g.received().some((t) => t.includes(WELCOME_BACK_TEXT)));
    expect(await ownerOf('acme', a.id)).toBe('ticket');
    expect(a.received().some((t) => t.includes('has been closed'))).toBe(false);

    // Acme's agent answers and closes at once, Nimchat slow to take the answer: every message reaches
    // the customer, the bot's (slow) turn included (an answer sent beside the turns voided it).
    nimchat.acme!.sandbox.faults.push({ method: 'POST', path: /messages$/, delayMs: 100, times: 1, when: (body) => String(body.content ?? '').includes('closing it now') });
    inbenta.acme!.agentAnswers(acmeTicket[0]!.uuid, 'Sent, closing it now');
    inbenta.acme!.closeTicket(acmeTicket[0]!.uuid);
    await until("Acme's welcome back", () => a.received().some((t) => t.includes(WELCOME_BACK_TEXT)));
    expect(a.received().filter((t) => t.includes('closing it now') || t.includes('has been closed') || t.includes(WELCOME_BACK_TEXT))).toEqual([
      expect.stringContaining('closing it now'),
      expect.stringContaining('has been closed'),
      WELCOME_BACK_TEXT,
    ]);
    expect(await ownerOf('acme', a.id)).toBe('bot');
    expect(logLines.filter((line) => /"level":"(error|warn)"/.test(line))).toEqual([]);
  });

  it("a ticket event signed with Acme's secret on Globex's route is refused and changes nothing", async () => {
    const g = await customer(nimchat.globex!.sandbox, 'Gus', 'gus@globex.test');
    await g.say('I want to leave a message');
    await until('the description prompt', () => g.received().includes(DESCRIPTION_PROMPT));
    await g.say('Where is my order');
    await until('the ticket', async () => (await ownerOf('globex', g.id)) === 'ticket');
    const ticket = inbenta.globex!.tickets.at(-1)!;
    const body = JSON.stringify([{ id: ticket.uuid, item: 'ticket', action: 'close', timestamp: 1 }]);
    const send = (secret: string) =>
      axios.post(`${app.url}/t/globex/api/inbenta`, body, { headers: { 'content-type': 'application/json', 'x-hook-signature': secret }, validateStatus: () => true });
    const forged = await send(inbenta.acme!.webhookSecret);
    expect(forged.status).toBe(401);
    expect(forged.data.error.code).toBe('inbenta_signature_invalid');
    await new Promise((r) => setTimeout(r, 200));
    expect(await ownerOf('globex', g.id)).toBe('ticket');
    // Globex's own secret is taken (the control: the same body is not refused for itself).
    expect((await send(inbenta.globex!.webhookSecret)).status).toBe(200);
  });

  it('a tenant without a project, on an endpoint without one, is not offered tickets', async () => {
    const c = await customer(nimchat.initech!.sandbox, 'Ivy', 'ivy@initech.test');
    await c.say('I want to leave a message');
    await until('an answer', () => c.received().length > 0);
    expect(c.received().join('\n')).toMatch(/leaving a message isn't available/);
    expect(await ownerOf('initech', c.id)).toBe('bot');
  });

  it("the outgoing calls are counted under each tenant, and no project's secret reaches a log line", async () => {
    const metrics = (await axios.get(`${app.url}/metrics`)).data as string;
    expect(metrics).toMatch(/handoff_outgoing_calls_total\{[^}]*platform="inbenta"[^}]*tenant="acme"/);
    expect(metrics).toMatch(/handoff_outgoing_calls_total\{[^}]*platform="inbenta"[^}]*tenant="globex"/);
    const secrets = Object.values(inbenta).flatMap((ib) => [ib.apiKey, ib.apiSecret, ib.webhookSecret]);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((line) => secrets.some((s) => line.includes(s)))).toEqual([]);
  });
});

describe("a tenant without its own project uses the endpoint's", () => {
  let umbrella: Installation;
  let ib: InbentaSandbox;
  let app: App;

  beforeAll(async () => {
    umbrella = await installation();
    ib = new InbentaSandbox({ batchWindowMs: 10, deliveryRetryDelayMs: 10 });
    await ib.start();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tenants-')), 'tenants.json');
    const variables = { NIMCHAT_BASE_URL: umbrella.sandbox.baseUrl, NIMCHAT_BOT_TOKEN: umbrella.token, NIMCHAT_WEBHOOK_SECRET: umbrella.secret, NIMCHAT_ACCOUNT_ID: '1', NIMCHAT_RESOLVE_ON_TICKET: 'false' };
    writeFileSync(file, JSON.stringify({ tenants: { umbrella: { variables } } }));
    const env = { INBENTA_API_KEY: ib.apiKey, INBENTA_API_SECRET: ib.apiSecret, INBENTA_AUTH_URL: ib.authUrl, INBENTA_WEBHOOK_SECRET: ib.webhookSecret };
    app = new App(loadConfig({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', TENANTS_FILE: file, ...env }), { logger: createLogger({ level: 'error' }), drainTimeoutMs: 2000 });
    await app.start();
    await registerAgentBot(umbrella.admin, { accountId: 1, inboxId: 1, name: 'Tenant bot', outgoingUrl: `${app.url}/t/umbrella/api/nimchat` });
    await registerTicketWebhooks(app.inbenta!.client, `${app.url}/api/inbenta`, ib.webhookSecret);
  });

  afterAll(async () => {
    await app?.stop();
    await umbrella?.sandbox.close();
    await ib?.close();
  });

  it('the ticket is opened there, its answers come back, the customer’s words go to it', async () => {
    const c = await customer(umbrella.sandbox, 'Uma', 'uma@umbrella.test');
    await c.say('I want to leave a message');
    await until('the description prompt', () => c.received().includes(DESCRIPTION_PROMPT));
    await c.say('My umbrella leaks');
    await until('the ticket', () => ib.tickets.length === 1 && c.received().some((t) => t.includes(ib.tickets[0]!.full_uuid)));
    ib.agentAnswers(ib.tickets[0]!.uuid, 'A new one is on its way');
    await until('the answer', () => c.received().some((t) => t.includes('A new one is on its way')));
    await c.say('Thanks, blue please');
    await until('the forward', () => ib.tickets[0]!.replies.some((r) => String(r.message).includes('blue please')));
    expect((await app.runtime.ownership.get('nimchat', `umbrella/1:${c.id}`))?.details).toMatchObject({ desk: 'inbenta' });
  });
});
