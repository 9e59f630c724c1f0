/**
 * The embedded durable store's file (better-sqlite3): opened in WAL mode with full fsync on commit, so
 * a row written before a webhook's 2xx survives a kill -9 or a power cut; the schema is created and
 * migrated on open (PRAGMA user_version); the folder is created if missing; an unusable path is a clear
 * error naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HandoffError } from '../errors';

export type SqliteDatabase = Database.Database;

/** Each entry moves the schema one version up; never edit a released one, append. */
const MIGRATIONS: string[] = [
  `CREATE TABLE state (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     etag INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX state_updated ON state(updated_at);
   CREATE TABLE dedupe (
     key TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX dedupe_expires ON dedupe(expires_at);
   CREATE TABLE inbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     platform TEXT NOT NULL,
     conversation TEXT NOT NULL,
     payload TEXT NOT NULL,
     received_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     done_at INTEGER
   );
   CREATE INDEX inbox_unfinished ON inbox(done_at, id);
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     platform TEXT NOT NULL,
     conversation TEXT NOT NULL,
     kind TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     last_error TEXT,
     finished_at INTEGER
   );
   CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
   CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL);`,
  // Per-conversation timers (the no-answer ladder): one row per key, claimed when due.
  `CREATE TABLE timers (
     key TEXT PRIMARY KEY,
     channel TEXT NOT NULL,
     conversation TEXT NOT NULL,
     kind TEXT NOT NULL,
     payload TEXT NOT NULL,
     due_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     claim_token TEXT,
     claimed_until INTEGER,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX timers_due ON timers(due_at);`,
  // The conversation timeline and its per-conversation summary (the console), and set-aside events.
  `CREATE TABLE timeline (
     id INTEGER PRIMARY KEY,
     conversation TEXT NOT NULL,
     platform TEXT NOT NULL,
     kind TEXT NOT NULL,
     at INTEGER NOT NULL,
     duration_ms REAL,
     owner TEXT,
     role TEXT,
     text TEXT,
     detail TEXT NOT NULL
   );
   CREATE INDEX timeline_conversation ON timeline(conversation, id);
   CREATE INDEX timeline_at ON timeline(at);
   CREATE TABLE conversation_summary (
     conversation TEXT PRIMARY KEY,
     platform TEXT NOT NULL,
     first_at INTEGER NOT NULL,
     last_at INTEGER NOT NULL,
     owner TEXT NOT NULL,
     owner_since INTEGER NOT NULL,
     last_role TEXT,
     last_text TEXT,
     last_message_at INTEGER,
     waiting_since INTEGER
   );
   CREATE INDEX conversation_summary_last ON conversation_summary(last_at);
   ALTER TABLE inbox ADD COLUMN set_aside_at INTEGER;
   ALTER TABLE inbox ADD COLUMN set_aside_reason TEXT;
   CREATE INDEX inbox_set_aside ON inbox(set_aside_at) WHERE set_aside_at IS NOT NULL;`,
  // What a done action created on the platform (a message id): a look before repeating starts after it.
  `ALTER TABLE outbox ADD COLUMN result TEXT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function openSqlite(file: string): SqliteDatabase {
  const resolved = path.resolve(file);
  let db: SqliteDatabase;
  try {
    fs.mkdirSync(path.dirname(resolved), { recursive: true });
    db = new Database(resolved);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
    db.prepare('INSERT INTO health (id, checked_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET checked_at = excluded.checked_at').run(Date.now());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HandoffError('storage_unavailable', `cannot use the SQLite store at ${resolved}: ${reason} (check that the folder exists or can be created and is writable, or set STORAGE_URL)`, { cause: error });
  }
  return db;
}

function migrate(db: SqliteDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`the file has schema version ${current}, newer than this version of the bot understands (${MIGRATIONS.length})`);
  }
  // Freed pages go back to the file system at each retention pass (must be set before the first table).
  if (current === 0) db.pragma('auto_vacuum = INCREMENTAL');
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
