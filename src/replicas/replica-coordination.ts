/**
 * What a storage engine shared by several replicas of the endpoint gives them, so that each
 * conversation is worked on by one replica at a time: a lease per conversation, and the
 * conversation's unfinished work read back from the store. Engines used by one process (SQLite,
 * memory) have none: their conversations are ordered by the process's own queue.
 */
import type { InboxEvent } from '../storage/event-inbox';
import type { OutboxAction } from '../storage/outbox';

/** What taking a conversation's lease found. */
export interface Claim {
  held: boolean;
  /** Unfinished events, oldest first, with the attempts counted before this claim. */
  events: InboxEvent[];
  /** The event whose processing the claim marked started (the first one), if any. */
  startedId?: number;
  actions: OutboxAction[];
}

export interface ReplicaCoordination {
  /** This replica's id, recorded as the holder of its leases. */
  readonly replicaId: string;
  /**
   * Takes the conversation's lease for `ttlMs` when it is free or expired (or already ours: extended)
   * and, when taken, reads in the same statement what there is to do: its unfinished events (the first
   * one's processing marked started) and its pending actions, oldest first, and the state `stateKeys`
   * name (served to the conversation's next turn instead of its own read).
   */
  claim(conversationId: string, ttlMs: number, stateKeys?: readonly string[]): Promise<Claim>;
  /** State read with a claim and not taken by the conversation's first turn: no longer to be served. */
  dropClaimedState(conversationId: string): void;
  /** Extends our live lease; false when it has expired or is someone else's. */
  renew(conversationId: string, ttlMs: number): Promise<boolean>;
  /**
   * Gives our lease up only when the conversation has no unfinished inbox event and no pending outbox
   * action (checked in the same statement): false when it has, then there is work to do first. This
   * is what makes an event accepted by another replica while we held the lease never wait unowned.
   */
  releaseIfIdle(conversationId: string): Promise<boolean>;
  /** Gives our lease up whatever is left (at shutdown: another replica takes the rest over at once). */
  release(conversationId: string): Promise<void>;
  /**
   * Conversations with unfinished events or pending actions and no live lease of another replica,
   * oldest work first (our own live leases included: a replica restarted under its name takes them back).
   */
  unleased(limit: number): Promise<string[]>;
  /** The conversation's unfinished inbox events (every platform), oldest first. */
  unfinishedOf(conversationId: string): Promise<InboxEvent[]>;
  /** The conversation's pending outbox actions, oldest first. */
  pendingActionsOf(conversationId: string): Promise<OutboxAction[]>;
}
