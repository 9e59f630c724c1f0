/**
 * The event inbox in PostgreSQL (`handoff_inbox`): accepting is ONE statement (one round trip, one
 * transaction): the dedupe keys are remembered and the event stored together, or, when a key is
 * live, neither (see postgres-dedupe-store.ts). Committed before the 2xx.
 */
import type { Clock } from '../clock';
import type { AcceptInput, AcceptResult, EventInbox, InboxEvent } from './event-inbox';
import { stepsJson } from './postgres-timeline';
import type { TimelineStep } from './timeline';
import { DuplicateRefused, int, type PostgresDatabase, type Statement } from './postgres-database';
import { ABORT_IF_DUPLICATE, REMEMBER_KEYS } from './postgres-dedupe-store';
import type { ClaimedState } from './claimed-state';
import { leaseTtl } from './postgres-conversation-leases';
import { OUTBOX_COLUMNS } from './postgres-outbox';
import { claimOf, type ClaimedRow } from './postgres-claim';
import { eventOf, INBOX_COLUMNS, type InboxRow } from './postgres-inbox-rows';

const ACCEPT: Statement = {
  name: 'handoff_inbox_accept',
  text: `WITH ${REMEMBER_KEYS},
event AS (
  INSERT INTO handoff_inbox (platform, conversation, payload, received_at) VALUES ($4, $5, $6, $3::bigint) RETURNING id
)
SELECT (SELECT id FROM event) AS id, ${ABORT_IF_DUPLICATE}, handoff_record_steps($7::jsonb, $3::bigint) AS steps`,
};
/**
 * The accept that also takes the conversation's lease when it is free (replicas): the event stored and,
 * when the lease was not this holder's already (`fresh`), the conversation's work read as a claim does:
 * the earlier unfinished events (the first one marked started; else this one is stored started), the
 * pending actions, and the state its turn reads. One statement where the accept and the claim were two.
 */
const ACCEPT_AND_CLAIM: Statement = {
  name: 'handoff_inbox_accept_claim',
  text: `WITH ${REMEMBER_KEYS},
prior AS (SELECT holder = $8 AND expires_at > now() AS ours FROM handoff_leases WHERE conversation = $5),
lease AS (
  INSERT INTO handoff_leases AS l (conversation, holder, expires_at) VALUES ($5, $8, now() + $9::bigint * interval '1 millisecond')
  ON CONFLICT (conversation) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE l.expires_at <= now() OR l.holder = excluded.holder
  RETURNING 1
),
fresh AS (SELECT EXISTS (SELECT 1 FROM lease) AND NOT coalesce((SELECT ours FROM prior), false) AS yes),
earlier AS (
  SELECT ${INBOX_COLUMNS} FROM handoff_inbox WHERE conversation = $5 AND done_at IS NULL AND set_aside_at IS NULL AND (SELECT yes FROM fresh)
),
started AS (UPDATE handoff_inbox SET attempts = attempts + 1 WHERE id = (SELECT min(id) FROM earlier) RETURNING id),
event AS (
  INSERT INTO handoff_inbox (platform, conversation, payload, received_at, attempts)
  VALUES ($4, $5, $6, $3::bigint, CASE WHEN (SELECT yes FROM fresh) AND NOT EXISTS (SELECT 1 FROM earlier) THEN 1 ELSE 0 END)
  RETURNING id, attempts
),
actions AS (
  SELECT ${OUTBOX_COLUMNS} FROM handoff_outbox WHERE conversation = $5 AND status = 'pending' AND (SELECT yes FROM fresh)
),
state AS (SELECT key, value, etag FROM handoff_state WHERE key = ANY($10::text[]) AND (SELECT yes FROM fresh))
SELECT (SELECT id FROM event) AS id, ${ABORT_IF_DUPLICATE}, handoff_record_steps($7::jsonb, $3::bigint) AS steps,
       (SELECT yes FROM fresh) AS fresh,
       coalesce((SELECT id FROM started), (SELECT id FROM event WHERE attempts = 1)) AS started_id,
       (SELECT coalesce(json_agg(e ORDER BY e.id), '[]') FROM earlier e) AS events,
       (SELECT coalesce(json_agg(a ORDER BY a.id), '[]') FROM actions a) AS actions,
       (SELECT coalesce(json_agg(s), '[]') FROM state s) AS state`,
};
const RECORD_ONLY: Statement = { name: 'handoff_inbox_record', text: 'SELECT handoff_record_steps($1::jsonb, $2::bigint) AS steps' };
const SET_ASIDE: Statement = {
  name: 'handoff_inbox_set_aside',
  text: `WITH u AS (UPDATE handoff_inbox SET set_aside_at = $2, set_aside_reason = $3 WHERE id = $1 AND done_at IS NULL RETURNING id)
SELECT (SELECT count(*) FROM u) AS n, handoff_record_steps($4::jsonb, $2::bigint) AS steps`,
};
const LIST_SET_ASIDE: Statement = {
  name: 'handoff_inbox_list_set_aside',
  text: `SELECT ${'id, platform, conversation, payload, received_at, attempts, set_aside_at, set_aside_reason'} FROM handoff_inbox
 WHERE set_aside_at IS NOT NULL AND ($2::text IS NULL OR conversation LIKE $2 || '/%') ORDER BY set_aside_at DESC, id DESC LIMIT $1`,
};
/** Only when the row changes are the steps recorded: the CTE's row count gates the call. */
const REVIVE: Statement = {
  name: 'handoff_inbox_revive',
  text: `WITH u AS (UPDATE handoff_inbox SET set_aside_at = NULL, set_aside_reason = NULL, attempts = 0 WHERE id = $1 AND set_aside_at IS NOT NULL
           RETURNING id, platform, conversation, payload, received_at, attempts)
SELECT u.*, handoff_record_steps($2::jsonb, $3::bigint) AS steps FROM u`,
};
const DISCARD: Statement = {
  name: 'handoff_inbox_discard',
  text: `WITH u AS (UPDATE handoff_inbox SET set_aside_at = NULL, done_at = $3 WHERE id = $1 AND set_aside_at IS NOT NULL RETURNING id)
SELECT u.id, handoff_record_steps($2::jsonb, $3::bigint) AS steps FROM u`,
};
const STARTED: Statement = { name: 'handoff_inbox_started', text: 'UPDATE handoff_inbox SET attempts = attempts + 1 WHERE id = $1' };
const DONE: Statement = { name: 'handoff_inbox_done', text: 'UPDATE handoff_inbox SET done_at = $2 WHERE id = $1' };
const UNFINISHED: Statement = {
  name: 'handoff_inbox_unfinished',
  text: 'SELECT id, platform, conversation, payload, received_at, attempts FROM handoff_inbox WHERE done_at IS NULL AND set_aside_at IS NULL AND platform = $1 ORDER BY id',
};


