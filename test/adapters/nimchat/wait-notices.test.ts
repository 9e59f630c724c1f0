/**
 * The wait, on Nimchat with NIMCHAT_API_TOKEN: a waiting customer who writes gets one notice per
 * period with their place in the queue (open, unassigned conversations of the team created before
 * theirs); once a human has written, nothing. And the way back: greeted once, without picking up the
 * dialog the human interrupted.
 */
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { MINUTE, TestClock } from '../../helpers/test-clock';
import { queuePositionText } from '../../../dialogs/handoff-wait/wait-notices';
import { WELCOME_BACK_TEXT } from '../../../src/bot/support-bot';
import { MENU_TEXT } from '../../../src/bot/support-dialog';

describe('the wait and the way back (Nimchat)', () => {
  let h: Harness;
  let clock: TestClock;
  afterEach(async () => {
    await h?.close();
  });

  async function start(env: Record<string, string> = {}) {
    clock = new TestClock(Date.parse('2026-11-23T10:00:00Z'));
    h = await startHarness({
      env: { NIMCHAT_API_TOKEN: 'sandbox-agent-token', NIMCHAT_HANDOFF_TEAM_ID: '1', ...env },
      sandbox: { now: clock.now },
      app: { clock, timers: { pollMs: 3_600_000 } },
    });
  }
  async function handOff(name: string) {
    const c = await h.customer(name);
    await c.say('I want a human');
    await h.settle();
    clock.advance(MINUTE);
    return c;
  }
  const newSince = async (c: Awaited<ReturnType<Harness['customer']>>, before: number) => (await c.received()).slice(before);

  it('one notice per period, with the right place in the queue; nothing once a human has written', async () => {
    await start();
    const first = await handOff('Ada');
    const second = await handOff('Bo');
    const third = await handOff('Cy');

    const before = (await third.received()).length;
    await third.say('hello?');
    await h.settle();
    await third.say('anyone there?');
    await h.settle();
    clock.advance(4 * MINUTE);
    await third.say('still waiting');
    await h.settle();
    expect(await newSince(third, before)).toEqual([queuePositionText(3)]);
    expect(h.bot.seen.filter((a) => a.type === 'message' && a.text === 'hello?')).toHaveLength(0);
    // The first in line is told so: only those created before count.
    const ada = (await first.received()).length;
    await first.say('hello?');
    await h.settle();
    expect(await newSince(first, ada)).toEqual([queuePositionText(1)]);

    // An agent takes the first conversation: the third is now second.
    await axios.post(`${h.sandbox.baseUrl}/api/v1/accounts/1/conversations/${first.conversationId}/assignments`, { assignee_id: 2 }, { headers: { api_access_token: h.sandbox.agentToken } });
    clock.advance(MINUTE);
    await third.say('and now?');
    await h.settle();
    expect(await newSince(third, before)).toEqual([queuePositionText(3), queuePositionText(2)]);

    // A human answers the second: from then on, silence there.
    await h.agentSay(second.conversationId, 'Hi Bo, Sam here.');
    await h.settle();
    const bo = (await second.received()).length;
    clock.advance(10 * MINUTE);
    await second.say('thanks!');
    await h.settle();
    expect((await second.received()).length).toBe(bo);
  });

  it('without a position to tell, "still looking"; HANDOFF_WAIT_NOTICE_MINUTES=0 turns the notices off', async () => {
    await start({ NIMCHAT_API_TOKEN: '', HANDOFF_WAIT_NOTICE_MINUTES: '0' });
    const c = await handOff('Ada');
    const before = (await c.received()).length;
    await c.say('hello?');
    await h.settle();
    expect((await c.received()).length).toBe(before);
  });

  it('greets the customer back once, and does not pick up the dialog the human interrupted', async () => {
    await start();
    // The customer is in the middle of a dialog: nobody online, the bot waits for "wait" or "ticket".
    await axios.post(`${h.sandbox.baseUrl}/sandbox/agents/2/availability`, { status: 'offline' });
    const c = await h.customer('Ada');
    await c.say('I want a human');
    await h.settle();
    expect((await c.received()).at(-1)).toMatch(/^All our agents are busy or away/);

    // A human steps in anyway, then gives the conversation back.
    await h.agentSay(c.conversationId, 'Hi Ada, I saw your message. Sorted!');
    await h.settle();
    await h.agentSetStatus(c.conversationId, 'open');
    await h.settle();
    await h.agentSetStatus(c.conversationId, 'pending');
    await h.settle();
    const received = await c.received();
    expect(received.filter((t) => t === WELCOME_BACK_TEXT)).toHaveLength(1);
    expect(received.at(-1)).toBe(WELCOME_BACK_TEXT);

    // "wait" was the interrupted dialog's answer: not taken as one now.
    await c.say('wait');
    await h.settle();
    expect((await c.received()).slice(received.length)).toEqual([MENU_TEXT]);
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('pending');
    // Later turns greet no more.
    await c.say('hi');
    await h.settle();
    expect((await c.received()).filter((t) => t === WELCOME_BACK_TEXT)).toHaveLength(1);
  });
});
