/**
 * The steps of a conversation's timeline, built from what the pipeline, the ownership store and the
 * outbox already have in hand (pure; cheap enough for the webhook path: a few small objects). Texts are
 * what the customer or the agent saw; nothing here reads a header or a credential.
 */
import type { Activity } from 'botbuilder-core';
import type { NewOutboxAction } from '../storage/turn-writes';
import type { OutboxAction } from '../storage/outbox';
import type { InboxEvent } from '../storage/event-inbox';
import { clipText, type TimelineOwner, type TimelineRole, type TimelineStep } from '../storage/timeline';

/** What an activity is, in one word or dotted name (`message`, `conversation.updated: conversation_status_changed`). */
export function activityLabel(activity: Partial<Activity>): string {
  if (activity.type === 'event' || activity.type === 'invoke') {
    const value = activity.value as { event?: unknown } | undefined;
    const sub = typeof value?.event === 'string' ? `: ${value.event}` : '';
    return `${activity.name ?? activity.type}${sub}`;
  }
  return activity.type ?? 'unknown';
}

/** The text of a message activity as its reader saw it, with its choices and attachments named. */
export function activityText(activity: Partial<Activity>): string | undefined {
  if (activity.type !== 'message') return undefined;
  const parts: string[] = [];
  if (activity.text) parts.push(activity.text);
  const choices = activity.suggestedActions?.actions?.map((a) => String(a.title ?? a.value ?? '')).filter(Boolean) ?? [];
  if (choices.length > 0) parts.push(`[${choices.join('] [')}]`);
  for (const attachment of activity.attachments ?? []) parts.push(`(attachment: ${attachment.name ?? attachment.contentType ?? 'file'})`);
  return parts.length > 0 ? clipText(parts.join(' ')) : undefined;
}

