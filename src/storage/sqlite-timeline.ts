/**
 * The timeline in SQLite (see timeline.ts): a step is an insert plus, when it tells the owner or a
 * message, an upsert of the conversation's summary (the rule of `foldSummary`, in SQL, so it holds
 * whatever else the same batch writes). The steps join the operation they describe; reads use the main
 * thread's connection.
 */
import type Database from 'better-sqlite3';
import type { SqliteDatabase } from './sqlite-database';
import type { SqliteWriter } from './sqlite-writer';
import type { WriteStep } from './sqlite-write-op';
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
import type { Clock } from '../clock';

const INSERT = 'INSERT INTO timeline (conversation, platform, kind, at, duration_ms, owner, role, text, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';

// In an UPDATE's SET every column reference is the row before the update.
const UPSERT_SUMMARY = `INSERT INTO conversation_summary (conversation, platform, first_at, last_at, owner, owner_since, last_role, last_text, last_message_at, waiting_since)
  VALUES (@conversation, @platform, @at, @at, coalesce(@owner, 'bot'), @at, @role, @text, CASE WHEN @role IS NULL THEN NULL ELSE @at END,
          CASE WHEN coalesce(@owner, 'bot') <> 'bot' THEN @at ELSE NULL END)
  ON CONFLICT(conversation) DO UPDATE SET
    last_at = max(last_at, @at),
    owner_since = CASE WHEN @owner IS NOT NULL AND @owner <> owner THEN @at ELSE owner_since END,
    waiting_since = CASE
      WHEN coalesce(@owner, owner) = 'bot' THEN NULL
      WHEN @owner IS NOT NULL AND @owner <> owner THEN @at
      WHEN @role = 'agent' THEN NULL
      WHEN @role = 'customer' AND waiting_since IS NULL THEN @at
      ELSE waiting_since END,
    owner = coalesce(@owner, owner),
    last_role = coalesce(@role, last_role),
    last_text = CASE WHEN @role IS NULL THEN last_text ELSE @text END,
    last_message_at = CASE WHEN @role IS NULL THEN last_message_at ELSE @at END`;

/** The writes that record one step (at `now` unless it has its own time). */
export function timelineSteps(step: TimelineStep, now: number): WriteStep[] {
  const at = step.at ?? now;
  const text = step.message ? clipText(step.message.text) : null;
  const steps: WriteStep[] = [
    {
      sql: INSERT,
      params: [step.conversationId, step.platform, step.kind, at, step.durationMs ?? null, step.owner ?? null, step.message?.role ?? null, text, JSON.stringify(step.detail ?? {})],
    },
  ];
  if (step.owner !== undefined || step.message !== undefined) {
    steps.push({
      sql: UPSERT_SUMMARY,
      params: { conversation: step.conversationId, platform: step.platform, at, owner: step.owner ?? null, role: step.message?.role ?? null, text },
    });
  }
  return steps;
}

interface TimelineRow {
  id: number;
  conversation: string;
  platform: string;
  kind: string;
  at: number;
  duration_ms: number | null;
  owner: string | null;
  role: string | null;
  text: string | null;
  detail: string;
}

interface SummaryRow {
  conversation: string;
  platform: string;
  first_at: number;
  last_at: number;
  owner: string;
  owner_since: number;
  last_role: string | null;
  last_text: string | null;
  last_message_at: number | null;
  waiting_since: number | null;
}

function entryOf(r: TimelineRow): TimelineEntry {
  return {
    id: r.id,
    platform: r.platform,
    conversationId: r.conversation,
    kind: r.kind as TimelineKind,
    at: r.at,
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
    firstAt: r.first_at,
    lastAt: r.last_at,
    owner: r.owner as TimelineOwner,
    ownerSince: r.owner_since,
    lastMessage: r.last_role !== null ? { role: r.last_role as TimelineRole, text: r.last_text ?? '', at: r.last_message_at ?? r.last_at } : undefined,
    waitingSince: r.waiting_since ?? undefined,
  };
}

export class SqliteTimeline implements Timeline {
  private readonly selectEntries;
  private readonly selectSummary;
  private readonly selectLatest;
  private readonly db: SqliteDatabase;
  private readonly listStatements = new Map<string, Database.Statement<Array<string | number>, SummaryRow>>();

  constructor(
    db: SqliteDatabase,
    private readonly writer: SqliteWriter,
    private readonly clock: Clock,
  ) {
    this.db = db;
    this.selectEntries = db.prepare<[string, number, number], TimelineRow>('SELECT * FROM timeline WHERE conversation = ? AND id > ? ORDER BY id LIMIT ?');
    this.selectSummary = db.prepare<[string], SummaryRow>('SELECT * FROM conversation_summary WHERE conversation = ?');
    this.selectLatest = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM timeline');
  }

  async record(steps: TimelineStep[]): Promise<void> {
    const now = this.clock.now();
    if (steps.length > 0) await this.writer.submit({ steps: steps.flatMap((s) => timelineSteps(s, now)) });
  }

  async entries(conversationId: string, options: { afterId?: number; limit: number }): Promise<TimelineEntry[]> {
    return this.selectEntries.all(conversationId, options.afterId ?? 0, options.limit).map(entryOf);
  }

  async conversations(filter: ConversationFilter): Promise<ConversationSummary[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.platform !== undefined) {
      where.push('platform = ?');
      params.push(filter.platform);
    }
    if (filter.owner !== undefined) {
      where.push('owner = ?');
      params.push(filter.owner);
    }
    if (filter.tenant !== undefined) {
      // A tenant id holds no LIKE wildcard (letters, digits, dashes).
      where.push('conversation LIKE ?');
      params.push(`${filter.tenant}/%`);
    }
    params.push(filter.limit);
    // Eight shapes of one query, each prepared once.
    const sql = `SELECT * FROM conversation_summary ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY last_at DESC LIMIT ?`;
    let statement = this.listStatements.get(sql);
    if (!statement) this.listStatements.set(sql, (statement = this.db.prepare<Array<string | number>, SummaryRow>(sql)));
    return statement.all(...params).map(summaryOf);
  }

  async conversation(conversationId: string): Promise<ConversationSummary | undefined> {
    const row = this.selectSummary.get(conversationId);
    return row ? summaryOf(row) : undefined;
  }

  async latestId(): Promise<number> {
    return this.selectLatest.get()?.id ?? 0;
  }
}
