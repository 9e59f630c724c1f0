/**
 * What Nimchat gave away while it could not reach the bot. When a customer's message cannot be
 * delivered (a refused connection, a timeout: never retried), Nimchat opens the pending conversation to
 * humans with the activity "Conversation was marked open by system due to an error with the agent bot",
 * and never sends that message again. This finds those conversations once the bot is reachable again
 * (at start, then every minute), with the user token (`NIMCHAT_API_TOKEN`: the bot token cannot list
 * conversations or messages):
 *
 * 1. open conversations whose newest such activity is recent (within `windowMs`), once per activity;
 * 2. the customer messages the bot never received are accepted as the events their webhooks would have
 *    been (the same idempotency key: one that did arrive is not run twice), in order: into the
 *    transcript, and to the bot when it owns the conversation;
 * 3. the policy: `bot` gives the conversation back (status `pending` with the bot token, so Nimchat
 *    records it as the bot's) when no human has written in it since, and the bot answers what it
 *    missed; otherwise (`humans`, or a human already wrote) it stays with the humans, and a private note
 *    gives them the transcript the handoff would have written;
 * 4. the bot is told (`conversation.reclaimed`), counted, and the console's timeline shows that turn.
 */
import type { ChannelAccount, ConversationReference } from 'botbuilder-core';
import type { Reclaimed } from '../../src/control/vocabulary';
import type { Logger } from '../../src/log';
import type { ChannelPipeline } from '../../src/pipeline/channel-pipeline';
import type { DedupeStore } from '../../src/storage/dedupe-store';
import { customerEntry, formatTranscript, type TranscriptEntry, type TranscriptStore } from '../../src/transcript';
import type { Clock } from '../../src/clock';
import type { NimchatClient } from './client';
import { BOT_ACCOUNT } from './convert-incoming';
import { NIMCHAT_CHANNEL_ID, toConversationId } from './conversation-ref';
import type { NimchatConnector } from './nimchat-connector';
import type { NimchatListedMessage } from './schemas';
import type { NimchatUserClient } from './user-client';
import { scopedId, scopeEvent } from '../../src/tenants/tenant-scope';

/** The activity Nimchat adds when it opens a conversation because the bot could not be reached. */
const GIVEN_AWAY = /due to an error with the agent bot/i;
const INCOMING = 0;
const OUTGOING = 1;
const ACTIVITY = 2;
const PAGE = 25;
const CLAIM_MS = 10 * 60_000;

export interface NimchatReclaimOptions {
  policy: 'bot' | 'humans';
  accountId: number;
  /** Lists conversations and messages (user token). */
  users: NimchatUserClient;
  /** Gives the conversation back (bot token: Nimchat records the bot's status change). */
  bot: NimchatClient;
  connector: NimchatConnector;
  pipeline: ChannelPipeline;
  dedupe: DedupeStore;
  /** The tenant whose account this is (its conversation ids and keys scoped); none: the configuration from the environment. */
  tenant?: string;
  transcripts: TranscriptStore;
  clock: Clock;
  logger: Logger;
  /** How long ago a conversation may have been given away to be reclaimed (default 1 h). */
  windowMs?: number;
  /** Conversation list pages read per scan (25 each, newest activity first; default 4). */
  pages?: number;
}

export interface ReclaimScan {
  returned: number;
  left: number;
}

export class NimchatReclaimer {
  private scanning?: Promise<ReclaimScan>;
  private stopped = false;

  constructor(private readonly options: NimchatReclaimOptions) {}

