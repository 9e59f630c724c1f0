/** Who owns a conversation (the bot, a human, a ticket) and why: the record kept per conversation. */
import { z } from 'zod';

export const OwnerSchema = z.enum(['bot', 'human', 'ticket']);

/** Why the owner is what it is. Compared by code, so a closed set. */
export const OwnershipReasonSchema = z.enum(['new', 'status', 'handoff', 'agent_message', 'ticket', 'ticket_closed', 'released']);

const DetailsSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const OwnershipRecordSchema = z.object({
  owner: OwnerSchema,
  // Records written before the reasons were a closed set carried free text such as "released: …".
  reason: z.preprocess((v) => (typeof v === 'string' && v.startsWith('released') ? 'released' : v), OwnershipReasonSchema.catch('status')),
  /** The platform's own status word when known (Nimchat: pending/open/…; WOZTELL: the folder). */
  platformStatus: z.string().optional(),
  /** Platform time (ms) of the newest observation applied, to ignore stale out-of-order deliveries. */
  observedAt: z.number().optional(),
  /** Facts of the current owner (a ticket's id, the WOZTELL assignee or live-chat flag seen, why it was released). */
  details: DetailsSchema.optional(),
  updatedAt: z.string().optional(),
});

export type Owner = z.infer<typeof OwnerSchema>;
export type OwnershipReason = z.infer<typeof OwnershipReasonSchema>;
export type OwnershipDetails = z.infer<typeof DetailsSchema>;
export type OwnershipRecord = z.infer<typeof OwnershipRecordSchema>;

/** A conversation nobody recorded anything about belongs to the bot. */
export const NEW_CONVERSATION: OwnershipRecord = { owner: 'bot', reason: 'new' };
