import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NimchatAdminClient } from '../../../adapters/nimchat/client';
import { isPrivateHost, registerAgentBot, RegistrationFailedError } from '../../../adapters/nimchat/register';
import { verifyUrlToken } from '../../../adapters/nimchat/verify';
import { nimchatRegister } from '../../../src/cli/register';
import { runChecks } from '../../../src/cli/doctor';
import { ConfigError, InvalidRequestError } from '../../../src/errors';
import { NimchatSandbox } from '../../../src/sandbox/nimchat/nimchat-sandbox';

describe('agent-bot registration against the sandbox admin API', () => {
  let sandbox: NimchatSandbox;
  const saved = { ...process.env };
  beforeEach(async () => {
    sandbox = new NimchatSandbox();
    await sandbox.start();
  });
  afterEach(async () => {
    process.env = { ...saved };
    await sandbox.close();
  });

  it('is idempotent: registering twice leaves one bot, attached once, URL updated when it changes', async () => {
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const first = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Support bot', outgoingUrl: 'https://bot.example.com/api/nimchat' });
    const second = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Support bot', outgoingUrl: 'https://bot.example.com/api/nimchat' });
    expect(first).toMatchObject({ created: true, attached: true });
    expect(second).toMatchObject({ created: false, updated: false, attached: false });
    expect(second.accessToken).toBe(first.accessToken);
    expect(second.secret).toBe(first.secret);
    expect(sandbox.state.agentBots.size).toBe(1);
    const moved = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Support bot', outgoingUrl: 'https://bot2.example.com/api/nimchat' });
    expect(moved.updated).toBe(true);
    expect(sandbox.state.agentBots.size).toBe(1);
    expect([...sandbox.state.agentBots.values()][0]!.outgoing_url).toBe('https://bot2.example.com/api/nimchat');
    expect(sandbox.state.inboxes[0]!.agentBotId).toBe(first.bot.id);
  });

  it('warns about private URLs and embeds the URL token when its secret is set', async () => {
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const r = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'b', outgoingUrl: 'http://127.0.0.1:3978/api/nimchat', urlTokenSecret: 'url-token-secret-0123456789' });
    expect(r.warnings.join()).toMatch(/SAFE_FETCH_ALLOW_PRIVATE_NETWORK/);
    const token = new URL(r.outgoingUrl).searchParams.get('token')!;
    expect(verifyUrlToken('url-token-secret-0123456789', token)).toEqual({ ok: true, claims: { account: 1, inbox: 1 } });
    expect(isPrivateHost('10.1.2.3')).toBe(true);
    expect(isPrivateHost('bot.example.com')).toBe(false);
  });

  it('the CLI command prints the variables to set, and twice still means one bot', async () => {
    process.env = { ...saved, NIMCHAT_BASE_URL: sandbox.baseUrl, NIMCHAT_ADMIN_TOKEN: sandbox.adminToken, NIMCHAT_ACCOUNT_ID: '1', NIMCHAT_INBOX_ID: '1' };
    const lines: string[] = [];
    expect(await nimchatRegister({ url: 'https://bot.example.com/api/nimchat', name: 'cli bot' }, (l) => lines.push(l))).toBe(0);
    expect(await nimchatRegister({ url: 'https://bot.example.com/api/nimchat', name: 'cli bot' }, (l) => lines.push(l))).toBe(0);
    const bot = [...sandbox.state.agentBots.values()];
    expect(bot).toHaveLength(1);
    expect(lines).toContain(`NIMCHAT_BOT_TOKEN=${bot[0]!.accessToken}`);
    expect(lines).toContain(`NIMCHAT_WEBHOOK_SECRET=${bot[0]!.secret}`);
    expect(lines.join('\n')).toMatch(/already up to date/);
  });

  it('refuses to attach a bot to an inbox that has another agent bot, says what would happen and changes nothing; --force replaces it and says so', async () => {
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const url = 'http://127.0.0.1:3978/api/nimchat';
    const running = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Sandbox support bot', outgoingUrl: url });
    process.env = { ...saved, NIMCHAT_BASE_URL: sandbox.baseUrl, NIMCHAT_ADMIN_TOKEN: sandbox.adminToken, NIMCHAT_ACCOUNT_ID: '1', NIMCHAT_INBOX_ID: '1' };
    const callsBefore = sandbox.calls.length;
    const writes = () => sandbox.calls.slice(callsBefore).filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`);

    const lines: string[] = [];
    const refused = (await nimchatRegister({ url, name: 'Other bot' }, (l) => lines.push(l)).catch((e: unknown) => e)) as InvalidRequestError;
    expect(refused).toBeInstanceOf(InvalidRequestError);
    expect(refused.code).toBe('register_inbox_has_other_bot');
    expect(refused.message).toMatch(/^Inbox 1 already has the agent bot "Sandbox support bot" \(id 1\)\. Attaching "Other bot" would replace it/);
    expect(refused.message).toMatch(/refuses them \(401\).*due to an error with the agent bot.*Nothing was created or changed.*--name "Sandbox support bot".*--force/);
    const elsewhere = (await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Other bot', outgoingUrl: 'https://other.example.com/api/nimchat' }).catch((e: unknown) => e)) as InvalidRequestError;
    expect(elsewhere.message).toMatch(/stop sending inbox 1's events to "Sandbox support bot" \(http:\/\/127\.0\.0\.1:3978\/api\/nimchat\)/);
    expect(writes()).toEqual([]);
    expect([...sandbox.state.agentBots.values()].map((b) => b.name)).toEqual(['Sandbox support bot']);
    expect(sandbox.state.inboxes[0]!.agentBotId).toBe(running.bot.id);
    expect(lines).toEqual([]);

    expect(await nimchatRegister({ url, name: 'Other bot', force: true }, (l) => lines.push(l))).toBe(0);
    const other = [...sandbox.state.agentBots.values()].find((b) => b.name === 'Other bot')!;
    expect(sandbox.state.inboxes[0]!.agentBotId).toBe(other.id);
    const text = lines.join('\n');
    expect(text).toMatch(/Agent bot "Other bot" \(id 2\) created\.\nAttached to inbox 1\./);
    expect(text).toMatch(/--force: it replaced the agent bot "Sandbox support bot" \(id 1\) on inbox 1/);
    expect(text).toMatch(/endpoint refuses them \(401\) until it runs with the variables below/);
    expect(lines).toContain(`NIMCHAT_BOT_TOKEN=${other.accessToken}`);
  });

  it('an inbox that does not exist is refused before anything is created', async () => {
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    const error = (await registerAgentBot(admin, { accountId: 1, inboxId: 99, name: 'Stray bot', outgoingUrl: 'https://bot.example.com/api/nimchat' }).catch((e: unknown) => e)) as InvalidRequestError;
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.code).toBe('register_inbox_not_found');
    expect(error.message).toMatch(/^Inbox 99 does not exist in account 1 .*Nothing was created or changed\.$/);
    process.env = { ...saved, NIMCHAT_BASE_URL: sandbox.baseUrl, NIMCHAT_ADMIN_TOKEN: sandbox.adminToken, NIMCHAT_ACCOUNT_ID: '1' };
    const cli = (await nimchatRegister({ url: 'https://bot.example.com/api/nimchat', inbox: '99' }, () => undefined).catch((e: unknown) => e)) as InvalidRequestError;
    expect(cli.code).toBe('register_inbox_not_found');
    expect(sandbox.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(sandbox.state.agentBots.size).toBe(0);
  });

  it('a step that fails after a change undoes it: a bot it created is deleted, an outgoing_url it changed is put back', async () => {
    const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
    sandbox.faults.push({ method: 'POST', path: /\/inboxes\/1\/set_agent_bot$/, status: 422, body: { error: 'Inbox is busy' }, times: 1 });
    const failed = (await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Half bot', outgoingUrl: 'https://bot.example.com/api/nimchat' }).catch((e: unknown) => e)) as RegistrationFailedError;
    expect(failed).toBeInstanceOf(RegistrationFailedError);
    expect(failed.code).toBe('register_failed');
    expect(failed.message).toMatch(/^Registration failed while attaching the bot to inbox 1: .*HTTP 422: Inbox is busy\. Undone: deleted the agent bot "Half bot" \(id 1\) it had created\.$/);
    expect(sandbox.state.agentBots.size).toBe(0);
    expect(sandbox.state.inboxes[0]!.agentBotId).toBeNull();

    const kept = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Kept bot', outgoingUrl: 'https://a.example.com/api/nimchat' });
    sandbox.faults.push({ method: 'GET', path: /\/agent_bots\/\d+$/, status: 422, body: { error: 'try later' }, times: 1 });
    const again = (await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Kept bot', outgoingUrl: 'https://b.example.com/api/nimchat' }).catch((e: unknown) => e)) as RegistrationFailedError;
    expect(again.message).toMatch(/while reading the bot's token and secret: .*Undone: put the outgoing_url of agent bot \d+ back to https:\/\/a\.example\.com\/api\/nimchat\./);
    expect(sandbox.state.agentBots.get(kept.bot.id)!.outgoing_url).toBe('https://a.example.com/api/nimchat');
    expect(sandbox.state.inboxes[0]!.agentBotId).toBe(kept.bot.id);
  });

  it('the CLI command names every missing input at once', async () => {
    process.env = { ...saved, NIMCHAT_BASE_URL: '', NIMCHAT_ADMIN_TOKEN: '', NIMCHAT_ACCOUNT_ID: '' };
    const error = (await nimchatRegister({}, () => undefined).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toHaveLength(4);
  });

  it('doctor tells a valid bot token from an invalid one, and reports the admin token', async () => {
    const bot = sandbox.state.createBot({ name: 'b', outgoing_url: 'https://x' });
    const good = await runChecks({ NIMCHAT_BASE_URL: sandbox.baseUrl, NIMCHAT_BOT_TOKEN: bot.accessToken, NIMCHAT_WEBHOOK_SECRET: bot.secret, NIMCHAT_ADMIN_TOKEN: sandbox.adminToken, NIMCHAT_ACCOUNT_ID: '1', STORAGE_URL: 'memory:' });
    expect(good.filter((c) => c.verdict === 'fail')).toEqual([]);
    expect(good.map((c) => c.text).join('\n')).toMatch(/agent bot token/);
    const bad = await runChecks({ NIMCHAT_BASE_URL: sandbox.baseUrl, NIMCHAT_BOT_TOKEN: 'wrong-token', STORAGE_URL: 'memory:' });
    expect(bad.find((c) => c.verdict === 'fail')?.text).toMatch(/refuses NIMCHAT_BOT_TOKEN \(Invalid Access Token\)/);
    const userToken = await runChecks({ NIMCHAT_BASE_URL: sandbox.baseUrl, NIMCHAT_BOT_TOKEN: sandbox.agentToken, STORAGE_URL: 'memory:' });
    expect(userToken.find((c) => c.verdict === 'fail')?.text).toMatch(/user token/);
    const down = await runChecks({ NIMCHAT_BASE_URL: 'http://127.0.0.1:9', NIMCHAT_BOT_TOKEN: 'x', STORAGE_URL: 'memory:' });
    expect(down.find((c) => c.verdict === 'fail')?.text).toMatch(/cannot be reached/);
  });

  it('doctor checks NIMCHAT_API_TOKEN: a user token reads the availability, a bot token cannot', async () => {
    const bot = sandbox.state.createBot({ name: 'b2', outgoing_url: 'https://x' });
    const base = { NIMCHAT_BASE_URL: sandbox.baseUrl, NIMCHAT_BOT_TOKEN: bot.accessToken, NIMCHAT_WEBHOOK_SECRET: bot.secret, STORAGE_URL: 'memory:' };
    expect((await runChecks({ ...base, NIMCHAT_API_TOKEN: sandbox.agentToken })).map((c) => c.text)).toContain('NIMCHAT_API_TOKEN is a user token: business hours, agents online and the queue can be read');
    expect((await runChecks({ ...base, NIMCHAT_API_TOKEN: bot.accessToken })).find((c) => c.verdict === 'fail')?.text).toMatch(/NIMCHAT_API_TOKEN is an agent bot token/);
    expect((await runChecks(base)).find((c) => c.text.startsWith('NIMCHAT_API_TOKEN'))?.verdict).toBe('warn');
  });
});
