/**
 * The endpoint unreachable while customers write: the sandbox Nimchat (Chatwoot's rules: a refused
 * connection is never retried; a pending conversation whose message finally failed is opened to humans
 * with the activity "…marked open by system due to an error with the agent bot") gives the
 * conversations away. Once the bot is back, a scan finds them: the missed messages go into the
 * transcript in order, then the policy is carried out once, the bot is told and it is counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import type { NimchatReclaimer } from '../../../adapters/nimchat/reclaim';
import { MENU_TEXT } from '../../../src/bot/support-dialog';
import { startHarness, type Harness } from '../../helpers/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  for (let waited = 0; waited < ms && !(await check()); waited += 20) await new Promise((r) => setTimeout(r, 20));
  if (!(await check())) throw new Error('timed out');
}

const reclaimerOf = (h: Harness) => (h.app.running.get('nimchat')!.parts as { reclaimer: NimchatReclaimer }).reclaimer;
const setOutgoingUrl = (h: Harness, url: string) => registerAgentBot(h.admin, { accountId: 1, inboxId: 1, name: 'Test bot', outgoingUrl: url });
const GIVEN_AWAY = /due to an error with the agent bot/;

describe('conversations Nimchat gave away while the bot was unreachable', () => {
  it('policy bot: given back when no human wrote (the missed messages answered in order); left with the humans with a note when one did; carried out once', async () => {
    h = await startHarness({ apiToken: true, env: { NIMCHAT_HANDOFF_TEAM_ID: '1' } });
    await h.settle(); // the scan at start found nothing
    const a = await h.customer('Ada');
    const b = await h.customer('Bo');
    await a.say('hello');
    await b.say('hello');
    await until(async () => (await a.received()).length === 1 && (await b.received()).length === 1);
    await h.settle();

    // The endpoint is unreachable (a refused connection, as during a host reboot).
    await setOutgoingUrl(h, 'http://127.0.0.1:9/unreachable');
    await a.say('where is my parcel?');
    await a.say('it was due yesterday');
    await b.say('I need to change my address');
    const conv = (id: number) => h!.sandbox.state.conversation(id);
    await until(() => conv(a.conversationId).status === 'open' && conv(b.conversationId).status === 'open');
    await until(() => h!.sandbox.deliveries.pending === 0);
    expect(conv(a.conversationId).messages.some((m) => m.message_type === 'activity' && GIVEN_AWAY.test(m.content ?? ''))).toBe(true);
    // A human answers B meanwhile (that webhook is lost too).
    await h.agentSay(b.conversationId, 'Hi Bo, Sam here, I can help with that');
    await until(() => h!.sandbox.deliveries.pending === 0);

    // Back: the scan (at start, and every minute) finds both.
    await setOutgoingUrl(h, h.botUrl);
    expect(await reclaimerOf(h).scan()).toEqual({ returned: 1, left: 1 });
    await h.settle();

    // A: the bot's again; it answered both missed messages, in order.
    expect(conv(a.conversationId).status).toBe('pending');
    const transcriptA = await h.app.runtime.transcripts.list('nimchat', `1:${a.conversationId}`);
    const customerLines = transcriptA.filter((e) => e.role === 'customer').map((e) => e.text);
    expect(customerLines).toEqual(['hello', 'where is my parcel?', 'it was due yesterday']);
    expect(await a.received()).toEqual([MENU_TEXT, MENU_TEXT, MENU_TEXT]);
    const told = h.bot.seen.filter((s) => s.name === 'conversation.reclaimed');
    expect(told.map((s) => [s.conversation?.id, s.value])).toEqual(
      expect.arrayContaining([
        [`1:${a.conversationId}`, expect.objectContaining({ outcome: 'returned_to_bot', missed: 2 })],
        [`1:${b.conversationId}`, expect.objectContaining({ outcome: 'left_with_humans', missed: 1 })],
      ]),
    );
    // The reclaimed event came after the missed messages.
    const seenA = h.bot.seen.filter((s) => s.conversation?.id === `1:${a.conversationId}`).map((s) => s.text ?? s.name);
    expect(seenA.filter((x) => x === 'where is my parcel?' || x === 'it was due yesterday' || x === 'conversation.reclaimed')).toEqual(['where is my parcel?', 'it was due yesterday', 'conversation.reclaimed']);

    // B: still the humans'; a private note gives them the transcript, the missed message in it; the bot did not answer it.
    expect(conv(b.conversationId).status).toBe('open');
    const notes = conv(b.conversationId).messages.filter((m) => m.private);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.content).toMatch(/^The bot was unreachable/);
    expect(notes[0]!.content).toContain('Customer: I need to change my address');
    expect(await b.received()).toEqual([MENU_TEXT, 'Hi Bo, Sam here, I can help with that']);

    // Counted; shown on the timeline; and carried out once.
    const metrics = await h.app.metrics.text();
    expect(metrics).toMatch(/handoff_reclaimed_total\{platform="nimchat",outcome="returned_to_bot"\} 1/);
    expect(metrics).toMatch(/handoff_reclaimed_total\{platform="nimchat",outcome="left_with_humans"\} 1/);
    const timeline = await h.app.stores.timeline.entries(`1:${a.conversationId}`, { limit: 100 });
    expect(timeline.some((e) => e.kind === 'turn' && JSON.stringify(e.detail).includes('conversation.reclaimed'))).toBe(true);
    expect(await reclaimerOf(h).scan()).toEqual({ returned: 0, left: 0 });
    await h.settle();
    expect(conv(b.conversationId).messages.filter((m) => m.private)).toHaveLength(1);
  }, 30_000);

  it('policy humans: left with the humans even when nobody wrote, with the note', async () => {
    h = await startHarness({ apiToken: true, env: { NIMCHAT_RECLAIM: 'humans' } });
    const a = await h.customer('Ada');
    await a.say('hello');
    await until(async () => (await a.received()).length === 1);
    await h.settle();
    await setOutgoingUrl(h, 'http://127.0.0.1:9/unreachable');
    await a.say('anyone there?');
    await until(() => h!.sandbox.state.conversation(a.conversationId).status === 'open');
    await until(() => h!.sandbox.deliveries.pending === 0);
    await setOutgoingUrl(h, h.botUrl);
    expect(await reclaimerOf(h).scan()).toEqual({ returned: 0, left: 1 });
    await h.settle();
    const conversation = h.sandbox.state.conversation(a.conversationId);
    expect(conversation.status).toBe('open');
    expect(conversation.messages.filter((m) => m.private).map((m) => m.content)).toEqual([expect.stringContaining('Customer: anyone there?')]);
  });
});
