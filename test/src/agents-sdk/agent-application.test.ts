/**
 * An agent built with the Microsoft 365 Agents SDK (`AgentApplication`), served unchanged by the same
 * engine as a botbuilder bot: over the Nimchat and WOZTELL sandboxes on loopback, its greeting, its
 * choices rendered natively, its state kept in the engine's storage, a handoff it asks for carried out,
 * and the engine's events (`handoff.status`) reaching its routes.
 */
import { ActivityHandler, AgentApplication, MemoryStorage, MessageFactory, TurnState, type Storage, type TurnContext } from '@microsoft/agents-hosting';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { conversation, messageCreated, postSigned } from '../../helpers/payloads';
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
  app.onMessage(/later/i, async (context: TurnContext) => {
    const reference = context.activity.getConversationReference();
    await context.sendActivity('I will write again in a moment.');
    // Proactive, after the turn: the Agents SDK way.
    setTimeout(() => {
      void context.adapter.continueConversation('', reference, async (next) => {
        await next.sendActivity('Here I am again.');
      });
    }, 50);
  });
  app.onMessage(/escalate/i, async (context: TurnContext) => {
    await context.sendActivity('Connecting you with a person.');
    await context.sendActivity({ type: 'event', name: 'handoff.initiate', value: { reason: 'asked for a person' } } as never);
  });
  app.onActivity('message', async (context: TurnContext, state: TurnState) => {
    if (context.activity.attachments?.length) await context.sendActivity(`Got ${context.activity.attachments.map((a) => a.name).join(', ')}.`);
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

  it('Nimchat: a customer message with an attachment (an empty thumbnail URL, no text) reaches the agent; a proactive message of the agent is delivered', async () => {
    const { app } = supportAgent();
    h = await startHarness({ app: { bot: app, createBot: undefined } });
    const c = await h.customer('Cy');
    await c.say('hello');
    await h.settle();
    const body = messageCreated(
      { id: 77_001, content: null, attachments: [{ id: 1, file_type: 'file', data_url: 'https://files.example/invoice.pdf', thumb_url: '', file_size: 10, extension: 'pdf' }] },
      conversation(c.conversationId),
    );
    expect((await postSigned(h.botUrl, h.secret, body, { delivery: 'attachment-1' })).status).toBe(200);
    await h.settle();
    expect((await c.received()).some((t) => /^Got /.test(t))).toBe(true);
    expect(h.logLines.some((l) => l.includes('turn failed'))).toBe(false);

    await c.say('talk later');
    await h.settle();
    for (let i = 0; i < 100 && !(await c.received()).includes('Here I am again.'); i++) await new Promise((r) => setTimeout(r, 30));
    expect((await c.received()).slice(-2)).toEqual(['I will write again in a moment.', 'Here I am again.']);
  });

  it("an Agents SDK ActivityHandler (the SDK's other style): its members-added greeting and message handler, on Nimchat", async () => {
    class EchoHandler extends ActivityHandler {
      constructor() {
        super();
        this.onMembersAdded(async (context, next) => {
          for (const member of context.activity.membersAdded ?? []) if (member.id !== context.activity.recipient?.id) await context.sendActivity('Welcome from a handler!');
          await next();
        });
        this.onMessage(async (context, next) => {
          await context.sendActivity(`Echo: ${context.activity.text}`);
          await next();
        });
      }
    }
    h = await startHarness({ app: { bot: new EchoHandler(), createBot: undefined } });
    expect(h.app.botDescription).toBe('your bot (Microsoft 365 Agents SDK)');
    const c = await h.customer('Di');
    await c.say('ping');
    await h.settle();
    expect(await c.received()).toEqual(['Welcome from a handler!', 'Echo: ping']);
  });
});
