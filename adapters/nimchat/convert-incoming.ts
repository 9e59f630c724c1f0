/**
 * Pure conversion of Nimchat webhooks into what the pipeline does with them:
 * a message turn, an event turn, an ownership observation, or nothing (with the reason).
 */
import type { SentEcho } from '../../src/outbox/sent-messages';
import { messageFingerprint } from './message-fingerprint';
import { NimchatCsatResponseSchema, type NimchatListedMessage } from './schemas';
import { ActivityTypes, type Activity, type Attachment, type ChannelAccount } from 'botbuilder-core';
import { ConversationEvents } from '../../src/control/vocabulary';
import { NIMCHAT_CHANNEL_ID, toConversationId } from './conversation-ref';
import type {
  NimchatAttachment,
  NimchatConversation,
  NimchatConversationEvent,
  NimchatMessageEvent,
  NimchatWebhook,
  NimchatWidgetTriggered,
} from './schemas';

export interface IncomingContext {
  /** serviceUrl of every activity: the installation URL. */
  baseUrl: string;
  /** When the webhook arrived (ms, the injected clock): the time of what the payload does not date. */
  now: number;
}

/** What a payload tells about who owns the conversation; `observedAt` is platform time in ms (conversation.updated_at). */
export type NimchatObservation =
  /** `snapshot`: a payload that merely carries the status; `status_change`: the status was changed. */
  | { kind: 'snapshot' | 'status_change'; status: string; observedAt?: number }
  | { kind: 'agent_message'; status?: string; observedAt?: number; agent?: string };

export interface IncomingPlan {
  /** The queue key (our conversation id). */
  conversationId: string;
  /** Idempotency keys besides the delivery id. */
  dedupeKeys: string[];
  /** What the payload tells about who owns the conversation. */
  observation?: NimchatObservation;
  /** The activity to run a turn with. */
  activity: Partial<Activity>;
}

export const BOT_ACCOUNT: ChannelAccount = { id: 'nimchat-bot', name: 'Bot', role: 'bot' };

/** Decides what one validated webhook becomes. */
export function planIncoming(webhook: NimchatWebhook, ctx: IncomingContext): IncomingPlan | { ignored: string; echo?: SentEcho } {
  switch (webhook.event) {
    case 'message_created':
    case 'message_updated':
      return planMessageEvent(webhook, ctx);
    case 'conversation_opened':
    case 'conversation_resolved':
    case 'conversation_status_changed':
    case 'conversation_updated':
      return planConversationEvent(webhook, ctx);
    case 'webwidget_triggered':
      return planWidgetTriggered(webhook, ctx);
    default:
      return { ignored: `unknown event ${webhook.name}` };
  }
}

