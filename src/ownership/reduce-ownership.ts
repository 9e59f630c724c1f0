/**
 * The ownership state machine, pure: `(record, event) → record`. Every change of owner goes through
 * it. Deliveries arrive out of order, so an event older than the newest one applied changes nothing. A
 * handoff the bot made, or a human's takeover while the status stays a bot status, is undone only by an
 * explicit status change back to a bot status, a release, or a closed ticket.
 */
import type { OwnershipEvent } from './ownership-event';
import { NEW_CONVERSATION, type Owner, type OwnershipDetails, type OwnershipReason, type OwnershipRecord } from './ownership-record';

export type OwnershipTransition = 'released' | 'taken' | undefined;

export interface OwnershipDecision {
  record: OwnershipRecord;
  /** `released`: back to the bot after a human or ticket owned it; `taken`: the bot lost it. */
  transition: OwnershipTransition;
  changed: boolean;
}

export function reduceOwnership(current: OwnershipRecord | undefined, event: OwnershipEvent): OwnershipDecision {
  const before = current ?? NEW_CONVERSATION;
  const unchanged: OwnershipDecision = { record: before, transition: undefined, changed: false };
  const observedAt = 'observedAt' in event ? event.observedAt : undefined;
  if (observedAt !== undefined && before.observedAt !== undefined && observedAt < before.observedAt) return unchanged;
  const next = nextRecord(before, event);
  if (!next) return unchanged;
  const at = observedAt ?? before.observedAt;
  const record: OwnershipRecord = at === undefined ? next : { ...next, observedAt: at };
  const transition: OwnershipTransition =
    before.owner !== 'bot' && record.owner === 'bot' ? 'released' : before.owner === 'bot' && record.owner !== 'bot' ? 'taken' : undefined;
  return { record, transition, changed: differs(before, record) };
}

/** The record after the event, or undefined when the event does not apply. */
function nextRecord(before: OwnershipRecord, event: OwnershipEvent): OwnershipRecord | undefined {
  const become = (owner: Owner, reason: OwnershipReason, changes: { platformStatus?: string; details?: OwnershipDetails } = {}): OwnershipRecord => {
    // Details belong to the owner that recorded them (a ticket's id): kept while that owner stays.
    const kept = owner === before.owner ? before.details : undefined;
    const details = changes.details ? { ...kept, ...changes.details } : kept;
    return {
      owner,
      reason,
      ...(changes.platformStatus ?? before.platformStatus ? { platformStatus: changes.platformStatus ?? before.platformStatus } : {}),
      ...(details && Object.keys(details).length > 0 ? { details } : {}),
    };
  };
  switch (event.type) {
    case 'agent_message':
      return become('human', 'agent_message', event.agent ? { details: { agent: event.agent } } : {});
    case 'handoff_completed':
      return become('human', 'handoff', { platformStatus: event.platformStatus, details: event.details });
    case 'ticket_opened':
      return become('ticket', 'ticket', { details: { ticketId: event.ticketId, ...(event.desk ? { desk: event.desk } : {}) } });
    case 'ticket_closed': {
      // Only the ticket that owns it closes it: the same number in another project is another ticket.
      const { ticketId: owned, desk } = before.details ?? {};
      if (before.owner !== 'ticket' || (owned !== undefined && String(owned) !== String(event.ticketId))) return undefined;
      if (desk !== undefined && event.desk !== undefined && desk !== event.desk) return undefined;
      return become('bot', 'ticket_closed');
    }
    case 'facts_observed':
      return become(before.owner, before.reason, { platformStatus: event.platformStatus, details: event.details });
    case 'released':
      if (before.owner === 'bot') return undefined;
      return become('bot', 'released', { platformStatus: event.platformStatus, details: { why: event.why } });
    case 'status_observed':
      return statusObserved(before, event, become);
  }
}

function statusObserved(
  before: OwnershipRecord,
  event: Extract<OwnershipEvent, { type: 'status_observed' }>,
  become: (owner: Owner, reason: OwnershipReason, changes?: { platformStatus?: string }) => OwnershipRecord,
): OwnershipRecord {
  const status = { platformStatus: event.status };
  if (!event.botStatus) {
    // A ticket keeps owning a resolved conversation; anything else not bot-owned is a human's.
    return before.owner === 'ticket' ? become('ticket', before.reason, status) : become('human', 'status', status);
  }
  if (before.owner === 'bot') return become('bot', before.reason === 'new' ? 'status' : before.reason, status);
  if (event.explicit) return become('bot', 'status', status);
  // A snapshot in a bot status releases only a human ownership that came from the status itself.
  if (before.owner === 'human' && before.reason === 'status') return become('bot', 'status', status);
  return become(before.owner, before.reason, status);
}

function differs(a: OwnershipRecord, b: OwnershipRecord): boolean {
  return (
    a.owner !== b.owner ||
    a.reason !== b.reason ||
    a.platformStatus !== b.platformStatus ||
    a.observedAt !== b.observedAt ||
    JSON.stringify(a.details ?? {}) !== JSON.stringify(b.details ?? {})
  );
}
