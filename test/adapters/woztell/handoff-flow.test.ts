/** The example bot on WOZTELL end to end: menu, button replies, handoff to the Inbox, silence, release. */
import { afterEach, describe, expect, it } from 'vitest';
import { TurnContext } from 'botbuilder-core';
import { startWoztellHarness, type WoztellHarness } from '../../helpers/woztell-harness';
import { HANDOFF_FAILED_TEXT, WELCOME_BACK_TEXT } from '../../../src/bot/support-bot';
import { STILL_LOOKING_TEXT } from '../../../dialogs/handoff-wait/wait-notices';
import { MENU_TEXT } from '../../../src/bot/support-dialog';
import { FACES } from '../../helpers/faces';

const statusStates = (h: WoztellHarness) =>
  h.bot.seen.filter((a) => a.name === 'handoff.status').map((a) => (a.value as { state: string }).state);

describe.each(FACES)('the example bot on WOZTELL, on %s', (face) => {
  let h: WoztellHarness;
  afterEach(async () => {
    await h?.close();
  });

  it('answers with the menu as reply buttons; a button reply reaches the bot as its payload', async () => {
    h = await startWoztellHarness({ face });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await h.settle();
    const menu = h.sandbox.received(m.memberId);
    expect(menu).toHaveLength(1);
    expect(menu[0]!.item).toEqual({
      type: 'WHATSAPP_REPLY_BUTTONS',
      text: MENU_TEXT,
      buttons: [
        { title: 'Talk to a human', payload: 'human' },
        { title: 'Leave a message', payload: 'ticket' },
      ],
    });

    h.sandbox.customerSays(m.memberId, { payload: 'ticket', data: { text: 'Leave a message', payload: 'ticket' } });
    await h.settle();
    const reply = h.bot.seen.filter((a) => a.type === 'message').at(-1)!;
    expect(reply.value).toBe('ticket');
    expect(reply.text).toBe('ticket');
    // Without Inbenta the ticket path offers a human.
    expect(h.received(m.memberId).at(-1)).toMatch(/isn't available/);
  });

  it('sends numbered text when buttons are off, and a numbered answer picks that choice', async () => {
    h = await startWoztellHarness({ face, app: { platformOptions: { woztell: { adapter: { replyButtons: false } } } } });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'hi' });
    await h.settle();
    expect(h.received(m.memberId)).toEqual([`${MENU_TEXT}\n\n1. Talk to a human\n2. Leave a message`]);
    h.sandbox.customerSays(m.memberId, { text: '1' });
    await h.settle();
    expect(h.bot.seen.filter((a) => a.type === 'message').at(-1)!.value).toBe('human');
    expect(h.received(m.memberId)[1]).toMatch(/human/);
  });

  it('hands off: reply → thread found → folder moved → agent assigned → note with transcript, then silence', async () => {
    h = await startWoztellHarness({ face, env: { WOZTELL_HANDOFF_AGENT_ID: '6474449cdfc4ee3646d392b1', WOZTELL_HANDOFF_FOLDER: 'main' } });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await h.settle();
    const callsBefore = h.sandbox.calls.length;
    h.sandbox.customerSays(m.memberId, { text: 'I want to talk to a human' });
    await h.settle();

    const calls = h.sandbox.calls.slice(callsBefore).filter((c) => c.api !== 'open');
    expect(calls.map((c) => `${c.api} ${c.method} ${c.path}`)).toEqual([
      'bot POST /sendResponses',
      'inbox GET /api/list-threads',
      'inbox POST /update-thread-folder',
      'inbox GET /api/list-users',
      'inbox POST /update-thread-agent',
      'inbox POST /internal-message',
    ]);
    expect(String((calls[0]!.body.response as Array<{ text: string }>)[0]!.text)).toMatch(/human/);
    expect(calls[1]!.query).toMatchObject({ memberId: m.memberId, channelId: h.sandbox.channelId });
    expect(calls[2]!.body).toEqual({ memberId: m.memberId, folderId: 'main' });
    expect(calls[3]!.query).toMatchObject({ folderId: 'main' });
    expect(calls[4]!.body).toEqual({ memberId: m.memberId, userId: '6474449cdfc4ee3646d392b1' });
    const note = String(calls[5]!.body.message);
    expect(note).toMatch(/^Handoff/);
    expect(note).toContain(['Customer: hello', `Bot: ${MENU_TEXT} [Talk to a human | Leave a message]`, 'Customer: I want to talk to a human'].join('\n'));
    const thread = h.sandbox.state.thread({ memberId: m.memberId })!;
    expect(thread.folder).toBe('main');
    expect(thread.userId).toBe('6474449cdfc4ee3646d392b1');
    expect(thread.notes).toHaveLength(1);
    expect(statusStates(h)).toEqual(['accepted']);

    // Waiting for a human: the bot's logic hears nothing; one wait notice (WOZTELL knows no queue position), then silence.
    const seen = h.received(m.memberId).length;
    h.sandbox.customerSays(m.memberId, { text: 'hello? anyone there?' });
    await h.settle();
    h.sandbox.customerSays(m.memberId, { text: 'hello??' });
    await h.settle();
    expect(h.received(m.memberId).slice(seen)).toEqual([STILL_LOOKING_TEXT]);
    expect(h.bot.seen.filter((a) => a.text === 'hello? anyone there?')).toHaveLength(0);
  });

  it('an agent writing from the Inbox silences the bot for that member', async () => {
    h = await startWoztellHarness({ face });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await h.settle();
    h.sandbox.agentSays(m.memberId, 'Hi Ada, Anna here. How can I help?');
    await h.settle();
    expect(h.bot.seen.some((a) => a.name === 'conversation.agentMessage')).toBe(true);
    h.sandbox.customerSays(m.memberId, { text: 'my order is late' });
    await h.settle();
    expect(h.received(m.memberId)).toEqual([expect.stringContaining(MENU_TEXT), 'Hi Ada, Anna here. How can I help?']);
  });

  it('a thread moved to the bot folder gives the member back: handoff.status completed, then the bot answers', async () => {
    h = await startWoztellHarness({ face });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'agent please' });
    await h.settle();
    h.sandbox.customerSays(m.memberId, { text: 'still waiting' });
    await h.settle();
    const silent = h.received(m.memberId).length;
    expect(statusStates(h)).toEqual(['accepted']);

    h.sandbox.agentUpdates(m.memberId, { folder: 'bot' });
    h.sandbox.customerSays(m.memberId, { text: 'thanks, one more thing' });
    await h.settle();
    expect(statusStates(h)).toEqual(['accepted', 'completed']);
    // Greeted back once, then the message is answered.
    expect(h.received(m.memberId).slice(silent)).toEqual([expect.stringContaining(WELCOME_BACK_TEXT), expect.stringContaining(MENU_TEXT)]);
  });

  it('an assignee removed, or live chat turned off after it was on, gives the member back too', async () => {
    h = await startWoztellHarness({ face, env: { WOZTELL_HANDOFF_AGENT_ID: '6474449cdfc4ee3646d392b1' } });
    const a = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(a.memberId, { text: 'human' });
    await h.settle();
    h.sandbox.agentUpdates(a.memberId, { userId: null });
    h.sandbox.customerSays(a.memberId, { text: 'hello again' });
    await h.settle();
    expect(h.received(a.memberId).at(-1)).toContain(MENU_TEXT);

    const b = h.sandbox.createMember('Bo');
    h.sandbox.customerSays(b.memberId, { text: 'hi' });
    await h.settle();
    h.sandbox.agentSays(b.memberId, 'Hello Bo'); // live chat on
    h.sandbox.customerSays(b.memberId, { text: 'question' });
    await h.settle();
    expect(h.received(b.memberId)).toHaveLength(2); // menu + agent; the bot kept quiet
    h.sandbox.agentUpdates(b.memberId, { liveChat: false });
    h.sandbox.customerSays(b.memberId, { text: 'back to the bot?' });
    await h.settle();
    expect(h.received(b.memberId).at(-1)).toContain(MENU_TEXT);
    expect(statusStates(h).filter((s) => s === 'completed')).toHaveLength(2);
  });

  it('Inbox ok: 0 → the customer is told and the bot receives handoff.status failed; the bot keeps the member', async () => {
    h = await startWoztellHarness({ face });
    h.sandbox.faults.push({ api: 'inbox', path: /^\/update-thread-folder$/, status: 200, body: { ok: 0, err: 'Folder is locked' }, times: 1 });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'talk to a human' });
    await h.settle();
    expect(statusStates(h)).toEqual(['failed']);
    const failed = h.bot.seen.find((a) => a.name === 'handoff.status')!;
    expect((failed.value as { message: string }).message).toContain('Folder is locked');
    expect(h.received(m.memberId).at(-1)).toBe(HANDOFF_FAILED_TEXT);
    h.sandbox.customerSays(m.memberId, { text: 'ok' });
    await h.settle();
    expect(h.received(m.memberId).at(-1)).toContain(MENU_TEXT);
  });

  it('finds the inbox credentials through the Open API when they are not configured', async () => {
    h = await startWoztellHarness({ face, inboxCredentials: false });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'human please' });
    await h.settle();
    expect(statusStates(h)).toEqual(['accepted']);
    const lookups = h.sandbox.calls.filter((c) => c.api === 'open' && String(c.body.query).includes('installedIntegrations'));
    expect(lookups).toHaveLength(1);
    expect(h.sandbox.calls.filter((c) => c.api === 'inbox').every((c) => c.status === 200)).toBe(true);
  });

  it('continueConversation sends a proactive message to the member', async () => {
    h = await startWoztellHarness({ face });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await h.settle();
    const first = h.bot.seen.find((a) => a.type === 'message')!;
    const reference = TurnContext.getConversationReference(first);
    await h.adapter.continueConversationAsync('app', reference, async (context) => {
      await context.sendActivity('Your parcel has shipped.');
    });
    await h.settle();
    expect(h.received(m.memberId).at(-1)).toBe('Your parcel has shipped.');
  });
});
