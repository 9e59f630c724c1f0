/**
 * Configuration from the environment, validated with zod. Every problem is reported in
 * one ConfigError; messages name variables, never their values.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseHolidays, parseHours } from './availability/parse-hours';
import { alwaysOpen, WeeklyScheduleSchema } from './availability/weekly-schedule';
import { isTimeZone } from './availability/zoned-time';
import { ConfigError } from './errors';
import { isPostgresUrl, passwordOf, postgresUrlProblem } from './storage/postgres-url';

const NIMCHAT_STATUSES = ['open', 'resolved', 'pending', 'snoozed'] as const;
export type NimchatStatus = (typeof NIMCHAT_STATUSES)[number];

const optionalText = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

const httpUrl = (name: string) =>
  optionalText.refine((s) => s === undefined || /^https?:\/\/[^\s]+$/i.test(s), {
    message: `${name} must be an http(s) URL`,
  });

const positiveInt = (name: string) =>
  optionalText
    .refine((s) => s === undefined || /^[1-9]\d*$/.test(s), { message: `${name} must be a positive whole number` })
    .transform((s) => (s === undefined ? undefined : Number(s)));

const boundedInt = (name: string, min: number, max: number, fallback: number) =>
  optionalText
    .refine((s) => s === undefined || (/^\d+$/.test(s) && Number(s) >= min && Number(s) <= max), {
      message: `${name} must be a whole number from ${min} to ${max}`,
    })
    .transform((s) => (s === undefined ? fallback : Number(s)));

const minutes = (name: string, fallback: number) =>
  optionalText
    .refine((s) => s === undefined || (/^\d+$/.test(s) && Number(s) <= 10_080), { message: `${name} must be a whole number of minutes (0 turns it off, at most 10080)` })
    .transform((s) => (s === undefined ? fallback : Number(s)));

const bool = (name: string, fallback: boolean) =>
  optionalText
    .refine((s) => s === undefined || /^(true|false|1|0|yes|no)$/i.test(s), { message: `${name} must be true or false` })
    .transform((s) => (s === undefined ? fallback : /^(true|1|yes)$/i.test(s)));

/** The raw environment: every variable of the contract, each parsed on its own. */
const EnvSchema = z.object({
  NODE_ENV: optionalText,
  PORT: optionalText
    .refine((s) => s === undefined || (/^\d+$/.test(s) && Number(s) < 65536), { message: 'PORT must be a port number (0-65535)' })
    .transform((s) => (s === undefined ? 3978 : Number(s))),
  HOST: optionalText.transform((s) => s ?? '0.0.0.0'),
  LOG_LEVEL: optionalText
    .refine((s) => s === undefined || ['debug', 'info', 'warn', 'error', 'silent'].includes(s), {
      message: 'LOG_LEVEL must be one of debug, info, warn, error, silent',
    })
    .transform((s) => (s ?? 'info') as 'debug' | 'info' | 'warn' | 'error' | 'silent'),
  STORAGE_URL: optionalText
    .superRefine((s, ctx) => {
      if (s === undefined || /^(memory:|sqlite:.+)$/.test(s)) return;
      const problem = isPostgresUrl(s) ? postgresUrlProblem(s) : 'STORAGE_URL must be memory:, sqlite:<path> or postgres://user:password@host:port/database';
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform((s) => s ?? 'sqlite:./data/handoff.sqlite'),
  // The PostgreSQL store's pool (used with a postgres:// STORAGE_URL only).
  PG_POOL_SIZE: boundedInt('PG_POOL_SIZE', 1, 1000, 10),
  // Replicas sharing a postgres:// store: how long a conversation's lease lasts unrenewed (a dead replica's conversations wait this long).
  REPLICA_LEASE_MS: boundedInt('REPLICA_LEASE_MS', 500, 600_000, 10_000),
  // This replica's name as a lease holder; it must differ between replicas and stay the same across restarts of one.
  REPLICA_ID: optionalText.refine((s) => s === undefined || /^[\w.:@-]{1,200}$/.test(s), { message: 'REPLICA_ID must be 1-200 letters, digits or . : @ - _' }),
  PG_STATEMENT_TIMEOUT_MS: boundedInt('PG_STATEMENT_TIMEOUT_MS', 100, 3_600_000, 10_000),
  PG_CONNECT_TIMEOUT_MS: boundedInt('PG_CONNECT_TIMEOUT_MS', 100, 600_000, 5_000),

  RETENTION_EVENTS_HOURS: positiveInt('RETENTION_EVENTS_HOURS').transform((n) => n ?? 72),
  RETENTION_TRANSCRIPTS_DAYS: positiveInt('RETENTION_TRANSCRIPTS_DAYS').transform((n) => n ?? 30),
  RETENTION_STATE_DAYS: positiveInt('RETENTION_STATE_DAYS').transform((n) => n ?? 180),

  NIMCHAT_BASE_URL: httpUrl('NIMCHAT_BASE_URL'),
  NIMCHAT_BOT_TOKEN: optionalText,
  NIMCHAT_WEBHOOK_SECRET: optionalText,
  NIMCHAT_URL_TOKEN_SECRET: optionalText.refine((s) => s === undefined || s.length >= 16, {
    message: 'NIMCHAT_URL_TOKEN_SECRET must be at least 16 characters',
  }),
  NIMCHAT_BOT_STATUSES: optionalText
    .transform((s) => (s ?? 'pending').split(',').map((x) => x.trim()).filter(Boolean))
    .refine((list) => list.length > 0 && list.every((x) => (NIMCHAT_STATUSES as readonly string[]).includes(x)), {
      message: `NIMCHAT_BOT_STATUSES must be a comma-separated list of ${NIMCHAT_STATUSES.join(', ')}`,
    })
    .transform((list) => list as NimchatStatus[]),
  NIMCHAT_HANDOFF_TEAM_ID: positiveInt('NIMCHAT_HANDOFF_TEAM_ID'),
  NIMCHAT_HANDOFF_AGENT_ID: positiveInt('NIMCHAT_HANDOFF_AGENT_ID'),
  NIMCHAT_RESOLVE_ON_TICKET: bool('NIMCHAT_RESOLVE_ON_TICKET', true),
  NIMCHAT_ADMIN_TOKEN: optionalText,
  NIMCHAT_API_TOKEN: optionalText,
  NIMCHAT_RECLAIM: optionalText
    .refine((s) => s === undefined || ['bot', 'humans', 'off'].includes(s), { message: 'NIMCHAT_RECLAIM must be bot, humans or off' })
    .transform((s) => (s ?? 'bot') as 'bot' | 'humans' | 'off'),
  NIMCHAT_FALLBACK_TEAM_ID: positiveInt('NIMCHAT_FALLBACK_TEAM_ID'),
  NIMCHAT_ACCOUNT_ID: positiveInt('NIMCHAT_ACCOUNT_ID'),
  NIMCHAT_INBOX_ID: positiveInt('NIMCHAT_INBOX_ID'),

  WOZTELL_ACCESS_TOKEN: optionalText,
  WOZTELL_CHANNEL_SECRET: optionalText,
  WOZTELL_BOT_API_URL: httpUrl('WOZTELL_BOT_API_URL').transform((s) => s ?? 'https://bot.api.woztell.com'),
  WOZTELL_OPEN_API_URL: httpUrl('WOZTELL_OPEN_API_URL').transform((s) => s ?? 'https://open.api.woztell.com/v3'),
  WOZTELL_INBOX_API_URL: httpUrl('WOZTELL_INBOX_API_URL').transform(
    (s) => s ?? 'https://api.inbox.woztell.sanuker.com/v1.0',
  ),
  WOZTELL_APP_ID: optionalText,
  WOZTELL_APP_INTEGRATION_ID: optionalText,
  WOZTELL_INBOX_SIGNATURE: optionalText,
  WOZTELL_HANDOFF_FOLDER: optionalText.transform((s) => s ?? 'main'),
  WOZTELL_BOT_FOLDER: optionalText,
  WOZTELL_RESOLVED_FOLDER: optionalText,
  WOZTELL_HANDOFF_AGENT_ID: optionalText,
  WOZTELL_FALLBACK_FOLDER: optionalText,

  HANDOFF_HOURS: optionalText.transform((s, ctx) => {
    if (s === undefined) return undefined;
    const parsed = parseHours(s);
    if (!parsed.ok) {
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: `HANDOFF_HOURS: ${problem}` });
      return z.NEVER;
    }
    return parsed.days;
  }),
  HANDOFF_TIMEZONE: optionalText
    .refine((s) => s === undefined || isTimeZone(s), { message: 'HANDOFF_TIMEZONE must be an IANA time zone name such as Europe/Paris or UTC' })
    .transform((s) => s ?? 'UTC'),
  HANDOFF_HOLIDAYS: optionalText.transform((s, ctx) => {
    if (s === undefined) return [];
    const parsed = parseHolidays(s);
    if (!parsed.ok) {
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: `HANDOFF_HOLIDAYS: ${problem}` });
      return z.NEVER;
    }
    return parsed.dates;
  }),
  HANDOFF_NO_ANSWER_MINUTES: minutes('HANDOFF_NO_ANSWER_MINUTES', 10),
  HANDOFF_WAIT_NOTICE_MINUTES: minutes('HANDOFF_WAIT_NOTICE_MINUTES', 5),
  HANDOFF_CLOSED_MESSAGE: optionalText,

  INBENTA_API_KEY: optionalText,
  INBENTA_API_SECRET: optionalText,
  INBENTA_AUTH_URL: httpUrl('INBENTA_AUTH_URL').transform((s) => s ?? 'https://api.inbenta.io'),
  INBENTA_TICKET_QUEUE: positiveInt('INBENTA_TICKET_QUEUE').transform((n) => n ?? 1),
  INBENTA_TICKET_SOURCE: positiveInt('INBENTA_TICKET_SOURCE').transform((n) => n ?? 3),
  INBENTA_WEBHOOK_SECRET: optionalText,
  INBENTA_USER_PERSONAL_SECRET: optionalText,
  INBENTA_EXTERNAL_ID: bool('INBENTA_EXTERNAL_ID', true),
  CONSOLE_TOKEN: optionalText.refine((s) => s === undefined || s.length >= 16, { message: 'CONSOLE_TOKEN must be at least 16 characters' }),
  CONSOLE_READ_ONLY: bool('CONSOLE_READ_ONLY', false),

  INBENTA_TICKET_LANGUAGE: optionalText.refine((s) => s === undefined || /^[a-z]{2}(-[A-Za-z]{2})?$/.test(s), {
    message: 'INBENTA_TICKET_LANGUAGE must be a language code such as en or en-GB',
  }),
});

