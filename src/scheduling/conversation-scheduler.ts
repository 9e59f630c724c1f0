/**
 * Who runs a conversation's work, and when: every accepted event, every proactive turn, in the
 * conversation's order, one at a time; different conversations side by side. Two implementations:
 * one process alone (`LocalScheduler`, its in-memory queue) and replicas sharing a store
 * (`ConversationRunner`, a lease per conversation). Nothing outside them asks which one runs.
 */
import type { AcceptClaim } from '../storage/event-inbox';
import type { Claim } from '../replicas/replica-coordination';
import type { InboxEvent } from '../storage/event-inbox';
import { carriedContext, inSpan } from '../tracing/tracer';

/** An event whose processing started this many times without finishing is set aside. */
export const MAX_EVENT_ATTEMPTS = 3;

/**
 * Runs one stored event: its done mark is committed by the processor (with its turn, or after its
 * work). A throw means nothing of it was committed: the event is run again later.
 */
export type StoredEventProcessor = (event: InboxEvent) => Promise<void>;

/** A processor whose runs are spans, each a child of the span of the webhook that brought its event. */
export function tracedProcessor(platform: string, processor: StoredEventProcessor): StoredEventProcessor {
  return (event) =>
    inSpan(
      `${platform} turn`,
      { parent: carriedContext(event.payload), attributes: { 'handoff.platform': platform, 'handoff.conversation.id': event.conversationId, 'handoff.event.attempts': event.attempts } },
      () => processor(event),
    );
}

export interface ConversationScheduler {
  /**
   * How a platform's stored events are run (one processor per platform, given before `start`), and
   * the state keys its turn of a conversation reads first (a scheduler may read them ahead, with the work).
   */
  register(platform: string, processor: StoredEventProcessor, turnKeys?: (conversationId: string) => string[]): void;
  /**
   * Once, before new work: what was left at the last stop goes first, per conversation in its order
   * (the outbox's actions, older than any turn, then the unfinished events).
   */
  start(): Promise<void>;
  /**
   * Replicas: the lease an event's accept may take in its own statement (the conversation has no drain
   * here); undefined otherwise.
   */
  claimOnAccept?(conversationId: string): AcceptClaim | undefined;
  /** An accept given a claim stored nothing (a duplicate, or the store failed). */
  acceptAbandoned?(conversationId: string): void;
  /**
   * An event just stored: run after everything already scheduled for its conversation. `asked`: its
   * accept was given a claim (`claimOnAccept`), and `asked.claim` is what it took (the lease held).
   */
  accepted(event: InboxEvent, asked?: { claim?: Claim }): void;
  /** An event taken back from the set-aside ones (the console's retry); false when no processor runs its platform. */
  requeue(event: InboxEvent): boolean;
  /**
   * From inside an event's processing: the events of its conversation accepted after it and not run
   * yet, oldest first (a burst of messages the processor may take into the same turn).
   */
  pendingAfter(event: InboxEvent): Promise<InboxEvent[]>;
  /** Runs `task` in the conversation's order (a proactive turn); settles with it. */
  run(conversationId: string, task: () => Promise<void>): Promise<void>;
  /** Accepted events this process still has to run (what the backlog limit counts). */
  readonly backlog: number;
  /** Conversations whose work is under way or waiting here now. */
  readonly active: number;
  /** Starts nothing new; work already running finishes (the caller drains the queue after). */
  stop(): Promise<void>;
}
