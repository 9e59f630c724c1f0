/** Builds the stores named by STORAGE_URL: `sqlite:<path>` (durable, the default) or `memory:`. */
import type { Storage } from 'botbuilder-core';
import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { DedupeStore } from './dedupe-store';
import type { EventInbox } from './event-inbox';
import type { Outbox } from './outbox';
import type { PruneResult, RetentionPolicy } from './retention';
import type { TurnWrites } from './turn-writes';
import { createMemoryStores } from './memory-stores';
import { createSqliteStores } from './sqlite-stores';

export interface Stores {
  /** botbuilder state (dialog stacks, user/conversation state), ownership, transcripts. */
  storage: Storage;
  dedupe: DedupeStore;
  inbox: EventInbox;
  outbox: Outbox;
  /** Whether what is kept survives a restart. */
  durable: boolean;
  describe: string;
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

export function createStores(storageUrl: string, logger: Logger, options: StoresOptions = {}): Stores {
  if (storageUrl.startsWith('sqlite:')) return createSqliteStores(storageUrl.slice('sqlite:'.length), logger, options);
  return createMemoryStores(options);
}
