/** The timers in SQLite (see timer-store.ts): reads on the main thread's connection, writes (claims too) through the writer. */
import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from './sqlite-database';
import type { SqliteWriter } from './sqlite-writer';
import type { ClaimedTimer, NewTimer, TimerStore } from './timer-store';
import type { Clock } from '../clock';

interface TimerRow {
  key: string;
  channel: string;
  conversation: string;
  kind: string;
  payload: string;
  due_at: number;
  attempts: number;
  claim_token: string | null;
}

function timerOf(r: TimerRow): NewTimer {
  return { key: r.key, channelId: r.channel, conversationId: r.conversation, kind: r.kind, dueAt: Number(r.due_at), payload: JSON.parse(r.payload) as unknown };
}

export class SqliteTimerStore implements TimerStore {
  private readonly selectOne;

  constructor(
    db: SqliteDatabase,
    private readonly writer: SqliteWriter,
    private readonly clock: Clock,
  ) {
    this.selectOne = db.prepare<[string], TimerRow>('SELECT * FROM timers WHERE key = ?');
  }

  async set(timer: NewTimer): Promise<void> {
    await this.writer.submit({
      steps: [
        {
          sql: `INSERT INTO timers (key, channel, conversation, kind, payload, due_at, attempts, claim_token, claimed_until, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 0, NULL, NULL, ?)
                ON CONFLICT(key) DO UPDATE SET channel = excluded.channel, conversation = excluded.conversation, kind = excluded.kind,
                  payload = excluded.payload, due_at = excluded.due_at, attempts = 0, claim_token = NULL, claimed_until = NULL`,
          params: [timer.key, timer.channelId, timer.conversationId, timer.kind, JSON.stringify(timer.payload ?? null), timer.dueAt, this.clock.now()],
        },
      ],
    });
  }

  async cancel(key: string): Promise<void> {
    await this.writer.submit({ steps: [{ sql: 'DELETE FROM timers WHERE key = ?', params: [key] }] });
  }

  async claimDue(now: number, claimMs: number, limit: number): Promise<ClaimedTimer[]> {
    const claim = randomUUID();
    const outcome = await this.writer.submit({
      steps: [
        {
          sql: `UPDATE timers SET claim_token = ?, claimed_until = ?, attempts = attempts + 1
                WHERE key IN (SELECT key FROM timers WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY due_at LIMIT ?)
                RETURNING *`,
          params: [claim, now + claimMs, now, now, limit],
        },
      ],
    });
    if (outcome.guarded) return [];
    const rows = (outcome.steps[0]?.rows ?? []) as unknown as TimerRow[];
    return rows.map((r) => ({ ...timerOf(r), attempts: Number(r.attempts), claim })).sort((a, b) => a.dueAt - b.dueAt);
  }

  async finish(key: string, claim: string): Promise<void> {
    await this.writer.submit({ steps: [{ sql: 'DELETE FROM timers WHERE key = ? AND claim_token = ?', params: [key, claim] }] });
  }

  async get(key: string): Promise<NewTimer | undefined> {
    const row = this.selectOne.get(key);
    return row ? timerOf(row) : undefined;
  }
}
