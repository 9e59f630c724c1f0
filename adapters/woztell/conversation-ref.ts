/** A WOZTELL conversation is a member on a channel: our conversation id pairs them. */
import { InvalidRequestError } from '../../src/errors';

export const WOZTELL_CHANNEL_ID = 'woztell';

export interface WoztellConversationKey {
  channelId: string;
  memberId: string;
}

/** `"<channelId>:<memberId>"` (WOZTELL ids are hex/alphanumeric, never contain a colon). */
export function toConversationId(channelId: string, memberId: string): string {
  return `${channelId}:${memberId}`;
}

/** Reads our conversation id back; throws a clear error for anything else (a tenant's scoped id too: its adapter unscopes it first). */
export function parseConversationId(id: string): WoztellConversationKey {
  const match = /^([^:\s/]+):([^:\s]+)$/.exec(id);
  if (!match) {
    throw new InvalidRequestError('woztell_conversation_invalid', `"${id}" is not a WOZTELL conversation id (expected "<channelId>:<memberId>")`);
  }
  return { channelId: match[1]!, memberId: match[2]! };
}
