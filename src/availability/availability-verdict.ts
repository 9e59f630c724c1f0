/**
 * The answer to "can a human answer now?", asked before a handoff: yes, no (and why, and when they
 * are back when that is known), or unknown (no way to tell, or the lookup failed: treated as "maybe",
 * so the handoff goes ahead as it always did).
 */
import { z } from 'zod';

export const UnavailableReasonSchema = z.enum(['closed', 'holiday', 'nobody_online']);

export const AvailabilityVerdictSchema = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('available'),
    /** What told us: `nimchat`, `hours` … */
    source: z.string(),
  }),
  z.object({
    state: z.literal('unavailable'),
    reason: UnavailableReasonSchema,
    source: z.string(),
    /** When the business hours open next (ms), when known. */
    nextOpening: z.number().optional(),
    /** The time zone of those hours (to say the opening time as the business's clock shows it). */
    timeZone: z.string().optional(),
    /** The platform's own out-of-office text, when it has one. */
    message: z.string().optional(),
  }),
  z.object({ state: z.literal('unknown'), source: z.string(), why: z.string() }),
]);

export type UnavailableReason = z.infer<typeof UnavailableReasonSchema>;
export type AvailabilityVerdict = z.infer<typeof AvailabilityVerdictSchema>;
export type Unavailable = Extract<AvailabilityVerdict, { state: 'unavailable' }>;
