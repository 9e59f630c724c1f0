/** The outbox in SQLite (see outbox.ts): reads on the main thread's connection, writes through the writer. */
import type Database from 'better-sqlite3';
import type { SqliteDatabase } from './sqlite-database';
import type { DiscardOutcome, Outbox, OutboxAction, OutboxRecord, OutboxStatus } from './outbox';
import type { SqliteWriter } from './sqlite-writer';
import type { WriteStep } from './sqlite-write-op';
import type { NewOutboxAction } from './turn-writes';
import type { Clock } from '../clock';
import type { TimelineStep } from './timeline';
import { timelineSteps } from './sqlite-timeline';
import { notApplied } from './sqlite-event-inbox';

interface OutboxRow {
  id: number;
  platform: string;
  conversation: string;
  kind: string;
  payload: string;
  attempts: number;
  next_attempt_at: number;
  status: string;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

/** The step that adds an action, due now (also part of a turn's commit); its lastInsertRowid is the id. */
export function outboxInsertStep(action: NewOutboxAction, now: number): WriteStep {
  return {
    sql: 'INSERT INTO outbox (platform, conversation, kind, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)',
    params: [action.platform, action.conversationId, action.kind, JSON.stringify(action.payload ?? null), now, now],
  };
}

function actionOf(r: OutboxRow): OutboxAction {
  return {
    id: r.id,
    platform: r.platform,
    conversationId: r.conversation,
    kind: r.kind,
    payload: JSON.parse(r.payload) as unknown,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
  };
}

function recordOf(r: OutboxRow): OutboxRecord {
  return { ...actionOf(r), status: r.status as OutboxStatus, lastError: r.last_error ?? undefined, createdAt: r.created_at, finishedAt: r.finished_at ?? undefined };
}

export class SqliteOutbox implements Outbox {
  private readonly selectPending;
  private readonly selectOne;
  private readonly selectResults;
  private readonly listStatements = new Map<string, Database.Statement<Array<string | number>, OutboxRow>>();
  private readonly db: SqliteDatabase;

  constructor(
    db: SqliteDatabase,
    private readonly writer: SqliteWriter,
    private readonly clock: Clock,
  ) {
    this.selectPending = db.prepare<[], OutboxRow>("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id");
    this.selectOne = db.prepare<[number], OutboxRow>('SELECT * FROM outbox WHERE id = ?');
    this.selectResults = db.prepare<[number, string, number], { result: string }>(
      "SELECT result FROM outbox WHERE id < ? AND conversation = ? AND status = 'done' AND result IS NOT NULL ORDER BY id DESC LIMIT ?",
    );
    this.db = db;
  }

  async add(action: NewOutboxAction): Promise<number> {
    const outcome = await this.writer.submit({ steps: [outboxInsertStep(action, this.clock.now())] });
    return outcome.guarded ? 0 : outcome.steps[0]!.lastInsertRowid;
  }

  async pending(): Promise<OutboxAction[]> {
    return this.selectPending.all().map(actionOf);
  }

  async attempt(id: number): Promise<number | undefined> {
    const outcome = await this.writer.submit({ steps: [{ sql: "UPDATE outbox SET attempts = attempts + 1 WHERE id = ? AND status = 'pending' RETURNING attempts", params: [id] }] });
    const attempts = outcome.guarded ? undefined : outcome.steps[0]!.rows?.[0]?.attempts;
    return typeof attempts === 'number' ? attempts : undefined;
  }

  async markProgress(id: number, payload: unknown, step?: TimelineStep): Promise<void> {
    await this.update('UPDATE outbox SET payload = ? WHERE id = ?', [JSON.stringify(payload ?? null), id], step);
  }

  async markDone(id: number, step?: TimelineStep, result?: string): Promise<void> {
    await this.update("UPDATE outbox SET status = 'done', last_error = NULL, finished_at = ?, result = ? WHERE id = ?", [this.clock.now(), result ?? null, id], step);
  }

