import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NimchatAdminClient } from '../../../adapters/nimchat/client';
import { isPrivateHost, registerAgentBot } from '../../../adapters/nimchat/register';
import { verifyUrlToken } from '../../../adapters/nimchat/verify';
import { nimchatRegister } from '../../../src/cli/register';
import { runChecks } from '../../../src/cli/doctor';
import { ConfigError } from '../../../src/errors';
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
});
