/** Nimchat conversation ids are per-account display ids: our conversation id pairs them. */
import { InvalidRequestError } from '../../src/errors';

export const NIMCHAT_CHANNEL_ID = 'nimchat';

export interface NimchatConversationKey {
  accountId: number;
  conversationId: number;
}

/** `"<account>:<conversation>"`, unique across accounts of one installation. */
export function toConversationId(accountId: number, conversationId: number): string {
  return `${accountId}:${conversationId}`;
}

/** Reads our conversation id back; throws a clear error for anything else (a tenant's scoped id too: its adapter unscopes it first). */
export function parseConversationId(id: string): NimchatConversationKey {
  const match = /^(\d+):(\d+)$/.exec(id);
  if (!match) {
    throw new InvalidRequestError('nimchat_conversation_invalid', `"${id}" is not a Nimchat conversation id (expected "<account>:<conversation>")`);
  }
  return { accountId: Number(match[1]), conversationId: Number(match[2]) };
}
