/**
 * The handoff request: recognised in the first message of any bot and at any step, and not in an
 * answer to a prompt that merely contains a person word ("Agent Smith" at "What is your name?").
 */
import { ActivityTypes, ActivityHandler, ConversationState, MemoryStorage, TestAdapter, type Activity, type TurnContext } from 'botbuilder-core';
import { DialogSet, DialogTurnStatus, TextPrompt, WaterfallDialog } from 'botbuilder-dialogs';
import { describe, expect, it } from 'vitest';
import { recognizeHandoffRequest } from '../../dialogs/handoff-recognizer';
import { HandoffInterruptibleDialog } from '../../dialogs/handoff-interruptible-dialog';
import { HandoffRequestMiddleware } from '../../dialogs/handoff-request-middleware';
import { StorageTranscriptStore, TranscriptCaptureMiddleware } from '../../dialogs/transcript';
import { PROMPT_IN_VIEW } from '../../src/control/prompt-in-view';

const context = {} as TurnContext;
const recognize = (text: string, promptInView: boolean) => recognizeHandoffRequest({ text, promptInView, context });

describe('the default handoff recognizer', () => {
  it.each([
    ['I want a human', true, true],
    ['i want to talk to a person', true, true],
    ['Can I speak with an agent?', true, true],
    ['connect me to a live agent please', true, true],
    ['human', true, true],
    ['An agent please!', true, true],
    ['real person', true, true],
    // A person word inside an answer to a prompt is an answer.
    ['Agent Smith', true, false],
    ['agent@example.com', true, false],
    ['My travel agent booked it', true, false],
    ['Humane Society', true, false],
    // Without a prompt waiting, a person word anywhere still asks (the example bot's keywords).
    ['Agent Smith', false, true],
    ['agent please', false, true],
    ['is there a person?', false, true],
    ['hello', false, false],
    ['agency', false, false],
    ['', false, false],
  ])('%j with a prompt in view: %s → %s', (text, atPrompt, expected) => {
    expect(recognize(text, atPrompt)).toBe(expected);
  });
});

/** A developer's dialog on our base: asks for a name. */
class NameDialog extends HandoffInterruptibleDialog {
  constructor(transcripts: StorageTranscriptStore) {
    super('name', { handoff: { transcripts } });
    this.addDialog(new TextPrompt('name.prompt'));
    this.addDialog(
      new WaterfallDialog('name.steps', [
        (step) => step.prompt('name.prompt', 'What is your name?'),
        async (step) => {
          await step.context.sendActivity(`Hello ${String(step.result)}.`);
          return step.endDialog();
        },
      ]),
    );
    this.initialDialogId = 'name.steps';
  }
}

function dialogBot() {
  const storage = new MemoryStorage();
  const transcripts = new StorageTranscriptStore(storage);
  const state = new ConversationState(storage);
  const dialogs = new DialogSet(state.createProperty('dialog'));
  dialogs.add(new NameDialog(transcripts));
  const adapter = new TestAdapter(async (ctx) => {
    const dc = await dialogs.createContext(ctx);
    const r = await dc.continueDialog();
    if (r.status === DialogTurnStatus.empty) await dc.beginDialog('name');
    await state.saveChanges(ctx);
  });
  adapter.use(new TranscriptCaptureMiddleware(transcripts));
  return adapter;
}

const isInitiation = (a: Partial<Activity>) => a.type === ActivityTypes.Event && a.name === 'handoff.initiate';

describe('HandoffInterruptibleDialog', () => {
  it('hands off on the first message, before the dialog has begun', async () => {
    const sent: Partial<Activity>[] = [];
    await dialogBot()
      .send('I want a human')
      .assertReply((a) => void sent.push(a))
      .assertReply((a) => void sent.push(a))
      .startTest();
    expect(sent[0]!.text).toMatch(/human/);
    expect(isInitiation(sent[1]!)).toBe(true);
    expect(sent[1]!.value).toMatchObject({ reason: 'The customer asked for a human.' });
  });

  it('takes "Agent Smith" at the name prompt as the name, and "I want a human" at the same prompt as a request', async () => {
    await dialogBot().send('hi').assertReply('What is your name?').send('Agent Smith').assertReply('Hello Agent Smith.').startTest();
    const sent: Partial<Activity>[] = [];
    await dialogBot()
      .send('hi')
      .assertReply('What is your name?')
      .send('I want a human')
      .assertReply((a) => void sent.push(a))
      .assertReply((a) => void sent.push(a))
      .startTest();
    expect(isInitiation(sent[1]!)).toBe(true);
  });
});

/** A bot that knows nothing of handoff: a name prompt, and an echo once it has the name. */
class PlainBot extends ActivityHandler {
  readonly reached: string[] = [];
  constructor(storage: MemoryStorage) {
    super();
    const state = new ConversationState(storage);
    const dialogs = new DialogSet(state.createProperty('dialog'));
    dialogs.add(new TextPrompt('ask'));
    dialogs.add(new WaterfallDialog('steps', [(step) => step.prompt('ask', 'What is your name?'), async (step) => step.endDialog()]));
    this.onMessage(async (ctx, next) => {
      this.reached.push(ctx.activity.text!);
      const dc = await dialogs.createContext(ctx);
      const r = await dc.continueDialog();
      if (r.status === DialogTurnStatus.empty) await dc.beginDialog('steps');
      await state.saveChanges(ctx);
      await next();
    });
  }
}

function middlewareBot() {
  const storage = new MemoryStorage();
  const transcripts = new StorageTranscriptStore(storage);
  const bot = new PlainBot(storage);
  let atPrompt = false;
  const adapter = new TestAdapter((ctx) => bot.run(ctx));
  // What our adapters record: whether the bot's newest message was a prompt.
  adapter.use({
    onTurn: async (ctx, next) => {
      ctx.turnState.set(PROMPT_IN_VIEW, { expectingInput: atPrompt });
      ctx.onSendActivities(async (_c, activities, send) => {
        const last = activities.filter((a) => a.type === 'message').at(-1);
        if (last) atPrompt = last.inputHint === 'expectingInput';
        return send();
      });
      await next();
    },
  });
  adapter.use(new TranscriptCaptureMiddleware(transcripts));
  adapter.use(new HandoffRequestMiddleware({ storage, handoff: { transcripts } }));
  return { adapter, bot };
}

describe('HandoffRequestMiddleware (any bot, unchanged)', () => {
  it('hands off on the first message; the bot does not see it', async () => {
    const { adapter, bot } = middlewareBot();
    const sent: Partial<Activity>[] = [];
    await adapter
      .send('I want a human')
      .assertReply((a) => void sent.push(a))
      .assertReply((a) => void sent.push(a))
      .startTest();
    expect(isInitiation(sent[1]!)).toBe(true);
    expect(bot.reached).toEqual([]);
  });

  it('lets "Agent Smith" at the bot\'s prompt through to the bot, and hands off on a request in the middle of its dialog', async () => {
    const { adapter, bot } = middlewareBot();
    const sent: Partial<Activity>[] = [];
    await adapter
      .send('hi')
      .assertReply('What is your name?')
      .send('Agent Smith')
      .send('hi again')
      .assertReply('What is your name?')
      .send('can I talk to a person')
      .assertReply((a) => void sent.push(a))
      .assertReply((a) => void sent.push(a))
      .startTest();
    expect(bot.reached).toEqual(['hi', 'Agent Smith', 'hi again']);
    expect(isInitiation(sent[1]!)).toBe(true);
  });
});