/** A human agent's public message, carried as a `conversation.agentMessage` event. */
function agentText(activity: Partial<Activity>): string | undefined {
  if (activity.type !== 'event' || activity.name !== 'conversation.agentMessage') return undefined;
  const text = (activity.value as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' && text ? clipText(text) : undefined;
}

/** "Webhook received": what it was, its idempotency keys (delivery and message ids). `duplicate` is added by the store. */
export function webhookStep(platform: string, event: { conversationId: string; dedupeKeys: string[]; ownership: Array<{ type: string }>; activity: Partial<Activity> }): TimelineStep {
  const text = activityText(event.activity) ?? agentText(event.activity);
  return {
    platform,
    conversationId: event.conversationId,
    kind: 'webhook',
    detail: {
      event: activityLabel(event.activity),
      keys: event.dedupeKeys,
      ...(event.ownership.length > 0 ? { ownershipEvents: event.ownership.map((o) => o.type) } : {}),
      ...(text ? { text } : {}),
    },
  };
}

/** A turn: started at `startedAt`, its duration filled in when it ends (before the commit). */
export function turnStep(platform: string, activity: Partial<Activity>, owner: TimelineOwner, startedAt: number): TimelineStep {
  const customer = activity.type === 'message' ? activityText(activity) : undefined;
  const agent = agentText(activity);
  const message: { role: TimelineRole; text: string } | undefined = customer ? { role: 'customer', text: customer } : agent ? { role: 'agent', text: agent } : undefined;
  return {
    platform,
    conversationId: activity.conversation?.id ?? '',
    kind: 'turn',
    at: startedAt,
    owner,
    ...(message ? { message } : {}),
    detail: { activity: activityLabel(activity), ...(activity.type === 'message' && owner !== 'bot' ? { keptFromBot: true } : {}) },
  };
}

/** What a turn asked for (a reply, a handoff, a control action), committed with it. */
export function queuedStep(action: NewOutboxAction): TimelineStep {
  const payload = (action.payload ?? {}) as { activityId?: string; activity?: Partial<Activity>; request?: unknown; note?: string; control?: unknown; ms?: number };
  const text = payload.activity ? activityText(payload.activity) : undefined;
  return {
    platform: action.platform,
    conversationId: action.conversationId,
    kind: 'queued',
    ...(text ? { message: { role: 'bot' as const, text } } : {}),
    detail: {
      action: action.kind,
      ...(payload.activityId ? { activityId: payload.activityId } : {}),
      ...(payload.request !== undefined ? { request: payload.request } : {}),
      ...(typeof payload.note === 'string' ? { note: clipText(payload.note) } : {}),
      ...(payload.control !== undefined ? { control: payload.control } : {}),
      ...(typeof payload.ms === 'number' ? { ms: payload.ms } : {}),
    },
  };
}

export type DeliveryOutcome = 'done' | 'retry' | 'failed' | 'step' | 'retried' | 'discarded';

export interface DeliveryFacts {
  attempt?: number;
  durationMs?: number;
  error?: string;
  /** The platform's answer (a message id, the handoff's outcome). */
  result?: unknown;
  nextAttemptAt?: number;
  step?: string;
  /** What the action's executor says it carried (a relayed answer's text). */
  message?: { role: TimelineRole; text: string };
  by?: 'operator';
}

/** One attempt's outcome (or an operator's retry or discard) of an outbox action. */
export function deliveryStep(action: OutboxAction, outcome: DeliveryOutcome, facts: DeliveryFacts = {}): TimelineStep {
  const payload = (action.payload ?? {}) as { activityId?: unknown };
  return {
    platform: action.platform,
    conversationId: action.conversationId,
    kind: 'delivery',
    ...(facts.durationMs !== undefined ? { durationMs: facts.durationMs } : {}),
    ...(facts.message ? { message: { role: facts.message.role, text: clipText(facts.message.text) } } : {}),
    detail: {
      action: action.kind,
      outboxId: action.id,
      outcome,
      ...(typeof payload.activityId === 'string' ? { activityId: payload.activityId } : {}),
      ...(facts.attempt !== undefined ? { attempt: facts.attempt } : {}),
      ...(facts.error !== undefined ? { error: clipText(facts.error) } : {}),
      ...(facts.result !== undefined ? { result: summarizeResult(facts.result) } : {}),
      ...(facts.nextAttemptAt !== undefined ? { nextAttemptAt: facts.nextAttemptAt } : {}),
      ...(facts.step !== undefined ? { step: facts.step } : {}),
      ...(facts.by ? { by: facts.by } : {}),
    },
  };
}

/** A platform's answer, small: an id as is, an object as bounded JSON. */
export function summarizeResult(result: unknown): unknown {
  if (result === undefined || result === null) return undefined;
  if (typeof result === 'string' || typeof result === 'number' || typeof result === 'boolean') return typeof result === 'string' ? clipText(result) : result;
  const json = JSON.stringify(result);
  return json.length <= 600 ? (JSON.parse(json) as unknown) : `${json.slice(0, 600)}…`;
}

/** Who owns the conversation now, and why. */
export function ownershipStep(
  platform: string,
  conversationId: string,
  change: { from: TimelineOwner; to: TimelineOwner; reason: string; transition?: string; platformStatus?: string; details?: Record<string, unknown> },
): TimelineStep {
  return {
    platform,
    conversationId,
    kind: 'ownership',
    owner: change.to,
    detail: {
      from: change.from,
      to: change.to,
      reason: change.reason,
      ...(change.transition ? { transition: change.transition } : {}),
      ...(change.platformStatus ? { platformStatus: change.platformStatus } : {}),
      ...(change.details && Object.keys(change.details).length > 0 ? { details: change.details } : {}),
    },
  };
}

/** An accepted event set aside (its processing never finished), retried or discarded by an operator. */
export function inboxEventStep(event: Pick<InboxEvent, 'id' | 'platform' | 'conversationId' | 'attempts'>, what: 'set_aside' | 'retried' | 'discarded', reason?: string): TimelineStep {
  return {
    platform: event.platform,
    conversationId: event.conversationId,
    kind: 'event',
    detail: { what, eventId: event.id, attempts: event.attempts, ...(reason ? { reason } : {}), ...(what !== 'set_aside' ? { by: 'operator' } : {}) },
  };
}
