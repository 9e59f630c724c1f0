/**
 * Idempotent agent-bot registration: check the inbox (it exists; no other agent bot is attached,
 * unless forced) → find the bot by name → create it or update its outgoing_url → attach it to the
 * inbox → read its token and secret. When a step after the first change fails, the changes are
 * undone: a bot it created is deleted, an outgoing_url it changed is put back.
 */
import { isIP } from 'node:net';
import { HandoffError, InvalidRequestError } from '../../src/errors';
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
  /** Attach even when the inbox already has another agent bot (which then stops getting its events). */
  force?: boolean;
}

export interface RegisterResult {
  bot: NimchatAgentBot;
  created: boolean;
  updated: boolean;
  attached: boolean;
  /** The other agent bot the inbox had, replaced (with `force`). */
  replaced?: NimchatAgentBot;
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

/** A registration step failed after something was changed; `undone` says what was put back. */
export class RegistrationFailedError extends HandoffError {
  constructor(
    message: string,
    readonly undone: string[],
    cause: unknown,
  ) {
    super('register_failed', message, { cause });
  }
}

/** The URL without its `?token=` (the URL token differs per registration, the endpoint does not). */
function endpointOf(url: string | null | undefined): string {
  if (!url) return '';
  try {
    const parsed = new URL(url);
    parsed.searchParams.delete('token');
    return parsed.toString();
  } catch {
    return url;
  }
}

/** What happens to the bot attached to the inbox when another one takes it (`done`: it has happened). */
export function replacementConsequence(current: NimchatAgentBot, inboxId: number, outgoingUrl: string, done: boolean): string {
  const sameEndpoint = endpointOf(current.outgoing_url) === endpointOf(outgoingUrl);
  const opened = 'meanwhile every failed delivery on a pending conversation opens it to humans ("due to an error with the agent bot")';
  if (sameEndpoint) {
    return done
      ? `Nimchat now signs inbox ${inboxId}'s events with the new bot's secret; the endpoint refuses them (401) until it runs with the variables below, and ${opened}.`
      : `Nimchat would sign inbox ${inboxId}'s events with the new bot's secret and send them to the same endpoint, which refuses them (401) until it runs with the new NIMCHAT_BOT_TOKEN and NIMCHAT_WEBHOOK_SECRET; ${opened}.`;
  }
  const where = `"${current.name}" (${current.outgoing_url || 'no URL'})`;
  return done
    ? `Nimchat no longer sends inbox ${inboxId}'s events to ${where}: the bot running there is silent in that inbox.`
    : `Nimchat would stop sending inbox ${inboxId}'s events to ${where}: the bot running there would go silent in that inbox.`;
}

export async function registerAgentBot(admin: NimchatAdminClient, options: RegisterOptions): Promise<RegisterResult> {
  const { accountId, inboxId } = options;
  const outgoingUrl = buildOutgoingUrl(options.outgoingUrl, accountId, inboxId, options.urlTokenSecret);
  const warnings: string[] = [];
  if (isPrivateHost(new URL(outgoingUrl).hostname)) {
    warnings.push(
      'the URL points to a private or loopback address: Nimchat 4.14+ refuses to deliver there unless the server sets SAFE_FETCH_ALLOW_PRIVATE_NETWORK=true',
    );
  }
  if (!outgoingUrl.startsWith('https:') && !warnings.length) warnings.push('the URL is not https: webhooks and their signatures travel in clear text');

  const existing = (await admin.listAgentBots(accountId)).filter((b) => b.name === options.name);
  if (existing.length > 1) warnings.push(`${existing.length} agent bots are named "${options.name}"; the one with the lowest id is used`);
  let bot = existing.sort((a, b) => a.id - b.id)[0];

  // Checked before anything changes: a missing inbox or another bot in it leaves everything as it was.
  let replaced: NimchatAgentBot | undefined;
  if (inboxId !== undefined) {
    if (!(await admin.getInbox(accountId, inboxId))) {
      throw new InvalidRequestError('register_inbox_not_found', `Inbox ${inboxId} does not exist in account ${accountId} (Settings → Inboxes lists them). Nothing was created or changed.`);
    }
    const current = await admin.getInboxAgentBot(accountId, inboxId);
    if (current && current.id !== bot?.id) {
      if (!options.force) {
        throw new InvalidRequestError(
          'register_inbox_has_other_bot',
          `Inbox ${inboxId} already has the agent bot "${current.name}" (id ${current.id}). Attaching "${options.name}" would replace it: ` +
            `${replacementConsequence(current, inboxId, outgoingUrl, false)} Nothing was created or changed. ` +
            `To update the attached bot instead, run with --name "${current.name}"; to replace it, run again with --force.`,
        );
      }
      replaced = current;
    }
  }

  const undo: Array<{ done: string; todo: string; run: () => Promise<unknown> }> = [];
  let step = 'listing the agent bots';
  let created = false;
  let updated = false;
  let attached = false;
  try {
    if (!bot) {
      step = 'creating the agent bot';
      const made = await admin.createAgentBot(accountId, { name: options.name, description: options.description ?? 'Bot Framework bot (botbuilder-handoff-adapters)', outgoing_url: outgoingUrl });
      bot = made;
      created = true;
      undo.push({
        done: `deleted the agent bot "${made.name}" (id ${made.id}) it had created`,
        todo: `delete the agent bot "${made.name}" (id ${made.id}) in Settings → Bots`,
        run: () => admin.deleteAgentBot(accountId, made.id),
      });
    } else if (bot.outgoing_url !== outgoingUrl) {
      step = 'updating the agent bot\'s outgoing_url';
      const previous = bot.outgoing_url ?? '';
      const id = bot.id;
      bot = await admin.updateAgentBot(accountId, id, { outgoing_url: outgoingUrl });
      updated = true;
      undo.push({
        done: `put the outgoing_url of agent bot ${id} back to ${previous || '(empty)'}`,
        todo: `set the outgoing_url of agent bot ${id} back to ${previous || '(empty)'}`,
        run: () => admin.updateAgentBot(accountId, id, { outgoing_url: previous }),
      });
    }

    if (inboxId !== undefined) {
      step = `attaching the bot to inbox ${inboxId}`;
      const current = await admin.getInboxAgentBot(accountId, inboxId);
      if (current?.id !== bot.id) {
        await admin.setInboxAgentBot(accountId, inboxId, bot.id);
        attached = true;
        const previousId = current?.id ?? null;
        const back = previousId === null ? `no agent bot on inbox ${inboxId}` : `agent bot ${previousId} on inbox ${inboxId}`;
        undo.push({ done: `restored ${back}`, todo: `restore ${back}`, run: () => admin.setInboxAgentBot(accountId, inboxId, previousId) });
      }
    }

    step = 'reading the bot\'s token and secret';
    const shown = await admin.getAgentBot(accountId, bot.id);
    const accessToken = readAccessToken(shown) ?? readAccessToken(bot);
    const secret = shown.secret ?? bot.secret ?? undefined;
    if (!accessToken) warnings.push('the server did not show the bot access token; copy it from Settings → Bots');
    if (!secret) warnings.push('the server shows no webhook secret (Nimchat before 4.13 signs nothing): set NIMCHAT_URL_TOKEN_SECRET to protect the URL');
    return { bot: shown, created, updated, attached, replaced, outgoingUrl, accessToken, secret, warnings };
  } catch (error) {
    if (undo.length === 0) throw error;
    const undone: string[] = [];
    const leftOver: string[] = [];
    for (const u of undo.reverse()) {
      try {
        await u.run();
        undone.push(u.done);
      } catch (undoError) {
        leftOver.push(`${u.todo} (undoing failed: ${undoError instanceof Error ? undoError.message : String(undoError)})`);
      }
    }
    const reason = error instanceof Error ? error.message : String(error);
    const tail = [undone.length ? `Undone: ${undone.join('; ')}.` : '', leftOver.length ? `Still to do by hand: ${leftOver.join('; ')}.` : ''].filter(Boolean).join(' ');
    throw new RegistrationFailedError(`Registration failed while ${step}: ${reason}. ${tail}`, undone, error);
  }
}