  /** No new scan, and the one running stops after its current conversation; resolves when it has (at most `waitMs`). */
  async stop(waitMs = 5000): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.scanning?.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /** One pass over the open conversations; a scan asked for while one runs is that one. */
  scan(): Promise<ReclaimScan> {
    if (this.stopped) return Promise.resolve({ returned: 0, left: 0 });
    this.scanning ??= this.scanNow().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async scanNow(): Promise<ReclaimScan> {
    const { users, accountId, logger } = this.options;
    const result: ReclaimScan = { returned: 0, left: 0 };
    for (let page = 1; page <= (this.options.pages ?? 4); page++) {
      const conversations = await users.listConversations(accountId, { status: 'open', assigneeType: 'all', page });
      for (const conversation of conversations) {
        if (this.stopped) return result;
        try {
          const outcome = await this.reclaim(conversation.id);
          if (outcome === 'returned_to_bot') result.returned++;
          if (outcome === 'left_with_humans') result.left++;
        } catch (error) {
          logger.error('could not reclaim a conversation Nimchat gave away; the next scan tries again', { conversationId: toConversationId(accountId, conversation.id), error });
        }
      }
      if (conversations.length < PAGE) break;
    }
    if (result.returned + result.left > 0) logger.info('conversations Nimchat gave away while the bot was unreachable were reclaimed', { ...result });
    return result;
  }

  private async reclaim(number: number): Promise<Reclaimed['outcome'] | undefined> {
    const { users, accountId, clock, dedupe, pipeline, connector } = this.options;
    const since = clock.now() - (this.options.windowMs ?? 3_600_000);
    const list = await users.listMessages(accountId, number);
    const messages = list.payload;
    const givenAway = messages.filter((m) => m.message_type === ACTIVITY && GIVEN_AWAY.test(m.content ?? '') && m.created_at * 1000 >= since).at(-1);
    if (!givenAway) return undefined;
    // Once per time Nimchat gave it away: `done` for a week once carried out; meanwhile both keys for
    // 10 minutes, so another replica or the next scan leaves it alone, and a crash mid-way is redone then.
    const { tenant } = this.options;
    const done = scopedId(tenant, `nimchat:reclaimed:${accountId}:${number}:${givenAway.id}`);
    const claim = scopedId(tenant, `nimchat:reclaiming:${accountId}:${number}:${givenAway.id}`);
    if (await dedupe.checkAndRemember([done, claim], CLAIM_MS)) return undefined;
    try {
      const conversationId = scopedId(tenant, toConversationId(accountId, number));
      const humanWrote = messages.some((m) => m.id > givenAway.id && m.sender?.type === 'user' && (m.message_type === OUTGOING || m.private === true));
      const outcome: Reclaimed['outcome'] = this.options.policy === 'bot' && !humanWrote ? 'returned_to_bot' : 'left_with_humans';
      const known = await this.options.transcripts.list(NIMCHAT_CHANNEL_ID, conversationId);

      const candidates = messages.filter((m) => m.message_type === INCOMING && m.private !== true && m.created_at * 1000 >= since);
      const observation = outcome === 'returned_to_bot' ? { kind: 'status_change' as const, status: 'pending', observedAt: clock.now() } : { kind: 'snapshot' as const, status: 'open', observedAt: clock.now() };
      const missed: TranscriptEntry[] = [];
      for (const message of candidates) {
        const event = scopeEvent(tenant, connector.planMissed(accountId, number, message, list.meta?.contact ?? undefined, observation));
        if ((await pipeline.accept(event)) === 'duplicate') continue;
        const entry = customerEntry(event.activity);
        if (entry) missed.push(entry);
      }
      // Given back only once its messages are safely in: a conversation no longer open is not scanned again.
      if (outcome === 'returned_to_bot') await this.options.bot.toggleStatus(accountId, number, 'pending');
      // The accepted events' turns are queued after this macrotask: the reclaimed turn comes after them.
      await new Promise((resolve) => setImmediate(resolve));
      const customer = customerOf(accountId, list.meta?.contact ?? undefined, candidates);
      const contact = customer && { ...customer, id: scopedId(tenant, customer.id) };
      const reference: Partial<ConversationReference> = {
        channelId: NIMCHAT_CHANNEL_ID,
        serviceUrl: connector.serviceUrl,
        conversation: { id: conversationId, isGroup: false, conversationType: 'nimchat', name: `conversation ${number}` },
        bot: BOT_ACCOUNT,
        user: contact,
      };
      const reason = givenAway.content ?? 'Nimchat could not reach the bot';
      const note = outcome === 'left_with_humans' ? reclaimNote(reason, missed.length, [...known, ...missed]) : undefined;
      await pipeline.reclaimed(reference, { outcome, missed: missed.length, reason }, note);
      await dedupe.forget([done]);
      await dedupe.checkAndRemember([done], 7 * 24 * 3_600_000);
      this.options.logger.info('conversation reclaimed', { conversationId, outcome, missed: missed.length });
      return outcome;
    } catch (error) {
      // Nothing is remembered of a reclaim that failed: the next scan does it (the accepted messages stay accepted).
      await dedupe.forget([done, claim]).catch(() => undefined);
      throw error;
    }
  }
}

function customerOf(accountId: number, contact: { id: number; name?: string | null } | undefined, messages: NimchatListedMessage[]): ChannelAccount {
  const id = contact?.id ?? messages.find((m) => m.sender?.id !== undefined)?.sender?.id ?? 0;
  return { id: `${accountId}:contact-${id}`, name: contact?.name ?? 'Customer', role: 'user' };
}

/** The note the humans get: why they have the conversation, then the transcript a handoff's note shows. */
export function reclaimNote(reason: string, missed: number, entries: readonly TranscriptEntry[]): string {
  return [
    `The bot was unreachable and Nimchat gave this conversation to a human ("${reason}"). ${missed === 1 ? 'One message' : `${missed} messages`} of the customer did not reach the bot; the transcript below has them.`,
    '',
    'Transcript:',
    formatTranscript(entries) || '(no messages)',
  ].join('\n');
}
