/**
 * How a handoff follows up (HANDOFF_NO_ANSWER_MINUTES, HANDOFF_WAIT_NOTICE_MINUTES, HANDOFF_CLOSED_MESSAGE):
 * the environment's, and a tenant's own in the tenants file. Read the same way for both.
 */
import { z } from 'zod';
import { minutes, optionalText } from './env-values';

export const HandoffFollowUpVariables = z.object({
  HANDOFF_NO_ANSWER_MINUTES: minutes('HANDOFF_NO_ANSWER_MINUTES', 10),
  HANDOFF_WAIT_NOTICE_MINUTES: minutes('HANDOFF_WAIT_NOTICE_MINUTES', 5),
  HANDOFF_CLOSED_MESSAGE: optionalText,
});
export type HandoffFollowUpVariables = z.output<typeof HandoffFollowUpVariables>;

/** The follow-up the variables make; `only`: just the ones set (a tenant's, over the environment's). */
export function followUpOf(env: HandoffFollowUpVariables, only?: ReadonlySet<string>): { noAnswerMinutes?: number; waitNoticeMinutes?: number; closedMessage?: string } {
  const set = (name: keyof HandoffFollowUpVariables) => !only || only.has(name);
  return {
    ...(set('HANDOFF_NO_ANSWER_MINUTES') ? { noAnswerMinutes: env.HANDOFF_NO_ANSWER_MINUTES } : {}),
    ...(set('HANDOFF_WAIT_NOTICE_MINUTES') ? { waitNoticeMinutes: env.HANDOFF_WAIT_NOTICE_MINUTES } : {}),
    ...(set('HANDOFF_CLOSED_MESSAGE') && env.HANDOFF_CLOSED_MESSAGE !== undefined ? { closedMessage: env.HANDOFF_CLOSED_MESSAGE } : {}),
  };
}
