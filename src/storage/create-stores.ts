/** Builds the stores named by STORAGE_URL: `sqlite:<path>` (durable, the default) or `memory:`. */
import { MemoryStorage, type Storage } from 'botbuilder-core';
import { systemClock, type Clock } from '../clock';
import type { Logger } from '../log';
import { MemoryDedupeStore, type DedupeStore } from './dedupe-store';
import { MemoryEventInbox, type EventInbox } from './event-inbox';
import { MemoryOutbox, type Outbox } from './outbox';
import { DEFAULT_RETENTION, type PruneResult, type RetentionPolicy } from './retention';
import { openSqlite, type SqliteDatabase } from './sqlite-database';
import { SqliteStorage } from './sqlite-storage';
import { SqliteDedupeStore, SqliteEventInbox } from './sqlite-event-inbox';
import { SqliteOutbox } from './sqlite-outbox';
import { BufferedTurnWrites } from './buffered-turn-writes';
import type { TurnWrites } from './turn-writes';

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
  checkWritable(): string | undefined;
  /** Deletes what the retention policy says is old. */
  prune(): PruneResult;
  close(): Promise<void>;
  /** Starts a unit of work: writes buffered here are committed together by commit(). */
  beginTurn(): TurnWrites;
}

export function createStores(storageUrl: string, logger: Logger, options: { clock?: Clock; retention?: Partial<RetentionPolicy> } = {}): Stores {
  const clock = options.clock ?? systemClock;
  if (storageUrl.startsWith('sqlite:')) return sqliteStores(storageUrl.slice('sqlite:'.length), clock, { ...DEFAULT_RETENTION, ...options.retention }, logger);
  const dedupe = new MemoryDedupeStore(200_000, clock);
  const storage = new MemoryStorage();
  const inbox = new MemoryEventInbox(dedupe, clock);
  const outbox = new MemoryOutbox(clock);
  return {
    storage,
    dedupe,
    inbox,
    outbox,
    beginTurn: () => new BufferedTurnWrites(storage, outbox, inbox),
    durable: false,
    describe: 'memory',
    checkWritable: () => undefined,
    prune: () => ({ inbox: 0, outbox: 0, dedupe: 0, transcripts: 0, state: 0 }),
    close: async () => undefined,
  };
}

function sqliteStores(file: string, clock: Clock, retention: RetentionPolicy, logger: Logger): Stores {
  const db: SqliteDatabase = openSqlite(file);
  const dedupe = new SqliteDedupeStore(db, clock);
  const touch = db.prepare('UPDATE health SET checked_at = ? WHERE id = 1');
  const statements = {
    inbox: db.prepare('DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?'),
    outbox: db.prepare("DELETE FROM outbox WHERE status <> 'pending' AND finished_at < ?"),
    dedupe: db.prepare('DELETE FROM dedupe WHERE expires_at <= ?'),
    transcripts: db.prepare("DELETE FROM state WHERE key LIKE 'transcript/%' AND updated_at < ?"),
    state: db.prepare('DELETE FROM state WHERE updated_at < ?'),
  };
  let closed = false;
  const storage = new SqliteStorage(db, clock);
  const inbox = new SqliteEventInbox(db, dedupe, clock);
  const outbox = new SqliteOutbox(db, clock);
  return {
    storage,
    dedupe,
    inbox,
    outbox,
    beginTurn: () => new BufferedTurnWrites(storage, outbox, inbox),
    durable: true,
    describe: `sqlite:${file}`,
    checkWritable() {
      if (closed) return 'the store is closed';
      try {
        touch.run(clock.now());
        return undefined;
      } catch (error) {
        return `the SQLite store cannot be written: ${error instanceof Error ? error.message : String(error)}`;
      }
    },
    prune() {
      const now = clock.now();
      const result = db.transaction(
        (): PruneResult => ({
          inbox: statements.inbox.run(now - retention.eventsMs).changes,
          outbox: statements.outbox.run(now - retention.eventsMs).changes,
          dedupe: statements.dedupe.run(now).changes,
          transcripts: statements.transcripts.run(now - retention.transcriptsMs).changes,
          state: statements.state.run(now - retention.stateMs).changes,
        }),
      )();
      db.pragma('incremental_vacuum');
      if (Object.values(result).some((n) => n > 0)) logger.info('retention pass', { ...result });
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
