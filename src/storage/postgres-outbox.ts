/**
 * The outbox in PostgreSQL (`handoff_outbox`; see outbox.ts for the contract), for several replicas
 * sharing the table: an attempt marks its row in flight (claimed_by, claimed_until) until its outcome
 * is written, so a discard through another replica is refused meanwhile.
 */
import type { Clock } from '../clock';
import type { DiscardOutcome, Outbox, OutboxAction, OutboxRecord, OutboxStatus } from './outbox';
import { stepsJson } from './postgres-timeline';
import type { TimelineStep } from './timeline';
import { int, type PostgresDatabase, type Statement } from './postgres-database';
import type { NewOutboxAction } from './turn-writes';

const RECORD_COLUMNS = 'id, platform, conversation, kind, payload, attempts, next_attempt_at, status, last_error, created_at, finished_at';
// A tenant id holds no LIKE wildcard (letters, digits, dashes).
const LIST: Statement = {
  name: 'handoff_outbox_list',
  text: `SELECT ${RECORD_COLUMNS} FROM handoff_outbox WHERE status = ANY($1::text[]) AND ($3::text IS NULL OR conversation LIKE $3 || '/%') ORDER BY id DESC LIMIT $2`,
};
const GET: Statement = { name: 'handoff_outbox_get', text: `SELECT ${RECORD_COLUMNS} FROM handoff_outbox WHERE id = $1` };
/**
 * A failed action pending again with its attempts reset; a pending one due now (an attempt running
 * keeps its claim). Steps recorded only when the row changed.
 */
const REVIVE: Statement = {
  name: 'handoff_outbox_revive',
  text: `WITH u AS (UPDATE handoff_outbox SET attempts = CASE WHEN status = 'failed' THEN 0 ELSE attempts END, status = 'pending', finished_at = NULL,
             next_attempt_at = $2
           WHERE id = $1 AND status IN ('pending', 'failed') RETURNING id, platform, conversation, kind, payload, attempts, next_attempt_at)
SELECT u.*, handoff_record_steps($3::jsonb, $2::bigint) AS steps FROM u`,
};
/** Refused while an attempt holds the action (claimed_until ahead): `in_flight` tells the two refusals apart. */
const DISCARD: Statement = {
  name: 'handoff_outbox_discard',
  text: `WITH u AS (UPDATE handoff_outbox SET status = 'discarded', last_error = $2, finished_at = $3, claimed_by = NULL, claimed_until = NULL
           WHERE id = $1 AND status IN ('pending', 'failed') AND (claimed_until IS NULL OR claimed_until <= now()) RETURNING id)
SELECT (SELECT count(*) FROM u) AS n,
       EXISTS (SELECT 1 FROM handoff_outbox WHERE id = $1 AND status = 'pending' AND claimed_until > now()) AS in_flight,
       (SELECT handoff_record_steps($4::jsonb, $3::bigint) FROM u) AS steps`,
};

type RecordRow = OutboxRow & { status: string; last_error: string | null; created_at: string; finished_at: string | null };

function recordOf(r: RecordRow): OutboxRecord {
  return {
    ...actionOf(r),
    status: r.status as OutboxStatus,
    lastError: r.last_error ?? undefined,
    createdAt: int(r.created_at),
    finishedAt: r.finished_at === null ? undefined : int(r.finished_at),
  };
}

export const OUTBOX_COLUMNS = 'id, platform, conversation, kind, payload, attempts, next_attempt_at';
const COLUMNS = OUTBOX_COLUMNS;

const ADD: Statement = {
  name: 'handoff_outbox_add',
  text: 'INSERT INTO handoff_outbox (platform, conversation, kind, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id',
};
const PENDING: Statement = { name: 'handoff_outbox_pending', text: `SELECT ${COLUMNS} FROM handoff_outbox WHERE status = 'pending' ORDER BY id` };
/**
 * An attempt of a pending action, claimed by its replica until the attempt is marked (or `$3` ms have
 * passed: a replica that died mid-attempt), so that a discard through another replica waits.
 */
