/**
 * The Microsoft 365 Agents SDK face: an agent built with `@microsoft/agents-hosting` (an
 * `AgentApplication`, or its `ActivityHandler`) served by the same engine as a botbuilder bot. Each turn
 * the engine runs with a botbuilder `TurnContext` is given to the agent as an Agents SDK `TurnContext`
 * over `EngineBridgeAdapter`, whose sends go back through the botbuilder context: into the turn's unit of
 * work and the outbox, with the transcript, the handoff gate and everything else the engine does.
 *
 * `@microsoft/agents-hosting` is the bot developer's dependency (an optional peer of this package): it
 * is loaded only when such an agent is served, and the agent's own copy is the one used.
 */
import { TurnContext, type Activity as BotbuilderActivity, type TurnContext as BotbuilderTurnContext } from 'botbuilder-core';
import { createRequire } from 'node:module';
import type * as AgentsHosting from '@microsoft/agents-hosting';
import type * as AgentsActivity from '@microsoft/agents-activity';
import { NotSupportedError } from '../errors';

/**
 * An Agents SDK agent: an `AgentApplication` or `ActivityHandler` of `@microsoft/agents-hosting` (its
 * `run` takes that package's TurnContext; typed loosely here, so this package's types need no Agents SDK).
 */
export interface AgentsSdkAgent {
  run(context: never): Promise<unknown>;
}

interface AgentsModules {
  hosting: typeof AgentsHosting;
  activity: typeof AgentsActivity;
}

let loaded: AgentsModules | null | undefined;

/**
 * Where the bridge adapter of a turn keeps the engine's botbuilder turn: on the adapter, which every
 * copy of a TurnContext shares (the Agents SDK copies the context for a route behind authorization),
 * under a global symbol (another copy of this package finds it too).
 */
const ENGINE_TURN = Symbol.for('botbuilder-handoff-adapters.engineTurn');

/**
 * The engine's botbuilder `TurnContext` under an Agents SDK turn context this package gave the agent,
 * or a copy of one (a botbuilder context is its own). What runs this package's dialogs from an Agents
 * SDK agent.
 */
export function engineTurnOf(context: object): BotbuilderTurnContext {
  const adapter = (context as { adapter?: Record<symbol, unknown> }).adapter;
  const turn = adapter?.[ENGINE_TURN] as BotbuilderTurnContext | undefined;
  if (turn) return turn;
  if (isBotbuilderTurn(context)) return context;
  throw new TypeError('not a turn of this engine: give the TurnContext your route was called with (an Agents SDK agent served by this package, or a botbuilder bot)');
}

function isBotbuilderTurn(value: object): value is BotbuilderTurnContext {
  // The engine makes its turns with this package's botbuilder.
  return value instanceof TurnContext;
}

/** The Agents SDK packages this package can load, when installed (undefined otherwise). */
function agentsModules(): AgentsModules | undefined {
  if (loaded === undefined) loaded = loadAgentsModules(require) ?? null;
  return loaded ?? undefined;
}

function loadAgentsModules(from: NodeJS.Require): AgentsModules | undefined {
  try {
    // agents-activity as agents-hosting itself resolves it (a strict layout may not expose it to the bot).
    const hostingPath = from.resolve('@microsoft/agents-hosting');
    return { hosting: from(hostingPath) as typeof AgentsHosting, activity: createRequire(hostingPath)('@microsoft/agents-activity') as typeof AgentsActivity };
  } catch {
    return undefined;
  }
}

/**
 * Other copies of the Agents SDK: a bot module in another project (`handoff serve --bot ../my-agent`)
 * has its own `node_modules`, whose AgentApplication is not this package's. Its agent is recognised,
 * and given turn contexts made, with its own copy.
 */
const otherCopies: AgentsModules[] = [];

/** Makes the Agents SDK that the module at `file` would load known (nothing when it has none, or it is this package's). */
export function addAgentsSdkCopyOf(file: string): void {
  const copy = loadAgentsModules(createRequire(file));
  if (!copy || copy.hosting === agentsModules()?.hosting || otherCopies.some((known) => known.hosting === copy.hosting)) return;
  otherCopies.push(copy);
}

/** The Agents SDK copy `value` is an agent of. */
function copyOf(value: unknown): AgentsModules | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const own = agentsModules();
  return [...(own ? [own] : []), ...otherCopies].find(({ hosting }) => value instanceof hosting.AgentApplication || value instanceof hosting.ActivityHandler);
}

/** Whether `value` is an Agents SDK agent (an `AgentApplication` or an Agents SDK `ActivityHandler`). */
export function isAgentsSdkAgent(value: unknown): value is AgentsSdkAgent {
  if (copyOf(value) !== undefined) return true;
  // An AgentApplication of a copy of the SDK this process was not told of would be run as a
  // botbuilder bot and never answer: said plainly instead.
  for (let proto = typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : null; proto; proto = Object.getPrototypeOf(proto)) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === 'AgentApplication') {
      throw new TypeError('the bot is an AgentApplication of a copy of @microsoft/agents-hosting this package cannot load: install @microsoft/agents-hosting and @microsoft/agents-activity where this package can resolve them (one copy, beside it), or serve it with handoff serve --bot <its module>');
    }
  }
  return false;
}

