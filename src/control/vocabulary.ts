/**
 * The conversation-control vocabulary, platform neutral: the event names bots and adapters exchange
 * and the zod schemas of their values (the only definition: every type below is inferred). Dialogs and
 * adapters import it; it imports neither.
 */
import { z } from 'zod';
import { InvalidRequestError, NotSupportedError } from '../errors';

export const HandoffEvents = {
  /** Bot → adapter: hand the conversation to a human (botbuilder's standard name). */
  Initiate: 'handoff.initiate',
  /** Adapter → bot: `HandoffStatus` (botbuilder's standard name). */
  Status: 'handoff.status',
  /** → bot, ours: handed off and no human has answered yet (`HandoffWaiting`): a step of the no-answer ladder ran. */
  Waiting: 'handoff.waiting',
} as const;

export const ConversationEvents = {
  /** Bot → adapter: control outside a handoff (`ConversationControl`); unsupported fields are an error naming them. */
  Control: 'conversation.control',
  /** Adapter → bot: the platform changed the conversation (status, assignee, team, labels …). */
  Updated: 'conversation.updated',
  /** Adapter → bot: a human agent wrote to the customer; the bot goes silent. */
  AgentMessage: 'conversation.agentMessage',
  /** Adapter → bot: the customer opened the web widget (may repeat; greet idempotently). */
  WidgetOpened: 'conversation.widgetOpened',
  /** Adapter → bot: a message the bot sent could not be delivered, after every retry (`DeliveryFailure`). */
  DeliveryFailed: 'conversation.deliveryFailed',
  /**
   * Adapter → bot: the platform had given the conversation to humans because it could not reach the
   * bot; the messages the bot missed are in the transcript now (`Reclaimed`).
   */
  Reclaimed: 'conversation.reclaimed',
  /**
   * Adapter → bot: the customer rated the human stretch that just ended (`Satisfaction`). A platform
   * whose own survey was answered sends it (`PlatformRating`) before the engine completes it.
   */
  Satisfaction: 'conversation.satisfaction',
} as const;

const ref = z.union([z.string().min(1), z.number().int().nonnegative()]);
const priority = z.enum(['low', 'medium', 'high', 'urgent']);

export const HandoffStateSchema = z.enum(['accepted', 'failed', 'completed']);

/** `handoff.status` value: the platform confirmed, refused, or the human is done. */
export const HandoffStatusSchema = z.object({ state: HandoffStateSchema, message: z.string().optional() });

/**
 * `handoff.waiting` value: `minutes` without a human's public answer since the handoff (counted from
 * the next opening when it was made outside business hours); `step` 1: the conversation was re-routed
 * (a note, the fallback team or folder); step 2: the customer is told and may leave a message instead.
 */
export const HandoffWaitingSchema = z.object({ minutes: z.number().int().nonnegative(), step: z.union([z.literal(1), z.literal(2)]) });

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
  /** Nimchat conversation status. */
  status: z.enum(['open', 'resolved', 'pending', 'snoozed']).optional(),
  /** Unix seconds, with status `snoozed`. */
  snoozedUntil: z.number().int().positive().optional(),
  priority: priority.nullable().optional(),
  /** A human agent (null unassigns). */
  agent: ref.nullable().optional(),
  team: ref.nullable().optional(),
  addLabels: z.array(z.string().min(1)).optional(),
  removeLabels: z.array(z.string().min(1)).optional(),
  /** Merged into the conversation's custom attributes. */
  customAttributes: z.record(z.string(), z.unknown()).optional(),
  /** An internal note only agents see. */
  note: z.string().min(1).optional(),
  /** WOZTELL: move the thread to this folder. */
  folder: z.string().min(1).optional(),
  /** WOZTELL: thread title. */
  title: z.string().min(1).optional(),
  /**
   * Nobody answered: send the conversation on, with a note giving `reason`. Nimchat re-assigns it to
   * the fallback team (else unassigns its agent, so auto-assignment tries again); WOZTELL moves the
   * thread to the fallback folder (unless an agent already gave it back to the bot).
   */
  reroute: z.strictObject({ reason: z.string().min(1) }).optional(),
});