function planMessageEvent(msg: NimchatMessageEvent, ctx: IncomingContext): IncomingPlan | { ignored: string; echo?: SentEcho } {
  const accountId = msg.account.id;
  const conversationId = toConversationId(accountId, msg.conversation.id);
  const observedAt = snapshotTime(msg.conversation);
  const senderType = msg.sender?.type;

  if (msg.event === 'message_updated' && msg.content_type === 'input_csat') return planSurveyAnswer(msg, ctx);
  if (msg.event === 'message_updated') {
    const submitted = msg.content_attributes?.submitted_values;
    const answerable = msg.content_type === 'input_select' || msg.content_type === 'form';
    if (!answerable || submitted === undefined || submitted === null || msg.message_type !== 'outgoing') {
      return { ignored: 'message update (delivery status or edit)' };
    }
    const { text, value } = readSubmittedValues(msg.content_type!, submitted);
    if (text === undefined) return { ignored: 'submitted_values without a value' };
    const contact = msg.conversation.meta?.sender;
    return {
      conversationId,
      dedupeKeys: [`submitted:${accountId}:${msg.id}`],
      observation: { kind: 'snapshot', status: msg.conversation.status, observedAt },
      activity: {
        ...baseActivity(ctx, conversationId, msg.conversation),
        type: ActivityTypes.Message,
        id: `${msg.id}:submitted`,
        replyToId: String(msg.id),
        timestamp: new Date(ctx.now),
        from: contactAccount(accountId, contact?.id ?? 0, contact?.name, contact?.email),
        text,
        value,
        channelData: msg,
      },
    };
  }

  if (msg.message_type === 'incoming') {
    if (msg.private) return { ignored: 'private note' };
    const sender = msg.sender;
    const contactId = sender?.id ?? msg.conversation.meta?.sender?.id ?? 0;
    return {
      conversationId,
      dedupeKeys: [`message_created:${accountId}:${msg.id}`],
      observation: { kind: 'snapshot', status: msg.conversation.status, observedAt },
      activity: {
        ...baseActivity(ctx, conversationId, msg.conversation),
        type: ActivityTypes.Message,
        id: String(msg.id),
        timestamp: parseTimestamp(msg.created_at, ctx.now),
        from: contactAccount(accountId, contactId, sender?.name, sender?.email, sender?.phone_number),
        text: msg.content ?? '',
        textFormat: 'plain',
        attachments: (msg.attachments ?? []).map(toBotAttachment),
        locale: readLocale(msg.conversation, sender?.additional_attributes),
        channelData: msg,
      },
    };
  }

  if (msg.message_type === 'outgoing' && !msg.private && senderType === 'user') {
    // A human agent wrote to the customer: a takeover, even while the status is still pending.
    return {
      conversationId,
      dedupeKeys: [`message_created:${accountId}:${msg.id}`],
      observation: { kind: 'agent_message', status: msg.conversation.status, observedAt, ...(msg.sender?.id !== undefined ? { agent: String(msg.sender.id) } : {}) },
      activity: {
        ...baseActivity(ctx, conversationId, msg.conversation),
        type: ActivityTypes.Event,
        name: ConversationEvents.AgentMessage,
        id: String(msg.id),
        timestamp: parseTimestamp(msg.created_at, ctx.now),
        from: contactFromConversation(accountId, msg.conversation),
        value: { text: msg.content ?? '', agent: { id: msg.sender?.id, name: msg.sender?.name ?? undefined } },
        channelData: msg,
      },
    };
  }

  if (senderType === 'agent_bot' && msg.event === 'message_created' && msg.message_type === 'outgoing') {
    // Evidence that a send of the bot reached Nimchat (matched with the send by its fingerprint).
    const fingerprint = messageFingerprint({ content: msg.content, content_type: msg.content_type, private: msg.private, files: msg.attachments?.length ?? 0 });
    return { ignored: "the bot's own message", echo: { conversationId, messageId: String(msg.id), fingerprint } };
  }
  if (msg.private) return { ignored: 'private note' };
  if (senderType === 'agent_bot') return { ignored: "the bot's own message" };
  return { ignored: `${msg.message_type} message from ${senderType ?? 'the system'}` };
}

/**
 * The customer answered a survey message (the bot's, or the one Nimchat sends by itself when an agent
 * resolves): `conversation.satisfaction` with the rating and the words, once per survey message.
 */
function planSurveyAnswer(msg: NimchatMessageEvent, ctx: IncomingContext): IncomingPlan | { ignored: string } {
  const accountId = msg.account.id;
  const response = NimchatCsatResponseSchema.safeParse((msg.content_attributes?.submitted_values as { csat_survey_response?: unknown } | undefined)?.csat_survey_response);
  if (!response.success) return { ignored: 'survey message update without a rating' };
  const { rating, feedback_message: feedback } = response.data;
  const conversationId = toConversationId(accountId, msg.conversation.id);
  const contact = msg.conversation.meta?.sender;
  return {
    conversationId,
    dedupeKeys: [`csat:${accountId}:${msg.id}`],
    observation: { kind: 'snapshot', status: msg.conversation.status, observedAt: snapshotTime(msg.conversation) },
    activity: {
      ...baseActivity(ctx, conversationId, msg.conversation),
      type: ActivityTypes.Event,
      name: ConversationEvents.Satisfaction,
      id: `${msg.id}:csat`,
      timestamp: new Date(ctx.now),
      from: contactAccount(accountId, contact?.id ?? 0, contact?.name, contact?.email),
      value: { rating, ...(feedback ? { comment: feedback.slice(0, 2000) } : {}) },
      channelData: msg,
    },
  };
}

/** The conversation's contact as the message list shows it. */
export interface MissedMessageContact {
  id: number;
  name?: string | null;
  email?: string | null;
  phone_number?: string | null;
}

/**
 * A customer message Nimchat never delivered to the bot (read from the conversation's message list):
 * the turn its `message_created` would have been, with the same idempotency key, so a delivery that did
 * arrive after all is not run twice. `observation`: who owns the conversation once it runs.
 */
