/**
 * zod schemas of the conversation-control vocabulary (DESIGN §4): what `handoff.initiate` and
 * `conversation.control` may carry. Adapters validate with these before touching a platform.
 */
import { z } from 'zod';
import { InvalidRequestError, NotSupportedError } from '../src/errors';

const ref = z.union([z.string().min(1), z.number().int().nonnegative()]);
const priority = z.enum(['low', 'medium', 'high', 'urgent']);

/** `handoff.initiate` value: free-form by botbuilder's design, these fields are understood. */
export const HandoffRequestSchema = z.looseObject({
  team: ref.optional(),
  agent: ref.optional(),
  folder: z.string().min(1).optional(),
  priority: priority.optional(),
  labels: z.array(z.string().min(1)).optional(),
  title: z.string().optional(),
  reason: z.string().optional(),
});

/** `conversation.control` value: strict, so a misspelt field is an error, not a silent no-op. */
export const ConversationControlSchema = z.strictObject({
  status: z.enum(['open', 'resolved', 'pending', 'snoozed']).optional(),
  snoozedUntil: z.number().int().positive().optional(),
  priority: priority.nullable().optional(),
  agent: ref.nullable().optional(),
  team: ref.nullable().optional(),
  addLabels: z.array(z.string().min(1)).optional(),
  removeLabels: z.array(z.string().min(1)).optional(),
  customAttributes: z.record(z.string(), z.unknown()).optional(),
  note: z.string().min(1).optional(),
  folder: z.string().min(1).optional(),
  title: z.string().min(1).optional(),
});

export type HandoffRequestValue = z.infer<typeof HandoffRequestSchema>;
export type ConversationControlValue = z.infer<typeof ConversationControlSchema>;

/** Parses a `handoff.initiate` value; a bad value is the bot's mistake and says which field. */
export function parseHandoffRequest(value: unknown): HandoffRequestValue {
  const parsed = HandoffRequestSchema.safeParse(value ?? {});
  if (!parsed.success) throw new InvalidRequestError('handoff_request_invalid', `handoff.initiate value is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Parses a `conversation.control` value for a platform; fields it cannot carry out are an error naming them. */
export function parseControlFor(platform: string, value: unknown, isSupported: (field: string) => boolean): ConversationControlValue {
  const parsed = ConversationControlSchema.safeParse(value ?? {});
  if (!parsed.success) throw new InvalidRequestError('control_invalid', `conversation.control value is invalid: ${z.prettifyError(parsed.error)}`);
  const unsupported = Object.keys(parsed.data).filter((f) => !isSupported(f));
  if (unsupported.length > 0) throw new NotSupportedError(platform, `the control field(s) ${unsupported.join(', ')}`);
  if (Object.keys(parsed.data).length === 0) throw new InvalidRequestError('control_empty', 'conversation.control value has nothing to do');
  return parsed.data;
}