export type Env = z.infer<typeof EnvSchema>;

/** What a handoff knows about the humans and how it follows up (every platform). */
export const HandoffPolicySchema = z.object({
  /** The configured business hours (HANDOFF_HOURS) with the holidays; holidays alone close those days of an otherwise open week. */
  schedule: WeeklyScheduleSchema.optional(),
  timeZone: z.string(),
  holidays: z.array(z.string()),
  /** Minutes without a human's public answer before each step of the no-answer ladder (0: off). */
  noAnswerMinutes: z.number().int().nonnegative(),
  /** At most one wait notice per this many minutes while the customer waits (0: off). */
  waitNoticeMinutes: z.number().int().nonnegative(),
  /** What a customer asking for a human outside business hours is told; `{next}` is the next opening ("Monday at 09:00"). */
  closedMessage: z.string().optional(),
});
export type HandoffPolicy = z.infer<typeof HandoffPolicySchema>;

export const SANDBOX_STORAGE_URL = 'sqlite:./data/sandbox.sqlite';

export interface NimchatConfig {
  baseUrl: string;
  botToken: string;
  webhookSecret?: string;
  urlTokenSecret?: string;
  botStatuses: NimchatStatus[];
  handoffTeamId?: number;
  handoffAgentId?: number;
  resolveOnTicket: boolean;
  adminToken?: string;
  accountId?: number;
  inboxId?: number;
  /** A user or administrator token: business hours, agents' availability and the queue (the bot token cannot read them). */
  apiToken?: string;
  /** What to do with a conversation Nimchat gave to humans because it could not reach the bot (needs `apiToken`). */
  reclaim: 'bot' | 'humans' | 'off';
  /** Where the no-answer ladder re-assigns a conversation (else it unassigns it so auto-assignment tries again). */
  fallbackTeamId?: number;
}

