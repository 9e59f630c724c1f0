/**
 * Conversation leases (`handoff_leases`): which replica runs a conversation's turns right now, so a
 * conversation's events are processed one at a time and in order across replicas. A lease is a row
 * (conversation, holder, expires_at) taken by a conditional write: an INSERT that, when the row
 * exists, only takes it over if it has expired (or is already the holder's). Expiry is on the
 * database's clock, so replicas' clocks do not matter. Rows, not advisory locks: an advisory lock
 * belongs to one database session, and a pooled connection is not the holder's to keep; a row
 * survives connection churn and frees itself by time when its holder dies. Each call is one round trip.
 */
import { int, type PostgresDatabase, type Statement } from './postgres-database';

export interface UnleasedConversation {
  conversationKey: string;
  /** Its oldest unfinished inbox event (processing starts there). */
  oldestEventId: number;
  oldestReceivedAt: number;
  unfinishedEvents: number;
}

const ACQUIRE: Statement = {
  name: 'handoff_lease_acquire',
  text: `INSERT INTO handoff_leases AS l (conversation, holder, expires_at)
VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond')
ON CONFLICT (conversation) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
  WHERE l.expires_at <= now() OR l.holder = excluded.holder
RETURNING 1`,
};
const RENEW: Statement = {
  name: 'handoff_lease_renew',
  text: `UPDATE handoff_leases SET expires_at = now() + $3::bigint * interval '1 millisecond'
WHERE conversation = $1 AND holder = $2 AND expires_at > now() RETURNING 1`,
};
const RELEASE: Statement = { name: 'handoff_lease_release', text: 'DELETE FROM handoff_leases WHERE conversation = $1 AND holder = $2 RETURNING 1' };
const HOLDER: Statement = { name: 'handoff_lease_holder', text: 'SELECT holder FROM handoff_leases WHERE conversation = $1 AND expires_at > now()' };
const UNLEASED: Statement = {
  name: 'handoff_lease_unleased',
  text: `SELECT i.conversation, min(i.id) AS oldest_id, min(i.received_at) AS oldest_received_at, count(*) AS events
  FROM handoff_inbox i
 WHERE i.done_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM handoff_leases l WHERE l.conversation = i.conversation AND l.expires_at > now())
 GROUP BY i.conversation
 ORDER BY min(i.id)
 LIMIT $1`,
};

export class ConversationLeases {
  constructor(private readonly db: PostgresDatabase) {}

  /**
   * Takes the conversation's lease for `ttlMs` when nobody holds it, or it has expired; a holder
   * acquiring again extends its own lease. True when `holder` holds it now.
   */
  async acquire(conversationKey: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.db.query(ACQUIRE, [conversationKey, holder, leaseTtl(ttlMs)])).rowCount === 1;
  }

  /** Extends a live lease of `holder`; false when it has expired or is someone else's (then stop, or acquire again). */
  async renew(conversationKey: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.db.query(RENEW, [conversationKey, holder, leaseTtl(ttlMs)])).rowCount === 1;
  }

  /** Gives the lease up; false when `holder` did not have it (any more). */
  async release(conversationKey: string, holder: string): Promise<boolean> {
    return (await this.db.query(RELEASE, [conversationKey, holder])).rowCount === 1;
  }

  /** Who holds a live lease on the conversation, if anyone. */
  async holder(conversationKey: string): Promise<string | undefined> {
    return (await this.db.query<{ holder: string }>(HOLDER, [conversationKey])).rows[0]?.holder;
  }

  /** Conversations with unfinished inbox events and no live lease (work nobody is doing), oldest event first. */
  async unleased(limit: number): Promise<UnleasedConversation[]> {
    const { rows } = await this.db.query<{ conversation: string; oldest_id: string; oldest_received_at: string; events: string }>(UNLEASED, [limit]);
    return rows.map((r) => ({ conversationKey: r.conversation, oldestEventId: int(r.oldest_id), oldestReceivedAt: int(r.oldest_received_at), unfinishedEvents: int(r.events) }));
  }
}

export function leaseTtl(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError('a lease lasts a number of milliseconds, 0 or more');
  return Math.round(ms);
}
