/**
 * What the customer saw last when their message arrived: whether the bot's newest message asked for
 * an answer (a prompt). A name typed at "What's your name?" is an answer, not a request for a human,
 * so the handoff recognizer reads this before it takes a keyword for a request. The adapters set it
 * on each message turn from the transcript (no extra read); elsewhere it is absent.
 */
import type { TurnContext } from 'botbuilder-core';

export interface PromptInView {
  /** The bot's newest message was a prompt (botbuilder's `inputHint: expectingInput`). */
  expectingInput: boolean;
  /** Its text. */
  text?: string;
}

/** The turn-state key under which the adapters put it. */
export const PROMPT_IN_VIEW = Symbol.for('botbuilder-handoff-adapters.promptInView');

export function promptInView(context: TurnContext): PromptInView | undefined {
  return context.turnState.get(PROMPT_IN_VIEW) as PromptInView | undefined;
}
