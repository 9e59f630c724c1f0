/**
 * An agent built with the Microsoft 365 Agents SDK (`AgentApplication`), served unchanged by the same
 * engine as a botbuilder bot: over the Nimchat and WOZTELL sandboxes on loopback, its greeting, its
 * choices rendered natively, its state kept in the engine's storage, a handoff it asks for carried out,
 * and the engine's events (`handoff.status`) reaching its routes.
 */
import { AgentApplication, MemoryStorage, MessageFactory, TurnState, type Storage, type TurnContext } from '@microsoft/agents-hosting';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { startWoztellHarness, type WoztellHarness } from '../../helpers/woztell-harness';

interface Counted {
  count?: number;
}

/** A support agent as the Agents SDK's samples write one. */
function supportAgent(storage: Storage = new MemoryStorage()) {
  const app = new AgentApplication<TurnState>({ storage });
  // The Agents SDK (1.8) saves the turn's state only when an afterTurn handler says to.
  app.onTurn('afterTurn', async () => true);
  const statuses: string[] = [];
  app.onConversationUpdate('membersAdded', async (context: TurnContext) => {
    for (const member of context.activity.membersAdded ?? []) {
      if (member.id !== context.activity.recipient?.id) await context.sendActivity('Welcome to Contoso support!');
    }
  });
  app.onMessage(/escalate/i, async (context: TurnContext) => {
    await context.sendActivity('Connecting you with a person.');
    await context.sendActivity({ type: 'event', name: 'handoff.initiate', value: { reason: 'asked for a person' } } as never);
  });
  app.onActivity('message', async (context: TurnContext, state: TurnState) => {
    const counted = (state.conversation as Counted).count ?? 0;
    (state.conversation as Counted).count = counted + 1;
    await context.sendActivity(MessageFactory.suggestedActions(['Order status', 'Talk to a human'], `Message ${counted + 1}: how can I help?`));
  });
  app.onActivity('event', async (context: TurnContext) => {
    if (context.activity.name === 'handoff.status') statuses.push((context.activity.value as { state: string }).state);
  });
  return { app, statuses };
}

let h: Harness | undefined;
let w: WoztellHarness | undefined;
afterEach(async () => {
  await h?.close();
  await w?.close();
  h = undefined;
  w = undefined;
});

describe('an Agents SDK AgentApplication on the engine', () => {
  it("Nimchat: greeting, native choices, state across turns (in the engine's storage), handoff carried out and its status told to the agent", async () => {
    let statuses: string[] = [];
    h = await startHarness({
      app: {
        createBot: (deps) => {
          const agent = supportAgent(deps.storage as unknown as Storage);
          statuses = agent.statuses;
          return agent.app;
        },
      },
    });
    const c = await h.customer('Ada');
    await c.say('hi');
    await h.settle();
    await c.say('and again');
    await h.settle();
    expect(await c.received()).toEqual(['Welcome to Contoso support!', 'Message 1: how can I help?', 'Message 2: how can I help?']);
    const menu = h.sandbox.state.conversation(c.conversationId).messages.filter((m) => m.message_type === 'outgoing' && !m.private)[1]!;
    expect(menu.content_type).toBe('input_select');
    expect((menu.content_attributes as { items: Array<{ title: string }> }).items.map((i) => i.title)).toEqual(['Order status', 'Talk to a human']);

    await c.say('escalate this');
    await h.settle();
    const conversation = h.sandbox.state.conversation(c.conversationId);
    expect(conversation.status).toBe('open');
    expect(conversation.messages.find((m) => m.private)?.content).toMatch(/^Handoff requested: asked for a person/);
    expect(statuses).toContain('accepted');
    // With a human now: the agent hears nothing of the customer's next message.
    await c.say('hello?');
    await h.settle();
    expect((await c.received()).filter((t) => /how can I help/.test(t))).toHaveLength(2);
  });

  it('WOZTELL: the same agent, its choices as reply buttons', async () => {
    const { app } = supportAgent();
    w = await startWoztellHarness({ app: { bot: app, createBot: undefined } });
    const m = w.sandbox.createMember('Bo');
    w.sandbox.customerSays(m.memberId, { text: 'hello' });
    await w.settle();
    const sent = w.sandbox.received(m.memberId);
    expect(sent.at(-1)!.item).toMatchObject({ type: 'WHATSAPP_REPLY_BUTTONS', text: 'Message 1: how can I help?' });
  });
});
