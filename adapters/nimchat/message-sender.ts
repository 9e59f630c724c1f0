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
  constructor(
    private readonly client: NimchatClient,
    private readonly sent: SentMessages,
    /** What the bot's echoes are kept under: `nimchat`, or a tenant's `nimchat@<tenant>`. */
    private readonly sentKey = 'nimchat',
  ) {}

  /** The message's id: found by its echo after an uncertain earlier attempt, or created now. */
  async create(key: NimchatConversationKey, message: OutgoingMessage, progress?: StepProgress, files?: { count: number; load: () => Promise<OutgoingFile[]> }): Promise<string> {
    const conversationId = toConversationId(key.accountId, key.conversationId);
    // Nimchat's message ids grow: what the conversation's previous action created, and anything older,
    // is that action's (or a human's), never this one's.
    const found = await this.sent.earlierSend(progress, this.sentKey, conversationId, messageFingerprint({ ...message, files: files?.count ?? 0 }), { order: Number, idsOf: splitIds });
    if (found !== undefined) {
      progress?.created?.(found);
      return found;
    }
    const created =
      files && files.count > 0
        ? await this.client.createMessageWithFiles(key.accountId, key.conversationId, message, await files.load())
        : await this.client.createMessage(key.accountId, key.conversationId, message);
    const id = String(created.id);
    progress?.created?.(id);
    // Bookkeeping only: the message exists, whatever happens to this.
    await this.sent.confirmed(this.sentKey, conversationId, id).catch(() => undefined);
    return id;
  }
}

/** An action's result: one message id, or several (a handoff's note and more) separated by spaces. */
function splitIds(result: string): string[] {
  return result.split(' ').filter(Boolean);
}