export function planMissedMessage(
  accountId: number,
  conversationNumber: number,
  msg: NimchatListedMessage,
  contact: MissedMessageContact | undefined,
  observation: NimchatObservation,
  ctx: IncomingContext,
): IncomingPlan {
  const conversationId = toConversationId(accountId, conversationNumber);
  const contactId = msg.sender?.id ?? contact?.id ?? 0;
  return {
    conversationId,
    dedupeKeys: [`message_created:${accountId}:${msg.id}`],
    observation,
    activity: {
      channelId: NIMCHAT_CHANNEL_ID,
      serviceUrl: ctx.baseUrl,
      conversation: { id: conversationId, isGroup: false, conversationType: 'nimchat', name: `conversation ${conversationNumber}` },
      recipient: BOT_ACCOUNT,
      type: ActivityTypes.Message,
      id: String(msg.id),
      timestamp: parseTimestamp(msg.created_at, ctx.now),
      from: contactAccount(accountId, contactId, msg.sender?.name ?? contact?.name, msg.sender?.email ?? contact?.email, msg.sender?.phone_number ?? contact?.phone_number),
      text: msg.content ?? '',
      textFormat: 'plain',
      attachments: (msg.attachments ?? []).map(toBotAttachment),
      channelData: { ...msg, missed: true },
    },
  };
}

function planConversationEvent(conv: NimchatConversationEvent, ctx: IncomingContext): IncomingPlan {
  const accountId = conv.account.id;
  const conversationId = toConversationId(accountId, conv.id);
  const changed = normaliseChanged(conv.changed_attributes);
  const statusChanged =
    conv.event === 'conversation_status_changed' ||
    conv.event === 'conversation_opened' ||
    conv.event === 'conversation_resolved' ||
    'status' in changed;
  return {
    conversationId,
    dedupeKeys: [],
    observation: { kind: statusChanged ? 'status_change' : 'snapshot', status: conv.status, observedAt: snapshotTime(conv) },
    activity: {
      ...baseActivity(ctx, conversationId, conv),
      type: ActivityTypes.Event,
      name: ConversationEvents.Updated,
      id: `${conv.event}:${conv.id}:${conv.updated_at ?? ''}`,
      timestamp: new Date(ctx.now),
      from: contactFromConversation(accountId, conv),
      value: {
        event: conv.event,
        status: conv.status,
        priority: conv.priority ?? null,
        labels: conv.labels ?? [],
        assignee: conv.meta?.assignee ?? null,
        assigneeType: conv.meta?.assignee_type ?? null,
        team: conv.meta?.team ?? null,
        changed,
      },
      channelData: conv,
    },
  };
}

function planWidgetTriggered(w: NimchatWidgetTriggered, ctx: IncomingContext): IncomingPlan {
  const accountId = w.account.id;
  // Often no conversation exists yet: key the turn on the contact so greetings stay ordered.
  const conversationId = w.current_conversation
    ? toConversationId(accountId, w.current_conversation.id)
    : `${accountId}:contact-${w.contact.id}`;
  return {
    conversationId,
    dedupeKeys: [],
    activity: {
      type: ActivityTypes.Event,
      name: ConversationEvents.WidgetOpened,
      channelId: NIMCHAT_CHANNEL_ID,
      serviceUrl: ctx.baseUrl,
      conversation: { id: conversationId, isGroup: false, conversationType: 'nimchat', name: w.inbox.name ?? 'web widget' },
      from: contactAccount(accountId, w.contact.id, w.contact.name, w.contact.email),
      recipient: BOT_ACCOUNT,
      id: `webwidget_triggered:${w.id ?? w.contact.id}:${ctx.now}`,
      timestamp: new Date(ctx.now),
      value: { hasConversation: w.current_conversation != null, sourceId: w.source_id, info: w.event_info ?? {} },
      channelData: w,
    },
  };
}

function baseActivity(ctx: IncomingContext, conversationId: string, conv: NimchatConversation): Partial<Activity> {
  return {
    channelId: NIMCHAT_CHANNEL_ID,
    serviceUrl: ctx.baseUrl,
    conversation: { id: conversationId, isGroup: false, conversationType: 'nimchat', name: `conversation ${conv.id}` },
    recipient: BOT_ACCOUNT,
  };
}

