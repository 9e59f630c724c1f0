/**
 * WOZTELL knows nothing of availability: the configured hours decide (HANDOFF_HOURS in
 * HANDOFF_TIMEZONE, across a day boundary, and the holidays). After the handoff the no-answer ladder
 * moves the thread to WOZTELL_FALLBACK_FOLDER, unless an agent already gave it back to the bot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startWoztellHarness, type WoztellHarness } from '../../helpers/woztell-harness';
import { MINUTE, TestClock } from '../../helpers/test-clock';
import { HANDOFF_CONFIRMATION } from '../../../dialogs/handoff-dialog';
import { NO_ANSWER_NO_TICKET_TEXT } from '../../../dialogs/handoff-wait/no-answer-dialog';

const HOURS = { HANDOFF_HOURS: 'mon-fri 09:00-18:00; sat 10:00-14:00', HANDOFF_TIMEZONE: 'America/Los_Angeles' };

describe('WOZTELL: the configured hours, and the ladder', () => {
  let h: WoztellHarness;
  let clock: TestClock;
  afterEach(async () => {
    await h?.close();
  });

  async function start(now: string, env: Record<string, string> = {}) {
    clock = new TestClock(Date.parse(now));
    h = await startWoztellHarness({ env: { ...HOURS, ...env }, sandbox: { now: clock.now }, app: { clock, timers: { pollMs: 3_600_000 } } });
  }
  async function ask(name = 'Ada') {
    const m = h.sandbox.createMember(name);
    h.sandbox.customerSays(m.memberId, { text: 'I want a human' });
    await h.settle();
    return m;
  }
  const folder = (memberId: string) => h.sandbox.state.thread({ memberId })!.folder;
  const advance = async (ms: number) => {
    clock.advance(ms);
    await h.app.timerRunner.runDue();
    await h.settle();
  };

  it('inside the hours (Saturday 11:00 in Los Angeles, 19:00 UTC): hands off as before', async () => {
    await start('2026-11-21T19:00:00Z');
    const m = await ask();
    expect(h.received(m.memberId)).toEqual([HANDOFF_CONFIRMATION]);
    expect(folder(m.memberId)).toBe('main');
    expect(h.platformCalls()).toContain('inbox POST /update-thread-folder');
  });

  it('outside them across a day boundary (Friday 19:00 in Los Angeles is Saturday 03:00 UTC): "back tomorrow at 10:00", no handoff until the customer chooses to wait', async () => {
    await start('2026-11-21T03:00:00Z');
    const m = await ask();
    const [offer] = h.received(m.memberId);
    expect(offer).toContain("Our team is away right now. We're back tomorrow at 10:00.");
    expect(h.platformCalls().filter((c) => c.startsWith('inbox POST'))).toEqual([]);

    h.sandbox.customerSays(m.memberId, { text: 'wait' });
    await h.settle();
    expect(h.received(m.memberId).at(-1)).toBe("OK, you're in the queue. Someone will answer you here when we're back, tomorrow at 10:00.");
    expect(h.platformCalls()).toContain('inbox POST /update-thread-folder');
    // The ladder counts from the opening, not from 19:00: nothing happens during the night.
    await advance(60 * MINUTE);
    expect(h.bot.seen.filter((a) => a.name === 'handoff.waiting')).toEqual([]);
  });

  it('a holiday (in the configured time zone) closes the day; the next opening skips it', async () => {
    await start('2026-11-23T18:00:00Z', { HANDOFF_HOLIDAYS: '2026-11-23' }); // Monday 10:00 in Los Angeles
    const m = await ask();
    expect(h.received(m.memberId)[0]).toContain("We're back tomorrow at 09:00.");
  });

  it('no one answers: step 1 moves the thread to the fallback folder with a note; step 2 tells the member', async () => {
    await start('2026-11-23T18:00:00Z', { WOZTELL_FALLBACK_FOLDER: 'urgent' });
    const m = await ask();
    expect(folder(m.memberId)).toBe('main');
    await advance(10 * MINUTE);
    expect(folder(m.memberId)).toBe('urgent');
    expect(h.sandbox.state.thread({ memberId: m.memberId })!.notes.at(-1)).toMatchObject({
      message: 'No human agent has answered the customer for 10 minutes. Moved to folder "urgent".',
    });
    await advance(10 * MINUTE);
    expect(h.received(m.memberId).at(-1)).toBe(NO_ANSWER_NO_TICKET_TEXT);
    expect(h.bot.seen.filter((a) => a.name === 'handoff.waiting').map((a) => a.value)).toEqual([
      { minutes: 10, step: 1 },
      { minutes: 20, step: 2 },
    ]);
  });

  it('a thread an agent already moved to the bot folder (WOZTELL tells nobody) is not moved away', async () => {
    await start('2026-11-23T18:00:00Z', { WOZTELL_FALLBACK_FOLDER: 'urgent' });
    const m = await ask();
    h.sandbox.agentUpdates(m.memberId, { folder: 'bot' });
    await advance(10 * MINUTE);
    expect(folder(m.memberId)).toBe('bot');
  });

  it("the agent's first message ends the ladder", async () => {
    await start('2026-11-23T18:00:00Z', { WOZTELL_FALLBACK_FOLDER: 'urgent' });
    const m = await ask();
    h.sandbox.agentSays(m.memberId, 'Hi Ada, Anna here.');
    await h.settle();
    await advance(30 * MINUTE);
    expect(folder(m.memberId)).toBe('main');
    expect(h.bot.seen.filter((a) => a.name === 'handoff.waiting')).toEqual([]);
  });
});
