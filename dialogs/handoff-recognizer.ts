/**
 * Is this message a request for a human? The default recognizer reads the message with the prompt in
 * view: while the bot waits for an answer (a name, an order number), only an explicit request counts
 * ("I want a human", "talk to an agent", "human"); otherwise a person word anywhere does ("agent
 * please", "is there a person?"). Replace it with your own NLU through the same signature.
 */
import type { TurnContext } from 'botbuilder-core';
import { promptInView } from '../src/control/prompt-in-view';
import { asksForHuman } from './intents';

export interface HandoffRecognizerInput {
  text: string;
  /** The bot's newest message was a prompt waiting for an answer. */
  promptInView: boolean;
  context: TurnContext;
}

export type HandoffRecognizer = (input: HandoffRecognizerInput) => boolean | Promise<boolean>;

const PERSON = '(?:human|agent|person|representative|operator|people|someone real|real person|human being|live agent|staff)s?';
/** The whole message is the word: "human", "an agent please", "real person!". */
const WHOLE_MESSAGE = new RegExp(`^(?:(?:a|an|the|some|your)\\s+)?(?:real\\s+|live\\s+)?${PERSON}(?:\\s+(?:please|pls|now|asap))?$`, 'i');
/** A verb of asking with a person word after it: "I want a human", "can I speak with an agent". */
const EXPLICIT = new RegExp(
  `\\b(?:talk|speak|chat|connect|transfer|put|get|want|need|give|reach|contact|see|ask for|escalate)\\b(?:\\s+[\\w']+){0,4}?\\s+(?:(?:to|with|me)\\s+)?(?:(?:a|an|the|some|your)\\s+)?(?:real\\s+|live\\s+)?${PERSON}\\b`,
  'i',
);

function normalise(text: string): string {
  return text.trim().replace(/[\s.!?,;:]+$/u, '').replace(/\s+/g, ' ');
}

/** The default: explicit requests always; a person word anywhere only when no prompt waits for an answer. */
export const recognizeHandoffRequest: HandoffRecognizer = ({ text, promptInView: atPrompt }) => {
  const message = normalise(text);
  if (message === '') return false;
  if (WHOLE_MESSAGE.test(message) || EXPLICIT.test(message)) return true;
  return !atPrompt && asksForHuman(message);
};

/** Runs a recognizer on a turn's message, the prompt in view taken from what the adapter recorded. */
export async function isHandoffRequest(context: TurnContext, recognizer: HandoffRecognizer = recognizeHandoffRequest, atPrompt?: boolean): Promise<boolean> {
  const text = context.activity.text;
  if (!text) return false;
  return recognizer({ text, promptInView: atPrompt ?? promptInView(context)?.expectingInput ?? false, context });
}
