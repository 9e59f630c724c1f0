/**
 * The no-answer ladder on Nimchat, on a SQLite file with the App stopped and started again between
 * steps: step 1 re-routes (a private note, the fallback team or an unassignment), step 2 tells the
 * customer and offers a ticket or waiting; each cancellation (a human's public message, a release, a
 * ticket, the conversation resolved) is kept across a restart. The bot hears `handoff.waiting`.
 */
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { startRestartable, type Restartable } from '../../helpers/restartable';
import { startInbenta } from '../../helpers/inbenta';
import { MINUTE } from '../../helpers/test-clock';
import { NoAnswerLadder } from '../../../dialogs/handoff-wait/no-answer-ladder';
import { KEEP_WAITING_TEXT, NO_ANSWER_NO_TICKET_TEXT, NO_ANSWER_OFFER_TEXT } from '../../../dialogs/handoff-wait/no-answer-dialog';
import { STILL_LOOKING_TEXT } from '../../../dialogs/handoff-wait/wait-notices';
import { DESCRIPTION_PROMPT } from '../../../dialogs/ticket-dialog';
import { FACES } from '../../helpers/faces';

const MONDAY_10 = Date.parse('2026-11-23T10:00:00Z');

describe('the no-answer ladder (Nimchat)', () => {
  let r: Restartable;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await r?.close();
    for (const close of closers.splice(0)) await close();
  });

  const waitingEvents = () => r.seen.filter((a) => a.name === 'handoff.waiting').map((a) => a.value);
  const notes = (id: number) => r.sandbox.state.conversation(id).messages.filter((m) => m.private).map((m) => m.content ?? '');

  async function handOff(name = 'Ada', email?: string) {
    const c = await r.customer(name, email);
    await c.say('I want a human');
    await r.settle();
    expect(r.sandbox.state.conversation(c.id).status).toBe('open');
    return c;
  }

  it('two steps, each after a restart: the note and the fallback team, then the customer is told (the bot hears each step)', async () => {
    r = await startRestartable(MONDAY_10, { NIMCHAT_FALLBACK_TEAM_ID: '2' });
    await axios.post(`${r.sandbox.baseUrl}/api/v1/accounts/1/teams`, { name: 'Escalations' }, { headers: { api_access_token: r.sandbox.adminToken } });
    await r.start();
    const c = await handOff();
    const key = NoAnswerLadder.timerKey('nimchat', `1:${c.id}`);
    expect(await r.app.stores.timers.get(key)).toMatchObject({ dueAt: MONDAY_10 + 10 * MINUTE });

    await r.advance(9 * MINUTE); // not due yet
    expect(notes(c.id)).toHaveLength(1); // the handoff's own
    await r.stop();

    r.clock.advance(MINUTE);
    await r.start();
    await r.advance(0);
    expect(notes(c.id)[1]).toBe('No human agent has answered the customer for 10 minutes. Re-assigned to team 2.');
    expect(r.sandbox.state.conversation(c.id).teamId).toBe(2);
    expect(r.botCalls(c.id).slice(-2).map((x) => [x.call, x.body])).toEqual([
      ['POST /messages', { content: notes(c.id)[1], private: true, message_type: 'outgoing' }],
      ['POST /assignments', { team_id: 2 }],
    ]);
    expect(waitingEvents()).toEqual([{ minutes: 10, step: 1 }]);
    const told = (await c.received()).length;
    expect(await r.app.stores.timers.get(key)).toMatchObject({ dueAt: MONDAY_10 + 20 * MINUTE });
    await r.stop();

    r.clock.advance(10 * MINUTE);
    await r.start();
    await r.advance(0);
    expect(waitingEvents()).toEqual([{ minutes: 10, step: 1 }, { minutes: 20, step: 2 }]);
    expect((await c.received()).slice(told)).toEqual([NO_ANSWER_NO_TICKET_TEXT]); // no ticketing here: waiting only
    expect(await r.app.stores.timers.get(key)).toBeUndefined();

    // Nothing more, however long it takes.
    await r.advance(60 * MINUTE);
    expect(waitingEvents()).toHaveLength(2);
    expect(notes(c.id)).toHaveLength(2);
  });

  it('without a fallback team the agent is unassigned, so auto-assignment tries again; an alarm run twice (a crash before its end) does nothing more', async () => {
    r = await startRestartable(MONDAY_10, { NIMCHAT_HANDOFF_AGENT_ID: '2' });
    await r.start();
    const c = await handOff();
    expect(r.sandbox.state.conversation(c.id).assigneeId).toBe(2);
    await r.advance(10 * MINUTE);
    expect(notes(c.id)[1]).toBe('No human agent has answered the customer for 10 minutes. Unassigned, so that auto-assignment tries another agent.');
    expect(r.sandbox.state.conversation(c.id).assigneeId).toBeNull();

    // The same step's alarm again (as if its claim had run out before it was finished): ignored.
    const key = NoAnswerLadder.timerKey('nimchat', `1:${c.id}`);
    const next = await r.app.stores.timers.get(key);
    await r.app.stores.timers.set({ ...next!, dueAt: r.clock.now(), payload: { ...(next!.payload as object), step: 1 } });
    await r.advance(0);
    expect(waitingEvents()).toEqual([{ minutes: 10, step: 1 }]);
    expect(notes(c.id)).toHaveLength(2);
  });

  // [what, how, whether its alarm is cancelled at once (a ticket's alarm finds, when it fires, that nobody waits)]
  const cancellations: Array<[string, (r: Restartable, conversationId: number) => Promise<void>, boolean]> = [
    ["a human's first public message", (r, id) => r.agentSay(id, 'Hi, Sam here. Looking into it.').then(() => undefined), true],
    ['a release back to the bot', (r, id) => r.agentSetStatus(id, 'pending').then(() => undefined), true],
    ['the conversation resolved', (r, id) => r.agentSetStatus(id, 'resolved').then(() => undefined), true],
    [
      'a ticket taking the conversation',
      async (r, id) => {
        await r.app.runtime.ownership.apply('nimchat', `1:${id}`, [{ type: 'ticket_opened', ticketId: 'T-1' }]);
      },
      false,
    ],
  ];

  for (const [what, cancel, cancelledAtOnce] of cancellations) {
    it(`${what} ends the ladder, also across a restart`, async () => {
      r = await startRestartable(MONDAY_10);
      await r.start();
      const c = await handOff();
      await r.advance(3 * MINUTE);
      await cancel(r, c.id);
      await r.settle();
      if (cancelledAtOnce) expect(await r.app.stores.timers.get(NoAnswerLadder.timerKey('nimchat', `1:${c.id}`))).toBeUndefined();
      await r.stop();

      r.clock.advance(30 * MINUTE);
      await r.start();
      await r.advance(0);
      await r.advance(30 * MINUTE);
      expect(waitingEvents()).toEqual([]);
      expect(notes(c.id)).toHaveLength(1);
      expect((await c.received()).some((t) => t === NO_ANSWER_NO_TICKET_TEXT)).toBe(false);
    });
  }

  it.each(FACES)('step 2 offers a ticket: its history is the conversation; or the customer keeps waiting (and hears a wait notice again); the example bot on %s', async (face) => {
    const ib = await startInbenta();
    closers.push(() => ib.inbenta.close());
    r = await startRestartable(MONDAY_10, ib.env, {}, face);
    await r.start();
    await ib.connect(r.app);
    const settle = () => ib.settle(r.sandbox, r.app);

    // One keeps waiting.
    const b = await handOff('Bo', 'bo@example.com');
    // The other leaves a message.
    const c = await handOff('Ada', 'ada@example.com');
    await r.advance(10 * MINUTE);
    await r.advance(10 * MINUTE);
    await settle();
    expect((await c.received()).at(-1)).toBe(NO_ANSWER_OFFER_TEXT);
    expect(r.sandbox.state.conversation(c.id).messages.at(-1)!.content_attributes).toMatchObject({ items: [{ value: 'ticket' }, { value: 'wait' }] });

    await b.say('wait');
    await settle();
    expect((await b.received()).at(-1)).toBe(KEEP_WAITING_TEXT);
    r.clock.advance(6 * MINUTE);
    await b.say('hello?');
    await settle();
    expect((await b.received()).at(-1)).toBe(STILL_LOOKING_TEXT); // back to waiting: a notice, not the bot

    await c.say('ticket');
    await settle();
    expect((await c.received()).at(-1)).toBe(DESCRIPTION_PROMPT);
    await c.say('Nobody answered me about my refund');
    await settle();
    expect(ib.inbenta.tickets).toHaveLength(1);
    const history = ib.inbenta.tickets[0]!.history as { messages: Array<{ user: string; message: string }> } | undefined;
    const lines = JSON.stringify(history ?? ib.inbenta.calls.find((x) => x.method === 'POST' && x.path.endsWith('/tickets'))!.body);
    expect(lines).toContain('I want a human');
    expect(lines).toContain('nobody has been able to answer you yet');
    expect((await c.received()).at(-1)).toMatch(/^Thank you\. Your ticket .+ has been created/);
    expect(r.sandbox.state.conversation(c.id).status).toBe('resolved'); // the ticket's close-out
  });
});
