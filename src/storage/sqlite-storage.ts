/**
 * botbuilder `Storage` in SQLite: dialog state, conversation/user state, ownership and transcripts.
 * eTags are real: a write carrying an eTag that is no longer the stored one is rejected, exactly as
 * botbuilder's MemoryStorage does (no eTag or `*` writes unconditionally).
 */
import type { Storage, StoreItems } from 'botbuilder-core';
import type { SqliteDatabase } from './sqlite-database';
import type { Clock } from '../clock';

export class SqliteStorage implements Storage {
  private readonly selectOne;
  private readonly upsert;
  private readonly updateIfEtag;
  private readonly remove;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.selectOne = db.prepare<[string], { value: string; etag: number }>('SELECT value, etag FROM state WHERE key = ?');
    this.upsert = db.prepare(
      'INSERT INTO state (key, value, etag, updated_at) VALUES (@key, @value, 1, @now) ON CONFLICT(key) DO UPDATE SET value = excluded.value, etag = state.etag + 1, updated_at = excluded.updated_at',
    );
    this.updateIfEtag = db.prepare('UPDATE state SET value = @value, etag = etag + 1, updated_at = @now WHERE key = @key AND etag = @etag');
    this.remove = db.prepare('DELETE FROM state WHERE key = ?');
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
    // All or nothing: one stale item rejects the whole batch.
    this.db.transaction(() => {
      for (const [key, item] of Object.entries(changes)) {
        const { eTag, ...rest } = (item ?? {}) as { eTag?: string };
        const value = JSON.stringify(rest);
        if (eTag === undefined || eTag === '*' || eTag === '') {
          this.upsert.run({ key, value, now });
          continue;
        }
        const etag = Number(eTag);
        const changed = Number.isInteger(etag) ? this.updateIfEtag.run({ key, value, now, etag }).changes : 0;
        if (changed === 1) continue;
        if (!this.selectOne.get(key)) {
          this.upsert.run({ key, value, now }); // as MemoryStorage: an eTag on a missing item writes it
          continue;
        }
        throw new Error(`Storage: error writing "${key}" due to eTag conflict.`);
      }
    })();
  }

  async delete(keys: string[]): Promise<void> {
    this.db.transaction(() => {
      for (const key of keys) this.remove.run(key);
    })();
  }
}
