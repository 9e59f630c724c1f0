/**
 * The event inbox and the dedupe keys in SQLite: accepting is one writer operation (the dedupe check,
 * the keys and the event row together), committed before the 2xx.
 */
import type { SqliteDatabase } from './sqlite-database';
import type { DedupeStore } from './dedupe-store';
import type { AcceptInput, AcceptResult, EventInbox, InboxEvent } from './event-inbox';
import type { SqliteWriter } from './sqlite-writer';
import type { WriteOp, WriteStep } from './sqlite-write-op';
import type { Clock } from '../clock';

/** Refuses the operation when any of the keys is remembered and not expired. */
function dedupeGuard(keys: string[], now: number): WriteOp['guard'] {
  return { sql: 'SELECT 1 FROM dedupe WHERE key IN (SELECT value FROM json_each(?)) AND expires_at > ? LIMIT 1', params: [JSON.stringify(keys), now] };
}

function rememberSteps(keys: string[], expiresAt: number): WriteStep[] {
  return keys.map((key) => ({
    sql: 'INSERT INTO dedupe (key, expires_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at',
    params: [key, expiresAt],
  }));
}

/** The step that marks an inbox event done (also part of a turn's commit). */
export function inboxDoneStep(id: number, now: number): WriteStep {
  return { sql: 'UPDATE inbox SET done_at = ? WHERE id = ?', params: [now, id] };
}

export class SqliteDedupeStore implements DedupeStore {
  constructor(
    private readonly writer: SqliteWriter,
    private readonly clock: Clock,
  ) {}

  async checkAndRemember(keys: string[], ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const outcome = await this.writer.submit({ guard: dedupeGuard(keys, now), steps: rememberSteps(keys, now + ttlMs) });
    return outcome.guarded;
  }

  async forget(keys: string[]): Promise<void> {
    await this.writer.submit({ steps: keys.map((key) => ({ sql: 'DELETE FROM dedupe WHERE key = ?', params: [key] })) });
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
  private readonly listUnfinished;

  constructor(
    db: SqliteDatabase,
    private readonly writer: SqliteWriter,
    private readonly clock: Clock,
  ) {
    this.listUnfinished = db.prepare<[string], InboxRow>('SELECT * FROM inbox WHERE done_at IS NULL AND platform = ? ORDER BY id');
  }

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const now = this.clock.now();
    const insert: WriteStep = {
      sql: 'INSERT INTO inbox (platform, conversation, payload, received_at) VALUES (?, ?, ?, ?)',
      params: [input.platform, input.conversationId, JSON.stringify(input.payload), now],
    };
    const keyed = input.dedupeKeys.length > 0;
    const outcome = await this.writer.submit({
      guard: keyed ? dedupeGuard(input.dedupeKeys, now) : undefined,
      steps: [...(keyed ? rememberSteps(input.dedupeKeys, now + input.ttlMs) : []), insert],
    });
    if (outcome.guarded) return { duplicate: true };
    return { duplicate: false, id: outcome.steps.at(-1)!.lastInsertRowid };
  }

  /** May be left unawaited: the writer commits it before this event's later done mark (FIFO). */
  started(id: number): Promise<void> {
    const done = this.writer.submit({ steps: [{ sql: 'UPDATE inbox SET attempts = attempts + 1 WHERE id = ?', params: [id] }] }).then(() => undefined);
    done.catch(() => undefined); // unawaited, a failure is not an unhandled rejection; an awaiting caller still gets it
    return done;
  }

  async markDone(id: number): Promise<void> {
    await this.writer.submit({ steps: [inboxDoneStep(id, this.clock.now())] });
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
