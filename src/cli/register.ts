/**
 * `handoff nimchat register`: creates or updates the agent bot and attaches it to the inbox. Refuses
 * (changing nothing) when the inbox does not exist or already has another agent bot, unless --force.
 */
import { NimchatAdminClient } from '../../adapters/nimchat/client';
import { registerAgentBot, replacementConsequence } from '../../adapters/nimchat/register';
import { loadConfig } from '../load-config';
import { NimchatVariables, nimchatVariablesOf } from '../../adapters/nimchat/config';
import { fileReferenceOf, readTenantsFileAsWritten, referenceOf, tenantVariables } from '../tenants/tenants-file';
import { ConfigError } from '../errors';

export interface RegisterArgs {
  url?: string;
  account?: string;
  inbox?: string;
  name?: string;
  /** Replace another agent bot attached to the inbox. */
  force?: boolean;
  /** Register a tenant's bot (its variables from TENANTS_FILE). */
  tenant?: string;
}

export async function nimchatRegister(args: RegisterArgs, out: (line: string) => void): Promise<number> {
  const tenant = args.tenant !== undefined ? tenantNimchat(args.tenant) : undefined;
  const env = tenant?.variables ?? nimchatVariablesOf(loadConfig(process.env, 'inspect'));
  const route = tenant ? `/t/${args.tenant}/api/nimchat` : '/api/nimchat';
  const problems: string[] = [];
  if (!args.url) problems.push(`--url <outgoing_url> is required (the public URL of POST ${route})`);
  else if (tenant && !args.url.replace(/\?.*$/, '').endsWith(route)) problems.push(`--url must be the tenant's route: <public url>${route}`);
  if (!env.NIMCHAT_BASE_URL) problems.push('NIMCHAT_BASE_URL is required');
  if (!env.NIMCHAT_ADMIN_TOKEN) problems.push("NIMCHAT_ADMIN_TOKEN is required (an administrator's access token, Profile settings → Access Token)");
  const account = args.account !== undefined ? Number(args.account) : env.NIMCHAT_ACCOUNT_ID;
  const inbox = args.inbox !== undefined ? Number(args.inbox) : env.NIMCHAT_INBOX_ID;
  if (account === undefined || !Number.isInteger(account) || account <= 0) problems.push('--account N (or NIMCHAT_ACCOUNT_ID) must be a positive whole number');
  if (inbox !== undefined && (!Number.isInteger(inbox) || inbox <= 0)) problems.push('--inbox N (or NIMCHAT_INBOX_ID) must be a positive whole number');
  if (problems.length > 0) throw new ConfigError(problems);

  const admin = new NimchatAdminClient(env.NIMCHAT_BASE_URL!, env.NIMCHAT_ADMIN_TOKEN!);
  const result = await registerAgentBot(admin, {
    accountId: account!,
    inboxId: inbox,
    name: args.name ?? 'Handoff bot',
    outgoingUrl: args.url!,
    urlTokenSecret: env.NIMCHAT_URL_TOKEN_SECRET,
    force: args.force === true,
  });
  const what = result.created ? 'created' : result.updated ? 'updated' : 'already up to date';
  out(`Agent bot "${result.bot.name}" (id ${result.bot.id}) ${what}.`);
  if (inbox !== undefined) out(result.attached ? `Attached to inbox ${inbox}.` : `Inbox ${inbox} already uses this bot.`);
  if (inbox !== undefined && result.replaced) {
    const old = result.replaced;
    out(`--force: it replaced the agent bot "${old.name}" (id ${old.id}) on inbox ${inbox}, which is still there but no longer attached.`);
    out(`  ${replacementConsequence(old, inbox, result.outgoingUrl, true)}`);
  }
  else out('No inbox given (--inbox N or NIMCHAT_INBOX_ID): attach the bot to an inbox in Settings → Inboxes → Bot.');
  for (const warning of result.warnings) out(`warning: ${warning}`);
  out('');
  const token = result.accessToken ?? '<copy it from Settings → Bots>';
  if (tenant) {
    // The file names where each value comes from: the environment variable it refers to, or itself.
    out(`Set these where the bot endpoint runs (tenant "${args.tenant}"):`);
    const line = (name: string, value: string) => {
      const reference = referenceOf(tenant.written[name]);
      const file = fileReferenceOf(tenant.written[name]);
      if (reference) out(`${reference}=${value}`);
      else if (file) out(`${value}   (write it into ${file}, which ${name} of "${args.tenant}" is read from)`);
      else out(`${name}=${value}   (in the tenants file, under "${args.tenant}": better a \${ENV_VARIABLE} or \${file:/path} there)`);
    };
    line('NIMCHAT_BOT_TOKEN', token);
    if (result.secret) line('NIMCHAT_WEBHOOK_SECRET', result.secret);
    return 0;
  }
  out('Set these variables where the bot endpoint runs:');
  out(`NIMCHAT_BASE_URL=${env.NIMCHAT_BASE_URL}`);
  out(`NIMCHAT_BOT_TOKEN=${token}`);
  if (result.secret) out(`NIMCHAT_WEBHOOK_SECRET=${result.secret}`);
  if (env.NIMCHAT_URL_TOKEN_SECRET) out('NIMCHAT_URL_TOKEN_SECRET=<the same value you used here>');
  return 0;
}

/** A tenant's Nimchat variables from TENANTS_FILE, as far as the environment resolves them (its bot token and secret may not exist yet). */
function tenantNimchat(id: string): { variables: NimchatVariables; written: Record<string, string> } {
  const path = process.env.TENANTS_FILE;
  if (!path) throw new ConfigError(['--tenant needs TENANTS_FILE (the tenants file)']);
  const entry = readTenantsFileAsWritten(path).tenants[id];
  if (!entry) throw new ConfigError([`no tenant "${id}" in ${path}`]);
  const { variables } = tenantVariables(entry, process.env);
  const parsed = NimchatVariables.safeParse(variables);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `tenant "${id}": ${String(issue.path[0] ?? '')}: ${issue.message}`));
  return { variables: parsed.data, written: entry.variables };
}