/** `conversation.deliveryFailed` value. */
export const DeliveryFailureSchema = z.object({
  /** The id `sendActivity` resolved with. */
  activityId: z.string(),
  /** What was sent: `message`, `handoff`, `control`. */
  kind: z.string(),
  message: z.string(),
});

/** `conversation.reclaimed` value. */
export const ReclaimedSchema = z.object({
  /** `returned_to_bot`: no human had acted, the bot owns it again and answers what it missed; `left_with_humans`: a note gives them the transcript. */
  outcome: z.enum(['returned_to_bot', 'left_with_humans']),
  /** Customer messages the bot had not received (run as turns before this event). */
  missed: z.number().int().nonnegative(),
  /** What the platform said when it gave the conversation away. */
  reason: z.string(),
});

/** How a human stretch ended: given back to the bot, resolved by the human, or its ticket closed. */
export const StretchEndSchema = z.enum(['released', 'resolved', 'ticket_closed']);

/** A satisfaction rating: 1 (poor) to 5 (excellent), with the customer's words when they gave some. */
export const RatingSchema = z.object({ rating: z.number().int().min(1).max(5), comment: z.string().max(2000).optional() });

/** A human stretch that ended: how, when (epoch ms), and who the customer was with, as far as the platform told. */
export const StretchSchema = z.object({
  ended: StretchEndSchema,
  endedAt: z.number(),
  agent: z.string().optional(),
  team: z.string().optional(),
  ticketId: z.string().optional(),
});

/** `conversation.satisfaction` value: the rating, the survey's id (one per stretch), and the stretch it rates. */
export const SatisfactionSchema = RatingSchema.extend({ surveyId: z.string(), ...StretchSchema.shape });

export type HandoffState = z.infer<typeof HandoffStateSchema>;
export type HandoffStatus = z.infer<typeof HandoffStatusSchema>;
export type HandoffRequest = z.infer<typeof HandoffRequestSchema>;
export type HandoffWaiting = z.infer<typeof HandoffWaitingSchema>;
export type ConversationControl = z.infer<typeof ConversationControlSchema>;
export type DeliveryFailure = z.infer<typeof DeliveryFailureSchema>;
export type Reclaimed = z.infer<typeof ReclaimedSchema>;
export type StretchEnd = z.infer<typeof StretchEndSchema>;
export type Stretch = z.infer<typeof StretchSchema>;
export type Rating = z.infer<typeof RatingSchema>;
export type Satisfaction = z.infer<typeof SatisfactionSchema>;

/** Parses a `handoff.initiate` value; a bad value is the bot's mistake and says which field. */
export function parseHandoffRequest(value: unknown): HandoffRequest {
  const parsed = HandoffRequestSchema.safeParse(value ?? {});
  if (!parsed.success) throw new InvalidRequestError('handoff_request_invalid', `handoff.initiate value is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Parses a `conversation.control` value for a platform; fields it cannot carry out are an error naming them. */
export function parseControlFor(platform: string, value: unknown, isSupported: (field: string) => boolean): ConversationControl {
  const parsed = ConversationControlSchema.safeParse(value ?? {});
  if (!parsed.success) throw new InvalidRequestError('control_invalid', `conversation.control value is invalid: ${z.prettifyError(parsed.error)}`);
  const unsupported = Object.keys(parsed.data).filter((f) => !isSupported(f));
  if (unsupported.length > 0) throw new NotSupportedError(platform, `the control field(s) ${unsupported.join(', ')}`);
  if (Object.keys(parsed.data).length === 0) throw new InvalidRequestError('control_empty', 'conversation.control value has nothing to do');
  return parsed.data;
}
