/** `handoff doctor`: checks what is configured and says plainly what is wrong. */
import { NimchatAdminClient, NimchatClient } from '../../adapters/nimchat/client';
import { WoztellInboxClient, WoztellOpenApiClient, configuredInboxCredentials, type InboxCredentials } from '../../adapters/woztell/client';
import type { Config } from '../config';
import { nimchatConfigOf, nimchatVariablesOf, type NimchatConfig } from '../../adapters/nimchat/config';
import { woztellConfigOf, type WoztellConfig } from '../../adapters/woztell/config';
import { inbentaConfigOf, type InbentaConfig } from '../../adapters/inbenta/config';
import { loadConfig } from '../load-config';
import { InbentaAuth, ticketingUrlOf } from '../../adapters/inbenta/auth';
import { openSqlite } from '../storage/sqlite-database';
import { createPostgresStores } from '../storage/postgres-stores';
import { PG_SCHEMA_VERSION } from '../storage/postgres-schema';
import { isPostgresUrl } from '../storage/postgres-url';
import { silentLogger } from '../log';
import { ConfigError, PlatformApiError, PlatformNetworkError } from '../errors';
import type { TenantConfig } from '../tenants/tenants-file';

type Verdict = 'ok' | 'warn' | 'fail';
export interface Check {
  verdict: Verdict;
  text: string;
}

const MARK: Record<Verdict, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export async function doctor(out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const checks = await runChecks(env);
  for (const c of checks) out(`[${MARK[c.verdict]}] ${c.text}`);
  const failed = checks.filter((c) => c.verdict === 'fail').length;
  out('');
  out(failed === 0 ? 'No problems found.' : `${failed} problem(s) found.`);
  return failed === 0 ? 0 : 1;
}

