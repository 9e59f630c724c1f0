/**
 * botbuilder `Storage` in SQLite: dialog state, conversation/user state, ownership and transcripts.
 * eTags are real: a write carrying an eTag that is no longer the stored one is rejected, exactly as
 * botbuilder's MemoryStorage does (no eTag or `*` writes unconditionally; an eTag on a missing item
 * writes it). One write call is all or nothing. Reads use the main thread's connection; writes go
 * through the group-commit writer.
 */
import type { Storage, StoreItems } from 'botbuilder-core';
import type { SqliteDatabase } from './sqlite-database';
import type { SqliteWriter } from './sqlite-writer';
import type { WriteStep } from './sqlite-write-op';
import { eTagConflictMessage } from './store-write-error';
import { stateChangesOf, type StateChange } from './turn-writes';
import type { Clock } from '../clock';

const UPSERT =
  'INSERT INTO state (key, value, etag, updated_at) VALUES (?, ?, 1, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = state.etag + 1, updated_at = excluded.updated_at';
/** Inserts a missing row, or updates the row only if it still has the expected eTag (else 0 changes). */
const UPSERT_IF_ETAG = `${UPSERT} WHERE state.etag = ?`;

/** The step that applies one state change (its eTag condition checked by the writer). */
export function stateChangeStep(key: string, change: StateChange, now: number): WriteStep {
  if (change.kind === 'delete') return { sql: 'DELETE FROM state WHERE key = ?', params: [key] };
  if (change.expectedETag === undefined) return { sql: UPSERT, params: [key, change.json, now] };
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
      const row = this.selectOne.get(key);
      if (row) items[key] = { ...(JSON.parse(row.value) as object), eTag: String(row.etag) };
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    const now = this.clock.now();
    const steps = [...stateChangesOf(changes)].map(([key, change]) => stateChangeStep(key, change, now));
    if (steps.length > 0) await this.writer.submit({ steps });
  }

  async delete(keys: string[]): Promise<void> {
    const steps = keys.map((key) => stateChangeStep(key, { kind: 'delete' }, 0));
    if (steps.length > 0) await this.writer.submit({ steps });
  }
}
