/**
 * Every effect of a turn survives a platform outage: the example bot on the sandbox Nimchat while the
 * sandbox fails the calls a turn's effects make (replies, the handoff's steps), over loopback HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { MENU_TEXT } from '../../../src/bot/support-dialog';

const MESSAGES = /^\/api\/v1\/accounts\/1\/conversations\/\d+\/messages$/;
// The client's own retries are spent quickly; the outbox's retries outlast the outage.
const app = { nimchatHttp: { retry: { maxAttempts: 2, baseDelayMs: 10, maxTotalMs: 100 } }, outbox: { baseDelayMs: 40, maxDelayMs: 200 } };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function until(check: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  for (let waited = 0; waited < ms && !(await check()); waited += 20) await new Promise((r) => setTimeout(r, 20));
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('effects survive a platform outage', () => {
  it('a reply sent while Nimchat answers 500 for a while arrives once it recovers, exactly once, with no apology', async () => {
    h = await startHarness({ app });
    const c = await h.customer();
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, status: 500, times: 10_000 });
    await c.say('hello');
    await pause(500); // longer than the client's own retries
    expect(await c.received()).toEqual([]);
    h.sandbox.faults.length = 0;
    await until(async () => (await c.received()).length > 0);
    await h.settle();
    expect(await c.received()).toEqual([MENU_TEXT]);
  });

  it('a handoff whose confirmation cannot be posted still happens: the confirmation first once Nimchat is back, then note, assignment, open', async () => {
    h = await startHarness({ app, env: { NIMCHAT_HANDOFF_TEAM_ID: '1' } });
    const c = await h.customer();
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, status: 500, times: 10_000 });
    await c.say('I want a human');
    await pause(400);
    h.sandbox.faults.length = 0;
    await until(() => h!.sandbox.state.conversation(c.conversationId).status === 'open');
    await h.settle();
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('open');
    const ok = h.sandbox.calls.filter((call) => call.by === 'bot' && call.status !== 500 && call.path.includes(`/conversations/${c.conversationId}/`));
    expect(ok.map((call) => `${call.method} ${call.path.split('/').pop()}`)).toEqual(['POST messages', 'POST messages', 'POST assignments', 'POST toggle_status']);
    expect((await c.received()).filter((t) => /human/.test(t))).toHaveLength(1);
  });

  it('a handoff whose confirmation took effect but whose answer was lost still happens', async () => {
    h = await startHarness({ app, env: { NIMCHAT_HANDOFF_TEAM_ID: '1' } });
    const c = await h.customer();
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, status: 500, times: 1, afterWork: true });
    await c.say('agent please');
    await until(() => h!.sandbox.state.conversation(c.conversationId).status === 'open');
    await h.settle();
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('open');
    const notes = h.sandbox.state.conversation(c.conversationId).messages.filter((m) => m.private);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.content).toMatch(/^Handoff/);
  });

  it('a handoff retried after its assignment failed does not post the private note again', async () => {
    h = await startHarness({ app, env: { NIMCHAT_HANDOFF_TEAM_ID: '1' } });
    const c = await h.customer();
    h.sandbox.faults.push({ method: 'POST', path: /\/assignments$/, status: 503, times: 3 });
    await c.say('human');
    await until(() => h!.sandbox.state.conversation(c.conversationId).status === 'open');
    await h.settle();
    const conversation = h.sandbox.state.conversation(c.conversationId);
    expect(conversation.status).toBe('open');
    expect(conversation.messages.filter((m) => m.private)).toHaveLength(1);
    expect(h.botCalls(c.conversationId).filter((call) => call === 'POST /assignments')).toHaveLength(4);
    expect(h.bot.seen.find((a) => a.name === 'handoff.status')?.value).toMatchObject({ state: 'accepted' });
  });
});
