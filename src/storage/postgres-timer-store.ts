/** The timers in PostgreSQL (see timer-store.ts): each call one statement; a claim skips rows another replica is claiming. */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { int, type PostgresDatabase, type Statement } from './postgres-database';
import type { ClaimedTimer, NewTimer, TimerStore } from './timer-store';

type TimerRow = {
  key: string;
  channel: string;
  conversation: string;
  kind: string;
  payload: string;
  due_at: string;
  attempts: number;
};

const SET: Statement = {
  name: 'handoff_timer_set',
  text: `INSERT INTO handoff_timers (key, channel, conversation, kind, payload, due_at, attempts, claim_token, claimed_until, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 0, NULL, NULL, $7)
ON CONFLICT (key) DO UPDATE SET channel = excluded.channel, conversation = excluded.conversation, kind = excluded.kind,
  payload = excluded.payload, due_at = excluded.due_at, attempts = 0, claim_token = NULL, claimed_until = NULL`,
};
const CANCEL: Statement = { name: 'handoff_timer_cancel', text: 'DELETE FROM handoff_timers WHERE key = $1' };
/** SKIP LOCKED: replicas claiming at the same moment pass over each other's rows; the condition is checked again on the row updated. */
const CLAIM: Statement = {
  name: 'handoff_timer_claim',
  text: `UPDATE handoff_timers t SET claim_token = $1, claimed_until = $2, attempts = t.attempts + 1
WHERE t.key IN (SELECT key FROM handoff_timers WHERE due_at <= $3 AND (claimed_until IS NULL OR claimed_until <= $3)
                ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED)
  AND (t.claimed_until IS NULL OR t.claimed_until <= $3)
RETURNING t.key, t.channel, t.conversation, t.kind, t.payload, t.due_at, t.attempts`,
};
const FINISH: Statement = { name: 'handoff_timer_finish', text: 'DELETE FROM handoff_timers WHERE key = $1 AND claim_token = $2' };
const GET: Statement = { name: 'handoff_timer_get', text: 'SELECT key, channel, conversation, kind, payload, due_at, attempts FROM handoff_timers WHERE key = $1' };

function timerOf(r: TimerRow): NewTimer {
  return { key: r.key, channelId: r.channel, conversationId: r.conversation, kind: r.kind, dueAt: int(r.due_at), payload: JSON.parse(r.payload) as unknown };
}

export class PostgresTimerStore implements TimerStore {
  constructor(
    private readonly db: PostgresDatabase,
    private readonly clock: Clock,
  ) {}

  async set(timer: NewTimer): Promise<void> {
    await this.db.query(SET, [timer.key, timer.channelId, timer.conversationId, timer.kind, JSON.stringify(timer.payload ?? null), timer.dueAt, this.clock.now()]);
  }

  async cancel(key: string): Promise<void> {
    await this.db.query(CANCEL, [key]);
  }

  async claimDue(now: number, claimMs: number, limit: number): Promise<ClaimedTimer[]> {
    const claim = randomUUID();
    const { rows } = await this.db.query<TimerRow>(CLAIM, [claim, now + claimMs, now, limit]);
    return rows.map((r) => ({ ...timerOf(r), attempts: r.attempts, claim })).sort((a, b) => a.dueAt - b.dueAt);
  }

  async finish(key: string, claim: string): Promise<void> {
    await this.db.query(FINISH, [key, claim]);
  }

  async get(key: string): Promise<NewTimer | undefined> {
    const row = (await this.db.query<TimerRow>(GET, [key])).rows[0];
    return row ? timerOf(row) : undefined;
  }
}
