/** Builds the stores named by STORAGE_URL. */
import { MemoryStorage, type Storage } from 'botbuilder-core';
import type { Logger } from '../log';
import { MemoryDedupeStore, type DedupeStore } from './dedupe-store';

export interface Stores {
  /** botbuilder state (dialog stacks, user/conversation state), ownership, transcripts. */
  storage: Storage;
  dedupe: DedupeStore;
  /** Whether what is kept survives a restart. */
  durable: boolean;
  describe: string;
  close(): Promise<void>;
}

/**
 * `memory:` keeps everything in the process (botbuilder's MemoryStorage honours eTags: a stale write
 * is rejected). `sqlite:<path>` is the durable default of the contract; until the durable store lands
 * it runs on memory and says so loudly at start.
 */
export function createStores(storageUrl: string, logger: Logger): Stores {
  if (storageUrl.startsWith('sqlite:')) {
    logger.warn('durable SQLite storage is not available in this version: state is kept in memory and lost on restart', {
      storageUrl,
    });
  }
  return {
    storage: new MemoryStorage(),
    dedupe: new MemoryDedupeStore(),
    durable: false,
    describe: 'memory',
    close: async () => undefined,
  };
}
