/** The outbox in SQLite (see outbox.ts): reads on the main thread's connection, writes through the writer. */
import type { SqliteDatabase } from './sqlite-database';
import type { Outbox, OutboxAction } from './outbox';
import type { SqliteWriter } from './sqlite-writer';
import type { WriteStep } from './sqlite-write-op';
import type { NewOutboxAction } from './turn-writes';
import type { Clock } from '../clock';

interface OutboxRow {
  id: number;
  platform: string;
  conversation: string;
  kind: string;
  payload: string;
  attempts: number;
  next_attempt_at: number;
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

export class SqliteOutbox implements Outbox {
  private readonly selectDue;
  private readonly selectPending;
  private readonly count;

  constructor(
    db: SqliteDatabase,
    private readonly writer: SqliteWriter,
    private readonly clock: Clock,
  ) {
    this.selectDue = db.prepare<[number, number], OutboxRow>("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?");
    this.selectPending = db.prepare<[], OutboxRow>("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id");
    this.count = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'");
  }

  async add(action: NewOutboxAction): Promise<number> {
    const outcome = await this.writer.submit({ steps: [outboxInsertStep(action, this.clock.now())] });
    return outcome.guarded ? 0 : outcome.steps[0]!.lastInsertRowid;
  }

  async due(now: number, limit: number): Promise<OutboxAction[]> {
    return this.selectDue.all(now, limit).map(actionOf);
  }

  async pending(): Promise<OutboxAction[]> {
    return this.selectPending.all().map(actionOf);
  }

  async attempt(id: number): Promise<number> {
    const outcome = await this.writer.submit({ steps: [{ sql: 'UPDATE outbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts', params: [id] }] });
    if (outcome.guarded) return 0;
    return Number(outcome.steps[0]!.rows?.[0]?.attempts ?? 0);
  }

  async markProgress(id: number, payload: unknown): Promise<void> {
    await this.update('UPDATE outbox SET payload = ? WHERE id = ?', [JSON.stringify(payload ?? null), id]);
  }

  async markDone(id: number): Promise<void> {
    await this.finish('done', null, id);
  }

  async markRetry(id: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.update('UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?', [nextAttemptAt, error.slice(0, 2000), id]);
  }

  async markFailed(id: number, error: string): Promise<void> {
    await this.finish('failed', error.slice(0, 2000), id);
  }

  async pendingCount(): Promise<number> {
    return this.count.get()?.n ?? 0;
  }

  private finish(status: 'done' | 'failed', error: string | null, id: number): Promise<void> {
    return this.update('UPDATE outbox SET status = ?, last_error = ?, finished_at = ? WHERE id = ?', [status, error, this.clock.now(), id]);
  }

  private async update(sql: string, params: Array<string | number | null>): Promise<void> {
    await this.writer.submit({ steps: [{ sql, params }] });
  }
}
