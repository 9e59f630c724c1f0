/**
 * Pure rules: what a Nimchat observation means for who owns the conversation (nimchat.md §4, §7).
 *
 * Deliveries are unordered, so each observation carries the conversation's `updated_at`; an
 * observation older than the newest one applied is ignored. A handoff the bot made, or a human's
 * takeover while the status stays `pending`, is only undone by an explicit status change back to a
 * bot status (or by a newer snapshot after the platform confirmed the handoff).
 */
import type { OwnershipRecord } from '../../src/ownership';

export interface NimchatObservation {
  /** `snapshot`: a payload that merely carries the status; `status_change`: the status was changed. */
  kind: 'snapshot' | 'status_change' | 'agent_message';
  status?: string;
  /** Platform time in ms (conversation.updated_at). */
  observedAt?: number;
}

export type OwnershipTransition = 'released' | 'taken' | undefined;

export interface OwnershipDecision {
  record: Omit<OwnershipRecord, 'updatedAt'>;
  /** `released`: back to the bot after a human/ticket owned it; `taken`: a human took it from the bot. */
  transition: OwnershipTransition;
  changed: boolean;
}

export function decideOwnership(
  current: Omit<OwnershipRecord, 'updatedAt'> | undefined,
  obs: NimchatObservation,
  botStatuses: readonly string[],
): OwnershipDecision {
  const before = current ?? { owner: 'bot' as const, reason: 'new' };
  const unchanged: OwnershipDecision = { record: before, transition: undefined, changed: false };
  if (obs.observedAt !== undefined && before.observedAt !== undefined && obs.observedAt < before.observedAt) {
    return unchanged; // stale, delivered out of order
  }
  const observedAt = obs.observedAt ?? before.observedAt;
  const platformStatus = obs.status ?? before.platformStatus;
  const make = (owner: OwnershipRecord['owner'], reason: string): OwnershipDecision => {
    // Details belong to the owner that recorded them (a ticket's id): kept while that owner stays.
    const record = { owner, reason, platformStatus, observedAt, ...(before.details && owner === before.owner ? { details: before.details } : {}) };
    const transition: OwnershipTransition =
      before.owner !== 'bot' && owner === 'bot' ? 'released' : before.owner === 'bot' && owner !== 'bot' ? 'taken' : undefined;
    const changed =
      record.owner !== before.owner ||
      record.reason !== before.reason ||
      record.platformStatus !== before.platformStatus ||
      record.observedAt !== before.observedAt;
    return { record, transition, changed };
  };

  if (obs.kind === 'agent_message') return make('human', 'agent_message');
  if (obs.status === undefined) return unchanged;

  const botStatus = botStatuses.includes(obs.status);
  if (!botStatus) {
    // A ticket keeps owning a resolved conversation; anything else not bot-owned is a human's.
    if (before.owner === 'ticket') return make('ticket', before.reason);
    return make('human', 'status');
  }
  if (before.owner === 'bot') return make('bot', before.reason === 'new' ? 'status' : before.reason);
  if (obs.kind === 'status_change') return make('bot', 'status');
  // A snapshot in a bot status: releases only a human ownership that came from the status itself.
  if (before.owner === 'human' && before.reason === 'status') return make('bot', 'status');
  return make(before.owner, before.reason);
}
