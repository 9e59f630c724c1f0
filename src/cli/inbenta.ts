/** `handoff inbenta register-webhooks --url <public url>`: points Inbenta's ticket and reply events at the bot. */
import { InbentaAuth } from '../../adapters/inbenta/auth';
import { InbentaTicketingClient } from '../../adapters/inbenta/client';
import { inbentaWebhookUrl, registerTicketWebhooks } from '../../adapters/inbenta/register';
import { loadConfig } from '../load-config';
import { inbentaConfigOf } from '../../adapters/inbenta/config';
import { ConfigError } from '../errors';

export async function inbentaRegisterWebhooks(args: { url?: string }, out: (line: string) => void): Promise<number> {
  const config = loadConfig(process.env, 'inspect');
  const inbenta = inbentaConfigOf(config);
  const problems: string[] = [];
  if (!args.url) problems.push('--url <public url> is required (the public URL of this bot; /api/inbenta is added when it has no path)');
  if (!inbenta) problems.push('INBENTA_API_KEY and INBENTA_API_SECRET are required');
  if (!inbenta?.webhookSecret) problems.push('INBENTA_WEBHOOK_SECRET is required (Inbenta sends it back with every event; the bot refuses events without it)');
  if (problems.length > 0) throw new ConfigError(problems);
  const url = inbentaWebhookUrl(args.url!);
  const auth = new InbentaAuth({ authUrl: inbenta!.authUrl, apiKey: inbenta!.apiKey, apiSecret: inbenta!.apiSecret, userPersonalSecret: inbenta!.userPersonalSecret });
  const client = new InbentaTicketingClient(auth, inbenta!.apiKey);
  out(`Registering ${url} for Inbenta ticket events (Inbenta checks it with a challenge first: the bot must be running there).`);
  for (const hook of await registerTicketWebhooks(client, url, inbenta!.webhookSecret!)) out(`  ${hook.item}: webhook ${hook.uuid}`);
  out('Done: agent answers and closed tickets now reach the conversations the bot escalated.');
  return 0;
}
