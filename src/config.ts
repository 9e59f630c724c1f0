/**
 * Configuration from the environment, validated with zod. Every problem is reported in
 * one ConfigError; messages name variables, never their values.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { BusinessHoursVariables, businessHoursOf } from './availability/business-hours-variables';
import { HandoffFollowUpVariables, followUpOf } from './handoff-follow-up-variables';
import { WeeklyScheduleSchema } from './availability/weekly-schedule';
import { ConfigError } from './errors';
import { isPostgresUrl, passwordOf, postgresUrlProblem } from './storage/postgres-url';
import { bool, boundedInt, optionalText, positiveInt } from './env-values';
import type { PlatformSettings } from './platforms/platform-settings';
import { readTenantsFile, type TenantConfig } from './tenants/tenants-file';

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
  // A customer's burst of messages as one turn: how long after a message the bot waits for the next (0: off).
  MESSAGE_DEBOUNCE_MS: boundedInt('MESSAGE_DEBOUNCE_MS', 0, 10_000, 0),
  // The satisfaction question after a human stretch (default: on in sandbox mode, off otherwise).
  SATISFACTION_SURVEY: optionalText
    .refine((s) => s === undefined || /^(true|false|1|0|yes|no)$/i.test(s), { message: 'SATISFACTION_SURVEY must be true or false' })
    .transform((s) => (s === undefined ? undefined : /^(true|1|yes)$/i.test(s))),
  // This replica's name as a lease holder; it must differ between replicas and stay the same across restarts of one.
  TENANTS_FILE: optionalText,
  REPLICA_ID: optionalText.refine((s) => s === undefined || /^[\w.:@-]{1,200}$/.test(s), { message: 'REPLICA_ID must be 1-200 letters, digits or . : @ - _' }),
  PG_STATEMENT_TIMEOUT_MS: boundedInt('PG_STATEMENT_TIMEOUT_MS', 100, 3_600_000, 10_000),
  PG_CONNECT_TIMEOUT_MS: boundedInt('PG_CONNECT_TIMEOUT_MS', 100, 600_000, 5_000),

  RETENTION_EVENTS_HOURS: positiveInt('RETENTION_EVENTS_HOURS').transform((n) => n ?? 72),
  RETENTION_TRANSCRIPTS_DAYS: positiveInt('RETENTION_TRANSCRIPTS_DAYS').transform((n) => n ?? 30),
  RETENTION_STATE_DAYS: positiveInt('RETENTION_STATE_DAYS').transform((n) => n ?? 180),



  ...BusinessHoursVariables.shape,
  ...HandoffFollowUpVariables.shape,

  // Which SDK the example support bot (served without a bot of your own) is written on.
  EXAMPLE_BOT_SDK: optionalText
    .refine((s) => s === undefined || s === 'botbuilder' || s === 'agents-sdk', { message: 'EXAMPLE_BOT_SDK must be botbuilder or agents-sdk' })
    .transform((s) => (s ?? 'botbuilder') as 'botbuilder' | 'agents-sdk'),

  CONSOLE_TOKEN: optionalText.refine((s) => s === undefined || s.length >= 16, { message: 'CONSOLE_TOKEN must be at least 16 characters' }),
  CONSOLE_READ_ONLY: bool('CONSOLE_READ_ONLY', false),
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
  /** A customer's messages within this many ms of each other reach the bot as one turn (0: off). */
  debounceMs: number;
  /** Ask for a satisfaction rating when a human stretch ends. */
  satisfactionSurvey: boolean;
  /** With replicas sharing the store: this replica's lease-holder name (default: host and port, when the port is fixed). */
  replicaId?: string;
  /** Each configured platform's configuration, by platform name (`nimchatConfigOf(config)` … read it typed). */
  platforms: Record<string, unknown>;
  /** Each platform's variables as parsed, configured or not, by platform name. */
  variables: Record<string, unknown>;
  /** The tenants of TENANTS_FILE (none without it): each served at `/t/<id>/api/<platform>`. */
  tenants: TenantConfig[];
  /** TENANTS_FILE and the environment its references are read from (the app reloads it when it changes). */
  tenantsFile?: { path: string; environment: NodeJS.ProcessEnv };
  /** Business hours, holidays, the no-answer ladder and the wait notices. */
  handoff: HandoffPolicy;
  /** The SDK of the example support bot served when no bot is given. */
  exampleBotSdk: Env['EXAMPLE_BOT_SDK'];
  /** True when no platform is configured outside production: `serve` runs the sandbox. */
  sandbox: boolean;
  /** Every secret value, for the logger's redaction. */
  secrets: string[];
}

/** What `readConfig` needs of a platform: its name and its settings (a platform without settings reads nothing). */
export interface ConfiguredPlatform {
  name: string;
  title: string;
  settings?: PlatformSettings;
}

