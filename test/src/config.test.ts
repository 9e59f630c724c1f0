import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/load-config';
import { nimchatConfigOf } from '../../adapters/nimchat/config';
import { ConfigError } from '../../src/errors';

function problems(env: Record<string, string>, purpose: 'serve' | 'inspect' = 'serve'): string[] {
  try {
    loadConfig(env, purpose);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('defaults: sandbox outside production, port 3978, sqlite default URL, pending bot status', () => {
    const c = loadConfig({});
    expect(c.sandbox).toBe(true);
    expect(c.port).toBe(3978);
    expect(c.host).toBe('0.0.0.0');
    // the sandbox starts from an empty store of its own; a configured platform gets the durable default
    expect(c.storageUrl).toBe('sqlite:./data/sandbox.sqlite');
    expect(c.resetStore).toBe(true);
    expect(nimchatConfigOf(c)).toBeUndefined();
    const real = loadConfig({ NIMCHAT_BASE_URL: 'https://n.example', NIMCHAT_BOT_TOKEN: 't' });
    expect(real.storageUrl).toBe('sqlite:./data/handoff.sqlite');
    expect(real.resetStore).toBe(false);
    expect(loadConfig({ STORAGE_URL: 'sqlite:/tmp/x.sqlite' })).toMatchObject({ storageUrl: 'sqlite:/tmp/x.sqlite', resetStore: false });
  });

  it('enables Nimchat with its two variables and parses the optional ones', () => {
    const c = loadConfig({
      NIMCHAT_BASE_URL: 'https://chat.example.com/',
      NIMCHAT_BOT_TOKEN: 'bot-token-123',
      NIMCHAT_BOT_STATUSES: 'pending, snoozed',
      NIMCHAT_HANDOFF_TEAM_ID: '3',
      NIMCHAT_RESOLVE_ON_TICKET: 'false',
    });
    expect(c.sandbox).toBe(false);
    expect(nimchatConfigOf(c)).toMatchObject({ baseUrl: 'https://chat.example.com', botStatuses: ['pending', 'snoozed'], handoffTeamId: 3, resolveOnTicket: false });
  });

  it('NIMCHAT_RECLAIM: bot by default, humans or off, anything else refused by name', () => {
    const base = { NIMCHAT_BASE_URL: 'https://chat.example.com', NIMCHAT_BOT_TOKEN: 'bot-token-123' };
    expect(nimchatConfigOf(loadConfig(base))?.reclaim).toBe('bot');
    expect(nimchatConfigOf(loadConfig({ ...base, NIMCHAT_RECLAIM: 'humans' }))?.reclaim).toBe('humans');
    expect(nimchatConfigOf(loadConfig({ ...base, NIMCHAT_RECLAIM: 'off' }))?.reclaim).toBe('off');
    expect(problems({ ...base, NIMCHAT_RECLAIM: 'sometimes' })).toEqual(['NIMCHAT_RECLAIM must be bot, humans or off']);
  });

  it('lists every problem in one error and never echoes a value', () => {
    const env = {
      PORT: 'eighty',
      NIMCHAT_BASE_URL: 'ftp://nope',
      NIMCHAT_BOT_STATUSES: 'pending,waiting',
      NIMCHAT_HANDOFF_AGENT_ID: '-2',
      NIMCHAT_URL_TOKEN_SECRET: 'short-secret',
      STORAGE_URL: 'redis://x',
    };
    const list = problems(env);
    expect(list).toHaveLength(6);
    expect(list.join('\n')).toMatch(/PORT/);
    expect(list.join('\n')).toMatch(/NIMCHAT_BOT_STATUSES/);
    expect(list.join('\n')).not.toContain('short-secret');
    expect(list.join('\n')).not.toContain('ftp://nope');
  });

  it('refuses a partial platform configuration, naming what is missing', () => {
    expect(problems({ NIMCHAT_BASE_URL: 'https://chat.example.com' })).toEqual([
      'NIMCHAT_BOT_TOKEN is required to enable Nimchat (NIMCHAT_BASE_URL is set)',
    ]);
    expect(problems({ WOZTELL_CHANNEL_SECRET: 'x' })[0]).toMatch(/WOZTELL_ACCESS_TOKEN is required/);
    expect(problems({ INBENTA_API_KEY: 'k' })[0]).toMatch(/INBENTA_API_SECRET is required/);
  });

  it('in production, no platform is a start-up error; inspect mode tolerates a missing bot token', () => {
    expect(problems({ NODE_ENV: 'production' })[0]).toMatch(/no platform is configured/);
    expect(problems({ NIMCHAT_BASE_URL: 'https://c.example.com', NIMCHAT_ADMIN_TOKEN: 'a' }, 'inspect')).toEqual([]);
  });

  it('in sandbox mode PORT leaves room for the emulated platforms on PORT+1..PORT+3', () => {
    expect(problems({ PORT: '65533' })).toEqual(['PORT must be at most 65532 in sandbox mode: the emulated platforms listen on PORT+1 to PORT+3']);
    expect(problems({ PORT: '65532' })).toEqual([]);
    expect(problems({ PORT: '0' })).toEqual([]);
    expect(problems({ PORT: '65535', NIMCHAT_BASE_URL: 'https://c.example.com', NIMCHAT_BOT_TOKEN: 'tok-abcdef' })).toEqual([]);
  });

  it('collects every secret for redaction', () => {
    const c = loadConfig({ NIMCHAT_BASE_URL: 'https://c.example.com', NIMCHAT_BOT_TOKEN: 'tok-abcdef', NIMCHAT_WEBHOOK_SECRET: 'sec-abcdef' });
    expect(c.secrets).toEqual(['tok-abcdef', 'sec-abcdef']);
  });

  it('PostgreSQL: postgres:// and postgresql:// URLs with sslmode, the pool variables, the password among the secrets', () => {
    const c = loadConfig({ STORAGE_URL: 'postgresql://bot:p%40ss-w0rd!@db.internal:6432/handoff?sslmode=verify-full', PG_POOL_SIZE: '25', PG_STATEMENT_TIMEOUT_MS: '3000', PG_CONNECT_TIMEOUT_MS: '1500' });
    expect(c).toMatchObject({ storageUrl: 'postgresql://bot:p%40ss-w0rd!@db.internal:6432/handoff?sslmode=verify-full', resetStore: false, postgres: { poolSize: 25, statementTimeoutMs: 3000, connectTimeoutMs: 1500 } });
    expect(c.secrets).toEqual(['p@ss-w0rd!', 'p%40ss-w0rd!']);
    expect(loadConfig({ STORAGE_URL: 'postgres://localhost/handoff' }).postgres).toEqual({ poolSize: 10, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 });
    expect(problems({ STORAGE_URL: 'postgres:///handoff?host=/var/run/postgresql' })).toEqual([]);
  });

  it('PostgreSQL: a bad URL or pool variable is a clear problem that never repeats the URL or its password', () => {
    const list = problems({
      STORAGE_URL: 'postgres://bot:hunter22@db:5432/handoff?sslmode=sometimes',
      PG_POOL_SIZE: '0',
      PG_STATEMENT_TIMEOUT_MS: 'ten',
      PG_CONNECT_TIMEOUT_MS: '99999999',
    });
    expect(list).toEqual([
      "STORAGE_URL's sslmode must be one of disable, prefer, require, verify-ca, verify-full, no-verify",
      'PG_POOL_SIZE must be a whole number from 1 to 1000',
      'PG_STATEMENT_TIMEOUT_MS must be a whole number from 100 to 3600000',
      'PG_CONNECT_TIMEOUT_MS must be a whole number from 100 to 600000',
    ]);
    expect(problems({ STORAGE_URL: 'postgres:///handoff' })).toEqual(['STORAGE_URL must name the PostgreSQL host (postgres://user:password@host:port/database)']);
    expect(problems({ STORAGE_URL: 'postgres://bot:hunter22@db:99999/handoff' })[0]).toMatch(/STORAGE_URL/);
    const all = [...list, ...problems({ STORAGE_URL: 'postgres://bot:hunter22@/handoff' }), ...problems({ STORAGE_URL: 'postgres://bot:hunter22@db:99999/handoff' }), ...problems({ STORAGE_URL: 'postgres://bot:hunter%zz@db/handoff' })].join('\n');
    expect(all).not.toContain('hunter');
    expect(all).not.toContain('db:');
  });
});