export interface WoztellConfig {
  accessToken: string;
  channelSecret: string;
  botApiUrl: string;
  openApiUrl: string;
  inboxApiUrl: string;
  appId?: string;
  appIntegrationId?: string;
  inboxSignature?: string;
  handoffFolder: string;
  botFolder?: string;
  resolvedFolder?: string;
  handoffAgentId?: string;
  /** Where the no-answer ladder moves a thread nobody answered. */
  fallbackFolder?: string;
}

export interface InbentaConfig {
  apiKey: string;
  apiSecret: string;
  authUrl: string;
  ticketQueue: number;
  ticketSource: number;
  webhookSecret?: string;
  userPersonalSecret?: string;
  /** Send our escalation id as the ticket's `external_id` (a retry finds the ticket). */
  externalId: boolean;
  language?: string;
}

/** The operator's web page at /console. */
export interface ConsoleConfig {
  /** Served at all: in sandbox mode, or with a token. */
  enabled: boolean;
  /** Asked once per browser session when set; without it only loopback clients of a sandbox get in. */
  token?: string;
  /** Retry, discard and the sandbox's roles are refused. */
  readOnly: boolean;
}

export interface Config {
  env: Env;
  console: ConsoleConfig;
  production: boolean;
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  storageUrl: string;
  /** Start from an empty store (sandbox mode without an explicit STORAGE_URL). */
  resetStore: boolean;
  /** How long finished events, transcripts and idle state are kept in the durable store. */
  retention: { eventsMs: number; transcriptsMs: number; stateMs: number };
  /** The PostgreSQL store's pool (with a postgres:// storageUrl). */
  postgres: { poolSize: number; statementTimeoutMs: number; connectTimeoutMs: number };
  /** With replicas sharing the store: a conversation lease's length. */
  replicaLeaseMs: number;
  /** With replicas sharing the store: this replica's lease-holder name (default: host and port, when the port is fixed). */
  replicaId?: string;
  /** Present when Nimchat is fully configured. */
  nimchat?: NimchatConfig;
  woztell?: WoztellConfig;
  inbenta?: InbentaConfig;
  /** Business hours, holidays, the no-answer ladder and the wait notices. */
  handoff: HandoffPolicy;
  /** True when no platform is configured outside production: `serve` runs the sandbox. */
  sandbox: boolean;
  /** Every secret value, for the logger's redaction. */
  secrets: string[];
}

