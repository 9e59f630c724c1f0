/** What every storage engine gives the rest of the bot. */
import type { Storage } from 'botbuilder-core';
import type { Clock } from '../clock';
import type { DedupeStore } from './dedupe-store';
import type { EchoStore } from './echo-store';
import type { EventInbox } from './event-inbox';
import type { Outbox } from './outbox';
import type { ReplicaCoordination } from '../replicas/replica-coordination';
import type { PruneResult, RetentionPolicy } from './retention';
import type { TimerStore } from './timer-store';
import type { TurnWrites } from './turn-writes';
import type { Timeline } from './timeline';

export interface Stores {
  /** botbuilder state (dialog stacks, user/conversation state), ownership, transcripts. */
  storage: Storage;
  dedupe: DedupeStore;
  inbox: EventInbox;
  outbox: Outbox;
  /** Durable per-conversation timers (the no-answer ladder), claimed when due. */
  timers: TimerStore;
  /** Every step of every conversation, and a summary per conversation (the operator's console reads them). */
  timeline: Timeline;
  /** The platforms' echoes of the bot's messages, until a look before repeating needs them. */
  echoes: EchoStore;
  /** For an engine several replicas share (PostgreSQL): per-conversation leases and the work read back. */
  replicas?: ReplicaCoordination;
  describe: string;
  /**
   * Prepares the store before its first use (PostgreSQL: connects, creates and migrates the schema);
   * the app awaits it at start, so an unusable database stops the start with a clear error. Engines
   * that are ready once constructed do not have it.
   */
  open?(): Promise<void>;
  /** Undefined when the store can be written; otherwise why not (for /readyz). */
  checkWritable(): Promise<string | undefined>;
  /** Deletes what the retention policy says is old. */
  prune(): Promise<PruneResult>;
  /** Starts a unit of work: writes buffered here are committed together, in one transaction, by commit(). */
  beginTurn(): TurnWrites;
  /** Commits what is pending, then releases the store. */
  close(): Promise<void>;
}

export interface StoresOptions {
  clock?: Clock;
  retention?: Partial<RetentionPolicy>;
}
