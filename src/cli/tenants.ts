/**
 * `handoff tenants list|add|remove|check`: the tenants file (TENANTS_FILE, or --file). `add` and `remove`
 * write the file only when the result has no problem; a running endpoint picks the change up by itself.
 */
import { defaultPlatforms } from '../../adapters/platforms';
import { ConfigError } from '../errors';
import { TenantIdSchema } from '../tenants/tenant-scope';
import { readTenantsFile, readTenantsFileAsWritten, tenantsOf, writeTenantsFile, type TenantsFile } from '../tenants/tenants-file';
import { tenantChecks } from './doctor';

export interface TenantsArgs {
  file?: string;
  title?: string;
  /** `NAME=VALUE`, repeated. */
  set?: string[];
  /** `add` an existing tenant: replace its variables. */
  replace?: boolean;
  /** Its operator's console token (best a `${…}` reference). */
  consoleToken?: string;
}

const MARK = { ok: ' ok ', warn: 'warn', fail: 'FAIL' } as const;

export async function tenantsCommand(sub: string | undefined, id: string | undefined, args: TenantsArgs, out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const path = args.file ?? env.TENANTS_FILE;
  if (!path) throw new ConfigError(['the tenants file: give --file <path> or set TENANTS_FILE']);
  if (sub === 'list') return list(path, out, env);
  if (sub === 'check') return check(path, id, out, env);
  if (sub === 'add') return add(path, need(id), args, out, env);
  if (sub === 'remove') return remove(path, need(id), out, env);
  throw new ConfigError([`unknown tenants command "${sub ?? ''}": list, add <id>, remove <id> or check [<id>]`]);
}

function need(id: string | undefined): string {
  const parsed = TenantIdSchema.safeParse(id ?? '');
  if (!parsed.success) throw new ConfigError([id ? `"${id}": ${parsed.error.issues[0]!.message}` : 'the tenant id is required']);
  return parsed.data;
}

function list(path: string, out: (line: string) => void, env: NodeJS.ProcessEnv): number {
  const file = readTenantsFileAsWritten(path);
  const ids = Object.keys(file.tenants);
  if (ids.length === 0) {
    out(`No tenant in ${path}.`);
    return 0;
  }
  let problems: string[] = [];
  try {
    tenantsOf(file, env, defaultPlatforms);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems = error.problems;
  }
  for (const id of ids) {
    const entry = file.tenants[id]!;
    const platforms = defaultPlatforms.filter((p) => p.settings && Object.keys(entry.variables).some((name) => name in p.settings!.variables.shape));
    const own = problems.filter((p) => p.startsWith(`tenant "${id}"`));
    out(`${id}${entry.title ? ` (${entry.title})` : ''}: ${platforms.map((p) => `${p.title} at /t/${id}/api/${p.name}`).join(', ') || 'no platform'}${own.length > 0 ? ` — ${own.length} problem(s)` : ''}`);
    for (const problem of own) out(`  ${problem}`);
  }
  return problems.length > 0 ? 1 : 0;
}

async function check(path: string, id: string | undefined, out: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  let tenants;
  try {
    tenants = readTenantsFile(path, env, defaultPlatforms);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) out(`[${MARK.fail}] ${problem}`);
    return 1;
  }
  const chosen = id === undefined ? tenants : tenants.filter((t) => t.id === id);
  if (id !== undefined && chosen.length === 0) throw new ConfigError([`no tenant "${id}" in ${path}`]);
  let failed = 0;
  for (const tenant of chosen) {
    for (const c of await tenantChecks(tenant)) {
      out(`[${MARK[c.verdict]}] ${c.text}`);
      if (c.verdict === 'fail') failed++;
    }
  }
  out('');
  out(failed === 0 ? 'No problems found.' : `${failed} problem(s) found.`);
  return failed === 0 ? 0 : 1;
}

function add(path: string, id: string, args: TenantsArgs, out: (line: string) => void, env: NodeJS.ProcessEnv): number {
  const file = readTenantsFileAsWritten(path);
  if (file.tenants[id] && !args.replace) throw new ConfigError([`tenant "${id}" is in ${path} already: --replace replaces its variables`]);
  const variables: Record<string, string> = {};
  const problems: string[] = [];
  for (const assignment of args.set ?? []) {
    const at = assignment.indexOf('=');
    if (at <= 0) problems.push(`--set ${assignment.split('=')[0]}: expected NAME=VALUE`);
    else variables[assignment.slice(0, at)] = assignment.slice(at + 1);
  }
  if (Object.keys(variables).length === 0) problems.push('no variable: give --set NAME=VALUE for each (a value may be ${ENV_VARIABLE})');
  if (problems.length > 0) throw new ConfigError(problems);
  // Replaced: its variables are the ones given; its title and console token stay unless given.
  const before = file.tenants[id];
  const title = args.title ?? before?.title;
  const consoleToken = args.consoleToken ?? before?.consoleToken;
  const next: TenantsFile = { tenants: { ...file.tenants, [id]: { ...(title ? { title } : {}), variables, ...(consoleToken ? { consoleToken } : {}) } } };
  // Checked as the endpoint will read it; nothing is written when it has a problem.
  tenantsOf(next, env, defaultPlatforms);
  writeTenantsFile(path, next);
  out(`Tenant "${id}" ${file.tenants[id] ? 'replaced' : 'added'} in ${path}. A running endpoint serves it within a second or two:`);
  for (const platform of defaultPlatforms) {
    if (!platform.settings || !Object.keys(variables).some((name) => name in platform.settings!.variables.shape)) continue;
    const methods = [...new Set(platform.routes.map((route) => route.method))].join('|');
    const register = platform.name === 'inbenta' ? ` (register it: npm run handoff -- inbenta register-webhooks --tenant ${id} --url <public url>)` : platform.name === 'nimchat' ? ` (register it: npm run handoff -- nimchat register --tenant ${id} --url <public url>/t/${id}/api/nimchat)` : '';
    out(`  ${platform.title}: ${methods} <public url>/t/${id}/api/${platform.name}${register}`);
  }
  return 0;
}

function remove(path: string, id: string, out: (line: string) => void, env: NodeJS.ProcessEnv): number {
  const file = readTenantsFileAsWritten(path);
  if (!file.tenants[id]) throw new ConfigError([`no tenant "${id}" in ${path}`]);
  const rest = { ...file.tenants };
  delete rest[id];
  const next: TenantsFile = { tenants: rest };
  if (Object.keys(rest).length > 0) tenantsOf(next, env, defaultPlatforms);
  writeTenantsFile(path, next);
  out(`Tenant "${id}" removed from ${path}: a running endpoint answers its routes 404 within a second or two; what it had accepted is still carried out.`);
  return 0;
}