function requireTogether(env: Env, names: Array<keyof Env>, platform: string, problems: string[]): boolean {
  const set = names.filter((n) => env[n] !== undefined);
  if (set.length === 0) return false;
  for (const n of names) {
    if (env[n] === undefined) problems.push(`${String(n)} is required to enable ${platform} (${set.join(', ')} is set)`);
  }
  return set.length === names.length;
}

/**
 * Parses the environment. `purpose: 'serve'` also demands a complete configuration in production;
 * the CLI's `register` and `doctor` use `'inspect'` so a half-configured machine can still be checked.
 */
export function loadConfig(
  source: NodeJS.ProcessEnv = process.env,
  purpose: 'serve' | 'inspect' = 'serve',
): Config {
  const parsed = EnvSchema.safeParse(source);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '');
      problems.push(issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';

  const nimchatOn = requireTogether(env, ['NIMCHAT_BASE_URL', 'NIMCHAT_BOT_TOKEN'], 'Nimchat', purpose === 'serve' ? problems : []);
  const woztellOn = requireTogether(env, ['WOZTELL_ACCESS_TOKEN', 'WOZTELL_CHANNEL_SECRET'], 'WOZTELL', problems);
  const inbentaOn = requireTogether(env, ['INBENTA_API_KEY', 'INBENTA_API_SECRET'], 'Inbenta', problems);
  const anyPlatform = nimchatOn || woztellOn;
  if (purpose === 'serve' && production && !anyPlatform) {
    problems.push('no platform is configured: set NIMCHAT_BASE_URL and NIMCHAT_BOT_TOKEN (or the WOZTELL variables)');
  }
  if (purpose === 'serve' && !production && !anyPlatform && env.PORT > 65532) {
    problems.push('PORT must be at most 65532 in sandbox mode: the emulated platforms listen on PORT+1 to PORT+3');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const nimchat: NimchatConfig | undefined = nimchatOn
    ? {
        baseUrl: env.NIMCHAT_BASE_URL!.replace(/\/+$/, ''),
        botToken: env.NIMCHAT_BOT_TOKEN!,
        webhookSecret: env.NIMCHAT_WEBHOOK_SECRET,
        urlTokenSecret: env.NIMCHAT_URL_TOKEN_SECRET,
        botStatuses: env.NIMCHAT_BOT_STATUSES,
        handoffTeamId: env.NIMCHAT_HANDOFF_TEAM_ID,
        handoffAgentId: env.NIMCHAT_HANDOFF_AGENT_ID,
        resolveOnTicket: env.NIMCHAT_RESOLVE_ON_TICKET,
        adminToken: env.NIMCHAT_ADMIN_TOKEN,
        accountId: env.NIMCHAT_ACCOUNT_ID,
        inboxId: env.NIMCHAT_INBOX_ID,
        apiToken: env.NIMCHAT_API_TOKEN,
        reclaim: env.NIMCHAT_RECLAIM,
        fallbackTeamId: env.NIMCHAT_FALLBACK_TEAM_ID,
      }
    : undefined;

  const woztell: WoztellConfig | undefined = woztellOn
    ? {
        accessToken: env.WOZTELL_ACCESS_TOKEN!,
        channelSecret: env.WOZTELL_CHANNEL_SECRET!,
        botApiUrl: env.WOZTELL_BOT_API_URL,
        openApiUrl: env.WOZTELL_OPEN_API_URL,
        inboxApiUrl: env.WOZTELL_INBOX_API_URL,
        appId: env.WOZTELL_APP_ID,
        appIntegrationId: env.WOZTELL_APP_INTEGRATION_ID,
        inboxSignature: env.WOZTELL_INBOX_SIGNATURE,
        handoffFolder: env.WOZTELL_HANDOFF_FOLDER,
        botFolder: env.WOZTELL_BOT_FOLDER,
        resolvedFolder: env.WOZTELL_RESOLVED_FOLDER,
        handoffAgentId: env.WOZTELL_HANDOFF_AGENT_ID,
        fallbackFolder: env.WOZTELL_FALLBACK_FOLDER,
      }
    : undefined;

  const inbenta: InbentaConfig | undefined = inbentaOn
    ? {
        apiKey: env.INBENTA_API_KEY!,
        apiSecret: env.INBENTA_API_SECRET!,
        authUrl: env.INBENTA_AUTH_URL.replace(/\/+$/, ''),
        ticketQueue: env.INBENTA_TICKET_QUEUE,
        ticketSource: env.INBENTA_TICKET_SOURCE,
        webhookSecret: env.INBENTA_WEBHOOK_SECRET,
        userPersonalSecret: env.INBENTA_USER_PERSONAL_SECRET,
        externalId: env.INBENTA_EXTERNAL_ID,
        language: env.INBENTA_TICKET_LANGUAGE,
      }
    : undefined;

  const secrets = [
    env.NIMCHAT_BOT_TOKEN,
    env.NIMCHAT_WEBHOOK_SECRET,
    env.NIMCHAT_URL_TOKEN_SECRET,
    env.NIMCHAT_ADMIN_TOKEN,
    env.NIMCHAT_API_TOKEN,
    env.WOZTELL_ACCESS_TOKEN,
    env.WOZTELL_CHANNEL_SECRET,
    env.WOZTELL_INBOX_SIGNATURE,
    env.INBENTA_API_KEY,
    env.INBENTA_API_SECRET,
    env.INBENTA_WEBHOOK_SECRET,
    env.INBENTA_USER_PERSONAL_SECRET,
    ...(isPostgresUrl(env.STORAGE_URL) ? passwordOf(env.STORAGE_URL) : []),
    env.CONSOLE_TOKEN,
  ].filter((s): s is string => s !== undefined);

  const sandbox = !production && !anyPlatform;
  return {
    env,
    console: { enabled: sandbox || env.CONSOLE_TOKEN !== undefined, token: env.CONSOLE_TOKEN, readOnly: env.CONSOLE_READ_ONLY },
    production,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    // The sandbox's platforms start empty on every run (ids restart at 1), so by default its state
    // starts empty too, in a file of its own; an explicit STORAGE_URL is honoured as given.
    storageUrl: !production && !anyPlatform && !source.STORAGE_URL?.trim() ? SANDBOX_STORAGE_URL : env.STORAGE_URL,
    resetStore: !production && !anyPlatform && !source.STORAGE_URL?.trim(),
    retention: {
      eventsMs: env.RETENTION_EVENTS_HOURS * 3600_000,
      transcriptsMs: env.RETENTION_TRANSCRIPTS_DAYS * 86_400_000,
      stateMs: env.RETENTION_STATE_DAYS * 86_400_000,
    },
    postgres: { poolSize: env.PG_POOL_SIZE, statementTimeoutMs: env.PG_STATEMENT_TIMEOUT_MS, connectTimeoutMs: env.PG_CONNECT_TIMEOUT_MS },
    replicaLeaseMs: env.REPLICA_LEASE_MS,
    replicaId: env.REPLICA_ID ?? (env.PORT !== 0 ? `${hostname()}:${env.PORT}` : undefined),
    nimchat,
    woztell,
    inbenta,
    handoff: HandoffPolicySchema.parse({
      schedule: env.HANDOFF_HOURS
        ? { timeZone: env.HANDOFF_TIMEZONE, days: env.HANDOFF_HOURS, holidays: env.HANDOFF_HOLIDAYS }
        : env.HANDOFF_HOLIDAYS.length > 0
          ? alwaysOpen(env.HANDOFF_TIMEZONE, env.HANDOFF_HOLIDAYS)
          : undefined,
      timeZone: env.HANDOFF_TIMEZONE,
      holidays: env.HANDOFF_HOLIDAYS,
      noAnswerMinutes: env.HANDOFF_NO_ANSWER_MINUTES,
      waitNoticeMinutes: env.HANDOFF_WAIT_NOTICE_MINUTES,
      closedMessage: env.HANDOFF_CLOSED_MESSAGE,
    }),
    sandbox: !production && !anyPlatform,
    secrets,
  };
}
