/** The platform-neutral dialogs, driven through botbuilder's TestAdapter (no platform involved). */
import { ActivityTypes, MemoryStorage, TestAdapter, ConversationState, type Activity } from 'botbuilder-core';
import { DialogSet, TextPrompt, WaterfallDialog, DialogTurnStatus } from 'botbuilder-dialogs';
import { describe, expect, it } from 'vitest';
import { HandoffInterruptibleDialog } from '../../dialogs/handoff-interruptible-dialog';
import { StorageTranscriptStore, TranscriptCaptureMiddleware, formatTranscript } from '../../dialogs/transcript';
import { HandoffGateMiddleware } from '../../dialogs/handoff-gate';
import { OwnershipStore } from '../../src/ownership';
import { asksForHuman, asksToLeaveMessage } from '../../dialogs/intents';

/** A bot developer's own dialog: asks for an order number. */
class OrderDialog extends HandoffInterruptibleDialog {
  constructor(transcripts: StorageTranscriptStore) {
    super('order', { handoff: { transcripts, request: { team: 5 } } });
    this.addDialog(new TextPrompt('order.prompt'));
    this.addDialog(
      new WaterfallDialog('order.steps', [
        (step) => step.prompt('order.prompt', 'What is your order number?'),
        async (step) => {
          await step.context.sendActivity(`Order ${String(step.result)} is on its way.`);
          return step.endDialog();
        },
      ]),
    );
    this.initialDialogId = 'order.steps';
  }
}

function setup() {
  const storage = new MemoryStorage();
  const transcripts = new StorageTranscriptStore(storage);
  const state = new ConversationState(storage);
  const dialogs = new DialogSet(state.createProperty('dialog'));
  dialogs.add(new OrderDialog(transcripts));
  const adapter = new TestAdapter(async (ctx) => {
    const dc = await dialogs.createContext(ctx);
    const r = await dc.continueDialog();
    if (r.status === DialogTurnStatus.empty) await dc.beginDialog('order');
    await state.saveChanges(ctx);
  });
  adapter.use(new TranscriptCaptureMiddleware(transcripts));
  return { adapter, transcripts, storage };
}

describe('dialogs', () => {
  it('"talk to a human" interrupts any dialog: confirmation, then handoff.initiate with the transcript and the defaults', async () => {
    const { adapter } = setup();
    const sent: Partial<Activity>[] = [];
    await adapter
      .send('hi')
      .assertReply('What is your order number?')
      .send('actually I want a real person')
      .assertReply((a) => {
        sent.push(a);
        expect(a.text).toMatch(/human/);
      })
      .assertReply((a) => {
        sent.push(a);
        expect(a.type).toBe(ActivityTypes.Event);
        expect(a.name).toBe('handoff.initiate');
        expect(a.value).toMatchObject({ team: 5, reason: expect.stringMatching(/human/) });
        const transcript = a.attachments![0]!.content as { activities: Array<{ text: string; from: { role: string } }> };
        expect(transcript.activities.map((x) => `${x.from.role}: ${x.text}`)).toEqual([
          'user: hi',
          'bot: What is your order number?',
          'user: actually I want a real person',
          expect.stringMatching(/^bot: .*human/),
        ]);
      })
      .startTest();
    expect(sent).toHaveLength(2);
  });

  it('the transcript is awaited inside the turn and formats as Customer:/Bot: lines', async () => {
    const { adapter, transcripts } = setup();
    await adapter.send('hello\nthere').assertReply('What is your order number?').send('42').assertReply('Order 42 is on its way.').startTest();
    const entries = await transcripts.list('test', 'Convo1');
    expect(formatTranscript(entries)).toBe(
      ['Customer: hello there', 'Bot: What is your order number?', 'Customer: 42', 'Bot: Order 42 is on its way.'].join('\n'),
    );
  });

  it('the handoff gate keeps messages from the bot while a human owns the conversation, and lets events through', async () => {
    const storage = new MemoryStorage();
    const ownership = new OwnershipStore(storage);
    const reached: string[] = [];
    const adapter = new TestAdapter(async (ctx) => {
      reached.push(ctx.activity.type === 'message' ? ctx.activity.text! : ctx.activity.name!);
    });
    adapter.use(new HandoffGateMiddleware(ownership));
    await adapter.send('one').startTest();
    await ownership.apply('test', 'Convo1', [{ type: 'handoff_completed' }]);
    await adapter.send('two').startTest();
    await adapter.send({ type: 'event', name: 'handoff.status', value: { state: 'completed' } }).startTest();
    await ownership.apply('test', 'Convo1', [{ type: 'status_observed', status: 'pending', botStatus: true, explicit: true }]);
    await adapter.send('three').startTest();
    expect(reached).toEqual(['one', 'handoff.status', 'three']);
  });

  it('keyword intents', () => {
    expect(['human', 'Agent please', 'a real PERSON', 'representative'].every(asksForHuman)).toBe(true);
    expect(['humane', 'agency', 'hello'].some(asksForHuman)).toBe(false);
    expect(['ticket', 'I want to leave a message'].every(asksToLeaveMessage)).toBe(true);
  });

  it('a stale eTag write is rejected by the store behind state', async () => {
    const storage = new MemoryStorage();
    await storage.write({ k: { v: 1, eTag: '*' } });
    const read = (await storage.read(['k'])).k as { eTag: string };
    await storage.write({ k: { v: 2, eTag: read.eTag } });
    await expect(storage.write({ k: { v: 3, eTag: read.eTag } })).rejects.toThrow(/eTag conflict/);
  });
});