const ATTEMPT: Statement = {
  name: 'handoff_outbox_attempt',
  text: `UPDATE handoff_outbox SET attempts = attempts + 1, claimed_by = $2, claimed_until = now() + $3::bigint * interval '1 millisecond'
          WHERE id = $1 AND status = 'pending' RETURNING attempts`,
};
/** Longer than an attempt lasts (a few platform calls of at most 10 s each, the last one retried). */
const ATTEMPT_CLAIM_MS = 120_000;
const PROGRESS: Statement = {
  name: 'handoff_outbox_progress',
  text: 'WITH u AS (UPDATE handoff_outbox SET payload = $2 WHERE id = $1 RETURNING id) SELECT (SELECT count(*) FROM u) AS n, handoff_record_steps($3::jsonb, $4::bigint) AS steps',
};
// Retrying, finishing or failing an action ends its claim. A retry or a failure applies to a pending
// action only (one discarded meanwhile stays discarded, its step unrecorded); done is recorded whatever.
const RETRY: Statement = {
  name: 'handoff_outbox_retry',
  text: `WITH u AS (UPDATE handoff_outbox SET next_attempt_at = $2, last_error = $3, attempts = GREATEST(attempts, $6::int), claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND status = 'pending' RETURNING id)
SELECT u.id, handoff_record_steps($4::jsonb, $5::bigint) AS steps FROM u`,
};
const FAIL: Statement = {
  name: 'handoff_outbox_fail',
  text: `WITH u AS (UPDATE handoff_outbox SET status = 'failed', last_error = $2, finished_at = $3, attempts = GREATEST(attempts, $5::int), claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND status = 'pending' RETURNING id)
SELECT u.id, handoff_record_steps($4::jsonb, $3::bigint) AS steps FROM u`,
};
/**
 * Done marks, group-committed: every mark asked for while the previous batch was being written goes in
 * one statement. For each, when its holder asks (replicas), the conversation's lease is given up in the
 * same statement when nothing is left there (no unfinished event, no pending action outside the batch).
 */
const DONE_BATCH: Statement = {
  name: 'handoff_outbox_done_batch',
  text: `WITH input AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[]) AS i(id, result, holder)),
u AS (
  UPDATE handoff_outbox o SET status = 'done', last_error = NULL, finished_at = $4, claimed_by = NULL, claimed_until = NULL, result = i.result
  FROM input i WHERE o.id = i.id RETURNING o.id, o.conversation, i.holder
),
work AS (
  SELECT u.id, u.conversation, u.holder,
         EXISTS (SELECT 1 FROM handoff_inbox b WHERE b.conversation = u.conversation AND b.done_at IS NULL AND b.set_aside_at IS NULL)
      OR EXISTS (SELECT 1 FROM handoff_outbox p WHERE p.conversation = u.conversation AND p.status = 'pending' AND p.id NOT IN (SELECT id FROM input)) AS busy
  FROM u
),
gone AS (
  DELETE FROM handoff_leases l USING work w
   WHERE w.holder IS NOT NULL AND NOT w.busy AND l.conversation = w.conversation AND l.holder = w.holder RETURNING 1
)
SELECT (SELECT coalesce(json_agg(json_build_object('id', w.id, 'busy', w.busy)), '[]') FROM work w) AS marks,
       (SELECT count(*) FROM gone) AS released,
       handoff_record_steps($5::jsonb, $4::bigint) AS steps`,
};
const RESULTS_BEFORE: Statement = {
  name: 'handoff_outbox_results_before',
  text: `SELECT result FROM handoff_outbox WHERE id < $1 AND conversation = $2 AND status = 'done' AND result IS NOT NULL ORDER BY id DESC LIMIT $3`,
};
export type OutboxRow = {
  id: string;
  platform: string;
  conversation: string;
  kind: string;
  payload: string;
  attempts: number;
  next_attempt_at: string;
};

export function actionOf(r: OutboxRow): OutboxAction {
  return {
    id: int(r.id),
    platform: r.platform,
    conversationId: r.conversation,
    kind: r.kind,
    payload: JSON.parse(r.payload) as unknown,
    attempts: r.attempts,
    nextAttemptAt: int(r.next_attempt_at),
  };
}

/** A done mark waiting for its batch. */
interface DoneMark {
  id: number;
  result: string | null;
  /** Replicas: the holder whose lease goes with the mark when nothing is left. */
  holder: string | null;
  step?: TimelineStep;
  settle: { resolve(busy: boolean): void; reject(error: unknown): void };
}

export class PostgresOutbox implements Outbox {
  private readonly marks: DoneMark[] = [];
  private writingMarks = false;

  constructor(
    private readonly db: PostgresDatabase,
    private readonly clock: Clock,
    /** Recorded as the holder of the attempts this process runs. */
    private readonly replicaId: string | null = null,
  ) {}

  async add(action: NewOutboxAction): Promise<number> {
    const { rows } = await this.db.query<{ id: string }>(ADD, [action.platform, action.conversationId, action.kind, JSON.stringify(action.payload ?? null), this.clock.now()]);
    return int(rows[0]!.id);
  }

  async pending(): Promise<OutboxAction[]> {
    return (await this.db.query<OutboxRow>(PENDING)).rows.map(actionOf);
  }

