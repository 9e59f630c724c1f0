/**
 * Idempotent agent-bot registration: find the bot by name → create it or update its
 * outgoing_url → attach it to the inbox → read its token and secret.
 */
import { isIP } from 'node:net';
import { InvalidRequestError } from '../../src/errors';
import { readAccessToken, type NimchatAdminClient } from './client';
import { createUrlToken } from './verify';
import type { NimchatAgentBot } from './schemas';

export interface RegisterOptions {
  accountId: number;
  inboxId?: number;
  name: string;
  description?: string;
  outgoingUrl: string;
  /** When set, a JWT with the account/inbox claims is put in the URL as `?token=`. */
  urlTokenSecret?: string;
}

export interface RegisterResult {
  bot: NimchatAgentBot;
  created: boolean;
  updated: boolean;
  attached: boolean;
  outgoingUrl: string;
  accessToken?: string;
  secret?: string;
  warnings: string[];
}

/** The outgoing_url to register: the given URL, with the URL token when configured. */
export function buildOutgoingUrl(url: string, accountId: number, inboxId: number | undefined, urlTokenSecret?: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidRequestError('register_url_invalid', `--url must be an absolute http(s) URL, got "${url}"`);
  }
  if (!/^https?:$/.test(parsed.protocol)) throw new InvalidRequestError('register_url_invalid', '--url must use http or https');
  if (urlTokenSecret) parsed.searchParams.set('token', createUrlToken(urlTokenSecret, { account: accountId, inbox: inboxId }));
  return parsed.toString();
}

/** True for loopback, private, link-local and `.local` hosts, which Nimchat ≥4.14 will not call by default. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return true;
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  if (isIP(host) === 6) return host === '::1' || host.startsWith('fc') || host.startsWith('fd') || host.startsWith('fe80');
  return false;
}

export async function registerAgentBot(admin: NimchatAdminClient, options: RegisterOptions): Promise<RegisterResult> {
  const outgoingUrl = buildOutgoingUrl(options.outgoingUrl, options.accountId, options.inboxId, options.urlTokenSecret);
  const warnings: string[] = [];
  if (isPrivateHost(new URL(outgoingUrl).hostname)) {
    warnings.push(
      'the URL points to a private or loopback address: Nimchat 4.14+ refuses to deliver there unless the server sets SAFE_FETCH_ALLOW_PRIVATE_NETWORK=true',
    );
  }
  if (!outgoingUrl.startsWith('https:') && !warnings.length) warnings.push('the URL is not https: webhooks and their signatures travel in clear text');

  const existing = (await admin.listAgentBots(options.accountId)).filter((b) => b.name === options.name);
  if (existing.length > 1) warnings.push(`${existing.length} agent bots are named "${options.name}"; the one with the lowest id is used`);
  let bot = existing.sort((a, b) => a.id - b.id)[0];
  let created = false;
  let updated = false;
  if (!bot) {
    bot = await admin.createAgentBot(options.accountId, { name: options.name, description: options.description ?? 'Bot Framework bot (botbuilder-handoff-adapters)', outgoing_url: outgoingUrl });
    created = true;
  } else if (bot.outgoing_url !== outgoingUrl) {
    bot = await admin.updateAgentBot(options.accountId, bot.id, { outgoing_url: outgoingUrl });
    updated = true;
  }

  let attached = false;
  if (options.inboxId !== undefined) {
    const current = await admin.getInboxAgentBot(options.accountId, options.inboxId);
    if (current?.id !== bot.id) {
      await admin.setInboxAgentBot(options.accountId, options.inboxId, bot.id);
      attached = true;
    }
  }

  const shown = await admin.getAgentBot(options.accountId, bot.id);
  const accessToken = readAccessToken(shown) ?? readAccessToken(bot);
  const secret = shown.secret ?? bot.secret ?? undefined;
  if (!accessToken) warnings.push('the server did not show the bot access token; copy it from Settings → Bots');
  if (!secret) warnings.push('the server shows no webhook secret (Nimchat before 4.13 signs nothing): set NIMCHAT_URL_TOKEN_SECRET to protect the URL');
  return { bot: shown, created, updated, attached, outgoingUrl, accessToken, secret, warnings };
}
