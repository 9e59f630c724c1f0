/**
 * What the console's JSON endpoints answer, read from the store: conversations (with how long a
 * handed-off customer has waited), one conversation's timeline, the outbox's pending and failed
 * actions and the set-aside events, each described in a line (never their raw payloads, which hold
 * platform references and whole transcripts).
 */
import type { Activity } from 'botbuilder-core';
import type { Stores } from '../storage/stores';
import type { ConversationFilter, ConversationSummary, TimelineEntry } from '../storage/timeline';
import type { OutboxRecord } from '../storage/outbox';
import type { InboxEvent } from '../storage/event-inbox';
import { activityLabel, activityText } from '../timeline/timeline-steps';
import { clipText } from '../storage/timeline';
import { fields } from './readable-fields';

export interface ConversationView extends ConversationSummary {
  /** While a human or a ticket owns it and the customer waits: for how long (ms). */
  waitingMs?: number;
}

export interface OutboxView {
  id: number;
  platform: string;
  conversationId: string;
  kind: string;
  status: OutboxRecord['status'];
  /** Attempts so far, the one under way included. */
  attempts: number;
  /** An attempt is under way on this server now. */
  attempting: boolean;
  createdAt: number;
  nextAttemptAt: number;
  finishedAt?: number;
  lastError?: string;
  /** What it carries, in a line. */
  summary: string;
  /** Steps of a multi-step action already done. */
  steps: string[];
}

export interface SetAsideView {
  id: number;
  platform: string;
  conversationId: string;
  receivedAt: number;
  attempts: number;
  setAsideAt?: number;
  reason?: string;
  summary: string;
}

/** What the delivery knows of an action beyond the store (an attempt under way, one not yet written). */
export type AttemptsOf = (id: number, stored: number) => { attempts: number; attempting: boolean };

export class ConsoleViews {
  constructor(
    private readonly stores: Stores,
    private readonly now: () => number,
    private readonly attemptsOf: AttemptsOf = (_id, stored) => ({ attempts: stored, attempting: false }),
  ) {}

  async conversations(filter: ConversationFilter): Promise<ConversationView[]> {
    const now = this.now();
    return (await this.stores.timeline.conversations(filter)).map((c) => ({
      ...c,
      ...(c.owner !== 'bot' && c.waitingSince !== undefined ? { waitingMs: Math.max(0, now - c.waitingSince) } : {}),
    }));
  }

  async timeline(conversationId: string, afterId: number | undefined, limit: number): Promise<{ conversation?: ConversationView; entries: TimelineEntry[] }> {
    const summary = await this.stores.timeline.conversation(conversationId);
    const now = this.now();
    const conversation = summary && { ...summary, ...(summary.owner !== 'bot' && summary.waitingSince !== undefined ? { waitingMs: Math.max(0, now - summary.waitingSince) } : {}) };
    return { conversation, entries: await this.stores.timeline.entries(conversationId, { afterId, limit }) };
  }

  /** `tenant`: that tenant's conversations' only (a tenant's operator). */
  async outbox(limit: number, tenant?: string): Promise<OutboxView[]> {
    return (await this.stores.outbox.list({ statuses: ['pending', 'failed'], limit, tenant })).map((record) => ({ ...outboxView(record), ...this.attemptsOf(record.id, record.attempts) }));
  }

  async setAside(limit: number, tenant?: string): Promise<SetAsideView[]> {
    return (await this.stores.inbox.listSetAside(limit, tenant)).map(setAsideView);
  }
}

export function outboxView(record: OutboxRecord): OutboxView {
  const payload = (record.payload ?? {}) as { steps?: unknown };
  return {
    id: record.id,
    platform: record.platform,
    conversationId: record.conversationId,
    kind: record.kind,
    status: record.status,
    attempts: record.attempts,
    attempting: false,
    createdAt: record.createdAt,
    nextAttemptAt: record.nextAttemptAt,
    ...(record.finishedAt !== undefined ? { finishedAt: record.finishedAt } : {}),
    ...(record.lastError !== undefined ? { lastError: clipText(record.lastError) } : {}),
    summary: actionSummary(record.kind, record.payload),
    steps: Array.isArray(payload.steps) ? payload.steps.map(String) : [],
  };
}

/** An outbox payload in a line: the message's text, the handoff's request, the control's fields. */
export function actionSummary(kind: string, payload: unknown): string {
  const p = (payload ?? {}) as { activity?: Partial<Activity>; request?: unknown; control?: unknown; text?: unknown; message?: unknown; ticketId?: unknown; ms?: unknown };
  if (p.activity) return activityText(p.activity) ?? activityLabel(p.activity);
  if (kind === 'handoff') return `handoff: ${fields(p.request ?? {})}`;
  if (kind === 'control') return `conversation.control: ${fields(p.control ?? {})}`;
  if (typeof p.text === 'string') return clipText(p.text);
  if (typeof p.message === 'string') return clipText(`ticket ${String(p.ticketId ?? '')}: ${p.message.replace(/<[^>]*>/g, '')}`);
  if (typeof p.ms === 'number') return `wait ${p.ms} ms`;
  return kind;
}

function setAsideView(event: InboxEvent): SetAsideView {
  const payload = (event.payload ?? {}) as { activity?: Partial<Activity>; item?: unknown; action?: unknown; id?: unknown };
  const summary = payload.activity
    ? [activityLabel(payload.activity), activityText(payload.activity)].filter(Boolean).join(': ')
    : typeof payload.item === 'string'
      ? `${payload.item} ${String(payload.id ?? '')}: ${String(payload.action ?? '')}`
      : 'event';
  return {
    id: event.id,
    platform: event.platform,
    conversationId: event.conversationId,
    receivedAt: event.receivedAt,
    attempts: event.attempts,
    ...(event.setAsideAt !== undefined ? { setAsideAt: event.setAsideAt } : {}),
    ...(event.setAsideReason !== undefined ? { reason: event.setAsideReason } : {}),
    summary,
  };
}