export class PostgresEventInbox implements EventInbox {
  /** started() calls not yet answered: an event's done mark waits for them (a pool does not keep order by itself). */
  private readonly starting = new Map<number, Promise<void>>();

  constructor(
    private readonly db: PostgresDatabase,
    private readonly clock: Clock,
    /** Where an accept that takes the lease leaves the state it read, for the conversation's next turn. */
    private readonly claimedState?: ClaimedState,
  ) {}

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const now = this.clock.now();
    const keys = [...new Set(input.dedupeKeys)];
    try {
      const step = input.timeline ? stepsJson([{ ...input.timeline, detail: { ...input.timeline.detail, duplicate: false } }]) : null;
      const payload = JSON.stringify(input.payload);
      const values = [keys, now + input.ttlMs, now, input.platform, input.conversationId, payload, step];
      if (!input.claim) {
        const { rows } = await this.db.query<{ id: string }>(ACCEPT, values);
        return { duplicate: false, id: int(rows[0]!.id) };
      }
      const { holder, ttlMs, stateKeys } = input.claim;
      const { rows } = await this.db.query<ClaimedRow & { id: string; fresh: boolean }>(ACCEPT_AND_CLAIM, [...values, holder, leaseTtl(ttlMs), stateKeys]);
      const row = rows[0]!;
      const id = int(row.id);
      if (!row.fresh) return { duplicate: false, id };
      // The payload as given (plain JSON already, as on the other stores): parsing back what was just written would cost a copy.
      const event: InboxEvent = { id, platform: input.platform, conversationId: input.conversationId, payload: input.payload, receivedAt: now, attempts: 0 };
      return { duplicate: false, id, claim: claimOf(row, input.conversationId, stateKeys, this.claimedState, [event]) };
    } catch (error) {
      if (!(error instanceof DuplicateRefused)) throw error;
      // The refusal rolled the statement back, its step too: a duplicate's step is recorded on its own.
      if (input.timeline) await this.db.query(RECORD_ONLY, [stepsJson([{ ...input.timeline, detail: { ...input.timeline.detail, duplicate: true } }]), now]);
      return { duplicate: true };
    }
  }

  /** May be left unawaited: the event's later done mark (markDone, or a turn's commit) waits for it. */
  started(id: number): Promise<void> {
    const previous = this.starting.get(id) ?? Promise.resolve();
    const done: Promise<void> = previous.catch(() => undefined).then(() => this.db.query(STARTED, [id])).then(() => undefined);
    this.starting.set(id, done);
    const forget = () => {
      if (this.starting.get(id) === done) this.starting.delete(id);
    };
    done.then(forget, forget); // also keeps an unawaited failure from being an unhandled rejection
    return done;
  }

  /** Resolves once the started() calls of these events are answered (whatever the answer). */
  async afterStarts(ids: readonly number[]): Promise<void> {
    const pending = ids.map((id) => this.starting.get(id)).filter((p): p is Promise<void> => p !== undefined);
    if (pending.length > 0) await Promise.allSettled(pending);
  }

  async markDone(id: number): Promise<void> {
    await this.afterStarts([id]);
    await this.db.query(DONE, [id, this.clock.now()]);
  }

  async unfinished(platform: string): Promise<InboxEvent[]> {
    const { rows } = await this.db.query<InboxRow>(UNFINISHED, [platform]);
    return rows.map(eventOf);
  }

  async setAside(id: number, reason: string, step?: TimelineStep): Promise<void> {
    await this.db.query(SET_ASIDE, [id, this.clock.now(), reason.slice(0, 2000), stepsJson(step ? [step] : [])]);
  }

  async listSetAside(limit: number, tenant?: string): Promise<InboxEvent[]> {
    return (await this.db.query<InboxRow>(LIST_SET_ASIDE, [limit, tenant ?? null])).rows.map(eventOf);
  }

  async reviveSetAside(id: number, step?: TimelineStep): Promise<InboxEvent | undefined> {
    const row = (await this.db.query<InboxRow>(REVIVE, [id, stepsJson(step ? [step] : []), this.clock.now()])).rows[0];
    return row ? eventOf(row) : undefined;
  }

  async discardSetAside(id: number, step?: TimelineStep): Promise<boolean> {
    return ((await this.db.query(DISCARD, [id, stepsJson(step ? [step] : []), this.clock.now()])).rowCount ?? 0) > 0;
  }
}

