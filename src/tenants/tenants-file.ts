/**
 * The tenants file (`TENANTS_FILE`): each tenant's id and the platform variables it is served with,
 * the same variables as the environment's (NIMCHAT_*, WOZTELL_*, INBENTA_*), read by each platform's own settings.
 * A value may name environment variables (`${ACME_BOT_TOKEN}`), so the file itself need hold no secret.
 *
 *   { "tenants": { "acme": { "variables": { "NIMCHAT_BASE_URL": "https://chat.acme.com",
 *                                           "NIMCHAT_BOT_TOKEN": "${ACME_NIMCHAT_BOT_TOKEN}", … } } } }
 *
 * Every problem of every tenant is reported at once, naming the tenant and the variable, never a value.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors';
import type { PlatformSettings } from '../platforms/platform-settings';
import { TenantIdSchema } from './tenant-scope';
import { BusinessHoursVariables, businessHoursOf } from '../availability/business-hours-variables';
import { HandoffFollowUpVariables, followUpOf } from '../handoff-follow-up-variables';

const TenantEntrySchema = z.strictObject({
  /** As people write it, for the console and logs. */
  title: z.string().min(1).max(100).optional(),
  variables: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'a variable name is upper case (NIMCHAT_BOT_TOKEN)'), z.string()),
  /** Opens the console to this tenant's conversations only (at least 16 characters; best a `${…}` reference). */
  consoleToken: z.string().optional(),
});

/** Keyed by tenant id (checked with TenantIdSchema, so each bad id is named). */
export const TenantsFileSchema = z.strictObject({
  tenants: z.record(z.string(), TenantEntrySchema),
});
export type TenantsFile = z.infer<typeof TenantsFileSchema>;

/** What a tenants file needs of a platform: its name, title and settings. */
export interface TenantPlatform {
  name: string;
  title: string;
  settings?: PlatformSettings;
}

/** One tenant as the app serves it. */
export interface TenantConfig {
  id: string;
  title: string;
  /** Each of its platforms' configuration, by platform name (only the ones it configures). */
  platforms: Record<string, unknown>;
  /** Every secret value it holds (for the logger's redaction). */
  secrets: string[];
  /** Its operator's console token: the console shows them this tenant's conversations only. */
  consoleToken?: string;
  /** Its own business hours (HANDOFF_HOURS, HANDOFF_TIMEZONE, HANDOFF_HOLIDAYS in its variables); none: the environment's. */
  hours?: ReturnType<typeof businessHoursOf>;
  /** Its own follow-up (HANDOFF_NO_ANSWER_MINUTES, HANDOFF_WAIT_NOTICE_MINUTES, HANDOFF_CLOSED_MESSAGE), the ones it sets; the others: the environment's. */
  followUp?: ReturnType<typeof followUpOf>;
}

/** Reads and checks the file at `path`; a ConfigError lists every problem. */
export function readTenantsFile(path: string, env: NodeJS.ProcessEnv, platforms: readonly TenantPlatform[]): TenantConfig[] {
  return tenantsOf(readJson(path), env, platforms);
}

/**
 * The same, keeping the tenants without a problem: `failed` names the others (a running endpoint leaves
 * those as they were). A file that cannot be read or is not the schema is still a ConfigError.
 */
export function readTenantsFileLeniently(path: string, env: NodeJS.ProcessEnv, platforms: readonly TenantPlatform[]): { tenants: TenantConfig[]; failed: Set<string>; problems: string[] } {
  return collect(readJson(path), env, platforms);
}

/** The file as written (its schema checked, nothing resolved): what the CLI edits. A missing file: no tenants. */
export function readTenantsFileAsWritten(path: string): TenantsFile {
  if (!existsSync(path)) return { tenants: {} };
  const file = TenantsFileSchema.safeParse(readJson(path));
  if (!file.success) throw new ConfigError(file.error.issues.map((issue) => `TENANTS_FILE: ${issue.path.join('.') || 'the file'}: ${issue.message}`));
  return file.data;
}

/** Writes the file whole, then moves it into place: a reader (the running endpoint) never sees half of it. */
export function writeTenantsFile(path: string, file: TenantsFile): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  renameSync(temporary, path);
}

/**
 * A tenant's variables with the environment's references resolved, as far as they can be: the ones
 * whose reference is not set are left out and named (the CLI's register works with part of them).
 */
