/**
 * Pure conversion of WOZTELL channel webhooks into what the adapter does with them:
 * a customer message turn, an agent takeover, or nothing (statuses, the bot's own echoes).
 */
import { ActivityTypes, type Activity, type Attachment, type ChannelAccount, type Entity } from 'botbuilder-core';
import { ConversationEvents } from '../../src/control/vocabulary';
import { WOZTELL_CHANNEL_ID, toConversationId } from './conversation-ref';
import type { SentEcho } from '../../src/outbox/sent-messages';
import { itemFingerprint } from './message-fingerprint';
import type { WoztellInbound, WoztellMessageData, WoztellOutboundEcho, WoztellWebhook } from './schemas';

export interface IncomingContext {
  /** serviceUrl of every activity: the Bot API URL. */
  botApiUrl: string;
  /** Fallback idempotency key when a body has no messageId: a hash of the raw body. */
  bodyHash: string;
  /** When the webhook arrived (ms, the injected clock): the time of what the payload does not date. */
  now: number;
}

export interface WoztellIncomingPlan {
  kind: 'message' | 'agent';
  /** The queue key (our conversation id). */
  conversationId: string;
  dedupeKeys: string[];
  activity: Partial<Activity>;
  /** The agent who wrote, for `agent` plans. */
  agentUserId?: string;
}

export const BOT_ACCOUNT: ChannelAccount = { id: 'woztell-bot', name: 'Bot', role: 'bot' };

/** Timestamps come as a string of seconds or a number of milliseconds: both → epoch ms. */
export function normaliseTimestamp(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return n > 9_999_999_999 ? Math.round(n) : Math.round(n * 1000);
}

/** Decides what one classified webhook becomes. */
export function planIncoming(webhook: WoztellWebhook, ctx: IncomingContext): WoztellIncomingPlan | { ignored: string; echo?: SentEcho } {
  switch (webhook.kind) {
    case 'status':
      return { ignored: `delivery status ${webhook.body.type}` };
    case 'outbound':
      return planEcho(webhook.body, ctx);
    case 'inbound':
      return planInbound(webhook.body, ctx);
  }
}

function planEcho(echo: WoztellOutboundEcho, ctx: IncomingContext): WoztellIncomingPlan | { ignored: string; echo?: SentEcho } {
  const agentUserId = echo.meta?.agentUserId ?? undefined;
  const conversationId = toConversationId(echo.channel, echo.member);
  const event = echo.messageEvent;
  if (echo.type === 'BOT' && event.messageId) {
    // Evidence that a send of the bot reached WOZTELL (matched with the send by its fingerprint).
    return { ignored: "echo of the bot's own message", echo: { conversationId, messageId: event.messageId, fingerprint: itemFingerprint({ ...event.data, type: event.type }) } };
  }
  if (!agentUserId || echo.meta?.source?.integrationId !== 'inbox') {
    return { ignored: `echo of a ${echo.type} message (not a human agent)` };
  }
  const id = event.messageId ?? ctx.bodyHash;
  return {
    kind: 'agent',
    conversationId,
    agentUserId,
    dedupeKeys: [`echo:${id}`],
    activity: {
      ...baseActivity(ctx, echo.channel, echo.member),
      type: ActivityTypes.Event,
      name: ConversationEvents.AgentMessage,
      id: `echo:${id}`,
      timestamp: toDate(normaliseTimestamp(event.timestamp), ctx.now),
      from: { id: agentUserId, role: 'agent' } as ChannelAccount,
      value: { agentUserId, text: event.data?.text, type: event.type },
      channelData: { woztell: echo },
    },
  };
}

function planInbound(msg: WoztellInbound, ctx: IncomingContext): WoztellIncomingPlan | { ignored: string } {
  const conversationId = toConversationId(msg.channel, msg.member);
  const data: WoztellMessageData = msg.data ?? {};
  const type = msg.type.toUpperCase();
  const id = msg.messageId ?? data.messageId ?? ctx.bodyHash;
  const activity: Partial<Activity> = {
    ...baseActivity(ctx, msg.channel, msg.member),
    type: ActivityTypes.Message,
    id,
    timestamp: toDate(normaliseTimestamp(msg.timestamp), ctx.now),
    from: { id: msg.member, name: msg.from, role: 'user', properties: { externalId: msg.from } } as ChannelAccount,
    channelData: { woztell: msg },
  };

  const payload = data.payload;
  if (payload !== undefined && payload !== null && payload !== '') {
    // A button or list reply: the bot sees the value it offered (imBack semantics), the title stays in channelData.
    activity.value = payload;
    activity.text = typeof payload === 'string' ? payload : (data.text ?? JSON.stringify(payload));
  } else if (data.text !== undefined) {
    activity.text = data.text;
  } else if (data.caption !== undefined) {
    activity.text = data.caption;
  }

  if (type === 'LOCATION') {
    const latitude = data.lat ?? data.latitude;
    const longitude = data.long ?? data.longitude;
    if (latitude !== undefined && longitude !== undefined) {
      activity.entities = [{ type: 'GeoCoordinates', latitude, longitude, name: data.name ?? data.address } as Entity];
      activity.text ??= [data.name, data.address].filter(Boolean).join(', ') || `${latitude},${longitude}`;
    }
  }
  const attachments = toAttachments(type, data);
  if (attachments.length > 0) activity.attachments = attachments;
  if (activity.text === undefined && attachments.length === 0 && !activity.entities) {
    return { ignored: `inbound ${type} without content` };
  }
  return { kind: 'message', conversationId, dedupeKeys: [`message:${id}`], activity };
}

const MEDIA_TYPES: Record<string, string> = {
  IMAGE: 'image/*',
  AUDIO: 'audio/*',
  VIDEO: 'video/*',
  STICKER: 'image/webp',
  FILE: 'application/octet-stream',
};

function toAttachments(type: string, data: WoztellMessageData): Attachment[] {
  const fallbackType = MEDIA_TYPES[type] ?? 'application/octet-stream';
  const out: Attachment[] = [];
  for (const a of data.attachments ?? []) {
    const kind = (a.type ?? type).toUpperCase();
    const contentType = MEDIA_TYPES[kind] ?? fallbackType;
    out.push(a.url ? { contentType, contentUrl: a.url, name: data.fileName } : { contentType, content: { waMediaId: a.waMediaId }, name: data.fileName });
  }
  if (out.length === 0 && MEDIA_TYPES[type]) {
    const contentType = data.mimeType ?? fallbackType;
    if (data.url) out.push({ contentType, contentUrl: data.url, name: data.fileName });
    else if (data.fileId) out.push({ contentType, content: { fileId: data.fileId }, name: data.fileName });
  }
  return out;
}

function baseActivity(ctx: IncomingContext, channel: string, member: string): Partial<Activity> {
  return {
    channelId: WOZTELL_CHANNEL_ID,
    serviceUrl: ctx.botApiUrl,
    conversation: { id: toConversationId(channel, member), isGroup: false, conversationType: 'personal', name: member },
    recipient: BOT_ACCOUNT,
  };
}

function toDate(ms: number | undefined, now: number): Date {
  return new Date(ms ?? now);
}