function requireTogether(env: Record<string, unknown>, names: readonly string[], platform: string, problems: string[]): boolean {
  const set = names.filter((n) => env[n] !== undefined);
  if (set.length === 0) return false;
  for (const n of names) {
    if (env[n] === undefined) problems.push(`${n} is required to enable ${platform} (${set.join(', ')} is set)`);
  }
  return set.length === names.length;
}

/** Every issue of a zod parse as a message naming its variable. */
function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '');
    return issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
  });
}

/**
 * Parses the environment: the core's variables and each platform's (its settings). `purpose: 'serve'`
 * also demands a complete configuration in production; the CLI's `register` and `doctor` use
 * `'inspect'` so a half-configured machine can still be checked. Every problem is reported at once.
 * `loadConfig` is this with the default platforms.
 */
export function readConfig(source: NodeJS.ProcessEnv, purpose: 'serve' | 'inspect', platforms: readonly ConfiguredPlatform[]): Config {
  const parsed = EnvSchema.safeParse(source);
  const problems: string[] = parsed.success ? [] : problemsOf(parsed.error);
  const variables: Record<string, Record<string, unknown>> = {};
  for (const platform of platforms) {
    if (!platform.settings) continue;
    const vars = platform.settings.variables.safeParse(source);
    if (vars.success) variables[platform.name] = vars.data;
    else problems.push(...problemsOf(vars.error));
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';

  const configured: Record<string, unknown> = {};
  let anyChannel = false;
  for (const platform of platforms) {
    const settings = platform.settings;
    const vars = variables[platform.name];
    if (!settings || !vars) continue;
    // A half-configured channel is worth a check (`doctor`) before it can serve.
    if (!requireTogether(vars, settings.enabledBy, platform.title, purpose === 'serve' || !settings.channel ? problems : [])) continue;
    configured[platform.name] = settings.build(vars);
    if (settings.channel) anyChannel = true;
  }
  let tenants: TenantConfig[] = [];
  if (env.TENANTS_FILE) {
    try {
      tenants = readTenantsFile(env.TENANTS_FILE, source, platforms);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
    // An endpoint of tenants may start with none: they are added to the file while it runs.
    anyChannel = true;
  }
  if (purpose === 'serve' && production && !anyChannel) {
    problems.push('no platform is configured: set NIMCHAT_BASE_URL and NIMCHAT_BOT_TOKEN (or the WOZTELL variables)');
  }
  if (purpose === 'serve' && !production && !anyChannel && env.PORT > 65532) {
    problems.push('PORT must be at most 65532 in sandbox mode: the emulated platforms listen on PORT+1 to PORT+3');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const secrets = [
    ...platforms.flatMap((platform) => (platform.settings && variables[platform.name] ? platform.settings.secrets(variables[platform.name]!) : [])),
    ...(isPostgresUrl(env.STORAGE_URL) ? passwordOf(env.STORAGE_URL) : []),
    env.CONSOLE_TOKEN,
    ...tenants.flatMap((tenant) => tenant.secrets),
  ].filter((s): s is string => s !== undefined);

  const sandbox = !production && !anyChannel;
  return {
    env,
    console: { enabled: sandbox || env.CONSOLE_TOKEN !== undefined, token: env.CONSOLE_TOKEN, readOnly: env.CONSOLE_READ_ONLY },
    production,
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    // The sandbox's platforms start empty on every run (ids restart at 1), so by default its state
    // starts empty too, in a file of its own; an explicit STORAGE_URL is honoured as given.
    storageUrl: !production && !anyChannel && !source.STORAGE_URL?.trim() ? SANDBOX_STORAGE_URL : env.STORAGE_URL,
    resetStore: !production && !anyChannel && !source.STORAGE_URL?.trim(),
    retention: {
      eventsMs: env.RETENTION_EVENTS_HOURS * 3600_000,
      transcriptsMs: env.RETENTION_TRANSCRIPTS_DAYS * 86_400_000,
      stateMs: env.RETENTION_STATE_DAYS * 86_400_000,
    },
    postgres: { poolSize: env.PG_POOL_SIZE, statementTimeoutMs: env.PG_STATEMENT_TIMEOUT_MS, connectTimeoutMs: env.PG_CONNECT_TIMEOUT_MS },
    replicaLeaseMs: env.REPLICA_LEASE_MS,
    debounceMs: env.MESSAGE_DEBOUNCE_MS,
    satisfactionSurvey: env.SATISFACTION_SURVEY ?? sandbox,
    replicaId: env.REPLICA_ID ?? (env.PORT !== 0 ? `${hostname()}:${env.PORT}` : undefined),
    platforms: configured,
    variables,
    tenants,
    tenantsFile: env.TENANTS_FILE ? { path: env.TENANTS_FILE, environment: source } : undefined,
    handoff: HandoffPolicySchema.parse({
      ...businessHoursOf(env),
      ...followUpOf(env),
    }),
    exampleBotSdk: env.EXAMPLE_BOT_SDK,
    sandbox: !production && !anyChannel,
    secrets,
  };
}
