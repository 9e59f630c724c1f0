/** The ticket dialog on its own (botbuilder's TestAdapter, a fake desk): the steps a bot developer can switch on. */
import { ActivityTypes, ConversationState, MemoryStorage, TestAdapter, type Activity } from 'botbuilder-core';
import { DialogSet, DialogTurnStatus } from 'botbuilder-dialogs';
import { describe, expect, it } from 'vitest';
import { DESCRIPTION_PROMPT, EMAIL_PROMPT, TicketDialog, isEmailAddress, type TicketDialogOptions } from '../../dialogs/ticket-dialog';
import type { TicketRequest } from '../../dialogs/ticket-desk';
import { StorageTranscriptStore, TranscriptCaptureMiddleware } from '../../dialogs/transcript';

function setup(options: Omit<TicketDialogOptions, 'transcripts'>) {
  const storage = new MemoryStorage();
  const transcripts = new StorageTranscriptStore(storage);
  const state = new ConversationState(storage);
  const dialogs = new DialogSet(state.createProperty('dialog'));
  dialogs.add(new TicketDialog('ticket', { transcripts, ...options }));
  const adapter = new TestAdapter(async (ctx) => {
    const dc = await dialogs.createContext(ctx);
    const r = await dc.continueDialog();
    if (r.status === DialogTurnStatus.empty) await dc.beginDialog('ticket');
    await state.saveChanges(ctx);
  });
  adapter.use(new TranscriptCaptureMiddleware(transcripts));
  return adapter;
}

describe('TicketDialog', () => {
  it('with confirmation switched on: "no" sends nothing, "yes" creates the ticket with the transcript; the close-out follows', async () => {
    const requests: TicketRequest[] = [];
    const desk = { createTicket: async (r: TicketRequest) => (requests.push(r), { ticketId: '1', reference: 'INST-00000001' }) };
    const adapter = setup({ desk, confirm: true, closeOut: () => ({ status: 'resolved' }) });
    const sent: Partial<Activity>[] = [];
    await adapter
      .send('ticket')
      .assertReply(EMAIL_PROMPT)
      .send('me@example.com')
      .assertReply(DESCRIPTION_PROMPT)
      .send('Please call me back')
      .assertReply((a) => expect(a.text).toMatch(/"Please call me back"\. Shall I send it\?/))
      .send('no')
      .assertReply((a) => expect(a.text).toMatch(/haven't sent anything/))
      .send('ticket')
      .assertReply(EMAIL_PROMPT)
      .send('me@example.com')
      .assertReply(DESCRIPTION_PROMPT)
      .send('Please call me back')
      .assertReply((a) => expect(a.text).toMatch(/Shall I send it/))
      .send('yes')
      .assertReply((a) => expect(a.text).toContain('INST-00000001'))
      .assertReply((a) => sent.push(a));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ customer: { email: 'me@example.com' }, description: 'Please call me back', title: 'Please call me back' });
    expect(requests[0]!.transcript.map((e) => e.text)).toContain('Please call me back');
    expect(sent[0]).toMatchObject({ type: ActivityTypes.Event, name: 'conversation.control', value: { status: 'resolved' } });
  });

  it('without a desk says tickets are unavailable and offers a human', async () => {
    await setup({})
      .send('ticket')
      .assertReply((a) => {
        expect(a.text).toMatch(/isn't available/);
        expect(a.suggestedActions?.actions.map((x) => x.value)).toEqual(['human']);
      });
  });

  it('validates email addresses', () => {
    for (const ok of ['a@b.co', 'first.last+tag@example.org']) expect(isEmailAddress(ok)).toBe(true);
    for (const bad of ['', 'a@b', 'not an email', 'a b@c.com', '<a@b.com>', '@b.com']) expect(isEmailAddress(bad)).toBe(false);
  });
});
