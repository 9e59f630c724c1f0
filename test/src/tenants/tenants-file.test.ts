/** The tenants file: read by the platforms' own settings, references resolved, every problem at once, no value in any message. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPlatforms } from '../../../adapters/platforms';
import { ConfigError } from '../../../src/errors';
import { loadConfig } from '../../../src/load-config';
import { tenantsOf } from '../../../src/tenants/tenants-file';

const nimchat = (extra: Record<string, string> = {}) => ({
  NIMCHAT_BASE_URL: 'https://chat.acme.example',
  NIMCHAT_BOT_TOKEN: '${ACME_TOKEN}',
  NIMCHAT_WEBHOOK_SECRET: '${ACME_SECRET}',
  NIMCHAT_ACCOUNT_ID: '3',
  ...extra,
});
const env = { ACME_TOKEN: 'acme-token-123456', ACME_SECRET: 'acme-secret-123456' };

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('no ConfigError');
}

describe('the tenants file', () => {
  it("builds each tenant's platforms with the environment's references resolved, and lists its secrets", () => {
    const [acme] = tenantsOf({ tenants: { acme: { title: 'Acme', variables: nimchat({ NIMCHAT_HANDOFF_TEAM_ID: '7' }) } } }, env, defaultPlatforms);
    expect(acme).toMatchObject({ id: 'acme', title: 'Acme', platforms: { nimchat: { baseUrl: 'https://chat.acme.example', botToken: 'acme-token-123456', accountId: 3, handoffTeamId: 7 } } });
    expect(acme!.secrets).toEqual(expect.arrayContaining(['acme-token-123456', 'acme-secret-123456']));
    expect(Object.keys(acme!.platforms)).toEqual(['nimchat']);
  });

  it('a tenant may have its own Inbenta project beside its channel; a project alone is no tenant', () => {
    const inbenta = { INBENTA_API_KEY: '${ACME_IB_KEY}', INBENTA_API_SECRET: '${ACME_IB_SECRET}', INBENTA_WEBHOOK_SECRET: '${ACME_IB_HOOKS}', INBENTA_TICKET_QUEUE: '4' };
    const withInbenta = { ...env, ACME_IB_KEY: 'acme-ib-key-123456', ACME_IB_SECRET: 'acme-ib-secret-123456', ACME_IB_HOOKS: 'acme-ib-hooks-123456' };
    const [acme] = tenantsOf({ tenants: { acme: { variables: { ...nimchat(), ...inbenta } } } }, withInbenta, defaultPlatforms);
    expect(Object.keys(acme!.platforms).sort()).toEqual(['inbenta', 'nimchat']);
    expect(acme!.platforms.inbenta).toMatchObject({ apiKey: 'acme-ib-key-123456', webhookSecret: 'acme-ib-hooks-123456', ticketQueue: 4 });
    expect(acme!.secrets).toEqual(expect.arrayContaining(['acme-ib-key-123456', 'acme-ib-secret-123456', 'acme-ib-hooks-123456']));
    expect(problemsOf(() => tenantsOf({ tenants: { acme: { variables: inbenta } } }, withInbenta, defaultPlatforms))).toEqual([
      'tenant "acme": configures no channel (Nimchat or WOZTELL variables): its customers could not reach the bot',
    ]);
  });

  it("a tenant's own follow-up: only the variables it sets, over the environment's; a bad one is named", () => {
    const [acme] = tenantsOf({ tenants: { acme: { variables: nimchat({ HANDOFF_NO_ANSWER_MINUTES: '3', HANDOFF_CLOSED_MESSAGE: 'Back {next}' }) } } }, env, defaultPlatforms);
    expect(acme!.followUp).toEqual({ noAnswerMinutes: 3, closedMessage: 'Back {next}' });
    const [plain] = tenantsOf({ tenants: { acme: { variables: nimchat() } } }, env, defaultPlatforms);
    expect(plain!.followUp).toBeUndefined();
    expect(problemsOf(() => tenantsOf({ tenants: { acme: { variables: nimchat({ HANDOFF_WAIT_NOTICE_MINUTES: 'soon' }) } } }, env, defaultPlatforms))).toEqual([
      expect.stringMatching(/^tenant "acme": .*HANDOFF_WAIT_NOTICE_MINUTES/),
    ]);
  });

  it('reports every problem of every tenant at once, naming the tenant and the variable, never a value', () => {
    const problems = problemsOf(() =>
      tenantsOf(
        {
          tenants: {
            acme: { variables: nimchat({ NIMCHAT_ACCOUNT_ID: '', NIMCHAT_BOT_TOKEN: '${MISSING_TOKEN}', NIMCHAT_TEAM: '1' }) },
            globex: { variables: { NIMCHAT_BASE_URL: 'https://chat.globex.example', NIMCHAT_BOT_TOKEN: 'globex-token-123456' } },
            initech: { variables: { INBENTA_TEAM: 'k', WOZTELL_ACCESS_TOKEN: 'woztell-token-123456' } },
            umbrella: { variables: { INBENTA_API_KEY: 'umbrella-key-123456', INBENTA_API_SECRET: 'umbrella-secret-123456' } },
          },
        },
        env,
        defaultPlatforms,
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'tenant "acme": NIMCHAT_TEAM is not a variable a tenant can set (Inbenta, Nimchat, WOZTELL variables, and HANDOFF_HOURS, HANDOFF_TIMEZONE, HANDOFF_HOLIDAYS, HANDOFF_NO_ANSWER_MINUTES, HANDOFF_WAIT_NOTICE_MINUTES, HANDOFF_CLOSED_MESSAGE)',
        'tenant "acme": NIMCHAT_BOT_TOKEN refers to ${MISSING_TOKEN}, which is not set in the environment',
        expect.stringMatching(/^tenant "globex": NIMCHAT_ACCOUNT_ID is required/),
        expect.stringMatching(/^tenant "globex": NIMCHAT_WEBHOOK_SECRET \(or NIMCHAT_URL_TOKEN_SECRET\) is required/),
        'tenant "initech": INBENTA_TEAM is not a variable a tenant can set (Inbenta, Nimchat, WOZTELL variables, and HANDOFF_HOURS, HANDOFF_TIMEZONE, HANDOFF_HOLIDAYS, HANDOFF_NO_ANSWER_MINUTES, HANDOFF_WAIT_NOTICE_MINUTES, HANDOFF_CLOSED_MESSAGE)',
        expect.stringMatching(/^tenant "initech": WOZTELL_CHANNEL_SECRET is required to serve WOZTELL/),
        // Its own Inbenta project: its events need its own secret, and a project alone reaches no customer.
        expect.stringMatching(/^tenant "umbrella": INBENTA_WEBHOOK_SECRET is required/),
      ]),
    );
    expect(problems.join('\n')).not.toMatch(/globex-token|woztell-token|acme-secret/);
  });

  it("what must be one tenant's alone: a Nimchat account, a console token (never CONSOLE_TOKEN), its webhooks' secrets (never the environment's); the time zone alone is no hours of its own", () => {
    const own = (n: number) => ({ NIMCHAT_WEBHOOK_SECRET: `secret-of-tenant-${n}` });
    const inbenta = (secret: string) => ({ INBENTA_API_KEY: 'k-123456', INBENTA_API_SECRET: 's-123456', INBENTA_WEBHOOK_SECRET: secret });
    const problems = problemsOf(() =>
      tenantsOf(
        {
          tenants: {
            acme: { variables: { ...nimchat(own(1)), ...inbenta('shared-hooks-secret') }, consoleToken: 'a-console-token-of-acme' },
            globex: { variables: nimchat(own(2)), consoleToken: 'a-console-token-of-acme' },
            initech: { variables: nimchat({ NIMCHAT_ACCOUNT_ID: '4', ...own(3) }), consoleToken: 'the-whole-endpoint-token' },
            // Another tenant's secrets: its webhooks would pass Acme's check, and the other way round.
            umbrella: { variables: { ...nimchat({ NIMCHAT_ACCOUNT_ID: '5', ...own(1) }), ...inbenta('shared-hooks-secret') } },
            // The environment's: the endpoint's own routes would take its webhooks.
            hooli: { variables: nimchat({ NIMCHAT_ACCOUNT_ID: '6', NIMCHAT_WEBHOOK_SECRET: 'the-environment-secret' }) },
          },
        },
        { ...env, CONSOLE_TOKEN: 'the-whole-endpoint-token', NIMCHAT_WEBHOOK_SECRET: 'the-environment-secret' },
        defaultPlatforms,
      ),
    );
    expect(problems).toEqual([
      'tenant "globex": the Nimchat account 3 at https://chat.acme.example is tenant "acme"\'s already',
      'tenant "globex": its consoleToken is tenant "acme"\'s already',
      'tenant "initech": its consoleToken is CONSOLE_TOKEN (which sees every tenant)',
      'tenant "umbrella": its INBENTA_WEBHOOK_SECRET is tenant "acme"\'s already',
      'tenant "umbrella": its NIMCHAT_WEBHOOK_SECRET is tenant "acme"\'s already',
      'tenant "hooli": its NIMCHAT_WEBHOOK_SECRET is the environment\'s (the endpoint\'s own routes would take its webhooks)',
    ]);
    const [acme] = tenantsOf({ tenants: { acme: { variables: nimchat({ HANDOFF_TIMEZONE: 'Europe/Paris' }) } } }, env, defaultPlatforms);
    expect(acme!.hours).toBeUndefined();
  });

  it('a ${file:…} reference reads the file (trimmed), again at each read; one that cannot be read is a problem', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tenants-'));
    writeFileSync(path.join(dir, 'token'), 'token-from-a-file-0001\n');
    const read = () => tenantsOf({ tenants: { acme: { variables: nimchat({ NIMCHAT_BOT_TOKEN: `\${file:${dir}/token}` }) } } }, env, defaultPlatforms)[0]!;
    expect(read().platforms.nimchat).toMatchObject({ botToken: 'token-from-a-file-0001' });
    expect(read().secrets).toContain('token-from-a-file-0001');
    writeFileSync(path.join(dir, 'token'), 'token-from-a-file-0002');
    expect(read().platforms.nimchat).toMatchObject({ botToken: 'token-from-a-file-0002' });
    expect(problemsOf(() => tenantsOf({ tenants: { acme: { variables: nimchat({ NIMCHAT_BOT_TOKEN: `\${file:${dir}/nope}` }) } } }, env, defaultPlatforms))).toContain(
      `tenant "acme": NIMCHAT_BOT_TOKEN refers to \${file:${dir}/nope}, which cannot be read (or is empty)`,
    );
  });

  it('refuses a tenant id that cannot be a URL segment and a file that is not the schema', () => {
    expect(problemsOf(() => tenantsOf({ tenants: { 'Acme Inc': { variables: nimchat() } } }, env, defaultPlatforms)).join('\n')).toMatch(/tenant id is 1–40 lower-case/);
    expect(problemsOf(() => tenantsOf({ tenant: {} }, env, defaultPlatforms)).join('\n')).toMatch(/TENANTS_FILE/);
  });

  it('TENANTS_FILE: read at load, its tenants served outside the sandbox, their secrets redacted; a missing file is a clear problem', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tenants-'));
    const file = path.join(dir, 'tenants.json');
    writeFileSync(file, JSON.stringify({ tenants: { acme: { variables: nimchat() } } }));
    const config = loadConfig({ NODE_ENV: 'production', TENANTS_FILE: file, ...env });
    expect(config.sandbox).toBe(false);
    expect(config.tenants.map((t) => t.id)).toEqual(['acme']);
    expect(config.secrets).toEqual(expect.arrayContaining(['acme-token-123456', 'acme-secret-123456']));
    expect(problemsOf(() => loadConfig({ TENANTS_FILE: path.join(dir, 'nope.json') })).join('\n')).toMatch(/TENANTS_FILE: cannot read .*nope\.json \(ENOENT\)/);
    writeFileSync(file, '{ not json');
    expect(problemsOf(() => loadConfig({ TENANTS_FILE: file })).join('\n')).toMatch(/is not valid JSON/);
  });
});
