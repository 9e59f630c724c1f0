/**
 * The conversation timeline: every step of a conversation (webhook received, turn, ownership change,
 * effect queued, delivery attempt, operator action) as the store records it, written in the same
 * transactions as the work it describes (the accept, the turn's unit of work, the outbox marks), and
 * one summary row per conversation (owner and since when, last message, how long a customer has been
 * waiting for a human) kept up to date by the same writes. Read by the operator's console.
 */

export type TimelineKind = 'webhook' | 'turn' | 'ownership' | 'queued' | 'delivery' | 'event';
export type TimelineOwner = 'bot' | 'human' | 'ticket';
export type TimelineRole = 'customer' | 'bot' | 'agent';

/** What a writer records. */
export interface TimelineStep {
  /** The platform the step happened on (nimchat, woztell, inbenta). */
  platform: string;
  conversationId: string;
  kind: TimelineKind;
  /** Epoch ms; the commit's time when absent. */
  at?: number;
  durationMs?: number;
  /** Who owns the conversation after this step, when the step tells. */
  owner?: TimelineOwner;
  /** A message as the customer or the agent sees it. */
  message?: { role: TimelineRole; text: string };
  /** JSON facts of the step (never secrets). */
  detail?: Record<string, unknown>;
}

export interface TimelineEntry {
  id: number;
  platform: string;
  conversationId: string;
  kind: TimelineKind;
  at: number;
  durationMs?: number;
  owner?: TimelineOwner;
  message?: { role: TimelineRole; text: string };
  detail: Record<string, unknown>;
}

export interface ConversationSummary {
  platform: string;
  conversationId: string;
  firstAt: number;
  lastAt: number;
  owner: TimelineOwner;
  /** Since when the current owner owns it. */
  ownerSince: number;
  lastMessage?: { role: TimelineRole; text: string; at: number };
  /** While a human or a ticket owns it: since when the customer waits for their answer. */
  waitingSince?: number;
}

export interface ConversationFilter {
  platform?: string;
  /** A tenant's conversations only (their ids begin `<tenant>/`). */
  tenant?: string;
  owner?: TimelineOwner;
  limit: number;
}

/** The read side (and the writes made outside any other operation). */
export interface Timeline {
  /** Steps recorded on their own (an operator's action, an ownership change outside a turn). */
  record(steps: TimelineStep[]): Promise<void>;
  /** A conversation's entries in the order they were recorded, after `afterId` when given. */
  entries(conversationId: string, options: { afterId?: number; limit: number }): Promise<TimelineEntry[]>;
  /** Conversations, the most recently active first. */
  conversations(filter: ConversationFilter): Promise<ConversationSummary[]>;
  conversation(conversationId: string): Promise<ConversationSummary | undefined>;
  /** The id of the newest entry (0 when none): changes whenever anything is recorded. */
  latestId(): Promise<number>;
}

/** Texts kept per step: enough for any chat message, bounded for a pasted novel. */
export const TIMELINE_TEXT_LIMIT = 4000;

export function clipText(text: string): string {
  return text.length > TIMELINE_TEXT_LIMIT ? `${text.slice(0, TIMELINE_TEXT_LIMIT)}…` : text;
}

/** The summary after one step (the SQLite engine applies the same rule in SQL). Undefined: the step does not touch it. */
export function foldSummary(old: ConversationSummary | undefined, step: TimelineStep, at: number): ConversationSummary | undefined {
  if (step.owner === undefined && step.message === undefined) return old;
  const previousOwner = old?.owner;
  const owner = step.owner ?? previousOwner ?? 'bot';
  const ownerChanged = old === undefined ? owner !== 'bot' : step.owner !== undefined && step.owner !== previousOwner;
  let waitingSince: number | undefined;
  if (owner === 'bot') waitingSince = undefined;
  else if (ownerChanged) waitingSince = at;
  else if (step.message?.role === 'agent') waitingSince = undefined;
  else if (step.message?.role === 'customer' && old?.waitingSince === undefined) waitingSince = at;
  else waitingSince = old?.waitingSince;
  return {
    platform: old?.platform ?? step.platform,
    conversationId: step.conversationId,
    firstAt: old?.firstAt ?? at,
    lastAt: Math.max(old?.lastAt ?? at, at),
    owner,
    ownerSince: old === undefined || (step.owner !== undefined && step.owner !== previousOwner) ? at : old.ownerSince,
    lastMessage: step.message ? { role: step.message.role, text: clipText(step.message.text), at } : old?.lastMessage,
    waitingSince,
  };
}

/** In process memory (`memory:`): the same contract, bounded to the newest entries. */
export class MemoryTimeline implements Timeline {
  private readonly all: TimelineEntry[] = [];
  private readonly summaries = new Map<string, ConversationSummary>();
  private nextId = 1;

  constructor(
    private readonly now: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  async record(steps: TimelineStep[]): Promise<void> {
    this.recordNow(steps);
  }

  /** Synchronous, for a commit (nothing may run between its parts). */
  recordNow(steps: readonly TimelineStep[]): void {
    const now = this.now();
    for (const step of steps) {
      const at = step.at ?? now;
      const entry: TimelineEntry = {
        id: this.nextId++,
        platform: step.platform,
        conversationId: step.conversationId,
        kind: step.kind,
        at,
        durationMs: step.durationMs,
        owner: step.owner,
        message: step.message ? { role: step.message.role, text: clipText(step.message.text) } : undefined,
        // A copy: what is read back is what was recorded.
        detail: JSON.parse(JSON.stringify(step.detail ?? {})) as Record<string, unknown>,
      };
      this.all.push(entry);
      const summary = foldSummary(this.summaries.get(step.conversationId), step, at);
      if (summary) this.summaries.set(step.conversationId, summary);
    }
    if (this.all.length > this.maxEntries) this.all.splice(0, this.all.length - this.maxEntries);
  }

  async entries(conversationId: string, options: { afterId?: number; limit: number }): Promise<TimelineEntry[]> {
    const after = options.afterId ?? 0;
    return this.all.filter((e) => e.conversationId === conversationId && e.id > after).slice(0, options.limit);
  }

  async conversations(filter: ConversationFilter): Promise<ConversationSummary[]> {
    return [...this.summaries.values()]
      .filter((s) => (filter.platform === undefined || s.platform === filter.platform) && (filter.owner === undefined || s.owner === filter.owner) && (filter.tenant === undefined || s.conversationId.startsWith(`${filter.tenant}/`)))
      .sort((a, b) => b.lastAt - a.lastAt)
      .slice(0, filter.limit);
  }

  async conversation(conversationId: string): Promise<ConversationSummary | undefined> {
    return this.summaries.get(conversationId);
  }

  async latestId(): Promise<number> {
    return this.nextId - 1;
  }
}
