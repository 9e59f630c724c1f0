/**
 * botbuilder `Storage` in SQLite: dialog state, conversation/user state, ownership and transcripts.
 * eTags are real: a write carrying an eTag that is no longer the stored one is rejected, exactly as
 * botbuilder's MemoryStorage does (no eTag or `*` writes unconditionally; an eTag on a missing item
 * writes it). One write call is all or nothing. Reads use the main thread's connection; writes go
 * through the group-commit writer.
 *
 * The rows read and written last are kept in memory (a bounded cache) and a read of one of them
 * skips SQLite: a turn reads the same few keys (ownership, dialog state, transcript head) that the
 * previous turn of the conversation wrote, and each read of the file after the writer thread's
 * commits goes back to the disk cache. It holds because one process uses the file (the writer
 * thread of this process is its only writer); each commit updates it with the new eTag.
 */
import type { Storage, StoreItems } from 'botbuilder-core';
import type { SqliteDatabase } from './sqlite-database';
import type { SqliteWriter } from './sqlite-writer';
import type { StepResult, WriteStep } from './sqlite-write-op';
import { eTagConflictMessage } from './store-write-error';
import { stateChangesOf, type StateChange } from './turn-writes';
import type { Clock } from '../clock';

const UPSERT =
  'INSERT INTO state (key, value, etag, updated_at) VALUES (?, ?, 1, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = state.etag + 1, updated_at = excluded.updated_at';
/** Upserts return the row's new eTag (for the cache). */
const UPSERT_RETURNING = `${UPSERT} RETURNING etag`;
/** Inserts a missing row, or updates the row only if it still has the expected eTag (else no row). */
const UPSERT_IF_ETAG = `${UPSERT} WHERE state.etag = ? RETURNING etag`;

/** Rows kept in memory; about three per active conversation. */
const CACHED_ROWS = 4096;

type CachedRow = { value: string; etag: number } | null;

/** The step that applies one state change (its eTag condition checked by the writer). */
export function stateChangeStep(key: string, change: StateChange, now: number): WriteStep {
  if (change.kind === 'delete') return { sql: 'DELETE FROM state WHERE key = ?', params: [key] };
  if (change.expectedETag === undefined) return { sql: UPSERT_RETURNING, params: [key, change.json, now] };
  const etag = Number(change.expectedETag);
  return {
    sql: UPSERT_IF_ETAG,
    // Our eTags are integers: any other eTag matches no stored row.
    params: [key, change.json, now, Number.isInteger(etag) ? etag : null],
    expectChanges: { count: 1, message: eTagConflictMessage(key) },
  };
}

export class SqliteStorage implements Storage {
  private readonly selectOne;
  /** Key → its row as last read or committed (null: no row). */
  private readonly cache = new Map<string, CachedRow>();

  constructor(
    db: SqliteDatabase,
    private readonly writer: SqliteWriter,
    private readonly clock: Clock,
  ) {
    this.selectOne = db.prepare<[string], { value: string; etag: number }>('SELECT value, etag FROM state WHERE key = ?');
  }

  async read(keys: string[]): Promise<StoreItems> {
    const items: StoreItems = {};
    for (const key of keys) {
      const row = this.row(key);
      if (row) items[key] = { ...(JSON.parse(row.value) as object), eTag: String(row.etag) };
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    await this.commit(stateChangesOf(changes));
  }

  async delete(keys: string[]): Promise<void> {
    await this.commit(new Map(keys.map((key) => [key, { kind: 'delete' } as const])));
  }

  /** The steps of these changes, to run in an operation of their own or of a turn; `committed` or `failed` after. */
  steps(changes: Map<string, StateChange>, now: number): WriteStep[] {
    return [...changes].map(([key, change]) => stateChangeStep(key, change, now));
  }

  /** Tells the cache what an operation holding `steps(changes)` committed (`results`: those steps' outcomes). */
  committed(changes: Map<string, StateChange>, results: StepResult[]): void {
    let i = 0;
    for (const [key, change] of changes) {
      const etag = results[i++]?.rows?.[0]?.etag;
      if (change.kind === 'delete') this.remember(key, null);
      else if (typeof etag === 'number') this.remember(key, { value: change.json, etag });
      else this.cache.delete(key);
    }
  }

  /** An operation with these changes did not commit (or its outcome is unknown): read them from the file again. */
  failed(changes: Map<string, StateChange>): void {
    for (const key of changes.keys()) this.cache.delete(key);
  }

  /** Rows were deleted by other statements (retention): nothing cached is trusted. */
  forget(): void {
    this.cache.clear();
  }

  private async commit(changes: Map<string, StateChange>): Promise<void> {
    if (changes.size === 0) return;
    try {
      const outcome = await this.writer.submit({ steps: this.steps(changes, this.clock.now()) });
      if (!outcome.guarded) this.committed(changes, outcome.steps);
    } catch (error) {
      this.failed(changes);
      throw error;
    }
  }

  private row(key: string): CachedRow {
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.remember(key, cached); // recently used: evicted last
      return cached;
    }
    const row = this.selectOne.get(key);
    const read = row ? { value: row.value, etag: row.etag } : null;
    this.remember(key, read);
    return read;
  }

  private remember(key: string, row: CachedRow): void {
    // Map order is insertion order: re-inserting keeps the recently used keys, the oldest go first.
    this.cache.delete(key);
    this.cache.set(key, row);
    if (this.cache.size > CACHED_ROWS) this.cache.delete(this.cache.keys().next().value!);
  }
}
