/**
 * Before the handoff, on Nimchat with NIMCHAT_API_TOKEN: the inbox's business hours (its time zone, a
 * day boundary, its out-of-office text), the holidays, the agents' availability (team or inbox
 * members), and without a token the handoff as before. Real HTTP on loopback, time on a test clock.
 */
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness, type HarnessOptions } from '../../helpers/harness';
import { startInbenta } from '../../helpers/inbenta';
import { TestClock } from '../../helpers/test-clock';
import { HANDOFF_CONFIRMATION, NOBODY_ONLINE_TEXT, QUEUED_TEXT } from '../../../dialogs/handoff-dialog';
import { DESCRIPTION_PROMPT } from '../../../dialogs/ticket-dialog';

const at = (iso: string) => Date.parse(iso);
const AWAY = /^Our team is away right now\. We're back (.+)\. You can (?:leave a message|wait in the queue)/;

/** Mon–Fri 09:00–17:00 in `timezone`, the weekend closed. */
function weekdays(timezone: string, extra: Record<string, unknown> = {}) {
  return {
    working_hours_enabled: true,
    timezone,
    working_hours: [0, 1, 2, 3, 4, 5, 6].map((day) =>
      day === 0 || day === 6
        ? { day_of_week: day, closed_all_day: true }
        : { day_of_week: day, closed_all_day: false, open_hour: 9, open_minutes: 0, close_hour: 17, close_minutes: 0 },
    ),
    ...extra,
  };
}

