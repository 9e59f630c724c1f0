/** What a statement that took a conversation's lease read with it, as a Claim (the claim itself, or an accept that took the lease). */
import type { Claim } from '../replicas/replica-coordination';
import type { InboxEvent } from './event-inbox';
import type { ClaimedState } from './claimed-state';
import { int } from './postgres-database';
import { eventOf, type InboxRow } from './postgres-inbox-rows';
import { actionOf, type OutboxRow } from './postgres-outbox';
import { itemsOf, type StateRow } from './postgres-storage';

/** What a statement that took a lease read with it (the claim, or an accept that took the lease). */
export type ClaimedRow = { started_id: string | number | null; events: InboxRow[]; actions: OutboxRow[]; state: StateRow[] };

/** A held lease's claim from its row; the state it read is left for the conversation's next turn. `also`: events the statement wrote itself (after the ones read). */
export function claimOf(row: ClaimedRow, conversationId: string, stateKeys: readonly string[], claimedState: ClaimedState | undefined, also: InboxEvent[] = []): Claim {
  if (stateKeys.length > 0) claimedState?.put(conversationId, stateKeys, itemsOf(row.state));
  // json_agg keeps the columns' values (ids as numbers, payloads as their text): the row readers take them.
  const events = [...row.events.map(eventOf), ...also];
  return { held: true, events, actions: row.actions.map(actionOf), ...(row.started_id !== null ? { startedId: int(row.started_id) } : {}) };
}

