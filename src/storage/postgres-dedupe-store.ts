/**
 * Idempotency keys in PostgreSQL (`handoff_dedupe`, the key its primary key). Remembering is an
 * upsert that only takes over an expired row: when two replicas receive the same redelivery at once,
 * the unique key makes the second wait for the first and then find the key live, so exactly one of
 * them remembers it. A key found live aborts the whole statement (handoff_abort): nothing of it is kept.
 */
import type { Clock } from '../clock';
import type { DedupeStore } from './dedupe-store';
import { ABORT_DUPLICATE, DuplicateRefused, type PostgresDatabase, type Statement } from './postgres-database';

/**
 * The CTE that remembers `$1` (text[]) until `$2`, taking over rows expired at `$3`; it returns one
 * row per key remembered. Keys are taken in sorted order, so concurrent statements lock them in the same order.
 */
export const REMEMBER_KEYS = `remembered AS (
  INSERT INTO handoff_dedupe AS d (key, expires_at)
  SELECT k, $2::bigint FROM unnest($1::text[]) AS u(k) ORDER BY k
  ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE d.expires_at <= $3::bigint
  RETURNING 1
)`;

/** The select-list item that aborts the statement when a key of `$1` was live (not remembered). */
export const ABORT_IF_DUPLICATE = `CASE WHEN (SELECT count(*) FROM remembered) < cardinality($1::text[]) THEN handoff_abort('${ABORT_DUPLICATE}', 'duplicate') END AS duplicate`;

const CHECK_AND_REMEMBER: Statement = { name: 'handoff_dedupe_remember', text: `WITH ${REMEMBER_KEYS} SELECT ${ABORT_IF_DUPLICATE}` };
const FORGET: Statement = { name: 'handoff_dedupe_forget', text: 'DELETE FROM handoff_dedupe WHERE key = ANY($1::text[])' };

export class PostgresDedupeStore implements DedupeStore {
  constructor(
    private readonly db: PostgresDatabase,
    private readonly clock: Clock,
  ) {}

  async checkAndRemember(keys: string[], ttlMs: number): Promise<boolean> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) return false;
    const now = this.clock.now();
    try {
      await this.db.query(CHECK_AND_REMEMBER, [unique, now + ttlMs, now]);
      return false;
    } catch (error) {
      if (error instanceof DuplicateRefused) return true;
      throw error;
    }
  }

  async forget(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.db.query(FORGET, [keys]);
  }
}
