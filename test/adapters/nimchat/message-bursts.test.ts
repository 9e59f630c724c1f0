/**
 * A customer's burst of messages is one thought (MESSAGE_DEBOUNCE_MS): on Nimchat over loopback, the
 * messages that follow each other within the window reach the bot as one message turn, each still
 * accepted on its own and in the transcript; a request for a human inside a burst hands off; what a
 * crash interrupts during the window forms its burst again after the restart.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock';
import { HANDOFF_CONFIRMATION } from '../../../dialogs/handoff-dialog';
import { startHarness, type Harness } from '../../helpers/harness';
import { startRestartable, type Restartable } from '../../helpers/restartable';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const messageTurns = (seen: Array<{ type?: string; text?: string; conversation?: { id: string } }>, conversationId: number) =>
  seen.filter((a) => a.type === 'message' && a.conversation?.id === `1:${conversationId}`).map((a) => a.text);

describe('bursts of customer messages (MESSAGE_DEBOUNCE_MS)', () => {
  let h: Harness | undefined;
  let r: Restartable | undefined;
  afterEach(async () => {
    await h?.close();
    await r?.close();
    h = r = undefined;
  });
  afterAll(() => dropTestDatabases());

  async function start(debounceMs: number) {
    h = await startHarness({ env: { MESSAGE_DEBOUNCE_MS: String(debounceMs) }, sandbox: { deliveryOrderedPerConversation: true } });
    return h;
  }

  it('three messages within the window: one turn with their texts in order, one answer, three transcript lines, three events done', async () => {
    const h = await start(600);
    const c = await h.customer();
    for (const text of ['hi', 'my order', 'it never came']) {
      await c.say(text);
      await pause(100);
    }
    await h.settle();
    expect(messageTurns(h.bot.seen, c.conversationId)).toEqual(['hi\nmy order\nit never came']);
    expect(await c.received()).toHaveLength(1); // the menu, once
    const lines = await h.app.runtime.transcripts.list('nimchat', `1:${c.conversationId}`);
    expect(lines.filter((l) => l.role === 'customer').map((l) => l.text)).toEqual(['hi', 'my order', 'it never came']);
    expect(await h.app.stores.inbox.unfinished('nimchat')).toEqual([]);

    // After the answer, the next message is a turn of its own.
    await c.say('hello?');
    await h.settle();
    expect(messageTurns(h.bot.seen, c.conversationId)).toEqual(['hi\nmy order\nit never came', 'hello?']);
  });

  it('without the debounce each message is its own turn; messages further apart than the window are separate turns', async () => {
    const off = await start(0);
    const c = await off.customer();
    for (const text of ['hi', 'my order']) await c.say(text);
    await off.settle();
    expect(messageTurns(off.bot.seen, c.conversationId)).toEqual(['hi', 'my order']);
    await off.close();

    h = await start(300);
    const d = await h.customer('Bo');
    await d.say('first');
    await h.settle();
    await d.say('second');
    await h.settle();
    expect(messageTurns(h.bot.seen, d.conversationId)).toEqual(['first', 'second']);
  });

  it('a request for a human inside a burst still hands off', async () => {
    const h = await start(500);
    const c = await h.customer();
    await c.say('hello');
    await pause(50);
    await c.say('I want to talk to a human');
    await h.settle();
    expect(messageTurns(h.bot.seen, c.conversationId)).toEqual(['hello\nI want to talk to a human']);
    expect(await c.received()).toContain(HANDOFF_CONFIRMATION);
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('open');
  });

  it('on PostgreSQL (the replicas\' scheduler: the burst read from the store): one turn, the merged events not run again', async () => {
    h = await startHarness({ env: { STORAGE_URL: await createTestDatabase(), MESSAGE_DEBOUNCE_MS: '600' }, sandbox: { deliveryOrderedPerConversation: true } });
    const c = await h.customer();
    for (const text of ['hi', 'my order', 'it never came']) {
      await c.say(text);
      await pause(100);
    }
    await h.settle();
    await pause(300);
    await h.settle();
    expect(messageTurns(h.bot.seen, c.conversationId)).toEqual(['hi\nmy order\nit never came']);
    expect(await c.received()).toHaveLength(1);
    expect(await h.app.stores.inbox.unfinished('nimchat')).toEqual([]);
  });

  it('a crash during the window loses nothing: after the restart the interrupted burst is one turn, in order', async () => {
    // The real clock; a stop that waits 100 ms for turns and gives up on the one waiting out its window (as a crash would).
    r = await startRestartable(Date.now(), { MESSAGE_DEBOUNCE_MS: '1500' }, { clock: systemClock, drainTimeoutMs: 100 });
    await r.start();
    const c = await r.customer();
    for (const text of ['hi', 'my order', 'it never came']) await c.say(text);
    await pause(300); // accepted and acknowledged, the turn still waiting for more
    expect((await r.app.stores.inbox.unfinished('nimchat')).length).toBe(3);
    expect(messageTurns(r.seen, c.id)).toEqual([]);
    await r.stop();

    await r.start();
    await r.settle();
    await pause(1600); // the interrupted turn of the stopped app wakes to a closed store: nothing of it
    await r.settle();
    expect(messageTurns(r.seen, c.id)).toEqual(['hi\nmy order\nit never came']);
    expect(await c.received()).toHaveLength(1);
    expect(await r.app.stores.inbox.unfinished('nimchat')).toEqual([]);
  });
});
