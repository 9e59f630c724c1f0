/**
 * The question the handoff dialog asks before it hands off: can a human answer now? Each platform
 * answers what it can know (Nimchat: the inbox's business hours and its agents' availability); the
 * configured hours answer everywhere else. An answer must never throw: what cannot be told is `unknown`.
 */
import type { Activity } from 'botbuilder-core';
import type { HandoffRequest } from '../control/vocabulary';
import type { AvailabilityVerdict } from './availability-verdict';

export interface AvailabilityQuestion {
  /** The customer's message that asked for a human (its channel, conversation and platform data). */
  activity: Partial<Activity>;
  /** The handoff about to be made (its team or agent, when it names one). */
  request: HandoffRequest;
}

export interface HumanAvailability {
  check(question: AvailabilityQuestion): Promise<AvailabilityVerdict>;
}
