/**
 * zod schemas of what WOZTELL sends and answers. Incoming bodies are loose: WOZTELL
 * adds fields per channel, and only what the adapter reads is checked.
 */
import { z } from 'zod';

/** Seconds as a string, or milliseconds as a number (both are sent). */
const timestamp = z.union([z.string(), z.number()]).optional();

/** A channel or member id: our conversation id is `<channel>:<member>`, so neither may hold a colon (WOZTELL's never do). */
const idPart = z.string().min(1).regex(/^[^:\s]+$/, 'must not contain ":" or whitespace');
/** A channel id begins our conversation id, where a `/` would read as a tenant's prefix (WOZTELL's are hex). */
const channelPart = z.string().min(1).regex(/^[^:\s/]+$/, 'must not contain ":", "/" or whitespace');

const messageData = z.looseObject({
  text: z.string().optional(),
  payload: z.unknown().optional(),
  attachments: z.array(z.looseObject({ type: z.string().optional(), url: z.string().optional(), waMediaId: z.string().optional() })).optional(),
  url: z.string().optional(),
  fileId: z.string().optional(),
  fileName: z.string().optional(),
  mimeType: z.string().optional(),
  caption: z.string().optional(),
  lat: z.number().optional(),
  long: z.number().optional(),
  latitude: z.number().optional(),
  longitude: z.number().optional(),
  name: z.string().optional(),
  address: z.string().optional(),
  messageId: z.string().optional(),
});

/** An inbound user message or a delivery status (flat). */
export const WoztellInboundSchema = z.looseObject({
  type: z.string().min(1),
  from: z.string().optional(),
  to: z.string().optional(),
  timestamp,
  data: messageData.optional(),
  member: idPart,
  channel: channelPart,
  app: z.string().optional(),
  messageId: z.string().optional(),
  eventType: z.string().optional(),
  memberExtraData: z.unknown().optional(),
});

/** An outbound echo (wrapped) of a message sent to the user by the bot, the API or a human. */
export const WoztellOutboundEchoSchema = z.looseObject({
  type: z.string().min(1),
  member: idPart,
  channel: channelPart,
  app: z.string().optional(),
  meta: z
    .looseObject({
      agentUserId: z.string().optional().nullable(),
      source: z.looseObject({ integrationId: z.string().optional().nullable(), appIntegration: z.string().optional().nullable() }).optional().nullable(),
    })
    .optional()
    .nullable(),
  messageEvent: z.looseObject({
    from: z.string().optional(),
    to: z.string().optional(),
    timestamp,
    type: z.string().optional(),
    data: messageData.optional(),
    messageId: z.string().optional(),
  }),
});

export type WoztellInbound = z.infer<typeof WoztellInboundSchema>;
export type WoztellOutboundEcho = z.infer<typeof WoztellOutboundEchoSchema>;
export type WoztellMessageData = z.infer<typeof messageData>;

export const DELIVERY_STATUS_TYPES = ['SENT', 'DELIVERED', 'READ', 'FAILED', 'DELETED'] as const;

export type WoztellWebhook =
  | { kind: 'inbound'; body: WoztellInbound }
  | { kind: 'status'; body: WoztellInbound }
  | { kind: 'outbound'; body: WoztellOutboundEcho };

/** Classifies by shape: wrapper → outbound echo; a status type → status; else inbound. */
export function parseWoztellWebhook(body: unknown): WoztellWebhook {
  if (body && typeof body === 'object' && 'messageEvent' in body) return { kind: 'outbound', body: WoztellOutboundEchoSchema.parse(body) };
  const inbound = WoztellInboundSchema.parse(body);
  if ((DELIVERY_STATUS_TYPES as readonly string[]).includes(inbound.type.toUpperCase())) return { kind: 'status', body: inbound };
  return { kind: 'inbound', body: inbound };
}

// ------------------------------------------------------------------ Bot API

export const SendResponsesResultSchema = z.looseObject({
  ok: z.unknown(),
  err: z.unknown().optional(),
  err_code: z.unknown().optional(),
  sendResult: z.unknown().optional(),
});

// ------------------------------------------------------------------ Inbox integration API

export const InboxThreadSchema = z.looseObject({
  channelId: z.string().optional(),
  memberId: z.string().optional(),
  externalId: z.string().optional().nullable(),
  userId: z.string().optional().nullable(),
  threadId: z.string().optional(),
  title: z.string().optional().nullable(),
  folder: z.string().optional().nullable(),
});

export const InboxUserSchema = z.looseObject({
  userId: z.string(),
  role: z.string().optional().nullable(),
  agentRole: z.string().optional().nullable(),
  channel: z.string().optional().nullable(),
  name: z.string().optional().nullable(),
  email: z.string().optional().nullable(),
  icon: z.string().optional().nullable(),
});

const paging = z
  .looseObject({
    cursors: z.looseObject({ after: z.string().optional().nullable(), before: z.string().optional().nullable() }).optional().nullable(),
    hasNext: z.boolean().optional().nullable(),
    hasPrevious: z.boolean().optional().nullable(),
  })
  .optional()
  .nullable();

export const InboxThreadPageSchema = z.looseObject({ ok: z.literal(1), data: z.array(InboxThreadSchema), paging });
export const InboxUserPageSchema = z.looseObject({ ok: z.literal(1), data: z.array(InboxUserSchema), paging });
export const InboxThreadResultSchema = z.looseObject({ ok: z.literal(1), thread: InboxThreadSchema.optional().nullable() });
export const InboxNoteResultSchema = z.looseObject({ ok: z.literal(1), threadId: z.string().optional().nullable(), memberId: z.string().optional().nullable() });

export type InboxThread = z.infer<typeof InboxThreadSchema>;
export type InboxUser = z.infer<typeof InboxUserSchema>;

// ------------------------------------------------------------------ Open API (GraphQL)

export const InstalledIntegrationsSchema = z.looseObject({
  apiViewer: z.looseObject({
    installedIntegrations: z.array(
      z.looseObject({ appId: z.string().optional().nullable(), _id: z.string(), signature: z.string().optional().nullable(), integrationId: z.string().optional().nullable() }),
    ),
  }),
});

export const MemberLiveChatSchema = z.looseObject({
  apiViewer: z.looseObject({
    member: z.looseObject({ _id: z.string().optional(), botMeta: z.looseObject({ liveChat: z.boolean().optional().nullable() }).optional().nullable() }).optional().nullable(),
  }),
});
