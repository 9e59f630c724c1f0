/**
 * Creates the bot's messages on Nimchat (replies, private notes), looking before repeating: when an
 * earlier attempt of the same outbox action may have created the message (`progress.repeated`), the
 * echo Nimchat sent of it is looked for first, and the message is not created twice. Each answer's id
 * is told to SentMessages, so that its echo is never taken for another message.
 */
import type { SentMessages } from '../../src/outbox/sent-messages';
import type { StepProgress } from '../../src/outbox/step-progress';
import type { NimchatClient, OutgoingFile, OutgoingMessage } from './client';
import { toConversationId, type NimchatConversationKey } from './conversation-ref';
import { messageFingerprint } from './message-fingerprint';

export class NimchatMessageSender {
  /** Attempts that looked once: only the first message an attempt sends can repeat the earlier one's last. */
  private readonly looked = new WeakSet<StepProgress>();

  constructor(
    private readonly client: NimchatClient,
    private readonly sent: SentMessages,
  ) {}

  /** The message's id: found by its echo after an uncertain earlier attempt, or created now. */
  async create(key: NimchatConversationKey, message: OutgoingMessage, progress?: StepProgress, files?: { count: number; load: () => Promise<OutgoingFile[]> }): Promise<string> {
    const conversationId = toConversationId(key.accountId, key.conversationId);
    if (progress?.repeated && !this.looked.has(progress)) {
      this.looked.add(progress);
      // Nimchat's message ids grow: what the conversation's previous action created, and anything older,
      // is that action's (or a human's), never this one's.
      const previous = Number(await progress.previousResult().catch(() => undefined));
      const after = Number.isFinite(previous) ? previous : 0;
      const found = await this.sent.take('nimchat', conversationId, messageFingerprint({ ...message, files: files?.count ?? 0 }), {
        eligible: (id) => Number(id) > after,
        // Nimchat answered the earlier attempt (a 5xx): an echo of it is here already or never comes.
        wait: progress.unanswered,
      });
      if (found !== undefined) return found;
    }
    const created =
      files && files.count > 0
        ? await this.client.createMessageWithFiles(key.accountId, key.conversationId, message, await files.load())
        : await this.client.createMessage(key.accountId, key.conversationId, message);
    const id = String(created.id);
    // Bookkeeping only: the message exists, whatever happens to this.
    await this.sent.confirmed('nimchat', conversationId, id).catch(() => undefined);
    return id;
  }
}
