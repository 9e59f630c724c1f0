/**
 * A reply whose outcome the bot never learnt (the answer hung past the client's timeout, or was lost,
 * or the process stopped before it came) after Nimchat had created the message: Nimchat's echo of the
 * bot's own message is the evidence, and the reply is not posted a second time. Without an echo the
 * reply is sent again (nothing is lost).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { startRestartable } from '../../helpers/restartable';
import { MENU_TEXT } from '../../../src/bot/support-dialog';
import { messageFingerprint } from '../../../adapters/nimchat/message-fingerprint';

const MESSAGES = /^\/api\/v1\/accounts\/1\/conversations\/\d+\/messages$/;
// The answer is given up on after 300 ms; the outbox tries again after about 50 ms.
const app = { platformOptions: { nimchat: { http: { timeoutMs: 300 } } }, outbox: { baseDelayMs: 50, maxDelayMs: 200 } };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function until(check: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  for (let waited = 0; waited < ms && !(await check()); waited += 20) await new Promise((r) => setTimeout(r, 20));
}

const botPosts = (h: Harness, conversationId: number) => h.botCalls(conversationId).filter((c) => c === 'POST /messages').length;

describe('a reply is looked for before it is sent again', () => {
  it('the answer hung past the timeout after Nimchat created the message: posted once', async () => {
    h = await startHarness({ app });
    const c = await h.customer();
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, delayMs: 1500, times: 1 });
    await c.say('hello');
    await until(async () => (await c.received()).length > 0);
    await h.settle();
    await new Promise((r) => setTimeout(r, 1600)); // the late answer, and anything a retry would have sent
    expect(await c.received()).toEqual([MENU_TEXT]);
    expect(botPosts(h, c.conversationId)).toBe(1);
    expect(h.logLines.some((l) => l.includes('an earlier attempt had sent the message'))).toBe(true);
  });

  it('the answer was lost (500 after the work): posted once', async () => {
    h = await startHarness({ app });
    const c = await h.customer();
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, status: 500, afterWork: true, times: 1 });
    await c.say('hello');
    await until(async () => (await c.received()).length > 0);
    await h.settle();
    expect(await c.received()).toEqual([MENU_TEXT]);
  });

  it('the request never reached Nimchat (500 before the work): sent again after the look finds nothing', async () => {
    h = await startHarness({ app });
    const c = await h.customer();
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, status: 500, times: 1 });
    await c.say('hello');
    await until(async () => (await c.received()).length > 0);
    await h.settle();
    expect(await c.received()).toEqual([MENU_TEXT]);
    expect(botPosts(h, c.conversationId)).toBe(2);
  });

  it('the same text twice in a row, the second one cut after Nimchat created it: both arrive, neither twice', async () => {
    h = await startHarness({ app });
    const c = await h.customer();
    await c.say('hello');
    await until(async () => (await c.received()).length === 1);
    await h.settle();
    // "menu" shows the menu again: the same text as the first reply, whose echo must not count for it.
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, delayMs: 1500, times: 1 });
    await c.say('menu');
    await until(async () => (await c.received()).length === 2);
    await h.settle();
    await new Promise((r) => setTimeout(r, 1600));
    expect(await c.received()).toEqual([MENU_TEXT, MENU_TEXT]);
  });

  it('the same text again, its first attempt refused before Nimchat did anything: sent again (the earlier echo is not taken for it)', async () => {
    h = await startHarness({ app });
    const c = await h.customer();
    await c.say('hello');
    await until(async () => (await c.received()).length === 1);
    await h.settle();
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, status: 500, times: 1 });
    await c.say('menu');
    await until(async () => (await c.received()).length === 2);
    await h.settle();
    expect(await c.received()).toEqual([MENU_TEXT, MENU_TEXT]);
  });

  it("a handoff's private note whose answer hung after Nimchat created it: posted once, and the handoff completes", async () => {
    h = await startHarness({ app, env: { NIMCHAT_HANDOFF_TEAM_ID: '1' } });
    const c = await h.customer();
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, when: (b) => b.private === true, delayMs: 1500, times: 1 });
    await c.say('I want a human');
    await until(() => h!.sandbox.state.conversation(c.conversationId).status === 'open');
    await h.settle();
    await new Promise((r) => setTimeout(r, 1600));
    const conversation = h.sandbox.state.conversation(c.conversationId);
    expect(conversation.status).toBe('open');
    expect(conversation.messages.filter((m) => m.private).map((m) => m.content?.split('\n')[0])).toHaveLength(1);
  });

  it("an earlier reply's echo that reached a later process (a reload) is never taken for the same text sent after it", async () => {
    const r = await startRestartable(Date.now(), {}, { platformOptions: { nimchat: { http: { timeoutMs: 2000 } } }, outbox: { baseDelayMs: 50, maxDelayMs: 200 }, drainTimeoutMs: 500 });
    try {
      await r.start();
      const c = await r.customer();
      await c.say('hello');
      await until(async () => (await c.received()).length === 1);
      await r.settle();
      const first = r.sandbox.state.conversation(c.id).messages.find((m) => m.message_type === 'outgoing')!;
      // The next worker gets the first reply's echo (answered by the old one, which confirmed it).
      await r.stop();
      await r.start();
      const conversationId = `1:${c.id}`;
      await r.app.runtime.sent.echoed('nimchat', {
        conversationId,
        messageId: String(first.id),
        fingerprint: messageFingerprint({ content: first.content, content_type: first.content_type, private: first.private, files: 0 }),
      });
      // The same text again, whose first attempt never reached Nimchat: it must be sent, not found.
      r.sandbox.faults.push({ method: 'POST', path: MESSAGES, status: 500, times: 1 });
      await c.say('menu');
      // The helper's clock stands still: moved on so that the retry comes due.
      for (let i = 0; i < 100 && (await c.received()).length < 2; i++) {
        r.clock.advance(500);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      await r.settle();
      expect(await c.received()).toEqual([MENU_TEXT, MENU_TEXT]);
    } finally {
      await r.close();
    }
  }, 30_000);

  it('the process stopped while the answer hung: after the restart the reply is found by its echo, not posted again', async () => {
    const r = await startRestartable(Date.now(), {}, { platformOptions: { nimchat: { http: { timeoutMs: 5000 } } }, drainTimeoutMs: 200 });
    try {
      await r.start();
      const c = await r.customer();
      r.sandbox.faults.push({ method: 'POST', path: MESSAGES, delayMs: 4000, times: 1 });
      await c.say('hello');
      // Nimchat created the reply and echoed it; its answer is still on its way when the bot stops.
      await until(() => r.sandbox.state.conversation(c.id).messages.some((m) => m.message_type === 'outgoing'));
      await new Promise((r) => setTimeout(r, 200));
      await r.stop();
      await r.start();
      await until(async () => r.app.runtime.delivery.backlog === 0, 10_000);
      await new Promise((r) => setTimeout(r, 4200));
      expect(await c.received()).toEqual([MENU_TEXT]);
    } finally {
      await r.close();
    }
  }, 30_000);
});
