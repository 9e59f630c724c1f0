/**
 * `EXAMPLE_BOT_SDK` picks the SDK of the example support bot the endpoint serves without a bot of
 * your own: the Agents SDK one answers with the same menu and hands off the same way; an unknown
 * value is a configuration error naming the variable.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBotModule } from '../../../src/hosting/load-bot-module';
import { startHarness, type Harness } from '../../helpers/harness';
import { loadConfig } from '../../../src/load-config';
import { SupportBot } from '../../../src/bot/support-bot';
import { AgentDialogs } from '../../../src/agents-sdk/agent-dialogs';
import { isAgentsSdkAgent } from '../../../src/agents-sdk/agents-sdk-bot';
import { AgentApplication, TurnContext as AgentsTurnContext } from '@microsoft/agents-hosting';
import { Dialog, WaterfallDialog } from 'botbuilder-dialogs';
import { MemoryStorage, TurnContext, type Activity } from 'botbuilder-core';
import { TestAdapter } from 'botbuilder-core';

const MENU = 'How can I help you today?';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('EXAMPLE_BOT_SDK', () => {
  it('agents-sdk: the example bot written on the Agents SDK serves the menu and the handoff', async () => {
    h = await startHarness({ env: { EXAMPLE_BOT_SDK: 'agents-sdk', NIMCHAT_HANDOFF_TEAM_ID: '1' }, app: { createBot: undefined } });
    expect(h.app.bot).not.toBeInstanceOf(SupportBot);
    expect(h.app.botDescription).toBe('the example support bot (Microsoft 365 Agents SDK)');
    expect((h.app.bot as { handlesHandoffRequests?: boolean }).handlesHandoffRequests).toBe(true);
    const c = await h.customer('Ada');
    await c.say('hello');
    await h.settle();
    await c.say('human');
    await h.settle();
    const received = await c.received();
    expect(received[0]).toBe(MENU);
    expect(received[1]).toMatch(/human/);
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('open');
    // One handoff: the example bot's own dialog, not a second one from the host's recognizer.
    expect(h.sandbox.state.conversation(c.conversationId).messages.filter((m) => m.private)).toHaveLength(1);
  });

  it('botbuilder is the default, and anything else is refused by name', () => {
    expect(loadConfig({ STORAGE_URL: 'memory:' }).exampleBotSdk).toBe('botbuilder');
    expect(() => loadConfig({ STORAGE_URL: 'memory:', EXAMPLE_BOT_SDK: 'copilot' })).toThrow(/EXAMPLE_BOT_SDK must be botbuilder or agents-sdk/);
  });
});

describe('AgentDialogs', () => {
  it("runs from a copy of the agent's TurnContext (the Agents SDK copies it for a route behind authorization)", async () => {
    h = await startHarness({
      app: {
        createBot: (deps) => {
          const agent = new AgentApplication();
          const dialogs = new AgentDialogs(deps.storage, [new WaterfallDialog('ask', [async (step) => (await step.context.sendActivity('Your name?'), Dialog.EndOfTurn), async (step) => (await step.context.sendActivity(`Hello ${String(step.result)}`), step.endDialog())])]);
          agent.onActivity('message', async (context: AgentsTurnContext) => {
            await dialogs.continueOrBegin(new AgentsTurnContext(context), 'ask');
          });
          return agent;
        },
      },
    });
    const c = await h.customer('Ada');
    await c.say('hi');
    await h.settle();
    await c.say('Ada');
    await h.settle();
    expect(await c.received()).toEqual(['Your name?', 'Hello Ada']);
  });

  it('an AgentApplication of a copy of the SDK this process cannot load is refused plainly, not run as a botbuilder bot', () => {
    class AgentApplicationOfAnotherCopy {
      async run(): Promise<void> {}
    }
    Object.defineProperty(AgentApplicationOfAnotherCopy, 'name', { value: 'AgentApplication' });
    class MyAgent extends AgentApplicationOfAnotherCopy {}
    expect(() => isAgentsSdkAgent(new MyAgent())).toThrow(/copy of @microsoft\/agents-hosting this package cannot load/);
  });

  it('refuses a context that is not a turn of the engine, with a clear error', async () => {
    const dialogs = new AgentDialogs(new MemoryStorage(), []);
    await expect(dialogs.continueOrBegin({ activity: {} }, 'any')).rejects.toThrow(/not a turn of this engine/);
  });

  it('runs on a botbuilder turn as it is', async () => {
    const dialogs = new AgentDialogs(new MemoryStorage(), []);
    const adapter = new TestAdapter();
    const context = new TurnContext(adapter, { type: 'message', text: 'hi', channelId: 'test', conversation: { id: 'c' }, from: { id: 'u' }, recipient: { id: 'b' } } as Partial<Activity>);
    await expect(dialogs.clear(context)).resolves.toBeUndefined();
  });
});

describe('the Agents SDK in production (NODE_ENV=production)', () => {
  it('the example bot starts: its AgentApplication gets a CloudAdapter it never uses, not one that wants an Azure client id', async () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const { AgentsSupportBot } = await import('../../../src/bot/agents-support-bot');
      expect(() => new AgentsSupportBot({ storage: new MemoryStorage(), transcripts: undefined as never })).not.toThrow();
    } finally {
      process.env.NODE_ENV = before;
    }
  });

  it('handoff serve --bot: an agent module that fails on the missing client id gets a start-up error saying what to set', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-agent-prod-'));
    fs.writeFileSync(path.join(dir, 'agent.cjs'), `const { AgentApplication } = require(${JSON.stringify(require.resolve('@microsoft/agents-hosting'))});\nmodule.exports = new AgentApplication();\n`);
    const before = { NODE_ENV: process.env.NODE_ENV, clientId: process.env.clientId };
    process.env.NODE_ENV = 'production';
    delete process.env.clientId;
    try {
      await expect(loadBotModule(path.join(dir, 'agent.cjs'))).rejects.toThrow(/set the variable clientId/);
    } finally {
      process.env.NODE_ENV = before.NODE_ENV;
      if (before.clientId !== undefined) process.env.clientId = before.clientId;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