describe('can a human answer now? (Nimchat)', () => {
  let h: Harness;
  let clock: TestClock;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await h?.close();
    for (const close of closers.splice(0)) await close();
  });

  async function start(now: string, env: Record<string, string> = {}, options: HarnessOptions = {}) {
    clock = new TestClock(at(now));
    h = await startHarness({
      ...options,
      env: { NIMCHAT_API_TOKEN: 'sandbox-agent-token', NIMCHAT_HANDOFF_TEAM_ID: '1', ...env },
      sandbox: { now: clock.now },
      app: { clock, timers: { pollMs: 3_600_000 } },
    });
  }
  const admin = () => ({ headers: { api_access_token: h.sandbox.adminToken } });
  const setHours = (body: Record<string, unknown>) => axios.patch(`${h.sandbox.baseUrl}/api/v1/accounts/1/inboxes/1`, body, admin());
  const setAvailability = (agent: number, status: string) => axios.post(`${h.sandbox.baseUrl}/sandbox/agents/${agent}/availability`, { status });
  const handedOff = (conversationId: number) => h.sandbox.state.conversation(conversationId).status === 'open';

  it('inside the inbox\'s hours, in its own time zone, with an agent online: hands off as before', async () => {
    await start('2026-11-23T01:00:00Z'); // Monday 10:00 in Tokyo, 01:00 in UTC (closed there)
    await setHours(weekdays('Asia/Tokyo'));
    const c = await h.customer();
    await c.say('I want a human');
    await h.settle();
    expect(await c.received()).toEqual([HANDOFF_CONFIRMATION]);
    expect(handedOff(c.conversationId)).toBe(true);
  });

  it('outside them (Monday 08:30 in Tokyo, still Sunday in UTC): says when they are back, offers a message or the queue; "wait" hands off and the note says so', async () => {
    await start('2026-11-22T23:30:00Z');
    await setHours(weekdays('Asia/Tokyo'));
    const c = await h.customer();
    await c.say('I want a human');
    await h.settle();
    const [offer] = await c.received();
    expect(offer).toMatch(AWAY);
    expect(AWAY.exec(offer!)![1]).toBe('today at 09:00');
    expect(handedOff(c.conversationId)).toBe(false);
    const menu = (await c.messages()).at(-1)!;
    expect(menu.content_type).toBe('input_select');
    expect(menu.content_attributes.items.map((i: { value: string }) => i.value)).toEqual(['wait']); // no ticketing configured: waiting only

    await c.say('wait');
    await h.settle();
    expect((await c.received()).at(-1)).toBe("OK, you're in the queue. Someone will answer you here when we're back, today at 09:00.");
    expect(handedOff(c.conversationId)).toBe(true);
    const note = h.sandbox.state.conversation(c.conversationId).messages.find((m) => m.private)!;
    expect(note.content).toContain('(Asked while it was outside business hours; the customer chose to wait in the queue.)');
  });

  it('Friday evening in New York: "We\'re back Monday at 09:00"; the inbox\'s out-of-office message when it has one', async () => {
    await start('2026-11-21T01:00:00Z'); // Friday 20:00 in New York
    await setHours(weekdays('America/New_York'));
    const c = await h.customer();
    await c.say('agent please');
    await h.settle();
    expect(AWAY.exec((await c.received())[0]!)?.[1]).toBe('Monday at 09:00');

    await setHours({ out_of_office_message: 'We are closed for the weekend. Back on Monday!' });
    clock.advance(61_000); // the inbox is kept for a minute
    const d = await h.customer('Bo');
    await d.say('agent please');
    await h.settle();
    expect((await d.received())[0]).toBe('We are closed for the weekend. Back on Monday! You can wait in the queue for the next agent.');
    expect(handedOff(d.conversationId)).toBe(false);
  });

  it('a holiday closes an open day, in the inbox\'s time zone; the next opening skips it', async () => {
    await start('2026-11-23T01:00:00Z', { HANDOFF_HOLIDAYS: '2026-11-23' }); // Monday 10:00 in Tokyo, a holiday
    await setHours(weekdays('Asia/Tokyo'));
    const c = await h.customer();
    await c.say('I want a human');
    await h.settle();
    expect(AWAY.exec((await c.received())[0]!)?.[1]).toBe('tomorrow at 09:00');
    expect(handedOff(c.conversationId)).toBe(false);
  });

  it('the handoff team\'s members all offline: nobody can answer; one back online: the handoff goes ahead', async () => {
    await start('2026-11-23T10:00:00Z');
    await setAvailability(2, 'offline'); // Sam, the team's only member
    const c = await h.customer();
    await c.say('I want a human');
    await h.settle();
    expect((await c.received())[0]).toBe(`${NOBODY_ONLINE_TEXT} You can wait in the queue for the next agent.`);
    expect(handedOff(c.conversationId)).toBe(false);

    await setAvailability(2, 'online');
    clock.advance(11_000); // availability is kept 10 s
    const d = await h.customer('Bo');
    await d.say('I want a human');
    await h.settle();
    expect(await d.received()).toEqual([HANDOFF_CONFIRMATION]);
    expect(handedOff(d.conversationId)).toBe(true);
  });

  it('asking for a human while the offer is open is a new request: an agent back online gets it as usual, with no "chose to wait" in the note', async () => {
    await start('2026-11-23T10:00:00Z');
    await setAvailability(2, 'offline');
    const c = await h.customer();
    await c.say('I want a human');
    await h.settle();
    expect((await c.received())[0]).toBe(`${NOBODY_ONLINE_TEXT} You can wait in the queue for the next agent.`);

    await setAvailability(2, 'online');
    clock.advance(11_000); // past the 10 s the availability is kept
    await c.say('I want to talk to a human');
    await h.settle();
    expect((await c.received()).at(-1)).toBe(HANDOFF_CONFIRMATION);
    expect(handedOff(c.conversationId)).toBe(true);
    const note = h.sandbox.state.conversation(c.conversationId).messages.find((m) => m.private)!;
    expect(note.content).not.toContain('chose to wait');
  });

  it('asking again while nobody is online still: queued, and the note says so', async () => {
    await start('2026-11-23T10:00:00Z');
    await setAvailability(2, 'offline');
    const c = await h.customer();
    await c.say('I want a human');
    await h.settle();
    clock.advance(11_000);
    await c.say('I want to talk to a human');
    await h.settle();
    expect((await c.received()).at(-1)).toBe(QUEUED_TEXT);
    expect(handedOff(c.conversationId)).toBe(true);
    const note = h.sandbox.state.conversation(c.conversationId).messages.find((m) => m.private)!;
    expect(note.content).toContain('(Asked while no agent was online; the customer chose to wait in the queue.)');
  });

  it('without a team, the inbox\'s agents: busy and offline cannot answer, one online can', async () => {
    await start('2026-11-23T10:00:00Z', { NIMCHAT_HANDOFF_TEAM_ID: '' });
    await axios.post(`${h.sandbox.baseUrl}/api/v1/accounts/1/inbox_members`, { inbox_id: 1, user_ids: [1, 2] }, admin());
    await setAvailability(1, 'busy');
    await setAvailability(2, 'offline');
    const c = await h.customer();
    await c.say('human');
    await h.settle();
    expect((await c.received())[0]).toMatch(/^All our agents are busy or away right now\./);

    await setAvailability(1, 'online');
    clock.advance(11_000);
    const d = await h.customer('Bo');
    await d.say('human');
    await h.settle();
    expect(handedOff(d.conversationId)).toBe(true);
    expect(h.sandbox.calls.some((x) => x.method === 'GET' && x.path === '/api/v1/accounts/1/inbox_members/1')).toBe(true);
  });

  it('without NIMCHAT_API_TOKEN nothing can be known: it hands off as before, whoever is offline and whatever the hours', async () => {
    await start('2026-11-22T12:00:00Z', { NIMCHAT_API_TOKEN: '' }); // a Sunday
    await setHours(weekdays('UTC'));
    await setAvailability(2, 'offline');
    const c = await h.customer();
    await c.say('I want a human');
    await h.settle();
    expect(await c.received()).toEqual([HANDOFF_CONFIRMATION]);
    expect(handedOff(c.conversationId)).toBe(true);
    // Nothing was asked with a user token (the bot token cannot read any of it).
    expect(h.sandbox.calls.filter((x) => x.by === 'user' && /team_members|inbox_members|\/conversations$/.test(x.path))).toEqual([]);
  });

  it('a lookup that fails is a "maybe": hands off as before', async () => {
    await start('2026-11-22T12:00:00Z');
    h.sandbox.faults.push({ path: /\/inboxes\/1$|team_members$/, method: 'GET', status: 503, times: 100 });
    const c = await h.customer();
    await c.say('I want a human');
    await h.settle();
    expect(await c.received()).toEqual([HANDOFF_CONFIRMATION]);
    expect(handedOff(c.conversationId)).toBe(true);
  });

  it('nobody online, with ticketing: "Leave a message" is the ticket dialog, and no handoff is made', async () => {
    const ib = await startInbenta();
    closers.push(() => ib.inbenta.close());
    await start('2026-11-23T10:00:00Z', ib.env);
    await ib.connect(h.app);
    await setAvailability(2, 'offline');
    const c = await h.customer('Ada', 'ada@example.com');
    await c.say('I want a human');
    await ib.settle(h.sandbox, h.app);
    const menu = (await c.messages()).at(-1)!;
    expect(menu.content_attributes.items.map((i: { value: string }) => i.value)).toEqual(['ticket', 'wait']);
    await c.say('ticket');
    await ib.settle(h.sandbox, h.app);
    expect((await c.received()).at(-1)).toBe(DESCRIPTION_PROMPT);
    await c.say('My parcel never arrived');
    await ib.settle(h.sandbox, h.app);
    expect(ib.inbenta.tickets).toHaveLength(1);
    expect((await c.received()).at(-1)).toMatch(/^Thank you\. Your ticket .+ has been created/);
    expect(h.sandbox.state.handoffs).toHaveLength(0);
  });
});