  async attempt(id: number): Promise<number | undefined> {
    const { rows } = await this.db.query<{ attempts: number }>(ATTEMPT, [id, this.replicaId, ATTEMPT_CLAIM_MS]);
    return rows[0]?.attempts;
  }

  // Each mark carries its timeline step in the same statement (see postgres-timeline.ts).
  async markProgress(id: number, payload: unknown, step?: TimelineStep): Promise<void> {
    await this.db.query(PROGRESS, [id, JSON.stringify(payload ?? null), stepsJson(step ? [step] : []), this.clock.now()]);
  }

  async markDone(id: number, step?: TimelineStep, result?: string): Promise<void> {
    await this.mark({ id, holder: null, step, result: result ?? null });
  }

  async markDoneAndRelease(id: number, holder: string, step?: TimelineStep, result?: string): Promise<boolean> {
    return !(await this.mark({ id, holder, step, result: result ?? null }));
  }

  /** Queues a done mark for the next batch; resolves with whether its conversation still had work (busy). */
  private mark(mark: Omit<DoneMark, 'settle'>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.marks.push({ ...mark, settle: { resolve, reject } });
      if (!this.writingMarks) void this.writeMarks();
    });
  }

  /** One batch at a time: marks asked for meanwhile wait for it and go together in the next. */
  private async writeMarks(): Promise<void> {
    this.writingMarks = true;
    // The marks of this moment first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.marks.length > 0) {
      const batch = this.marks.splice(0);
      try {
        await this.writeBatch(batch);
      } catch (error) {
        if (batch.length === 1) batch[0]!.settle.reject(error);
        // One mark the store refuses must not hold the others' conversations: each on its own then.
        else for (const m of batch) await this.writeBatch([m]).catch((alone: unknown) => m.settle.reject(alone));
      }
    }
    this.writingMarks = false;
  }

  private async writeBatch(batch: DoneMark[]): Promise<void> {
    const steps = batch.flatMap((m) => (m.step ? [m.step] : []));
    const { rows } = await this.db.query<{ marks: Array<{ id: number | string; busy: boolean }> }>(DONE_BATCH, [
      batch.map((m) => m.id),
      batch.map((m) => m.result),
      batch.map((m) => m.holder),
      this.clock.now(),
      stepsJson(steps),
    ]);
    const busy = new Map((rows[0]?.marks ?? []).map((m) => [int(m.id), m.busy]));
    // A mark whose row was not there (gone meanwhile) tells nothing about the conversation: busy, the lease kept.
    for (const m of batch) m.settle.resolve(busy.get(m.id) ?? true);
  }

  async resultsBefore(conversationId: string, beforeId: number, limit: number): Promise<string[]> {
    return (await this.db.query<{ result: string }>(RESULTS_BEFORE, [beforeId, conversationId, limit])).rows.map((r) => r.result);
  }

  async markRetry(id: number, nextAttemptAt: number, error: string, step?: TimelineStep, attempts = 0): Promise<boolean> {
    return ((await this.db.query(RETRY, [id, nextAttemptAt, error.slice(0, 2000), stepsJson(step ? [step] : []), this.clock.now(), attempts])).rowCount ?? 0) > 0;
  }

  async markFailed(id: number, error: string, step?: TimelineStep, attempts = 0): Promise<boolean> {
    return ((await this.db.query(FAIL, [id, error.slice(0, 2000), this.clock.now(), stepsJson(step ? [step] : []), attempts])).rowCount ?? 0) > 0;
  }

  async list(filter: { statuses: OutboxStatus[]; limit: number; tenant?: string }): Promise<OutboxRecord[]> {
    return (await this.db.query<RecordRow>(LIST, [filter.statuses, filter.limit, filter.tenant ?? null])).rows.map(recordOf);
  }

  async get(id: number): Promise<OutboxRecord | undefined> {
    const row = (await this.db.query<RecordRow>(GET, [id])).rows[0];
    return row ? recordOf(row) : undefined;
  }

  async revive(id: number, now: number, step?: TimelineStep): Promise<OutboxAction | undefined> {
    const row = (await this.db.query<OutboxRow>(REVIVE, [id, now, stepsJson(step ? [step] : [])])).rows[0];
    return row ? actionOf(row) : undefined;
  }

  async discard(id: number, reason: string, step?: TimelineStep): Promise<DiscardOutcome> {
    const row = (await this.db.query<{ n: string; in_flight: boolean }>(DISCARD, [id, reason.slice(0, 2000), this.clock.now(), stepsJson(step ? [step] : [])])).rows[0];
    if (row && int(row.n) > 0) return 'discarded';
    return row?.in_flight ? 'in_flight' : 'not_found';
  }
}
