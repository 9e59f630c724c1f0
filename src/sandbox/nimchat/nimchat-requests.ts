/**
 * zod schemas of what clients send the sandbox Nimchat's application API (bodies and queries), the
 * sandbox's own: Rails-style parameters, where ids and numbers may come as strings.
 */
import { z } from 'zod';
import { SandboxHttpError } from '../router';
import { CONVERSATION_STATUSES } from './nimchat-state';

const id = z.union([z.number().int().positive(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)]);
const optionalText = z.string().nullable().optional();
const hash = z.record(z.string(), z.unknown());

/**
 * An id as Rails finds a record by it: blank (`""`) is nil, and `0` or an id nothing has finds no
 * record (no error): clients such as n8n's send `team_id: 0` with every assignment.
 */
const lookupId = z.preprocess((v) => (v === '' ? null : v), z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)]).nullable().optional());
/** A parameter Rails reads with `.blank?`: an empty string is as if it were not sent. */
const optionalId = z.preprocess((v) => (v === '' ? undefined : v), id.optional());

/**
 * `assignee_id` (present at all) decides: the agent, or nobody for null, blank, 0 or an id the account
 * does not know (the answer is then null); `team_id` only without it. As on the real server.
 */
export const AssignmentBodySchema = z.looseObject({ assignee_id: lookupId, team_id: lookupId });

export const ConversationCreateBodySchema = z.looseObject({
  inbox_id: optionalId,
  contact_id: optionalId,
  source_id: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
  status: z.preprocess((v) => (v === '' ? undefined : v), z.enum(CONVERSATION_STATUSES as [string, ...string[]]).optional()),
  assignee_id: lookupId,
  team_id: lookupId,
  custom_attributes: hash.optional(),
  additional_attributes: hash.optional(),
  snoozed_until: z.number().nullable().optional(),
  message: z.looseObject({ content: z.string().optional() }).optional(),
});

export const ContactCreateBodySchema = z.looseObject({
  name: z.string().max(255).optional(),
  email: optionalText,
  phone_number: optionalText,
  identifier: optionalText,
  custom_attributes: hash.optional(),
  additional_attributes: hash.optional(),
  inbox_id: id.optional(),
  source_id: z.string().min(1).optional(),
});

/** The conversation list and its counts (`/conversations`, `/conversations/meta`). */
export const ConversationListQuerySchema = z.object({
  status: z.string().optional(),
  assignee_type: z.string().optional(),
  inbox_id: id.optional(),
  team_id: id.optional(),
  labels: z.array(z.string()).optional(),
  q: z.string().optional(),
  page: z.string().optional().transform((p) => (p && /^\d+$/.test(p) ? Number(p) : 1)),
});

const hourOrNull = z.number().int().min(0).max(23).nullable().optional();
const minuteOrNull = z.number().int().min(0).max(59).nullable().optional();

/** One day of `PATCH /inboxes/{id}` `working_hours` (Rails checks the same ranges). */
export const WorkingHourBodySchema = z.object({
  day_of_week: z.number().int().min(0).max(6),
  closed_all_day: z.boolean().optional(),
  open_all_day: z.boolean().optional(),
  open_hour: hourOrNull,
  open_minutes: minuteOrNull,
  close_hour: hourOrNull,
  close_minutes: minuteOrNull,
});

/** `PATCH /inboxes/{id}`: the settings the sandbox keeps (name, business hours, out-of-office text, time zone). */
export const InboxUpdateBodySchema = z.looseObject({
  name: z.string().min(1).optional(),
  working_hours_enabled: z.boolean().optional(),
  out_of_office_message: z.string().nullable().optional(),
  timezone: z.string().min(1).optional(),
  working_hours: z.array(WorkingHourBodySchema).optional(),
  enable_auto_assignment: z.boolean().optional(),
  csat_survey_enabled: z.boolean().optional(),
});

/** `POST /teams` (administrator). */
export const TeamCreateBodySchema = z.object({ name: z.string().min(1), description: z.string().optional(), allow_auto_assign: z.boolean().optional() });

/** `POST /inbox_members` (the inbox's agents become exactly these) and `POST /teams/{id}/team_members` (these join). */
export const InboxMembersBodySchema = z.object({ inbox_id: id, user_ids: z.array(id) });
export const TeamMembersBodySchema = z.object({ user_ids: z.array(id) });

/** `POST /sandbox/agents/{id}/availability`: what the agent sets in the dashboard. */
export const AvailabilityBodySchema = z.object({ status: z.enum(['online', 'busy', 'offline']) });

export const ContactListQuerySchema = z.object({
  page: z.string().optional().transform((p) => (p && /^\d+$/.test(p) ? Number(p) : 1)),
  sort: z.enum(['name', '-name', 'email', '-email', 'phone_number', '-phone_number', 'created_at', '-created_at', 'last_activity_at', '-last_activity_at']).optional(),
  include_contact_inboxes: z.enum(['true', 'false']).optional(),
  q: z.string().optional(),
});

/** Parses or answers 422 naming each field in error. */
export function parseParams<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new SandboxHttpError(422, result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
}

/** A query string as an object: repeated or `name[]` keys become arrays for the keys listed. */
export function queryObject(query: URLSearchParams, arrays: string[] = []): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [rawKey, value] of query) {
    const key = rawKey.endsWith('[]') ? rawKey.slice(0, -2) : rawKey;
    if (arrays.includes(key)) out[key] = [...((out[key] as string[] | undefined) ?? []), value];
    else out[key] = value;
  }
  return out;
}
