/**
 * The stores of `sqlite:<path>`: the file is opened and migrated here (a clear error naming it when
 * unusable); this thread keeps that connection for reads only, and every write goes through the
 * group-commit writer, whose thread has a connection of its own. WAL lets reads see every commit.
 */
import path from 'node:path';
import { systemClock } from '../clock';
import type { Logger } from '../log';
import type { Stores, StoresOptions } from './stores';
import { DEFAULT_RETENTION, type PruneResult } from './retention';
import { openSqlite } from './sqlite-database';
import { inboxDoneStep, SqliteDedupeStore, SqliteEventInbox } from './sqlite-event-inbox';
import { outboxInsertStep, SqliteOutbox } from './sqlite-outbox';
import { SqliteStorage } from './sqlite-storage';
import { SqliteTimerStore } from './sqlite-timer-store';
import { SqliteWriter } from './sqlite-writer';
import { SqliteTimeline, timelineSteps } from './sqlite-timeline';
import { ECHO_KEEP_MS, StorageEchoStore } from './echo-store';
import type { WriteStep } from './sqlite-write-op';
import { BufferedTurnWrites, type TurnChanges } from './turn-writes';

export interface SqliteStores extends Stores {
  /** The group-commit writer (its `stats` count batches and commits). */
  readonly writer: SqliteWriter;
}

export function createSqliteStores(file: string, logger: Logger, options: StoresOptions = {}): SqliteStores {
  const clock = options.clock ?? systemClock;
  const retention = { ...DEFAULT_RETENTION, ...options.retention };
  const db = openSqlite(file);
  let writer: SqliteWriter;
  try {
    db.pragma('query_only = ON'); // this connection reads; a write here would bypass the group commit
    writer = new SqliteWriter(path.resolve(file));
  } catch (error) {
    db.close();
    throw error;
  }
  const storage = new SqliteStorage(db, writer, clock);
  let closing: Promise<void> | undefined;

  const commitTurn = async (changes: TurnChanges): Promise<{ outboxIds: number[] }> => {
    const now = clock.now();
    const stateSteps = storage.steps(changes.state, now);
    const outboxSteps = changes.outbox.map((action) => outboxInsertStep(action, now));
    const steps = [...stateSteps, ...outboxSteps, ...changes.inboxDone.map((id) => inboxDoneStep(id, now)), ...changes.timeline.flatMap((step) => timelineSteps(step, now))];
    if (steps.length === 0) return { outboxIds: [] };
    let outcome: Awaited<ReturnType<typeof writer.submit>>;
    try {
      outcome = await writer.submit({ steps });
    } catch (error) {
      storage.failed(changes.state);
      throw error;
    }
    if (outcome.guarded) return { outboxIds: [] };
    storage.committed(changes.state, outcome.steps);
    return { outboxIds: outcome.steps.slice(stateSteps.length, stateSteps.length + outboxSteps.length).map((s) => s.lastInsertRowid) };
  };

  return {
    storage,
    dedupe: new SqliteDedupeStore(writer, clock),
    inbox: new SqliteEventInbox(db, writer, clock),
    outbox: new SqliteOutbox(db, writer, clock),
    timers: new SqliteTimerStore(db, writer, clock),
    timeline: new SqliteTimeline(db, writer, clock),
    echoes: new StorageEchoStore(storage, clock, ECHO_KEEP_MS),
    writer,
    describe: `sqlite:${file}`,
    async checkWritable() {
      if (closing) return 'the store is closed';
      try {
        await writer.submit({ steps: [{ sql: 'UPDATE health SET checked_at = ? WHERE id = 1', params: [clock.now()] }] });
        return undefined;
      } catch (error) {
        return `the SQLite store cannot be written: ${error instanceof Error ? error.message : String(error)}`;
      }
    },
    async prune() {
      const now = clock.now();
      const deletes: Array<[keyof PruneResult, WriteStep]> = [
        ['inbox', { sql: 'DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?', params: [now - retention.eventsMs] }],
        ['outbox', { sql: "DELETE FROM outbox WHERE status <> 'pending' AND finished_at < ?", params: [now - retention.eventsMs] }],
        ['dedupe', { sql: 'DELETE FROM dedupe WHERE expires_at <= ?', params: [now] }],
        ['transcripts', { sql: "DELETE FROM state WHERE key LIKE 'transcript/%' AND updated_at < ?", params: [now - retention.transcriptsMs] }],
        ['state', { sql: 'DELETE FROM state WHERE updated_at < ?', params: [now - retention.stateMs] }],
        ['timeline', { sql: 'DELETE FROM timeline WHERE at < ?', params: [now - retention.eventsMs] }],
        ['conversations', { sql: 'DELETE FROM conversation_summary WHERE last_at < ?', params: [now - retention.stateMs] }],
        // Set-aside events are kept as long as finished ones, from when they were set aside.
        ['inbox', { sql: 'DELETE FROM inbox WHERE set_aside_at IS NOT NULL AND set_aside_at < ?', params: [now - retention.eventsMs] }],
      ];
      // The freed pages go back to the file system in the same transaction.
      const outcome = await writer.submit({ steps: [...deletes.map(([, step]) => step), { sql: 'PRAGMA incremental_vacuum' }] }).finally(() => storage.forget());
      const result: PruneResult = { inbox: 0, outbox: 0, dedupe: 0, transcripts: 0, state: 0 };
      // The optional counts (timeline, conversations) appear when something was deleted.
      if (!outcome.guarded) {
        deletes.forEach(([name], i) => {
          const changes = outcome.steps[i]!.changes;
          if (changes > 0 || result[name] !== undefined) result[name] = (result[name] ?? 0) + changes;
        });
      }
      if (Object.values(result).some((n) => n > 0)) logger.info('retention pass', { ...result });
      return result;
    },
    beginTurn: () => new BufferedTurnWrites((keys) => storage.read(keys), commitTurn),
    close() {
      closing ??= writer.close().finally(() => db.close());
      return closing;
    },
  };
}
