/**
 * The PostgreSQL store's connection pool (node-postgres): every query goes through `query`, which
 * waits for the schema (created and migrated once, see postgres-schema.ts), runs the statement as a
 * named prepared statement on whichever pooled connection is free, and turns driver errors into the
 * store's errors, with the URL's password scrubbed from every message. One statement is one round trip.
 */
import pg from 'pg';
import { HandoffError } from '../errors';
import type { Logger } from '../log';
import { migratePostgres } from './postgres-schema';
import { redactPostgresUrl, scrubPassword } from './postgres-url';
import { eTagConflictMessage, StoreWriteError } from './store-write-error';

export interface PostgresPoolOptions {
  /** Connections in the pool (PG_POOL_SIZE, default 10). */
  poolSize?: number;
  /** Server-side limit of one statement (PG_STATEMENT_TIMEOUT_MS, default 10 s). */
  statementTimeoutMs?: number;
  /** Limit of opening a connection, and of waiting for a free one (PG_CONNECT_TIMEOUT_MS, default 5 s). */
  connectTimeoutMs?: number;
}

export const DEFAULT_PG_POOL: Required<PostgresPoolOptions> = { poolSize: 10, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 };

/** SQLSTATEs raised on purpose by the store's own statements (through the handoff_abort function). */
export const ABORT_DUPLICATE = 'HD001';
export const ABORT_ETAG_CONFLICT = 'HE001';
export const ABORT_ALREADY_DONE = 'HE002';

export interface Statement {
  /** The prepared statement's name: one per SQL text. */
  name: string;
  text: string;
}

type Row = Record<string, unknown>;

export class PostgresDatabase {
  readonly pool: pg.Pool;
  /** The URL without its password, for messages. */
  readonly shownUrl: string;
  private migrated?: Promise<number>;
  private closing?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
    options: PostgresPoolOptions = {},
  ) {
    const settings = { ...DEFAULT_PG_POOL, ...definedOf(options) };
    this.shownUrl = redactPostgresUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      statement_timeout: settings.statementTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'botbuilder-handoff-adapters',
      keepAlive: true,
    });
    // An idle connection that breaks (server restart, network) is dropped by the pool and replaced on
    // the next query; without a listener the event would end the process.
    this.pool.on('error', (error) => this.logger.warn('a pooled PostgreSQL connection failed; it is replaced on the next query', { store: this.shownUrl, error: this.scrub(error) }));
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  /** Creates and migrates the schema once (under an advisory lock). Resolves with the schema version. Retried after a failure. */
  ready(): Promise<number> {
    if (this.closing) return Promise.reject(closedError());
    this.migrated ??= migratePostgres(this.pool).catch((error: unknown) => {
      this.migrated = undefined;
      throw this.unavailable(error);
    });
    return this.migrated;
  }

  /** One statement, one round trip, after the schema is ready. */
  async query<T extends Row = Row>(statement: Statement, values: unknown[] = []): Promise<pg.QueryResult<T>> {
    await this.ready();
    if (this.closing) throw closedError();
    try {
      return await this.pool.query<T>({ name: statement.name, text: statement.text, values });
    } catch (error) {
      throw this.storeError(error);
    }
  }

  /**
   * Runs `fn` inside one transaction on one connection (BEGIN … COMMIT; ROLLBACK when it throws).
   * For the rare multi-statement work (retention); the hot paths are single statements.
   */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.ready();
    if (this.closing) throw closedError();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.storeError(error);
    }
    // A connection that breaks between two statements emits 'error' while it is ours: it fails the next statement instead of the process.
    const onError = (error: Error) => this.logger.warn('a PostgreSQL connection failed inside a transaction', { store: this.shownUrl, error: this.scrub(error) });
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => (broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))));
      throw this.storeError(error);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /** Lets running statements finish, then closes every connection. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  /** A driver error as the store's: SQL refusals are write failures, anything else means the database is unavailable. */
  storeError(error: unknown): Error {
    if (error instanceof HandoffError) return error;
    if (this.closing) return closedError();
    if (error instanceof pg.DatabaseError) {
      if (error.code === ABORT_DUPLICATE) return new DuplicateRefused();
      if (error.code === ABORT_ALREADY_DONE) return new AlreadyDoneRefused();
      if (error.code === ABORT_ETAG_CONFLICT) return new StoreWriteError('storage_conflict', error.message || eTagConflictMessage('?'));
      return new StoreWriteError('storage_write_failed', `PostgreSQL refused the statement (${error.code ?? 'no code'}): ${this.scrub(error).message}`);
    }
    return this.unavailable(error);
  }

  private unavailable(error: unknown): HandoffError {
    if (error instanceof HandoffError) return error;
    const reason = this.scrub(error).message || 'unknown error';
    return new HandoffError('storage_unavailable', `cannot use the PostgreSQL store at ${this.shownUrl}: ${reason}`);
  }

  /** The error's message with the password removed (the original error is not kept as a cause, so nothing else can leak). */
  private scrub(error: unknown): Error {
    const message = error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);
    return new Error(scrubPassword(message, this.url));
  }
}

/** A statement refused a duplicate idempotency key (and wrote nothing): the caller answers "duplicate". */
/** A turn's unit finishing events another run already finished (its commit's answer was lost): nothing written. */
export class AlreadyDoneRefused extends Error {
  constructor() {
    super('the unit finishes an event that is already done');
  }
}

export class DuplicateRefused extends Error {
  constructor() {
    super('an idempotency key is already remembered');
  }
}

function closedError(): HandoffError {
  return new HandoffError('storage_closed', 'the store is closed');
}

function definedOf(options: PostgresPoolOptions): PostgresPoolOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as PostgresPoolOptions;
}

/** pg returns bigint columns as strings; ours are ids and millisecond times, well inside 2^53. */
export function int(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
