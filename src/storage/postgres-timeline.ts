/**
 * The timeline in PostgreSQL (see timeline.ts): `handoff_record_steps(steps, now)`, a function created
 * with the schema, inserts each step and folds the conversation's summary (the rule of `foldSummary`),
 * so the statement that does the work (an accept, a turn's commit, an outbox mark) records its steps
 * in the same transaction, in one round trip.
 */
import type { Clock } from '../clock';
import { int, type PostgresDatabase, type Statement } from './postgres-database';
import {
  clipText,
  type ConversationFilter,
  type ConversationSummary,
  type Timeline,
  type TimelineEntry,
  type TimelineKind,
  type TimelineOwner,
  type TimelineRole,
  type TimelineStep,
} from './timeline';

/** Steps as the function's argument (texts clipped as on every engine); null for none. */
export function stepsJson(steps: readonly TimelineStep[]): string | null {
  if (steps.length === 0) return null;
  return JSON.stringify(steps.map((s) => ({ ...s, message: s.message ? { role: s.message.role, text: clipText(s.message.text) } : undefined })));
}

const RECORD: Statement = { name: 'handoff_timeline_record', text: 'SELECT handoff_record_steps($1::jsonb, $2::bigint) AS n' };
const ENTRIES: Statement = {
  name: 'handoff_timeline_entries',
  text: 'SELECT id, conversation, platform, kind, at, duration_ms, owner, role, text, detail FROM handoff_timeline WHERE conversation = $1 AND id > $2 ORDER BY id LIMIT $3',
};
const SUMMARY_COLUMNS = 'conversation, platform, first_at, last_at, owner, owner_since, last_role, last_text, last_message_at, waiting_since';
const CONVERSATIONS: Statement = {
  name: 'handoff_timeline_conversations',
  text: `SELECT ${SUMMARY_COLUMNS} FROM handoff_conversation_summary
 WHERE ($1::text IS NULL OR platform = $1) AND ($2::text IS NULL OR owner = $2) AND ($4::text IS NULL OR conversation LIKE $4 || '/%')
 ORDER BY last_at DESC LIMIT $3`,
};
const CONVERSATION: Statement = { name: 'handoff_timeline_conversation', text: `SELECT ${SUMMARY_COLUMNS} FROM handoff_conversation_summary WHERE conversation = $1` };
const LATEST: Statement = { name: 'handoff_timeline_latest', text: 'SELECT coalesce(max(id), 0) AS id FROM handoff_timeline' };

type EntryRow = {
  id: string;
  conversation: string;
  platform: string;
  kind: string;
  at: string;
  duration_ms: number | null;
  owner: string | null;
  role: string | null;
  text: string | null;
  detail: string;
};

type SummaryRow = {
  conversation: string;
  platform: string;
  first_at: string;
  last_at: string;
  owner: string;
  owner_since: string;
  last_role: string | null;
  last_text: string | null;
  last_message_at: string | null;
  waiting_since: string | null;
};

function entryOf(r: EntryRow): TimelineEntry {
  return {
    id: int(r.id),
    platform: r.platform,
    conversationId: r.conversation,
    kind: r.kind as TimelineKind,
    at: int(r.at),
    durationMs: r.duration_ms ?? undefined,
    owner: (r.owner ?? undefined) as TimelineOwner | undefined,
    message: r.role !== null ? { role: r.role as TimelineRole, text: r.text ?? '' } : undefined,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}

function summaryOf(r: SummaryRow): ConversationSummary {
  return {
    platform: r.platform,
    conversationId: r.conversation,
    firstAt: int(r.first_at),
    lastAt: int(r.last_at),
    owner: r.owner as TimelineOwner,
    ownerSince: int(r.owner_since),
    lastMessage: r.last_role !== null ? { role: r.last_role as TimelineRole, text: r.last_text ?? '', at: int(r.last_message_at ?? r.last_at) } : undefined,
    waitingSince: r.waiting_since === null ? undefined : int(r.waiting_since),
  };
}

export class PostgresTimeline implements Timeline {
  constructor(
    private readonly db: PostgresDatabase,
    private readonly clock: Clock,
  ) {}

  async record(steps: TimelineStep[]): Promise<void> {
    if (steps.length > 0) await this.db.query(RECORD, [stepsJson(steps), this.clock.now()]);
  }

  async entries(conversationId: string, options: { afterId?: number; limit: number }): Promise<TimelineEntry[]> {
    return (await this.db.query<EntryRow>(ENTRIES, [conversationId, options.afterId ?? 0, options.limit])).rows.map(entryOf);
  }

  async conversations(filter: ConversationFilter): Promise<ConversationSummary[]> {
    return (await this.db.query<SummaryRow>(CONVERSATIONS, [filter.platform ?? null, filter.owner ?? null, filter.limit, filter.tenant ?? null])).rows.map(summaryOf);
  }

  async conversation(conversationId: string): Promise<ConversationSummary | undefined> {
    const row = (await this.db.query<SummaryRow>(CONVERSATION, [conversationId])).rows[0];
    return row ? summaryOf(row) : undefined;
  }

  async latestId(): Promise<number> {
    return int((await this.db.query<{ id: string }>(LATEST)).rows[0]?.id ?? 0);
  }
}
