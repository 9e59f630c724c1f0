/**
 * botbuilder `Storage` in process memory (`memory:`), with MemoryStorage's eTags (a stale eTag is
 * rejected; none or `*` writes unconditionally; an eTag on a missing item writes it) and, like the
 * SQLite store, all or nothing per call. Checking and applying are synchronous, so a turn's commit
 * cannot interleave with other writes.
 */
import type { Storage, StoreItems } from 'botbuilder-core';
import { eTagConflict } from './store-write-error';
import { stateChangesOf, type StateChange } from './turn-writes';

export class MemoryStateStorage implements Storage {
  private readonly items = new Map<string, { json: string; eTag: string }>();
  private nextETag = 1;

  async read(keys: string[]): Promise<StoreItems> {
    const items: StoreItems = {};
    for (const key of keys) {
      const item = this.items.get(key);
      if (item) items[key] = { ...(JSON.parse(item.json) as object), eTag: item.eTag };
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    this.applyNow(stateChangesOf(changes));
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) this.items.delete(key);
  }

  /** Throws the first eTag conflict before anything is written; otherwise applies every change. */
  applyNow(changes: Map<string, StateChange>): void {
    for (const [key, change] of changes) {
      const stored = this.items.get(key);
      if (change.kind === 'write' && change.expectedETag !== undefined && stored && stored.eTag !== change.expectedETag) {
        throw eTagConflict(key);
      }
    }
    for (const [key, change] of changes) {
      if (change.kind === 'delete') this.items.delete(key);
      else this.items.set(key, { json: change.json, eTag: String(this.nextETag++) });
    }
  }
}
