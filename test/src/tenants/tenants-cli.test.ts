/**
 * `handoff tenants add|list|check|remove` and `handoff nimchat register --tenant` against a sandbox
 * Nimchat: a tenant is added with references to the environment, its bot registered at its route, the
 * environment completed with what register printed, checked, and removed. A file with a problem is
 * never written.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nimchatRegister } from '../../../src/cli/register';
import { tenantsCommand } from '../../../src/cli/tenants';
import { runChecks } from '../../../src/cli/doctor';
import { ConfigError } from '../../../src/errors';
import { NimchatSandbox } from '../../../src/sandbox/nimchat/nimchat-sandbox';

describe('the tenants command line', () => {
  let sandbox: NimchatSandbox;
  let file: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    sandbox = new NimchatSandbox();
    await sandbox.start();
    file = path.join(mkdtempSync(path.join(tmpdir(), 'tenants-')), 'tenants.json');
  });
  afterAll(async () => {
    process.env = { ...saved };
    await sandbox.close();
  });

  it('add (checked, never written with a problem), register at the tenant route, check, list, remove', async () => {
    const lines: string[] = [];
    const out = (line: string) => lines.push(line);
    const set = [`NIMCHAT_BASE_URL=${sandbox.baseUrl}`, 'NIMCHAT_BOT_TOKEN=${ACME_BOT_TOKEN}', 'NIMCHAT_WEBHOOK_SECRET=${ACME_WEBHOOK_SECRET}', 'NIMCHAT_ADMIN_TOKEN=${ACME_ADMIN_TOKEN}', 'NIMCHAT_ACCOUNT_ID=1', 'NIMCHAT_INBOX_ID=1'];
    process.env = { ...saved, TENANTS_FILE: file, ACME_ADMIN_TOKEN: sandbox.adminToken };

    // The bot token and secret do not exist yet: the tenant cannot be added, and the file is not written.
    await expect(tenantsCommand('add', 'acme', { set, title: 'Acme' }, out)).rejects.toThrow(ConfigError);
    expect(() => readFileSync(file)).toThrow();

    // Registered first: the tenant's admin token and account come from its entry (written with --replace later).
    process.env.ACME_BOT_TOKEN = 'placeholder-token';
    process.env.ACME_WEBHOOK_SECRET = 'placeholder-secret';
    expect(await tenantsCommand('add', 'acme', { set, title: 'Acme' }, out)).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).tenants.acme.variables.NIMCHAT_BOT_TOKEN).toBe('${ACME_BOT_TOKEN}');
    await expect(nimchatRegister({ tenant: 'acme', url: 'https://bot.example.com/api/nimchat' }, out)).rejects.toThrow(/the tenant's route/);
    expect(await nimchatRegister({ tenant: 'acme', url: 'https://bot.example.com/t/acme/api/nimchat', name: 'Acme bot' }, out)).toBe(0);
    const bot = [...sandbox.state.agentBots.values()][0]!;
    expect(bot.outgoing_url).toBe('https://bot.example.com/t/acme/api/nimchat');
    // It names the environment variables the file refers to.
    expect(lines).toContain(`ACME_BOT_TOKEN=${bot.accessToken}`);
    expect(lines).toContain(`ACME_WEBHOOK_SECRET=${bot.secret}`);
    process.env.ACME_BOT_TOKEN = bot.accessToken;
    process.env.ACME_WEBHOOK_SECRET = bot.secret;

    lines.length = 0;
    expect(await tenantsCommand('check', 'acme', {}, out)).toBe(0);
    expect(lines.join('\n')).toMatch(/tenant "acme": Nimchat at .* answers and NIMCHAT_BOT_TOKEN is an agent bot token/);
    // doctor checks each tenant too.
    expect((await runChecks({ ...process.env, NODE_ENV: 'production', STORAGE_URL: 'memory:' })).map((c) => c.text).join('\n')).toMatch(/tenant "acme": Nimchat at/);

    // Adding it again needs --replace, which keeps its title and console token unless given.
    await expect(tenantsCommand('add', 'acme', { set }, out)).rejects.toThrow(/--replace/);
    process.env.ACME_CONSOLE_TOKEN = 'acme-console-token-0001';
    expect(await tenantsCommand('add', 'acme', { set, replace: true, consoleToken: '${ACME_CONSOLE_TOKEN}' }, out)).toBe(0);
    expect(await tenantsCommand('add', 'acme', { set, replace: true }, out)).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).tenants.acme).toMatchObject({ title: 'Acme', consoleToken: '${ACME_CONSOLE_TOKEN}' });
    // A second tenant with an unknown variable is refused, the file unchanged.
    const before = readFileSync(file, 'utf8');
    await expect(tenantsCommand('add', 'globex', { set: [...set, 'NIMCHAT_TEAM=3'] }, out)).rejects.toThrow(/NIMCHAT_TEAM is not a variable a tenant can set/);
    expect(readFileSync(file, 'utf8')).toBe(before);

    lines.length = 0;
    expect(await tenantsCommand('list', undefined, {}, out)).toBe(0);
    expect(lines).toEqual(['acme (Acme): Nimchat at /t/acme/api/nimchat']);

    expect(await tenantsCommand('remove', 'acme', {}, out)).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ tenants: {} });
    await expect(tenantsCommand('remove', 'acme', {}, out)).rejects.toThrow(/no tenant "acme"/);
    await expect(tenantsCommand('add', 'Not An Id', { set }, out)).rejects.toThrow(/lower-case/);
  });
});
