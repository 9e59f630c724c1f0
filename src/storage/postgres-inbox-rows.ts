/** `handoff_inbox` rows as the inbox's events: the columns read and how a row becomes an event. */
import type { InboxEvent } from './event-inbox';
import { int } from './postgres-database';

export type InboxRow = {
  id: string;
  platform: string;
  conversation: string;
  payload: string;
  received_at: string;
  attempts: number;
  set_aside_at?: string | null;
  set_aside_reason?: string | null;
};

export const INBOX_COLUMNS = 'id, platform, conversation, payload, received_at, attempts';

export function eventOf(r: InboxRow): InboxEvent {
  return {
    id: int(r.id),
    platform: r.platform,
    conversationId: r.conversation,
    payload: JSON.parse(r.payload) as unknown,
    receivedAt: int(r.received_at),
    attempts: r.attempts,
    ...(r.set_aside_at ? { setAsideAt: int(r.set_aside_at), setAsideReason: r.set_aside_reason ?? undefined } : {}),
  };
}
