/** The example bot's keyword intents, shared by the interruption and the router. */

const HUMAN_WORDS = /\b(human|agent|person|representative)s?\b/i;
const TICKET_WORDS = /\b(ticket|leave (a|me a)? ?message)\b/i;

/** "I want a human", "agent please", the menu value `human` … */
export function asksForHuman(text: string | undefined): boolean {
  return !!text && HUMAN_WORDS.test(text);
}

/** "ticket", "leave a message", the menu value `ticket` … */
export function asksToLeaveMessage(text: string | undefined): boolean {
  return !!text && TICKET_WORDS.test(text);
}
