/**
 * A unit of work (TurnChanges: state writes and deletes, outbox rows, inbox done marks, timeline steps) applied to
 * PostgreSQL as ONE statement, so one round trip and one implicit transaction: data-modifying CTEs
 * for each part, and a final check that aborts the whole statement (nothing of it written) when a
 * conditional state write found a stale eTag. Storage.write and Storage.delete are units with state
 * changes only.
 *
 * eTags as MemoryStorage and the SQLite store: none or '*' writes unconditionally; an eTag writes
 * only while the stored row still has it; an eTag on a missing row writes it. The check happens in
 * ON CONFLICT DO UPDATE … WHERE, which PostgreSQL evaluates against the row's latest committed
 * version under its row lock, so two replicas writing with the same eTag cannot both succeed.
 */
import { ABORT_ALREADY_DONE, ABORT_ETAG_CONFLICT, AlreadyDoneRefused, int, type PostgresDatabase, type Statement } from './postgres-database';
import { stepsJson } from './postgres-timeline';
import type { StateChange, TurnChanges } from './turn-writes';

const APPLY: Statement = {
  name: 'handoff_apply_unit',
  text: `
WITH
unconditional AS (
  INSERT INTO handoff_state AS s (key, value, etag, updated_at)
  SELECT u.k, u.v, 1, $12::bigint FROM unnest($1::text[], $2::text[]) AS u(k, v) ORDER BY u.k
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = s.etag + 1, updated_at = excluded.updated_at
  RETURNING s.key
),
conditional AS (
  INSERT INTO handoff_state AS s (key, value, etag, updated_at)
  SELECT u.k, u.v, 1, $12::bigint FROM unnest($3::text[], $4::text[]) AS u(k, v) ORDER BY u.k
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = s.etag + 1, updated_at = excluded.updated_at
    WHERE s.etag IS NOT DISTINCT FROM (SELECT x.e FROM unnest($3::text[], $5::bigint[]) AS x(k, e) WHERE x.k = excluded.key)
  RETURNING s.key
),
deleted AS (
  DELETE FROM handoff_state WHERE key = ANY($6::text[]) RETURNING key
),
added AS (
  INSERT INTO handoff_outbox (platform, conversation, kind, payload, created_at, next_attempt_at)
  SELECT o.p, o.c, o.k, o.pl, $12::bigint, $12::bigint
  FROM unnest($7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY AS o(p, c, k, pl, n) ORDER BY o.n
  RETURNING id
),
finished AS (
  UPDATE handoff_inbox SET done_at = $12::bigint WHERE id = ANY($11::bigint[]) AND done_at IS NULL RETURNING id
)
SELECT
  handoff_record_steps($13::jsonb, $12::bigint) AS steps,
  (SELECT handoff_abort('${ABORT_ALREADY_DONE}', 'an event of this unit is already done')
    WHERE (SELECT count(*) FROM finished) < cardinality($11::bigint[])) AS already_done,
  (SELECT handoff_abort('${ABORT_ETAG_CONFLICT}', format('Storage: error writing "%s" due to eTag conflict.', x.k))
     FROM unnest($3::text[]) WITH ORDINALITY AS x(k, n)
    WHERE x.k NOT IN (SELECT key FROM conditional) ORDER BY x.n LIMIT 1) AS conflict,
  (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM added) AS outbox_ids`,
};

/** Applies the unit all or nothing; resolves with the new outbox ids in the order they were added. */
export async function applyUnit(db: PostgresDatabase, changes: TurnChanges, now: number): Promise<{ outboxIds: number[] }> {
  const unconditional: Array<[string, string]> = [];
  const conditional: Array<[string, string, number | null]> = [];
  const deletes: string[] = [];
  for (const [key, change] of changes.state) classify(key, change, unconditional, conditional, deletes);
  if (unconditional.length + conditional.length + deletes.length + changes.outbox.length + changes.inboxDone.length + changes.timeline.length === 0) return { outboxIds: [] };
  let rows: Array<{ outbox_ids: Array<string | number> }>;
  try {
    rows = await runApply(db, changes, now, unconditional, conditional, deletes);
  } catch (error) {
    // Another run of the same turn committed first (this one's earlier commit whose answer was lost,
    // a connection cut after COMMIT): everything it asked for is written already; this run adds nothing.
    if (error instanceof AlreadyDoneRefused) return { outboxIds: [] };
    throw error;
  }
  // Identity values are drawn in insertion order, which follows the call order (ORDER BY o.n).
  return { outboxIds: (rows[0]?.outbox_ids ?? []).map(int) };
}

async function runApply(
  db: PostgresDatabase,
  changes: TurnChanges,
  now: number,
  unconditional: Array<[string, string]>,
  conditional: Array<[string, string, number | null]>,
  deletes: string[],
): Promise<Array<{ outbox_ids: Array<string | number> }>> {
  const { rows } = await db.query<{ outbox_ids: Array<string | number> }>(APPLY, [
    unconditional.map(([k]) => k),
    unconditional.map(([, v]) => v),
    conditional.map(([k]) => k),
    conditional.map(([, v]) => v),
    conditional.map(([, , e]) => e),
    deletes,
    changes.outbox.map((a) => a.platform),
    changes.outbox.map((a) => a.conversationId),
    changes.outbox.map((a) => a.kind),
    changes.outbox.map((a) => JSON.stringify(a.payload ?? null)),
    changes.inboxDone,
    now,
    stepsJson(changes.timeline),
  ]);
  return rows;
}

function classify(key: string, change: StateChange, unconditional: Array<[string, string]>, conditional: Array<[string, string, number | null]>, deletes: string[]): void {
  if (change.kind === 'delete') deletes.push(key);
  else if (change.expectedETag === undefined) unconditional.push([key, change.json]);
  else {
    // Our eTags are integers: any other eTag matches no stored row (NULL is distinct from every etag).
    const etag = Number(change.expectedETag);
    conditional.push([key, change.json, Number.isSafeInteger(etag) ? etag : null]);
  }
}
