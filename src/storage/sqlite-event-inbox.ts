/** The event inbox and the dedupe keys in SQLite: accepting is one transaction, committed before the 2xx. */
import type { SqliteDatabase } from './sqlite-database';
import type { DedupeStore } from './dedupe-store';
import type { AcceptInput, AcceptResult, EventInbox, InboxEvent } from './event-inbox';
import type { Clock } from '../clock';

export class SqliteDedupeStore implements DedupeStore {
  private readonly find;
  private readonly put;
  private readonly drop;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.find = db.prepare<[string, number], { key: string }>('SELECT key FROM dedupe WHERE key = ? AND expires_at > ?');
    this.put = db.prepare('INSERT INTO dedupe (key, expires_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at');
    this.drop = db.prepare('DELETE FROM dedupe WHERE key = ?');
  }

  /** Inside the caller's transaction when there is one (better-sqlite3 nests as savepoints). */
  checkAndRememberNow(keys: string[], ttlMs: number): boolean {
    const now = this.clock.now();
    return this.db.transaction(() => {
      if (keys.some((key) => this.find.get(key, now))) return true;
      for (const key of keys) this.put.run(key, now + ttlMs);
      return false;
    })();
  }

  async checkAndRemember(keys: string[], ttlMs: number): Promise<boolean> {
    return this.checkAndRememberNow(keys, ttlMs);
  }

  async forget(keys: string[]): Promise<void> {
    this.db.transaction(() => {
      for (const key of keys) this.drop.run(key);
    })();
  }
}

interface InboxRow {
  id: number;
  platform: string;
  conversation: string;
  payload: string;
  received_at: number;
  attempts: number;
}

export class SqliteEventInbox implements EventInbox {
  private readonly insert;
  private readonly start;
  private readonly done;
  private readonly listUnfinished;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly dedupe: SqliteDedupeStore,
    private readonly clock: Clock,
  ) {
    this.insert = db.prepare('INSERT INTO inbox (platform, conversation, payload, received_at) VALUES (?, ?, ?, ?)');
    this.start = db.prepare('UPDATE inbox SET attempts = attempts + 1 WHERE id = ?');
    this.done = db.prepare('UPDATE inbox SET done_at = ? WHERE id = ?');
    this.listUnfinished = db.prepare<[string], InboxRow>('SELECT * FROM inbox WHERE done_at IS NULL AND platform = ? ORDER BY id');
  }

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const payload = JSON.stringify(input.payload);
    return this.db.transaction((): AcceptResult => {
      if (input.dedupeKeys.length > 0 && this.dedupe.checkAndRememberNow(input.dedupeKeys, input.ttlMs)) return { duplicate: true };
      const info = this.insert.run(input.platform, input.conversationId, payload, this.clock.now());
      return { duplicate: false, id: Number(info.lastInsertRowid) };
    })();
  }

  async started(id: number): Promise<void> {
    this.start.run(id);
  }

  async markDone(id: number): Promise<void> {
    this.done.run(this.clock.now(), id);
  }

  async unfinished(platform: string): Promise<InboxEvent[]> {
    return this.listUnfinished.all(platform).map((r) => ({
      id: r.id,
      platform: r.platform,
      conversationId: r.conversation,
      payload: JSON.parse(r.payload) as unknown,
      receivedAt: r.received_at,
      attempts: r.attempts,
    }));
  }
}
