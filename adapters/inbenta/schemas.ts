/**
 * zod schemas of what Inbenta answers and sends. Loose objects: Inbenta adds
 * fields over time; only what the adapter reads is required.
 */
import { z } from 'zod';

const id = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

/** `POST /v1/auth` (and `/v1/refreshToken`, which answers without `apis`): `expiration` is unix seconds; `apis` maps products to base URLs. */
export const AuthResponseSchema = z.looseObject({
  accessToken: z.string().min(1),
  expiration: z.number().optional(),
  expires_in: z.number().optional(),
  apis: z.record(z.string(), z.string()).optional(),
});


/** `GET /v1/apis`. */
export const ApisResponseSchema = z.looseObject({ apis: z.record(z.string(), z.string()) });

export const UserSchema = z.looseObject({
  id: id.optional(),
  uuid: id.optional(),
  name: z.string().nullish(),
  address: z.string().nullish(),
});

export const UserListSchema = z.looseObject({ data: z.array(UserSchema).default([]) });

/** `POST /v1/users`: the numeric id is `uuid` (some versions answer `id`). */
export const CreatedUserSchema = UserSchema.refine((u) => u.uuid !== undefined || u.id !== undefined, {
  message: 'the created user has neither uuid nor id',
});

export const CreatedObjectSchema = z.looseObject({ uuid: id });

export const CreatedTicketSchema = z.looseObject({
  uuid: id,
  full_uuid: z.string().min(1).optional(),
});

/** A ticket as read back. Its status shape is not documented publicly: read it loosely. */
export const TicketSchema = z.looseObject({
  uuid: id.optional(),
  id: id.optional(),
  full_uuid: z.string().optional(),
  external_id: z.union([z.string(), z.number()]).nullish(),
  status: z.unknown().optional(),
  closed: z.unknown().optional(),
  closed_at: z.unknown().optional(),
  closing_date: z.unknown().optional(),
});

export const TicketListSchema = z.looseObject({ data: z.array(TicketSchema).default([]) });

/** A ticket's reply: `type` `answer` is an agent writing to the user, `reply` the user writing. */
export const ReplySchema = z.looseObject({
  uuid: id.optional(),
  id: id.optional(),
  type: z.string().optional(),
  message: z.string().nullish(),
  creator: z.unknown().optional(),
  attachments: z.array(z.unknown()).optional(),
});

export const ReplyListSchema = z.union([z.looseObject({ data: z.array(ReplySchema).default([]) }), z.array(ReplySchema).transform((data) => ({ data }))]);

/** One event of a webhook delivery (a delivery is an array of them). */
export const WebhookEventSchema = z.looseObject({
  id: id,
  item: z.string().min(1),
  action: z.string().min(1),
  timestamp: z.number().optional(),
  actor: z.unknown().optional(),
  parent: id.nullish(),
});

export const WebhookDeliverySchema = z.array(WebhookEventSchema);

export type AuthResponse = z.infer<typeof AuthResponseSchema>;
export type InbentaUser = z.infer<typeof UserSchema>;
export type InbentaTicket = z.infer<typeof TicketSchema>;
export type InbentaReply = z.infer<typeof ReplySchema>;
export type InbentaWebhookEvent = z.infer<typeof WebhookEventSchema>;

/** The body of `POST /v1/tickets`. */
export interface TicketBody {
  title: string;
  message: string;
  creator: number;
  queue: number;
  source: number;
  autoclassify?: boolean;
  attachments?: number[];
  history?: { messages: Array<{ user: 'guest' | 'assistant'; message: string }> };
  external_id?: string;
  language?: string;
}

/** Fields not every instance accepts on create: dropped and retried when Inbenta refuses them. */
export const OPTIONAL_TICKET_FIELDS = ['external_id', 'language'] as const;
export type OptionalTicketField = (typeof OPTIONAL_TICKET_FIELDS)[number];
