/**
 * What a developer gives the product to serve: a bot (anything with botbuilder's `run(context)`, an
 * `ActivityHandler` above all), the bot's logic as a function, or a factory that builds the bot from
 * the product's parts (its durable storage, the transcripts, the handoff settings).
 */
import type { Storage, TurnContext } from 'botbuilder-core';
import type { HumanAvailability } from '../availability/human-availability';
import type { Clock } from '../clock';
import type { Config } from '../config';
import type { HandoffWaits } from '../../dialogs/handoff-wait/handoff-waits';
import type { TicketDialogOptions } from '../../dialogs/ticket-dialog';
import type { ClosedText } from '../../dialogs/handoff-dialog';
import type { Stores } from '../storage/create-stores';
import type { TranscriptStore } from '../transcript';
import { isAgentsSdkAgent, runOnAgentsSdk, type AgentsSdkAgent } from '../agents-sdk/agents-sdk-bot';

/** A bot as botbuilder runs it: `ActivityHandler`, or anything else with `run(context)`. */
export interface RunnableBot {
  run(context: TurnContext): Promise<void>;
}

/** The bot's logic for one turn, as `adapter.process(req, res, logic)` takes it. */
export type BotLogic = (context: TurnContext) => Promise<void>;

/** What a bot factory is given. */
export interface BotDeps {
  /** Give it to the bot's state, so its writes are committed with each turn (durable, exactly once). */
  storage: Storage;
  stores: Stores;
  transcripts: TranscriptStore;
  config: Config;
  ticket: TicketDialogOptions;
  /** Can a human answer now (asked by the handoff dialog)? */
  availability: HumanAvailability;
  /** The waits after a handoff, shared with the no-answer ladder and the wait notices. */
  waits: HandoffWaits;
  /** What a customer asking for a human when closed is told (HANDOFF_CLOSED_MESSAGE). */
  closedText?: ClosedText;
  clock: Clock;
}

/** Builds the bot from the product's parts. */
export type BotFactory = (deps: BotDeps) => RunnableBot | AgentsSdkAgent;

/** A bot (botbuilder's or an Agents SDK agent), its logic, or a factory: what `serve({ bot })` and `handoff serve --bot` accept. */
export type BotSource = RunnableBot | AgentsSdkAgent | BotLogic | { createBot: BotFactory };

/** The bot a source stands for, built with `deps` when it is a factory. */
export function resolveBot(source: BotSource, deps: BotDeps): RunnableBot {
  if (typeof source === 'function') return { run: source };
  // An agent of the Microsoft 365 Agents SDK runs on each turn through its own TurnContext.
  if (isAgentsSdkAgent(source)) return runOnAgentsSdk(source);
  if (isRunnable(source)) return source;
  if (typeof source.createBot === 'function') {
    const built: unknown = source.createBot(deps);
    if (isAgentsSdkAgent(built)) return runOnAgentsSdk(built);
    if (!isRunnable(built)) throw new TypeError('createBot(deps) must return a bot: an object with run(context), such as an ActivityHandler');
    return built;
  }
  throw new TypeError('the bot must be an object with run(context) (an ActivityHandler), a function (context) => Promise<void>, or { createBot(deps) }');
}

export function isRunnable(value: unknown): value is RunnableBot {
  return typeof value === 'object' && value !== null && typeof (value as RunnableBot).run === 'function';
}
