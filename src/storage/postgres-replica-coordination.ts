/**
 * Replica coordination on PostgreSQL: the conversation leases (`handoff_leases`) and the reads of a
 * conversation's unfinished work. Each call is one statement; the conditional release checks for work
 * and deletes the lease in the same statement (one snapshot), so an event another replica committed
 * before it is always seen.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Claim, ReplicaCoordination } from '../replicas/replica-coordination';
import type { InboxEvent } from './event-inbox';
import type { OutboxAction } from './outbox';
import type { ConversationLeases } from './postgres-conversation-leases';
import type { PostgresDatabase, Statement } from './postgres-database';
import { leaseTtl } from './postgres-conversation-leases';
import type { ClaimedState } from './claimed-state';
import { claimOf, type ClaimedRow } from './postgres-claim';
import { eventOf, INBOX_COLUMNS, type InboxRow } from './postgres-inbox-rows';
import { actionOf, OUTBOX_COLUMNS, type OutboxRow } from './postgres-outbox';

// Set-aside events wait for an operator, not for a replica: they are no work to hold a lease for.
const HAS_WORK = `(EXISTS (SELECT 1 FROM handoff_inbox WHERE conversation = $1 AND done_at IS NULL AND set_aside_at IS NULL)
   OR EXISTS (SELECT 1 FROM handoff_outbox WHERE conversation = $1 AND status = 'pending'))`;

const RELEASE_IF_IDLE: Statement = {
  name: 'handoff_lease_release_if_idle',
  text: `WITH work AS (SELECT ${HAS_WORK} AS busy),
gone AS (DELETE FROM handoff_leases WHERE conversation = $1 AND holder = $2 AND NOT (SELECT busy FROM work) RETURNING 1)
SELECT (SELECT busy FROM work) AS busy, (SELECT count(*) FROM gone) AS released`,
};

/**
 * Conversations with unfinished events or pending actions and no live lease of another replica, oldest
 * work first. Our own live leases are included: after a restart under the same name they are ours to
 * take back at once (the sweep skips those a drain of ours already holds).
 */
const UNLEASED_WORK: Statement = {
  name: 'handoff_unleased_work',
  text: `SELECT w.conversation FROM (
    SELECT conversation, min(received_at) AS since FROM handoff_inbox WHERE done_at IS NULL AND set_aside_at IS NULL GROUP BY conversation
    UNION ALL
    SELECT conversation, min(created_at) FROM handoff_outbox WHERE status = 'pending' GROUP BY conversation
  ) w
 WHERE NOT EXISTS (SELECT 1 FROM handoff_leases l WHERE l.conversation = w.conversation AND l.expires_at > now() AND l.holder <> $2)
 GROUP BY w.conversation
 ORDER BY min(w.since)
 LIMIT $1`,
};

/**
 * The lease taken (or extended) and, when it is ours, the conversation's work read in the same
 * statement: its unfinished events (the first one's attempts counted: its processing starts now) and
 * its pending actions, and the state the first turn reads. One round trip where there were five
 * (acquire, actions, events, started, the turn's state).
 */
const CLAIM: Statement = {
  name: 'handoff_lease_claim',
  text: `WITH lease AS (
  INSERT INTO handoff_leases AS l (conversation, holder, expires_at)
  VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond')
  ON CONFLICT (conversation) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE l.expires_at <= now() OR l.holder = excluded.holder
  RETURNING 1
),
events AS (
  SELECT ${INBOX_COLUMNS} FROM handoff_inbox
   WHERE conversation = $1 AND done_at IS NULL AND set_aside_at IS NULL AND EXISTS (SELECT 1 FROM lease)
),
started AS (
  UPDATE handoff_inbox SET attempts = attempts + 1 WHERE id = (SELECT min(id) FROM events) RETURNING id
),
actions AS (
  SELECT ${OUTBOX_COLUMNS} FROM handoff_outbox WHERE conversation = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM lease)
),
state AS (
  SELECT key, value, etag FROM handoff_state WHERE key = ANY($4::text[]) AND EXISTS (SELECT 1 FROM lease)
)
SELECT EXISTS (SELECT 1 FROM lease) AS held,
       (SELECT id FROM started) AS started_id,
       (SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM events e) AS events,
       (SELECT coalesce(json_agg(a ORDER BY a.id), '[]') FROM actions a) AS actions,
       (SELECT coalesce(json_agg(s), '[]') FROM state s) AS state`,
};

const UNFINISHED_OF: Statement = {
  name: 'handoff_inbox_unfinished_of',
  text: `SELECT ${INBOX_COLUMNS} FROM handoff_inbox WHERE conversation = $1 AND done_at IS NULL AND set_aside_at IS NULL ORDER BY id`,
};

const PENDING_OF: Statement = {
  name: 'handoff_outbox_pending_of',
  text: `SELECT ${OUTBOX_COLUMNS} FROM handoff_outbox WHERE conversation = $1 AND status = 'pending' ORDER BY id`,
};

export class PostgresReplicaCoordination implements ReplicaCoordination {
  readonly replicaId: string;

  /**
   * `replicaId`: a name stable across restarts of the same replica (the app uses REPLICA_ID, else
   * host and port), so a replica restarted after a crash takes its own leases back at once instead of
   * waiting for them to expire. Without one: host, process and a random part (a new holder each start).
   */
  constructor(
    private readonly db: PostgresDatabase,
    private readonly leases: ConversationLeases,
    /** Where the claim leaves the state it read, for the conversation's next turn. */
    private readonly claimedState: ClaimedState,
    replicaId?: string,
  ) {
    this.replicaId = replicaId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  async claim(conversationId: string, ttlMs: number, stateKeys: readonly string[] = []): Promise<Claim> {
    const { rows } = await this.db.query<ClaimedRow & { held: boolean }>(CLAIM, [conversationId, this.replicaId, leaseTtl(ttlMs), stateKeys]);
    const row = rows[0]!;
    if (!row.held) return { held: false, events: [], actions: [] };
    return claimOf(row, conversationId, stateKeys, this.claimedState);
  }

  dropClaimedState(conversationId: string): void {
    this.claimedState.drop(conversationId);
  }

  renew(conversationId: string, ttlMs: number): Promise<boolean> {
    return this.leases.renew(conversationId, this.replicaId, ttlMs);
  }

  async releaseIfIdle(conversationId: string): Promise<boolean> {
    const { rows } = await this.db.query<{ busy: boolean }>(RELEASE_IF_IDLE, [conversationId, this.replicaId]);
    // Not busy: released, or no longer ours (expired, taken over); either way nothing is left for us.
    return rows[0]?.busy !== true;
  }

  async release(conversationId: string): Promise<void> {
    await this.leases.release(conversationId, this.replicaId);
  }

  async unleased(limit: number): Promise<string[]> {
    return (await this.db.query<{ conversation: string }>(UNLEASED_WORK, [limit, this.replicaId])).rows.map((r) => r.conversation);
  }

  async unfinishedOf(conversationId: string): Promise<InboxEvent[]> {
    return (await this.db.query<InboxRow>(UNFINISHED_OF, [conversationId])).rows.map(eventOf);
  }

  async pendingActionsOf(conversationId: string): Promise<OutboxAction[]> {
    return (await this.db.query<OutboxRow>(PENDING_OF, [conversationId])).rows.map(actionOf);
  }
}
