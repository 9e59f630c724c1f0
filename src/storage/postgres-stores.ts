/**
 * The stores of `postgres://…`: every replica of the bot can use the same database. The pool is
 * created here; the schema is created and migrated on first use (`open`, which the app awaits at
 * start, under an advisory lock). Each operation is one statement on a pooled connection: accepting
 * an event, committing a turn, a state write are each one round trip and one transaction.
 */
import { ClaimedState } from './claimed-state';
import { systemClock } from '../clock';
import { HandoffError } from '../errors';
import type { Logger } from '../log';
import { DEFAULT_RETENTION, type PruneResult } from './retention';
import type { Stores, StoresOptions } from './stores';
import { ConversationLeases } from './postgres-conversation-leases';
import { PostgresDatabase, type PostgresPoolOptions, type Statement } from './postgres-database';
import { PostgresDedupeStore } from './postgres-dedupe-store';
import { PostgresEventInbox } from './postgres-event-inbox';
import { PostgresOutbox } from './postgres-outbox';
import { PostgresReplicaCoordination } from './postgres-replica-coordination';
import { PostgresTimeline } from './postgres-timeline';
import { PostgresEchoStore } from './postgres-echo-store';
import { ECHO_KEEP_MS } from './echo-store';
import { PostgresTimerStore } from './postgres-timer-store';
import { HANDOFF_LOCKS, RETENTION_LOCK } from './postgres-schema';
import { PostgresStorage } from './postgres-storage';
import { postgresUrlProblem } from './postgres-url';
import { applyUnit } from './postgres-turn-commit';
import { BufferedTurnWrites, type TurnChanges } from './turn-writes';

export interface PostgresStoresOptions extends StoresOptions {
  pool?: PostgresPoolOptions;
  replicaId?: string;
}

export interface PostgresStores extends Stores {
  outbox: PostgresOutbox;
  /** Per-conversation leases, for running a conversation's turns on one replica at a time. */
  leases: ConversationLeases;
  /** The pool and its schema. */
  readonly database: PostgresDatabase;
  open(): Promise<void>;
}

const HEALTH: Statement = { name: 'handoff_health', text: 'UPDATE handoff_health SET checked_at = $1 WHERE id = 1' };

export function createPostgresStores(url: string, logger: Logger, options: PostgresStoresOptions = {}): PostgresStores {
  const problem = postgresUrlProblem(url);
  if (problem) throw new HandoffError('storage_unavailable', problem);
  const clock = options.clock ?? systemClock;
  const retention = { ...DEFAULT_RETENTION, ...options.retention };
  const database = new PostgresDatabase(url, logger, options.pool);
  const claimedState = new ClaimedState();
  const storage = new PostgresStorage(database, clock, (keys) => claimedState.forget(keys));
  const inbox = new PostgresEventInbox(database, clock, claimedState);
  const leases = new ConversationLeases(database);

  const commitTurn = async (changes: TurnChanges): Promise<{ outboxIds: number[] }> => {
    // A done mark lands after the event's attempt was counted (started() may be in flight on another connection).
    await inbox.afterStarts(changes.inboxDone);
    return applyUnit(database, changes, clock.now());
  };

  return {
    storage,
    dedupe: new PostgresDedupeStore(database, clock),
    inbox,
    outbox: new PostgresOutbox(database, clock, options.replicaId ?? null),
    leases,
    replicas: new PostgresReplicaCoordination(database, leases, claimedState, options.replicaId),
    timers: new PostgresTimerStore(database, clock),
    timeline: new PostgresTimeline(database, clock),
    echoes: new PostgresEchoStore(database),
    database,
    describe: database.shownUrl,
    async open() {
      await database.ready();
    },
    async checkWritable() {
      if (database.isClosed) return 'the store is closed';
      try {
        const { rowCount } = await database.query(HEALTH, [clock.now()]);
        return rowCount === 1 ? undefined : 'the PostgreSQL store cannot be written: its health row is missing';
      } catch (error) {
        return `the PostgreSQL store cannot be written: ${error instanceof Error ? error.message : String(error)}`;
      }
    },
    async prune() {
      const now = clock.now();
      const deletes: Array<[keyof PruneResult, string, number]> = [
        ['inbox', 'DELETE FROM handoff_inbox WHERE (done_at IS NOT NULL AND done_at < $1) OR (set_aside_at IS NOT NULL AND set_aside_at < $1)', now - retention.eventsMs],
        ['outbox', "DELETE FROM handoff_outbox WHERE status <> 'pending' AND finished_at < $1", now - retention.eventsMs],
        ['dedupe', 'DELETE FROM handoff_dedupe WHERE expires_at <= $1', now],
        ['transcripts', "DELETE FROM handoff_state WHERE key LIKE 'transcript/%' AND updated_at < $1", now - retention.transcriptsMs],
        ['state', 'DELETE FROM handoff_state WHERE updated_at < $1', now - retention.stateMs],
        // The timeline as long as finished events; a conversation's summary as long as other state.
        ['timeline', 'DELETE FROM handoff_timeline WHERE at < $1', now - retention.eventsMs],
        ['conversations', 'DELETE FROM handoff_conversation_summary WHERE last_at < $1', now - retention.stateMs],
        ['echoes', 'DELETE FROM handoff_echoes WHERE at < $1', now - ECHO_KEEP_MS],
      ];
      const result: PruneResult = { inbox: 0, outbox: 0, dedupe: 0, transcripts: 0, state: 0 };
      // One replica at a time: the others find the lock taken and skip this pass (the lock ends with the transaction).
      const ran = await database.transaction(async (client) => {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS locked', [HANDOFF_LOCKS, RETENTION_LOCK]);
        if (!rows[0]?.locked) return false;
        for (const [name, sql, before] of deletes) {
          const count = (await client.query(sql, [before])).rowCount ?? 0;
          // The optional counts (timeline, conversations) appear when something was deleted, as on SQLite.
          if (count > 0 || result[name] !== undefined) result[name] = count;
        }
        await client.query('DELETE FROM handoff_leases WHERE expires_at < now()');
        return true;
      });
      if (!ran) logger.debug('retention pass skipped: another replica is running one');
      else if (Object.values(result).some((n) => n > 0)) logger.info('retention pass', { ...result });
      return result;
    },
    beginTurn: () =>
      new BufferedTurnWrites(async (keys) => {
        // What the conversation's claim read already, then the rest.
        const { items, missing } = claimedState.take(keys);
        return missing.length > 0 ? { ...items, ...(await storage.read(missing)) } : items;
      }, commitTurn),
    close: () => database.close(),
  };
}