  async resultsBefore(conversationId: string, beforeId: number, limit: number): Promise<string[]> {
    // Rare (a look before repeating): no index of its own; the primary key walks back from beforeId.
    return this.selectResults.all(beforeId, conversationId, limit).map((r) => r.result);
  }

  async markRetry(id: number, nextAttemptAt: number, error: string, step?: TimelineStep, attempts = 0): Promise<boolean> {
    return this.updatePending('UPDATE outbox SET next_attempt_at = ?, last_error = ?, attempts = MAX(attempts, ?) WHERE id = ? AND status = ?', [nextAttemptAt, error.slice(0, 2000), attempts, id, 'pending'], id, step);
  }

  async markFailed(id: number, error: string, step?: TimelineStep, attempts = 0): Promise<boolean> {
    return this.updatePending(
      'UPDATE outbox SET status = ?, last_error = ?, finished_at = ?, attempts = MAX(attempts, ?) WHERE id = ? AND status = ?',
      ['failed', error.slice(0, 2000), this.clock.now(), attempts, id, 'pending'],
      id,
      step,
    );
  }

  async list(filter: { statuses: OutboxStatus[]; limit: number; tenant?: string }): Promise<OutboxRecord[]> {
    if (filter.statuses.length === 0) return [];
    // A tenant id holds no LIKE wildcard (letters, digits, dashes).
    const sql = `SELECT * FROM outbox WHERE status IN (${filter.statuses.map(() => '?').join(', ')})${filter.tenant === undefined ? '' : " AND conversation LIKE ? || '/%'"} ORDER BY id DESC LIMIT ?`;
    let statement = this.listStatements.get(sql);
    if (!statement) this.listStatements.set(sql, (statement = this.db.prepare<Array<string | number>, OutboxRow>(sql)));
    return statement.all(...filter.statuses, ...(filter.tenant === undefined ? [] : [filter.tenant]), filter.limit).map(recordOf);
  }

  async get(id: number): Promise<OutboxRecord | undefined> {
    const row = this.selectOne.get(id);
    return row ? recordOf(row) : undefined;
  }

  async revive(id: number, now: number, step?: TimelineStep): Promise<OutboxAction | undefined> {
    const outcome = await this.writer
      .submit({
        steps: [
          {
            sql: "UPDATE outbox SET attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END, status = 'pending', finished_at = NULL, next_attempt_at = ? WHERE id = ? AND status IN ('pending', 'failed')",
            params: [now, id],
            expectChanges: { count: 1, message: `outbox action ${id} is neither pending nor failed` },
          },
          ...(step ? timelineSteps(step, now) : []),
        ],
      })
      .catch(notApplied);
    if (outcome.guarded) return undefined;
    const row = this.selectOne.get(id);
    return row ? actionOf(row) : undefined;
  }

  async discard(id: number, reason: string, step?: TimelineStep): Promise<DiscardOutcome> {
    const now = this.clock.now();
    const outcome = await this.writer
      .submit({
        steps: [
          {
            sql: "UPDATE outbox SET status = 'discarded', last_error = ?, finished_at = ? WHERE id = ? AND status IN ('pending', 'failed')",
            params: [reason.slice(0, 2000), now, id],
            expectChanges: { count: 1, message: `outbox action ${id} is neither pending nor failed` },
          },
          ...(step ? timelineSteps(step, now) : []),
        ],
      })
      .catch(notApplied);
    return outcome.guarded ? 'not_found' : 'discarded';
  }

  /** An update of a pending action with its step; false (nothing written) when the action is no longer pending. */
  private async updatePending(sql: string, params: Array<string | number | null>, id: number, step?: TimelineStep): Promise<boolean> {
    const outcome = await this.writer
      .submit({ steps: [{ sql, params, expectChanges: { count: 1, message: `outbox action ${id} is no longer pending` } }, ...(step ? timelineSteps(step, this.clock.now()) : [])] })
      .catch(notApplied);
    return !outcome.guarded;
  }

  private async update(sql: string, params: Array<string | number | null>, step?: TimelineStep): Promise<void> {
    await this.writer.submit({ steps: [{ sql, params }, ...(step ? timelineSteps(step, this.clock.now()) : [])] });
  }
}