/**
 * A botbuilder-style bot (`run(context)` with a botbuilder TurnContext) that runs the Agents SDK agent
 * on each turn.
 */
export function runOnAgentsSdk(agent: AgentsSdkAgent): { run(context: BotbuilderTurnContext): Promise<void>; handlesHandoffRequests: boolean; sdk: 'agents-sdk' } {
  const modules = copyOf(agent) ?? agentsModules();
  if (!modules) throw new TypeError('serving an Agents SDK agent needs @microsoft/agents-hosting and @microsoft/agents-activity installed');
  const { hosting, activity } = modules;

  /** Carries an Agents SDK turn's sends and continuations into the engine's botbuilder turn. */
  class EngineBridgeAdapter extends hosting.BaseAdapter {
    /** The engine's adapter, taken during the turn (botbuilder revokes the turn's context after it). */
    private readonly engine: { continueConversation(ref: unknown, logic: (context: BotbuilderTurnContext) => Promise<void>): Promise<void> };
    private readonly channelId: string;

    constructor(private readonly turn: BotbuilderTurnContext) {
      super();
      (this as unknown as Record<symbol, unknown>)[ENGINE_TURN] = turn;
      this.engine = turn.adapter as unknown as EngineBridgeAdapter['engine'];
      this.channelId = turn.activity.channelId ?? 'this channel';
    }

    async sendActivities(_context: AgentsHosting.TurnContext, activities: AgentsActivity.Activity[]): Promise<AgentsHosting.ResourceResponse[]> {
      // The engine's own context applies the conversation reference and records each send.
      const plain = activities.map((a) => agentsActivityJson(a) as Partial<BotbuilderActivity>);
      return (await this.turn.sendActivities(plain)).map((r) => ({ id: r?.id ?? '' }));
    }

    async updateActivity(): Promise<void> {
      throw new NotSupportedError(this.channelId, 'updating a sent message');
    }

    async deleteActivity(): Promise<void> {
      throw new NotSupportedError(this.channelId, 'deleting a sent message');
    }

    async continueConversation(_identity: unknown, reference: Partial<AgentsActivity.ConversationReference>, logic: (context: AgentsHosting.TurnContext) => Promise<void>): Promise<void> {
      // The engine's adapter runs it in the conversation's order, as a turn of its own. The Agents SDK
      // names the bot `agent`; botbuilder's references name it `bot`.
      const withBot = { ...reference, bot: (reference as { bot?: unknown }).bot ?? reference.agent };
      await this.engine.continueConversation(withBot, (next) => logic(agentsContext(next)));
    }

    async uploadAttachment(): Promise<AgentsHosting.ResourceResponse> {
      throw new NotSupportedError(this.channelId, 'uploading an attachment apart from a message');
    }

    async getAttachmentInfo(): Promise<never> {
      throw new NotSupportedError(this.channelId, 'reading attachment info');
    }

    async getAttachment(): Promise<never> {
      throw new NotSupportedError(this.channelId, 'reading an attachment by id');
    }
  }

  function agentsContext(turn: BotbuilderTurnContext): AgentsHosting.TurnContext {
    return new hosting.TurnContext(new EngineBridgeAdapter(turn), activity.Activity.fromObject(withoutBlanks(toPlain(turn.activity))));
  }

  return {
    sdk: 'agents-sdk',
    // An agent whose own dialogs recognise a request for a human says so, as a botbuilder bot does.
    handlesHandoffRequests: (agent as { handlesHandoffRequests?: boolean }).handlesHandoffRequests === true,
    async run(turn: BotbuilderTurnContext): Promise<void> {
      await (agent as { run(context: AgentsHosting.TurnContext): Promise<unknown> }).run(agentsContext(turn));
    },
  };
}

/** An activity as plain JSON (the Agents SDK's Activity is a class; botbuilder's a plain object). */
function toPlain(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

/** An Agents SDK Activity as botbuilder's JSON (its own serialisation: `channelId`, not its private field). */
function agentsActivityJson(value: AgentsActivity.Activity): Record<string, unknown> {
  const own = (value as { toJsonString?: () => string }).toJsonString;
  return typeof own === 'function' ? (JSON.parse(own.call(value)) as Record<string, unknown>) : toPlain(value);
}

/**
 * The Agents SDK validates an activity strictly: an empty string or a null where a value is optional
 * (a platform's empty thumbnail URL, a message without text) is an error there. Such fields are absent.
 * `channelData` and `value` (free-form, the platform's and the bot's own) are left as they are.
 */
function withoutBlanks(value: Record<string, unknown>): Record<string, unknown> {
  const clean = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) if (inner !== null && inner !== '') out[k] = clean(inner);
      return out;
    }
    return v;
  };
  const { channelData, value: activityValue, ...rest } = value;
  const cleaned = clean(rest) as Record<string, unknown>;
  return { ...cleaned, ...(channelData !== undefined ? { channelData } : {}), ...(activityValue !== undefined ? { value: activityValue } : {}) };
}
