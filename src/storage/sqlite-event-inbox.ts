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
import type { TimelineStep } from './timeline';
import { timelineSteps } from './sqlite-timeline';
import { StoreWriteError } from './store-write-error';

/** An operation whose expected change did not happen (the row is not in that state): nothing was written. */
export function notApplied(error: unknown): { guarded: true } {
  if (error instanceof StoreWriteError && error.code === 'storage_conflict') return { guarded: true };
  throw error;
}

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
  set_aside_at: number | null;
  set_aside_reason: string | null;
}

function eventOf(r: InboxRow): InboxEvent {
  return {
    id: r.id,
    platform: r.platform,
    conversationId: r.conversation,
    payload: JSON.parse(r.payload) as unknown,
    receivedAt: r.received_at,
    attempts: r.attempts,
    setAsideAt: r.set_aside_at ?? undefined,
    setAsideReason: r.set_aside_reason ?? undefined,
  };
}

export class SqliteEventInbox implements EventInbox {
  private readonly listUnfinished;
  private readonly selectSetAside;
  private readonly selectOne;

  constructor(
    db: SqliteDatabase,
    private readonly writer: SqliteWriter,
    private readonly clock: Clock,
  ) {
    this.listUnfinished = db.prepare<[string], InboxRow>('SELECT * FROM inbox WHERE done_at IS NULL AND set_aside_at IS NULL AND platform = ? ORDER BY id');
    // A tenant id holds no LIKE wildcard (letters, digits, dashes).
    this.selectSetAside = db.prepare<[string | null, string | null, number], InboxRow>(
      "SELECT * FROM inbox WHERE set_aside_at IS NOT NULL AND (? IS NULL OR conversation LIKE ? || '/%') ORDER BY set_aside_at DESC, id DESC LIMIT ?",
    );
    this.selectOne = db.prepare<[number], InboxRow>('SELECT * FROM inbox WHERE id = ?');
  }

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const now = this.clock.now();
    const insert: WriteStep = {
      sql: 'INSERT INTO inbox (platform, conversation, payload, received_at) VALUES (?, ?, ?, ?)',
      params: [input.platform, input.conversationId, JSON.stringify(input.payload), now],
    };
    const keyed = input.dedupeKeys.length > 0;
    const step = input.timeline;
    const outcome = await this.writer.submit({
      guard: keyed ? dedupeGuard(input.dedupeKeys, now) : undefined,
      // The timeline's step goes last: the event's id stays the last insert of the operation.
      otherwise: step ? timelineSteps({ ...step, detail: { ...step.detail, duplicate: true } }, now) : undefined,
      steps: [...(keyed ? rememberSteps(input.dedupeKeys, now + input.ttlMs) : []), insert, ...(step ? timelineSteps({ ...step, detail: { ...step.detail, duplicate: false } }, now) : [])],
    });
    if (outcome.guarded) return { duplicate: true };
    return { duplicate: false, id: outcome.steps[keyed ? input.dedupeKeys.length : 0]!.lastInsertRowid };
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
    return this.listUnfinished.all(platform).map(eventOf);
  }

  async setAside(id: number, reason: string, step?: TimelineStep): Promise<void> {
    const now = this.clock.now();
    await this.writer.submit({
      steps: [{ sql: 'UPDATE inbox SET set_aside_at = ?, set_aside_reason = ? WHERE id = ? AND done_at IS NULL', params: [now, reason.slice(0, 2000), id] }, ...this.noted(step, now)],
    });
  }

  async listSetAside(limit: number, tenant?: string): Promise<InboxEvent[]> {
    return this.selectSetAside.all(tenant ?? null, tenant ?? null, limit).map(eventOf);
  }

  async reviveSetAside(id: number, step?: TimelineStep): Promise<InboxEvent | undefined> {
    const now = this.clock.now();
    const outcome = await this.writer.submit({
      steps: [
        { sql: 'UPDATE inbox SET set_aside_at = NULL, set_aside_reason = NULL, attempts = 0 WHERE id = ? AND set_aside_at IS NOT NULL', params: [id], expectChanges: { count: 1, message: `inbox event ${id} is not set aside` } },
        ...this.noted(step, now),
      ],
    }).catch(notApplied);
    if (outcome.guarded) return undefined;
    const row = this.selectOne.get(id);
    return row ? eventOf(row) : undefined;
  }

  async discardSetAside(id: number, step?: TimelineStep): Promise<boolean> {
    const now = this.clock.now();
    const outcome = await this.writer.submit({
      steps: [
        { sql: 'UPDATE inbox SET set_aside_at = NULL, done_at = ? WHERE id = ? AND set_aside_at IS NOT NULL', params: [now, id], expectChanges: { count: 1, message: `inbox event ${id} is not set aside` } },
        ...this.noted(step, now),
      ],
    }).catch(notApplied);
    return !outcome.guarded;
  }

  private noted(step: TimelineStep | undefined, now: number): WriteStep[] {
    return step ? timelineSteps(step, now) : [];
  }
}
