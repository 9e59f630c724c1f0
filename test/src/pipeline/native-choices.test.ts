/**
 * A ChoicePrompt or ConfirmPrompt with its default style (ListStyle.auto) renders its choices as
 * suggested actions on our channels (which the adapters send as `input_select` / reply buttons),
 * where botbuilder alone would write "(1) Car, (2) Bus, or (3) Bicycle"; other channels keep
 * botbuilder's own table.
 */
import { ConversationState, MemoryStorage, TestAdapter, type Activity } from 'botbuilder-core';
import { ChoicePrompt, ConfirmPrompt, DialogSet, DialogTurnStatus, WaterfallDialog } from 'botbuilder-dialogs';
import { describe, expect, it } from 'vitest';
import { addNativeChoices } from '../../../src/pipeline/native-choices';

function promptBot(channelId: string, choices: string[]) {
  const state = new ConversationState(new MemoryStorage());
  const dialogs = new DialogSet(state.createProperty('dialog'));
  dialogs.add(new ChoicePrompt('choice'));
  dialogs.add(new ConfirmPrompt('confirm'));
  dialogs.add(
    new WaterfallDialog('steps', [
      (step) => step.prompt('choice', { prompt: 'Pick one', choices }),
      async (step) => {
        await step.context.sendActivity(`Picked ${String((step.result as { value: string }).value)}`);
        return step.prompt('confirm', 'Sure?');
      },
    ]),
  );
  return new TestAdapter(
    async (ctx) => {
      const dc = await dialogs.createContext(ctx);
      const r = await dc.continueDialog();
      if (r.status === DialogTurnStatus.empty) await dc.beginDialog('steps');
      await state.saveChanges(ctx);
    },
    { channelId, conversation: { id: 'c1' } as never, user: { id: 'u1' }, bot: { id: 'b1' } } as never,
  );
}

const titles = (a: Partial<Activity>) => a.suggestedActions?.actions.map((x) => x.title);

describe('native choices on our channels', () => {
  addNativeChoices('nimchat-test', { maxActions: 10, maxTitleLength: 24 });

  it('ChoicePrompt and ConfirmPrompt render as suggested actions, and the answer picks the choice', async () => {
    const seen: Partial<Activity>[] = [];
    await promptBot('nimchat-test', ['Car', 'Bus', 'Bicycle'])
      .send('hi')
      .assertReply((a) => void seen.push(a))
      .send('Bus')
      .assertReply('Picked Bus')
      .assertReply((a) => void seen.push(a))
      .startTest();
    expect(seen[0]!.text).toBe('Pick one');
    expect(titles(seen[0]!)).toEqual(['Car', 'Bus', 'Bicycle']);
    expect(titles(seen[1]!)).toEqual(['Yes', 'No']);
  });

  it('past the channel\'s limits botbuilder falls back to text; an unknown channel keeps botbuilder\'s own rendering', async () => {
    const many = Array.from({ length: 11 }, (_, i) => `Option ${i + 1}`);
    const seen: Partial<Activity>[] = [];
    await promptBot('nimchat-test', many).send('hi').assertReply((a) => void seen.push(a)).startTest();
    await promptBot('somewhere-else', ['Car', 'Bus', 'Bicycle']).send('hi').assertReply((a) => void seen.push(a)).startTest();
    expect(seen[0]!.suggestedActions).toBeUndefined();
    expect(seen[1]!.suggestedActions).toBeUndefined();
    expect(seen[1]!.text).toBe('Pick one (1) Car, (2) Bus, or (3) Bicycle');
  });
});
