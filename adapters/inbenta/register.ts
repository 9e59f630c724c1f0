/**
 * Webhook registration: the `ticket` and `reply` items point at the bot's
 * `/api/inbenta`; Inbenta verifies the URL with a challenge the endpoint must already answer.
 */
import { InvalidRequestError } from '../../src/errors';
import type { InbentaTicketingClient, WebhookItem } from './client';

export const TICKET_EVENT_ITEMS: WebhookItem[] = ['ticket', 'reply'];

/** A public base URL gets the route (`/api/inbenta`, a tenant's `/t/acme/api/inbenta`); a URL with a path is taken as given. */
export function inbentaWebhookUrl(publicUrl: string, route = '/api/inbenta'): string {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new InvalidRequestError('inbenta_url_invalid', `--url must be an http(s) URL, got "${publicUrl}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidRequestError('inbenta_url_invalid', '--url must be an http(s) URL');
  if (url.pathname === '/' || url.pathname === '') url.pathname = route;
  return url.toString();
}

export async function registerTicketWebhooks(client: InbentaTicketingClient, url: string, secret: string): Promise<Array<{ item: WebhookItem; uuid: number }>> {
  const registered: Array<{ item: WebhookItem; uuid: number }> = [];
  for (const item of TICKET_EVENT_ITEMS) registered.push({ item, uuid: await client.registerWebhook({ item, url, secret }) });
  return registered;
}
