/**
 * botbuilder `Storage` in PostgreSQL (`handoff_state`): dialog state, conversation/user state,
 * ownership, transcripts, ticket links. eTags are real, as in the SQLite store: a write carrying an
 * eTag that is no longer the stored one is rejected (none or `*` writes unconditionally; an eTag on a
 * missing item writes it). One call is one statement: all or nothing.
 */
import type { Storage, StoreItems } from 'botbuilder-core';
import type { Clock } from '../clock';
import type { PostgresDatabase, Statement } from './postgres-database';
import { applyUnit } from './postgres-turn-commit';
import { stateChangesOf, type StateChange } from './turn-writes';

const READ: Statement = { name: 'handoff_state_read', text: 'SELECT key, value, etag FROM handoff_state WHERE key = ANY($1::text[])' };

export type StateRow = { key: string; value: string; etag: string | number };

/** Stored rows as botbuilder StoreItems (each with its eTag). */
export function itemsOf(rows: readonly StateRow[]): StoreItems {
  const items: StoreItems = {};
  for (const row of rows) items[row.key] = { ...(JSON.parse(row.value) as object), eTag: String(row.etag) };
  return items;
}

export class PostgresStorage implements Storage {
  constructor(
    private readonly db: PostgresDatabase,
    private readonly clock: Clock,
    /** Told the keys each write or delete changes (state read ahead of them is stale). */
    private readonly written: (keys: string[]) => void = () => undefined,
  ) {}

  /** One round trip for any number of keys. */
  async read(keys: string[]): Promise<StoreItems> {
    if (keys.length === 0) return {};
    const found = itemsOf((await this.db.query<StateRow>(READ, [keys])).rows);
    // In the order asked for.
    const items: StoreItems = {};
    for (const key of keys) if (found[key] !== undefined) items[key] = found[key];
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    this.written(Object.keys(changes));
    await applyUnit(this.db, { state: stateChangesOf(changes), outbox: [], inboxDone: [], timeline: [] }, this.clock.now());
  }

  async delete(keys: string[]): Promise<void> {
    this.written(keys);
    const state = new Map<string, StateChange>(keys.map((key) => [key, { kind: 'delete' }]));
    await applyUnit(this.db, { state, outbox: [], inboxDone: [], timeline: [] }, this.clock.now());
  }
}
