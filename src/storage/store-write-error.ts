/** A write the store refused: a stale eTag (`storage_conflict`) or an SQL error (`storage_write_failed`). */
import { HandoffError } from '../errors';

export class StoreWriteError extends HandoffError {
  constructor(
    code: 'storage_conflict' | 'storage_write_failed',
    message: string,
    /** SQLite's error code, when SQLite refused it. */
    readonly sqliteCode?: string,
  ) {
    super(code, message);
  }
}

/** What both engines throw for a stale eTag (the message is MemoryStorage's). */
export function eTagConflict(key: string): StoreWriteError {
  return new StoreWriteError('storage_conflict', eTagConflictMessage(key));
}

export function eTagConflictMessage(key: string): string {
  return `Storage: error writing "${key}" due to eTag conflict.`;
}
