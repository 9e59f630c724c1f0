/** The outbox in SQLite (see outbox.ts). */
import type { SqliteDatabase } from './sqlite-database';
import type { Outbox, OutboxAction } from './outbox';
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

export class SqliteOutbox implements Outbox {
  private readonly insert;
  private readonly selectDue;
  private readonly bump;
  private readonly finish;
  private readonly retry;
  private readonly count;
  private readonly progress;
  private readonly selectPending;

  constructor(
    db: SqliteDatabase,
    private readonly clock: Clock,
  ) {
    this.insert = db.prepare('INSERT INTO outbox (platform, conversation, kind, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.selectDue = db.prepare<[number, number], OutboxRow>("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?");
    this.bump = db.prepare<[number], { attempts: number }>('UPDATE outbox SET attempts = attempts + 1 WHERE id = ? RETURNING attempts');
    this.finish = db.prepare('UPDATE outbox SET status = ?, last_error = ?, finished_at = ? WHERE id = ?');
    this.retry = db.prepare('UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?');
    this.progress = db.prepare('UPDATE outbox SET payload = ? WHERE id = ?');
    this.selectPending = db.prepare<[], OutboxRow>("SELECT * FROM outbox WHERE status = 'pending' ORDER BY id");
    this.count = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'");
  }

  async add(action: { platform: string; conversationId: string; kind: string; payload: unknown }): Promise<number> {
    const now = this.clock.now();
    return Number(this.insert.run(action.platform, action.conversationId, action.kind, JSON.stringify(action.payload), now, now).lastInsertRowid);
  }

  async markProgress(id: number, payload: unknown): Promise<void> {
    this.progress.run(JSON.stringify(payload), id);
  }

  async pending(): Promise<OutboxAction[]> {
    return this.selectPending.all().map(toAction);
  }

  async due(now: number, limit: number): Promise<OutboxAction[]> {
    return this.selectDue.all(now, limit).map(toAction);
  }

  async attempt(id: number): Promise<number> {
    return this.bump.get(id)?.attempts ?? 0;
  }

  async markDone(id: number): Promise<void> {
    this.finish.run('done', null, this.clock.now(), id);
  }

  async markRetry(id: number, nextAttemptAt: number, error: string): Promise<void> {
    this.retry.run(nextAttemptAt, error.slice(0, 2000), id);
  }

  async markFailed(id: number, error: string): Promise<void> {
    this.finish.run('failed', error.slice(0, 2000), this.clock.now(), id);
  }

  async pendingCount(): Promise<number> {
    return this.count.get()?.n ?? 0;
  }
}

function toAction(r: OutboxRow): OutboxAction {
  return { id: r.id, platform: r.platform, conversationId: r.conversation, kind: r.kind, payload: JSON.parse(r.payload) as unknown, attempts: r.attempts, nextAttemptAt: r.next_attempt_at };
}
