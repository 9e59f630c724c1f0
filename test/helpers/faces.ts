/**
 * The two faces a bot is served through: botbuilder and the Microsoft 365 Agents SDK. The example
 * support bot on each, recording every activity that reaches its logic, so end-to-end suites run
 * against both (`describe.each(FACES)`).
 */
import type { Activity, TurnContext } from 'botbuilder-core';
import type { TurnContext as AgentsTurnContext } from '@microsoft/agents-hosting';
import type { BotDeps } from '../../src/hosting/hosted-bot';
import { SupportBot } from '../../src/bot/support-bot';
import { AgentsSupportBot } from '../../src/bot/agents-support-bot';
import { engineTurnOf } from '../../src/agents-sdk/agents-sdk-bot';

export const FACES = ['botbuilder', 'agents-sdk'] as const;
export type Face = (typeof FACES)[number];

/** What the suites read of the bot under test. */
export interface RecordingBot {
  readonly seen: Array<Partial<Activity>>;
}

/** The example bot on botbuilder, recording. */
export class RecordingSupportBot extends SupportBot implements RecordingBot {
  readonly seen: Array<Partial<Activity>> = [];
  override async run(context: TurnContext): Promise<void> {
    this.seen.push({ ...context.activity });
    await super.run(context);
  }
}

/** The example bot on the Agents SDK, recording (the activity as the engine gave it). */
export class RecordingAgentsSupportBot extends AgentsSupportBot implements RecordingBot {
  readonly seen: Array<Partial<Activity>> = [];
  override async run(context: AgentsTurnContext): Promise<void> {
    this.seen.push({ ...engineTurnOf(context).activity });
    await super.run(context);
  }
}

/** The example bot on `face`, built from the product's parts. */
export function recordingSupportBot(face: Face, deps: BotDeps): RecordingSupportBot | RecordingAgentsSupportBot {
  return face === 'agents-sdk' ? new RecordingAgentsSupportBot(deps) : new RecordingSupportBot(deps);
}
