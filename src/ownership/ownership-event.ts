/** What can happen to a conversation's ownership: the only inputs of the ownership reducer. */
import type { OwnershipDetails } from './ownership-record';

export type OwnershipEvent =
  /** The platform showed the conversation's status (`explicit`: the status was changed, not merely carried along). */
  | { type: 'status_observed'; status: string; botStatus: boolean; explicit: boolean; observedAt?: number }
  /** A human agent wrote to the customer. */
  | { type: 'agent_message'; agent?: string; observedAt?: number }
  /** The platform carried out a handoff the bot asked for. */
  | { type: 'handoff_completed'; platformStatus?: string; details?: OwnershipDetails; observedAt?: number }
  /** `desk`: which ticketing project holds it (`inbenta`, a tenant's `inbenta@acme`): projects number tickets alike. */
  | { type: 'ticket_opened'; ticketId: string | number; desk?: string }
  | { type: 'ticket_closed'; ticketId: string | number; desk?: string }
  /** Facts seen about a human's conversation that do not change its owner (WOZTELL thread lookups). */
  | { type: 'facts_observed'; platformStatus?: string; details: OwnershipDetails; observedAt?: number }
  /** The platform's release rules gave the conversation back to the bot. */
  | { type: 'released'; why: string; platformStatus?: string; observedAt?: number };
