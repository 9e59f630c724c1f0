/**
 * zod schemas of what Nimchat (Chatwoot API) sends to an agent bot and answers to it: the single
 * source of truth for those payloads. Loose objects: new fields from newer servers pass through.
 */
import { z } from 'zod';

const id = z.number().int().nonnegative();
const nullableString = z.string().nullable().optional();

export const NimchatAccountSchema = z.looseObject({ id, name: nullableString });

export const NimchatSenderSchema = z.looseObject({
  id,
  name: nullableString,
  email: nullableString,
  phone_number: nullableString,
  identifier: nullableString,
  /** `agent_bot`, `user`, `captain_assistant`; absent for a contact. */
  type: z.string().optional(),
  additional_attributes: z.record(z.string(), z.unknown()).nullable().optional(),
});

export const NimchatConversationSchema = z.looseObject({
  id,
  inbox_id: id.optional(),
  status: z.string(),
  priority: z.string().nullable().optional(),
  labels: z.array(z.string()).optional(),
  custom_attributes: z.record(z.string(), z.unknown()).nullable().optional(),
  additional_attributes: z.record(z.string(), z.unknown()).nullable().optional(),
  updated_at: z.number().optional(),
  meta: z
    .looseObject({
      sender: z.looseObject({ id: id.optional(), name: nullableString, email: nullableString, type: z.string().optional() }).nullable().optional(),
      assignee: z.looseObject({ id: id.optional(), name: nullableString }).nullable().optional(),
      assignee_type: z.string().nullable().optional(),
      team: z.looseObject({ id: id.optional(), name: nullableString }).nullable().optional(),
    })
    .optional(),
});

export const NimchatAttachmentSchema = z.looseObject({
  id: id.optional(),
  file_type: z.string(),
  data_url: nullableString,
  thumb_url: nullableString,
  file_size: z.number().nullable().optional(),
  extension: nullableString,
  fallback_title: nullableString,
  coordinates_lat: z.number().nullable().optional(),
  coordinates_long: z.number().nullable().optional(),
});

const MESSAGE_TYPES = ['incoming', 'outgoing', 'activity', 'template'] as const;

export const NimchatMessageEventSchema = z.looseObject({
  event: z.enum(['message_created', 'message_updated']),
  id,
  content: z.string().nullable().optional(),
  content_type: z.string().nullable().optional(),
  content_attributes: z.record(z.string(), z.unknown()).nullable().optional(),
  // The top level has a string; integers appear in nested copies and in some older servers.
  message_type: z.union([z.enum(MESSAGE_TYPES), z.number().int().min(0).max(3).transform((n) => MESSAGE_TYPES[n]!)]),
  private: z.boolean().nullable().optional().transform((v) => v === true),
  created_at: z.union([z.string(), z.number()]).optional(),
  sender: NimchatSenderSchema.nullable().optional(),
  inbox: z.looseObject({ id, name: nullableString }).optional(),
  account: NimchatAccountSchema,
  conversation: NimchatConversationSchema,
  attachments: z.array(NimchatAttachmentSchema).optional(),
});

export const CONVERSATION_EVENTS = [
  'conversation_opened',
  'conversation_resolved',
  'conversation_status_changed',
  'conversation_updated',
] as const;

export const NimchatConversationEventSchema = NimchatConversationSchema.extend({
  event: z.enum(CONVERSATION_EVENTS),
  account: NimchatAccountSchema,
  changed_attributes: z.union([z.array(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())]).nullable().optional(),
});

