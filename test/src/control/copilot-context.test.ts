/**
 * Copilot Studio's generic handoff context (`va_*` in the handoff.initiate value) in the note the human
 * agent reads: end to end on Nimchat, and how odd values are read.
 */
import { ActivityHandler } from 'botbuilder';
import { afterEach, describe, expect, it } from 'vitest';
import { handoffNote } from '../../../src/control/handoff-note';
import { startHarness, type Harness } from '../../helpers/harness';

const CONTEXT = {
  va_Scope: 'bot',
  va_LastTopic: 'Escalate',
  va_Topics: ['Greeting', 'Order status', 'Escalate'],
  va_LastPhrases: 'talk to a person',
  va_Phrases: ['hi', 'where is my order', 'talk to a person'],
  va_ConversationId: 'cs-conv-42',
  va_AgentMessage: 'Order 1234 is late; the customer is upset.',
  va_BotId: 'cs-bot-7',
  va_Language: 'en-us',
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("Copilot Studio's handoff context", () => {
  it('a handoff.initiate carrying it: the private note on Nimchat shows it readably before the transcript', async () => {
    class CopilotLikeBot extends ActivityHandler {
      constructor() {
        super();
        this.onMessage(async (context, next) => {
          await context.sendActivity('Let me get someone for you.');
          await context.sendActivity({ type: 'event', name: 'handoff.initiate', value: CONTEXT });
          await next();
        });
      }
    }
    h = await startHarness({ app: { bot: new CopilotLikeBot(), createBot: undefined } });
    const c = await h.customer('Ada');
    await c.say('my order is late');
    await h.settle();
    const note = h.sandbox.state.conversation(c.conversationId).messages.find((m) => m.private)?.content ?? '';
    expect(note).toContain(
      [
        'From the Copilot Studio agent:',
        '- Message for the agent: Order 1234 is late; the customer is upset.',
        '- Last topic: Escalate',
        '- Topics: Greeting → Order status → Escalate',
        '- Last words: “talk to a person”',
        '- Customer\'s words: “hi”, “where is my order”, “talk to a person”',
        '- Language: en-us',
        '- Copilot Studio: conversation cs-conv-42, agent cs-bot-7, scope bot',
      ].join('\n'),
    );
    expect(note.indexOf('From the Copilot Studio agent:')).toBeLessThan(note.indexOf('Transcript:'));
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('open');
  });

  it('under `context`, with odd types: what can be read is shown, the rest left out; without va_ variables the note is as before', () => {
    const note = handoffNote({ reason: 'asked', context: { va_LastTopic: 'Billing', va_Topics: 'Billing', va_Phrases: [3, 'refund please'], va_Language: 12 } } as never, undefined, []);
    expect(note).toBe(['Handoff requested: asked', '', 'From the Copilot Studio agent:', '- Last topic: Billing', '- Topics: Billing', "- Customer's words: “refund please”", '', 'Transcript:', '(no messages)'].join('\n'));
    expect(handoffNote({ reason: 'asked' }, undefined, [])).toBe(['Handoff requested: asked', '', 'Transcript:', '(no messages)'].join('\n'));
  });
});