export function tenantVariables(entry: TenantsFile['tenants'][string], env: NodeJS.ProcessEnv): { variables: Record<string, string>; unresolved: string[] } {
  const variables: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [name, raw] of Object.entries(entry.variables)) {
    const value = resolveReferences(raw, env, (missing) => unresolved.push(`${name} (\${${missing}})`));
    if (value !== undefined) variables[name] = value;
  }
  return { variables, unresolved };
}

/** The environment variable a tenant's variable takes its whole value from (`${ACME_TOKEN}` → ACME_TOKEN), if it does. */
export function referenceOf(value: string | undefined): string | undefined {
  return /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value ?? '')?.[1];
}

function unresolvedWhy(reference: string): string {
  return reference.startsWith('file:') ? 'which cannot be read (or is empty)' : 'which is not set in the environment';
}

/** The file a tenant's variable takes its whole value from (`${file:/run/secrets/acme}`), if it does. */
export function fileReferenceOf(value: string | undefined): string | undefined {
  return /^\$\{file:([^}]+)\}$/.exec(value ?? '')?.[1];
}

function readSecretFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`TENANTS_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`TENANTS_FILE: ${path} is not valid JSON (${(error as Error).message})`]);
  }
}

/** The tenants of a parsed tenants file. */
export function tenantsOf(json: unknown, env: NodeJS.ProcessEnv, platforms: readonly TenantPlatform[]): TenantConfig[] {
  const { tenants, problems } = collect(json, env, platforms);
  if (problems.length > 0) throw new ConfigError(problems);
  return tenants;
}

function collect(json: unknown, env: NodeJS.ProcessEnv, platforms: readonly TenantPlatform[]): { tenants: TenantConfig[]; failed: Set<string>; problems: string[] } {
  const file = TenantsFileSchema.safeParse(json);
  if (!file.success) throw new ConfigError(file.error.issues.map((issue) => `TENANTS_FILE: ${issue.path.join('.') || 'the file'}: ${issue.message}`));
  const problems: string[] = [];
  const tenants: TenantConfig[] = [];
  const failed = new Set<string>();
  /** [tenant, variable, value] of the variables a platform wants one tenant's alone. */
  const ownValues: Array<[string, string, string]> = [];
  // Every platform with variables: its channels and its own ticketing project.
  const served = platforms.filter((p): p is TenantPlatform & { settings: PlatformSettings } => !!p.settings);
  const known = new Map(served.flatMap((p) => Object.keys(p.settings.variables.shape).map((name) => [name, p] as const)));
  const handoffNames = [...Object.keys(BusinessHoursVariables.shape), ...Object.keys(HandoffFollowUpVariables.shape)];
  const allowed = `${served.map((p) => p.title).join(', ')} variables, and ${handoffNames.join(', ')}`;
  for (const [id, entry] of Object.entries(file.data.tenants)) {
    const say = (problem: string) => {
      problems.push(`tenant "${id}": ${problem}`);
      failed.add(id);
    };
    const valid = TenantIdSchema.safeParse(id);
    if (!valid.success) {
      say(valid.error.issues[0]!.message);
      continue;
    }
    const variables: Record<string, string> = {};
    for (const [name, raw] of Object.entries(entry.variables)) {
      if (!known.has(name) && !handoffNames.includes(name)) {
        say(`${name} is not a variable a tenant can set (${allowed})`);
        continue;
      }
      const value = resolveReferences(raw, env, (missing) => say(`${name} refers to \${${missing}}, ${unresolvedWhy(missing)}`));
      if (value !== undefined) variables[name] = value;
    }
    const tenant: TenantConfig = { id, title: entry.title ?? id, platforms: {}, secrets: [] };
    if (entry.consoleToken !== undefined) {
      const token = resolveReferences(entry.consoleToken, env, (missing) => say(`consoleToken refers to \${${missing}}, ${unresolvedWhy(missing)}`));
      if (token !== undefined && token.length < 16) say('consoleToken must be at least 16 characters');
      else if (token !== undefined) {
        tenant.consoleToken = token;
        tenant.secrets.push(token);
      }
    }
    // The time zone alone changes nothing: hours or holidays make a tenant's own hours.
    if (variables.HANDOFF_HOURS !== undefined || variables.HANDOFF_HOLIDAYS !== undefined) {
      const hours = BusinessHoursVariables.safeParse(variables);
      if (hours.success) tenant.hours = businessHoursOf(hours.data);
      else for (const issue of hours.error.issues) say(issue.message.startsWith('HANDOFF_') ? issue.message : `${String(issue.path[0] ?? '')}: ${issue.message}`);
    }
    const followUpNames = new Set(Object.keys(HandoffFollowUpVariables.shape).filter((name) => variables[name] !== undefined));
    if (followUpNames.size > 0) {
      const followUp = HandoffFollowUpVariables.safeParse(variables);
      if (followUp.success) tenant.followUp = followUpOf(followUp.data, followUpNames);
      else for (const issue of followUp.error.issues) say(issue.message.startsWith('HANDOFF_') ? issue.message : `${String(issue.path[0] ?? '')}: ${issue.message}`);
    }
    for (const platform of served) {
      const { settings } = platform;
      const own = Object.keys(variables).filter((name) => known.get(name) === platform);
      if (own.length === 0) continue;
      const parsed = settings.variables.safeParse(variables);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) say(`${String(issue.path[0] ?? '')}: ${issue.message}`);
        continue;
      }
      const missing = settings.enabledBy.filter((name) => parsed.data[name] === undefined);
      if (missing.length > 0) {
        say(`${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required to serve ${platform.title} (${own.join(', ')} ${own.length > 1 ? 'are' : 'is'} set)`);
        continue;
      }
      const tenantProblems = settings.tenantProblems?.(parsed.data) ?? [];
      for (const problem of tenantProblems) say(problem);
      if (tenantProblems.length > 0) continue;
      tenant.platforms[platform.name] = settings.build(parsed.data);
      for (const name of settings.tenantOwn ?? []) if (typeof parsed.data[name] === 'string') ownValues.push([id, name, parsed.data[name] as string]);
      tenant.secrets.push(...settings.secrets(parsed.data).filter((s): s is string => typeof s === 'string'));
    }
    const channels = served.filter((p) => p.settings.channel);
    if (!channels.some((p) => p.name in tenant.platforms) && !failed.has(id)) say(`configures no channel (${channels.map((p) => p.title).join(' or ')} variables): its customers could not reach the bot`);
    if (!failed.has(id)) tenants.push(tenant);
  }
  // What must be one tenant's alone: a Nimchat account (its conversations and its reclaim scans), a console
  // token, the secrets its webhooks are authenticated with (another's would pass its route's check).
  const owner = new Map<string, string>();
  for (const tenant of tenants) {
    const nimchat = tenant.platforms.nimchat as { baseUrl?: string; accountId?: number } | undefined;
    const claims = [
      ...(nimchat ? [[`the Nimchat account ${nimchat.accountId} at ${nimchat.baseUrl}`, `account:${nimchat.baseUrl}|${nimchat.accountId}`]] : []),
      ...(tenant.consoleToken ? [['its consoleToken', `console:${tenant.consoleToken}`]] : []),
      ...ownValues.filter(([of]) => of === tenant.id).map(([, name, value]) => [`its ${name}`, `${name}:${value}`]),
    ];
    for (const [what, key] of claims) {
      const other = owner.get(key!);
      if (other) {
        problems.push(`tenant "${tenant.id}": ${what} is tenant "${other}"'s already`);
        failed.add(tenant.id);
      } else owner.set(key!, tenant.id);
    }
    if (tenant.consoleToken && tenant.consoleToken === env.CONSOLE_TOKEN) {
      problems.push(`tenant "${tenant.id}": its consoleToken is CONSOLE_TOKEN (which sees every tenant)`);
      failed.add(tenant.id);
    }
    for (const [of, name, value] of ownValues) {
      if (of !== tenant.id || env[name] !== value) continue;
      problems.push(`tenant "${tenant.id}": its ${name} is the environment's (the endpoint's own routes would take its webhooks)`);
      failed.add(tenant.id);
    }
  }
  return { tenants: tenants.filter((t) => !failed.has(t.id)), failed, problems };
}

/**
 * `${NAME}` replaced by the environment's NAME, `${file:/path}` by the file's content (trimmed: a
 * mounted secret, read again at each reload); undefined (and `missing` told) when one is not there.
 */
function resolveReferences(value: string, env: NodeJS.ProcessEnv, missing: (name: string) => void): string | undefined {
  let complete = true;
  const resolved = value.replace(/\$\{(file:[^}]+|[A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
    const found = name.startsWith('file:') ? readSecretFile(name.slice('file:'.length)) : env[name];
    if (found === undefined || found === '') {
      complete = false;
      missing(name);
      return '';
    }
    return found;
  });
  return complete ? resolved : undefined;
}