export async function runChecks(env: NodeJS.ProcessEnv): Promise<Check[]> {
  const checks: Check[] = [];
  let config: Config;
  try {
    config = loadConfig(env, 'serve');
    checks.push({ verdict: 'ok', text: 'configuration is valid' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const p of error.problems) checks.push({ verdict: 'fail', text: p });
    try {
      config = loadConfig(env, 'inspect');
    } catch {
      return checks;
    }
  }

  if (config.sandbox) {
    const emulated = inbentaConfigOf(config) ? 'emulated Nimchat and WOZTELL; the configured Inbenta is real' : 'emulated Nimchat, WOZTELL and Inbenta';
    checks.push({ verdict: 'warn', text: `no platform is configured: \`npm start\` runs the SANDBOX (${emulated})` });
  }
  if (config.storageUrl.startsWith('sqlite:')) {
    try {
      openSqlite(config.storageUrl.slice('sqlite:'.length)).close();
      checks.push({ verdict: 'ok', text: `STORAGE_URL=${config.storageUrl}: the durable store opens and can be written` });
    } catch (error) {
      checks.push({ verdict: 'fail', text: (error as Error).message });
    }
  } else if (isPostgresUrl(config.storageUrl)) {
    checks.push(await checkPostgres(config));
  } else {
    checks.push({ verdict: 'warn', text: 'STORAGE_URL=memory: state is lost on restart (fine for tests and demos)' });
  }

  const n = nimchatConfigOf(config);
  if (n) {
    checks.push(...(await checkNimchatBotToken(n.baseUrl, n.botToken)));
    if (!n.webhookSecret && !n.urlTokenSecret) {
      checks.push({ verdict: 'warn', text: 'neither NIMCHAT_WEBHOOK_SECRET nor NIMCHAT_URL_TOKEN_SECRET is set: anyone who learns the URL can post messages as customers' });
    } else if (n.webhookSecret) {
      checks.push({ verdict: 'ok', text: 'NIMCHAT_WEBHOOK_SECRET is set: unsigned webhooks are refused' });
    } else {
      checks.push({ verdict: 'ok', text: 'NIMCHAT_URL_TOKEN_SECRET is set: webhooks need the URL token' });
    }
    if (n.apiToken) checks.push(...(await checkNimchatApiToken(n.baseUrl, n.apiToken)));
    else checks.push({ verdict: 'warn', text: 'NIMCHAT_API_TOKEN is not set: business hours, agents online and the queue position are not known on Nimchat (HANDOFF_HOURS decides, when set)' });
    if (n.handoffAgentId === undefined && n.handoffTeamId === undefined) {
      checks.push({ verdict: 'warn', text: "no NIMCHAT_HANDOFF_TEAM_ID / NIMCHAT_HANDOFF_AGENT_ID: handoffs rely on Nimchat's auto-assignment" });
    }
  }
  const nimchatVariables = nimchatVariablesOf(config);
  if (nimchatVariables.NIMCHAT_ADMIN_TOKEN && nimchatVariables.NIMCHAT_BASE_URL) {
    checks.push(...(await checkNimchatAdmin(nimchatVariables.NIMCHAT_BASE_URL, nimchatVariables.NIMCHAT_ADMIN_TOKEN, nimchatVariables.NIMCHAT_ACCOUNT_ID)));
  }
  const woztell = woztellConfigOf(config);
  const inbenta = inbentaConfigOf(config);
  if (woztell) checks.push(...(await checkWoztell(woztell)));
  if (inbenta) checks.push(...(await checkInbenta(inbenta)));
  else if (!config.sandbox) checks.push({ verdict: 'warn', text: 'Inbenta is not configured (INBENTA_API_KEY, INBENTA_API_SECRET): "leave a message" offers a human instead' });
  for (const tenant of config.tenants) checks.push(...(await tenantChecks(tenant)));
  return checks;
}

/** A tenant's platforms answer its credentials (each line names the tenant). */
export async function tenantChecks(tenant: TenantConfig): Promise<Check[]> {
  const checks: Check[] = [];
  const n = tenant.platforms.nimchat as NimchatConfig | undefined;
  if (n) {
    checks.push(...(await checkNimchatBotToken(n.baseUrl, n.botToken)));
    if (n.apiToken) checks.push(...(await checkNimchatApiToken(n.baseUrl, n.apiToken)));
  }
  const w = tenant.platforms.woztell as WoztellConfig | undefined;
  if (w) checks.push(...(await checkWoztell(w)));
  const i = tenant.platforms.inbenta as InbentaConfig | undefined;
  if (i) checks.push(...(await checkInbenta(i)));
  return checks.map((check) => ({ ...check, text: `tenant "${tenant.id}": ${check.text}` }));
}

/** The database answers, its schema is created or migrated (as at start) and it can be written; the URL is shown without its password. */
async function checkPostgres(config: Config): Promise<Check> {
  const stores = createPostgresStores(config.storageUrl, silentLogger, { pool: { ...config.postgres, poolSize: 1 } });
  try {
    await stores.open();
    const problem = await stores.checkWritable();
    if (problem) return { verdict: 'fail', text: problem };
    return { verdict: 'ok', text: `STORAGE_URL=${stores.describe}: the database answers, its schema is at version ${PG_SCHEMA_VERSION} and it can be written` };
  } catch (error) {
    return { verdict: 'fail', text: (error as Error).message };
  } finally {
    await stores.close().catch(() => undefined);
  }
}

/** Auth succeeds and names a ticketing URL; the webhook secret is set. */
export async function checkInbenta(inbenta: InbentaConfig): Promise<Check[]> {
  const checks: Check[] = [];
  const auth = new InbentaAuth({ authUrl: inbenta.authUrl, apiKey: inbenta.apiKey, apiSecret: inbenta.apiSecret, userPersonalSecret: inbenta.userPersonalSecret, http: { retry: { maxAttempts: 1 } } });
  try {
    const token = await auth.token();
    checks.push({ verdict: 'ok', text: `Inbenta accepts the API key and secret (token valid until ${new Date(token.expiresAt).toISOString()})` });
    checks.push({ verdict: 'ok', text: `Inbenta ticketing API: ${ticketingUrlOf(token)}` });
  } catch (error) {
    checks.push({ verdict: 'fail', text: `Inbenta at ${inbenta.authUrl}: ${(error as Error).message}` });
  }
  if (!inbenta.webhookSecret) {
    checks.push({ verdict: 'warn', text: 'INBENTA_WEBHOOK_SECRET is not set: agent answers and closed tickets cannot come back (run `npm run handoff -- inbenta register-webhooks --url …` once it is set)' });
  } else {
    checks.push({ verdict: 'ok', text: 'INBENTA_WEBHOOK_SECRET is set: ticket events are verified' });
  }
  return checks;
}

/** A bot token may not read the profile: the two 401 messages tell a valid bot token from a bad one. */
async function checkNimchatBotToken(baseUrl: string, token: string): Promise<Check[]> {
  const client = new NimchatClient(baseUrl, token, { timeoutMs: 5000, retry: { maxAttempts: 1 } });
  try {
    await client.http.request({ method: 'GET', path: '/api/v1/profile' });
    return [{ verdict: 'fail', text: 'NIMCHAT_BOT_TOKEN is a user token, not an agent bot token: handoffs would not be recorded as bot handoffs' }];
  } catch (error) {
    if (error instanceof PlatformApiError && error.status === 401 && /not authorized for bots/i.test(error.platformMessage ?? '')) {
      return [{ verdict: 'ok', text: `Nimchat at ${baseUrl} answers and NIMCHAT_BOT_TOKEN is an agent bot token` }];
    }
    if (error instanceof PlatformApiError && error.status === 401) {
      return [{ verdict: 'fail', text: `Nimchat at ${baseUrl} refuses NIMCHAT_BOT_TOKEN (${error.platformMessage ?? 'HTTP 401'})` }];
    }
    if (error instanceof PlatformNetworkError) return [{ verdict: 'fail', text: `Nimchat at ${baseUrl} cannot be reached: ${error.reason}` }];
    return [{ verdict: 'fail', text: `Nimchat at ${baseUrl}: ${(error as Error).message}` }];
  }
}

/** The availability lookups need a user's token: a bot token cannot read them. */
async function checkNimchatApiToken(baseUrl: string, token: string): Promise<Check[]> {
  const client = new NimchatClient(baseUrl, token, { timeoutMs: 5000, retry: { maxAttempts: 1 } });
  try {
    await client.http.request({ method: 'GET', path: '/api/v1/profile' });
    return [{ verdict: 'ok', text: 'NIMCHAT_API_TOKEN is a user token: business hours, agents online and the queue can be read' }];
  } catch (error) {
    if (error instanceof PlatformApiError && error.status === 401 && /not authorized for bots/i.test(error.platformMessage ?? '')) {
      return [{ verdict: 'fail', text: 'NIMCHAT_API_TOKEN is an agent bot token: it cannot read business hours or agents; give a user or administrator token' }];
    }
    return [{ verdict: 'fail', text: `NIMCHAT_API_TOKEN is refused: ${(error as Error).message}` }];
  }
}

async function checkNimchatAdmin(baseUrl: string, token: string, accountId?: number): Promise<Check[]> {
  const admin = new NimchatAdminClient(baseUrl, token, { timeoutMs: 5000, retry: { maxAttempts: 1 } });
  if (accountId === undefined) return [{ verdict: 'warn', text: 'NIMCHAT_ADMIN_TOKEN is set but NIMCHAT_ACCOUNT_ID is not: `register` will need --account' }];
  try {
    const bots = await admin.listAgentBots(accountId);
    return [{ verdict: 'ok', text: `NIMCHAT_ADMIN_TOKEN can manage agent bots of account ${accountId} (${bots.length} registered: ${bots.map((b) => b.name).join(', ') || 'none'})` }];
  } catch (error) {
    return [{ verdict: 'fail', text: `NIMCHAT_ADMIN_TOKEN cannot list agent bots of account ${accountId}: ${(error as Error).message}` }];
  }
}

/** Token (Open API), inbox credentials (configured or found), and one list-threads call with them. */
export async function checkWoztell(w: WoztellConfig): Promise<Check[]> {
  const checks: Check[] = [];
  const http = { timeoutMs: 5000, retry: { maxAttempts: 1 } };
  const open = new WoztellOpenApiClient(w.openApiUrl, w.accessToken, http);
  let found: InboxCredentials | undefined;
  try {
    found = await open.findInboxCredentials(w.appId);
    checks.push({ verdict: 'ok', text: `WOZTELL Open API at ${w.openApiUrl} accepts WOZTELL_ACCESS_TOKEN` });
  } catch (error) {
    const reason = error instanceof PlatformNetworkError ? `cannot be reached: ${error.reason}` : `refuses the call: ${(error as Error).message}`;
    checks.push({ verdict: 'fail', text: `WOZTELL Open API at ${w.openApiUrl} ${reason}` });
  }
  const configured = configuredInboxCredentials(w);
  const credentials = configured ?? found;
  if (configured) checks.push({ verdict: 'ok', text: 'inbox integration credentials are configured (WOZTELL_APP_ID, WOZTELL_APP_INTEGRATION_ID, WOZTELL_INBOX_SIGNATURE)' });
  else if (found) checks.push({ verdict: 'ok', text: `the installed inbox integration was found through the Open API (app ${found.appId})` });
  else checks.push({ verdict: 'fail', text: 'no inbox integration credentials: install the WOZTELL Inbox, or set WOZTELL_APP_ID, WOZTELL_APP_INTEGRATION_ID and WOZTELL_INBOX_SIGNATURE' });
  if (credentials) {
    const inbox = new WoztellInboxClient(w.inboxApiUrl, async () => credentials, http);
    try {
      await inbox.listThreadsPage({ folderId: w.handoffFolder }, { limit: 1 });
      checks.push({ verdict: 'ok', text: `WOZTELL Inbox API at ${w.inboxApiUrl} accepts the signed context (list-threads in folder "${w.handoffFolder}")` });
    } catch (error) {
      checks.push({ verdict: 'fail', text: `WOZTELL Inbox API at ${w.inboxApiUrl}: list-threads failed: ${(error as Error).message}` });
    }
  }
  if (!w.botFolder) {
    checks.push({ verdict: 'warn', text: 'no WOZTELL_BOT_FOLDER: a member returns to the bot only when the assignee is removed or live chat is turned off' });
  }
  return checks;
}
