/** `handoff inbenta register-webhooks --url <public url> [--tenant T]`: points Inbenta's ticket and reply events at the bot. */
import { defaultPlatforms } from '../../adapters/platforms';
import { InbentaAuth } from '../../adapters/inbenta/auth';
import { InbentaTicketingClient } from '../../adapters/inbenta/client';
import { inbentaWebhookUrl, registerTicketWebhooks } from '../../adapters/inbenta/register';
import { loadConfig } from '../load-config';
import { inbentaConfigOf, type InbentaConfig } from '../../adapters/inbenta/config';
import { ConfigError } from '../errors';
import { readTenantsFileLeniently } from '../tenants/tenants-file';

export async function inbentaRegisterWebhooks(args: { url?: string; tenant?: string }, out: (line: string) => void): Promise<number> {
  const inbenta = args.tenant !== undefined ? tenantInbenta(args.tenant) : inbentaConfigOf(loadConfig(process.env, 'inspect'));
  const route = args.tenant !== undefined ? `/t/${args.tenant}/api/inbenta` : '/api/inbenta';
  const problems: string[] = [];
  if (!args.url) problems.push(`--url <public url> is required (the public URL of this bot; ${route} is added when it has no path)`);
  if (!inbenta) problems.push(args.tenant !== undefined ? `tenant "${args.tenant}" has no Inbenta project (INBENTA_API_KEY and INBENTA_API_SECRET among its variables)` : 'INBENTA_API_KEY and INBENTA_API_SECRET are required');
  else if (!inbenta.webhookSecret) problems.push('INBENTA_WEBHOOK_SECRET is required (Inbenta sends it back with every event; the bot refuses events without it)');
  if (problems.length > 0) throw new ConfigError(problems);
  const url = inbentaWebhookUrl(args.url!, route);
  if (args.tenant !== undefined && !new URL(url).pathname.endsWith(route)) throw new ConfigError([`--url must be the tenant's route: <public url>${route}`]);
  const auth = new InbentaAuth({ authUrl: inbenta!.authUrl, apiKey: inbenta!.apiKey, apiSecret: inbenta!.apiSecret, userPersonalSecret: inbenta!.userPersonalSecret });
  const client = new InbentaTicketingClient(auth, inbenta!.apiKey);
  out(`Registering ${url} for Inbenta ticket events (Inbenta checks it with a challenge first: the bot must be running there).`);
  for (const hook of await registerTicketWebhooks(client, url, inbenta!.webhookSecret!)) out(`  ${hook.item}: webhook ${hook.uuid}`);
  out('Done: agent answers and closed tickets now reach the conversations the bot escalated.');
  return 0;
}

/** A tenant's Inbenta project, read from TENANTS_FILE as the endpoint reads it. */
function tenantInbenta(id: string): InbentaConfig | undefined {
  const path = process.env.TENANTS_FILE;
  if (!path) throw new ConfigError(['--tenant needs TENANTS_FILE (the tenants file)']);
  const read = readTenantsFileLeniently(path, process.env, defaultPlatforms);
  if (read.failed.has(id)) throw new ConfigError(read.problems.filter((problem) => problem.startsWith(`tenant "${id}"`)));
  const tenant = read.tenants.find((t) => t.id === id);
  if (!tenant) throw new ConfigError([`no tenant "${id}" in ${path}`]);
  return tenant.platforms.inbenta as InbentaConfig | undefined;
}