export const NimchatWidgetTriggeredSchema = z.looseObject({
  event: z.literal('webwidget_triggered'),
  id: id.optional(),
  source_id: nullableString,
  contact: z.looseObject({ id, name: nullableString, email: nullableString }),
  inbox: z.looseObject({ id, name: nullableString }),
  account: NimchatAccountSchema,
  current_conversation: z.looseObject({ id }).nullable().optional(),
  event_info: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** Every webhook has an `event`; unknown events are acknowledged and ignored (forward compatible). */
export const NimchatEnvelopeSchema = z.looseObject({ event: z.string().min(1) });

export type NimchatSender = z.infer<typeof NimchatSenderSchema>;
export type NimchatConversation = z.infer<typeof NimchatConversationSchema>;
export type NimchatAttachment = z.infer<typeof NimchatAttachmentSchema>;
export type NimchatMessageEvent = z.infer<typeof NimchatMessageEventSchema>;
export type NimchatConversationEvent = z.infer<typeof NimchatConversationEventSchema>;
export type NimchatWidgetTriggered = z.infer<typeof NimchatWidgetTriggeredSchema>;
export type NimchatWebhook =
  | NimchatMessageEvent
  | NimchatConversationEvent
  | NimchatWidgetTriggered
  | { event: 'unknown'; name: string };

/** Validates a parsed webhook body; throws a ZodError naming the problem. */
export function parseNimchatWebhook(body: unknown): NimchatWebhook {
  const { event } = NimchatEnvelopeSchema.parse(body);
  if (event === 'message_created' || event === 'message_updated') return NimchatMessageEventSchema.parse(body);
  if ((CONVERSATION_EVENTS as readonly string[]).includes(event)) return NimchatConversationEventSchema.parse(body);
  if (event === 'webwidget_triggered') return NimchatWidgetTriggeredSchema.parse(body);
  return { event: 'unknown', name: event };
}

// ---- API answers ----

export const NimchatMessageSchema = z.looseObject({ id, content: z.string().nullable().optional() });
export const NimchatToggleStatusSchema = z.looseObject({
  payload: z.looseObject({ success: z.boolean().optional(), current_status: z.string().optional() }).optional(),
});
export const NimchatLabelsSchema = z.looseObject({ payload: z.array(z.string()) });
export const NimchatAgentBotSchema = z.looseObject({
  id,
  name: z.string(),
  description: nullableString,
  outgoing_url: nullableString,
  account_id: id.nullable().optional(),
  access_token: z.union([z.string(), z.looseObject({ token: z.string() })]).nullable().optional(),
  secret: nullableString,
});
export type NimchatAgentBot = z.infer<typeof NimchatAgentBotSchema>;
/** One day of an inbox's business hours (`day_of_week` 0 = Sunday), in the inbox's `timezone`. */
export const NimchatWorkingHourSchema = z.looseObject({
  day_of_week: z.number().int().min(0).max(6),
  closed_all_day: z.boolean().nullable().optional(),
  open_all_day: z.boolean().nullable().optional(),
  open_hour: z.number().int().nullable().optional(),
  open_minutes: z.number().int().nullable().optional(),
  close_hour: z.number().int().nullable().optional(),
  close_minutes: z.number().int().nullable().optional(),
});
/** `GET /inboxes/{id}`: what registration and the availability check read. */
export const NimchatInboxSchema = z.looseObject({
  id,
  name: nullableString,
  channel_type: nullableString,
  working_hours_enabled: z.boolean().nullable().optional(),
  working_hours: z.array(NimchatWorkingHourSchema).nullable().optional(),
  timezone: nullableString,
  out_of_office_message: nullableString,
});
export type NimchatInbox = z.infer<typeof NimchatInboxSchema>;
export type NimchatWorkingHour = z.infer<typeof NimchatWorkingHourSchema>;

/** An agent as `/agents`, `/teams/{id}/team_members` and `/inbox_members/{inbox}` show it. */
export const NimchatAgentSchema = z.looseObject({
  id,
  name: nullableString,
  /** `online`, `busy`, `offline` (an open string: `available` is read as online). */
  availability_status: nullableString,
});
export type NimchatAgent = z.infer<typeof NimchatAgentSchema>;
/** Team members come as a list, inbox members as `{payload: [...]}`. */
export const NimchatAgentListSchema = z.union([z.array(NimchatAgentSchema), z.looseObject({ payload: z.array(NimchatAgentSchema) }).transform((o) => o.payload)]);

/** A conversation of the conversation list (only what the queue position reads). */
export const NimchatListedConversationSchema = z.looseObject({
  id,
  status: z.string(),
  /** Unix seconds. */
  created_at: z.number(),
  inbox_id: id.optional(),
  meta: z.looseObject({ assignee: z.looseObject({ id }).nullable().optional() }).optional(),
});
/** `GET /conversations`: `{data: {meta: {…counts}, payload: [...]}}`, 25 a page. */
export const NimchatConversationListSchema = z.looseObject({
  data: z.looseObject({ payload: z.array(NimchatListedConversationSchema) }),
});
export type NimchatListedConversation = z.infer<typeof NimchatListedConversationSchema>;

/** A message as `GET /conversations/{id}/messages` lists it (user token): `message_type` is a number there. */
export const NimchatListedMessageSchema = z.looseObject({
  id,
  content: nullableString,
  /** 0 incoming, 1 outgoing, 2 activity, 3 template. */
  message_type: z.number().int(),
  content_type: nullableString,
  /** Unix seconds. */
  created_at: z.number(),
  private: z.boolean().nullable().optional(),
  sender: z.looseObject({ id: id.optional(), type: nullableString, name: nullableString, email: nullableString, phone_number: nullableString }).nullable().optional(),
  attachments: z.array(NimchatAttachmentSchema).optional(),
});
/** `GET /conversations/{id}/messages`: the conversation's contact and assignee, then its newest messages, oldest first. */
export const NimchatMessageListSchema = z.looseObject({
  meta: z.looseObject({ contact: z.looseObject({ id, name: nullableString, email: nullableString, phone_number: nullableString }).nullable().optional() }).optional(),
  payload: z.array(NimchatListedMessageSchema),
});
export type NimchatListedMessage = z.infer<typeof NimchatListedMessageSchema>;
export type NimchatMessageList = z.infer<typeof NimchatMessageListSchema>;

/** `submitted_values.csat_survey_response` as Nimchat's survey stores it (a rating from 1 to 5). */
export const NimchatCsatResponseSchema = z.looseObject({
  rating: z.coerce.number().int().min(1).max(5),
  feedback_message: z.string().nullable().optional(),
});