function contactAccount(
  accountId: number,
  contactId: number,
  name?: string | null,
  email?: string | null,
  phone?: string | null,
): ChannelAccount {
  const account: ChannelAccount = { id: `${accountId}:contact-${contactId}`, name: name ?? 'Customer', role: 'user' };
  const properties: Record<string, string> = {};
  if (email) properties.email = email;
  if (phone) properties.phoneNumber = phone;
  if (Object.keys(properties).length > 0) account.properties = properties;
  return account;
}

function contactFromConversation(accountId: number, conv: NimchatConversation): ChannelAccount {
  const sender = conv.meta?.sender;
  return contactAccount(accountId, sender?.id ?? 0, sender?.name, sender?.email);
}

/** `conversation.updated_at` is unix seconds (with a fraction); the ordering clock of snapshots. */
function snapshotTime(conv: NimchatConversation): number | undefined {
  return conv.updated_at === undefined ? undefined : Math.round(conv.updated_at * 1000);
}

export function parseTimestamp(value: string | number | undefined, now: number): Date {
  if (typeof value === 'number') return new Date(value > 9_999_999_999 ? value : value * 1000);
  if (typeof value === 'string') {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return new Date(now);
}

function readLocale(conv: NimchatConversation, senderAttributes?: Record<string, unknown> | null): string | undefined {
  const attrs = conv.additional_attributes ?? {};
  const browser = attrs.browser as Record<string, unknown> | undefined;
  const candidates = [attrs.browser_language, browser?.browser_language, senderAttributes?.locale];
  for (const c of candidates) if (typeof c === 'string' && /^[a-z]{2,3}([-_][A-Za-z]{2,4})?$/.test(c)) return c.replace('_', '-');
  return undefined;
}

function normaliseChanged(changed: NimchatConversationEvent['changed_attributes']): Record<string, unknown> {
  if (!changed) return {};
  if (Array.isArray(changed)) return Object.assign({}, ...changed) as Record<string, unknown>;
  return changed;
}

/** `[{title, value}]` (input_select) or `[{name, value}]` (form) → the text and value the bot gets. */
export function readSubmittedValues(contentType: string, submitted: unknown): { text?: string; value?: unknown } {
  const list = Array.isArray(submitted) ? submitted : [submitted];
  const items = list.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
  if (items.length === 0) return {};
  if (contentType === 'input_select') {
    const first = items[0]!;
    const chosen = first.value ?? first.title;
    return chosen === undefined || chosen === null ? {} : { text: String(chosen), value: first };
  }
  const form: Record<string, unknown> = {};
  for (const item of items) if (typeof item.name === 'string') form[item.name] = item.value;
  const text = Object.entries(form)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join('\n');
  return text ? { text, value: form } : {};
}

const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  mp3: 'audio/mpeg', ogg: 'audio/ogg', wav: 'audio/wav', m4a: 'audio/mp4', mp4: 'video/mp4', webm: 'video/webm',
  pdf: 'application/pdf', txt: 'text/plain', csv: 'text/csv', json: 'application/json', zip: 'application/zip',
};

/** A Nimchat attachment as a botbuilder attachment (`data_url` redirects to the file: follow it). */
export function toBotAttachment(a: NimchatAttachment): Attachment {
  if (a.file_type === 'location') {
    return {
      contentType: 'application/vnd.nimchat.location',
      name: a.fallback_title ?? 'location',
      content: { latitude: a.coordinates_lat, longitude: a.coordinates_long, title: a.fallback_title },
    };
  }
  const ext = (a.extension ?? extensionOf(a.data_url ?? '') ?? '').replace(/^\./, '').toLowerCase();
  const contentType =
    MIME_BY_EXTENSION[ext] ??
    (['image', 'audio', 'video'].includes(a.file_type) ? `${a.file_type}/${ext || '*'}` : 'application/octet-stream');
  const name = fileNameOf(a.data_url ?? '') ?? `${a.file_type}-${a.id ?? 'file'}${ext ? `.${ext}` : ''}`;
  return { contentType, contentUrl: a.data_url ?? undefined, thumbnailUrl: a.thumb_url || undefined, name };
}

function extensionOf(url: string): string | undefined {
  const m = /\.([A-Za-z0-9]{1,8})(?:\?|#|$)/.exec(url);
  return m?.[1];
}

function fileNameOf(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split('/').pop();
    return last ? decodeURIComponent(last) : undefined;
  } catch {
    return undefined;
  }
}
