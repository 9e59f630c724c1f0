/**
 * The satisfaction survey on WOZTELL (no survey message of its own): after the thread is given back,
 * the question carries the five ratings as choices; the customer's rating and then their words are
 * the survey's (they do not reach the bot as messages), the bot gets `conversation.satisfaction`; a
 * message that is not a rating drops the question and reaches the bot as usual.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startWoztellHarness, type WoztellHarness } from '../../helpers/woztell-harness';
import { DEFAULT_SATISFACTION_TEXTS } from '../../../src/satisfaction/satisfaction-survey';

const messagesToBot = (h: WoztellHarness) => h.bot.seen.filter((a) => a.type === 'message').map((a) => a.text);
const satisfactionSeen = (h: WoztellHarness) => h.bot.seen.filter((a) => a.name === 'conversation.satisfaction').map((a) => a.value as Record<string, unknown>);

describe('satisfaction after the human stretch (WOZTELL)', () => {
  let h: WoztellHarness;
  afterEach(async () => {
    await h?.close();
  });

  async function releasedMember(satisfaction: { commentWithinMs?: number } = {}): Promise<string> {
    h = await startWoztellHarness({ env: { SATISFACTION_SURVEY: 'true', WOZTELL_HANDOFF_AGENT_ID: '6474449cdfc4ee3646d392b1' }, app: { satisfaction } });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'agent please' });
    await h.settle();
    expect(h.received(m.memberId).some((t) => t.includes(DEFAULT_SATISFACTION_TEXTS.question))).toBe(false);
    h.sandbox.agentUpdates(m.memberId, { folder: 'bot' });
    h.sandbox.customerSays(m.memberId, { text: 'thanks, one more thing' });
    await h.settle();
    return m.memberId;
  }

  it('rating, then words: kept with the stretch and told to the bot; neither reaches the bot as a message', async () => {
    const member = await releasedMember();
    const seen = h.received(member);
    expect(seen.filter((t) => t.includes(DEFAULT_SATISFACTION_TEXTS.question))).toHaveLength(1);
    // The message that showed the thread was given back is not taken for the rating: it reached the bot.
    expect(messagesToBot(h)).toContain('thanks, one more thing');

    h.sandbox.customerSays(member, { text: '4' });
    await h.settle();
    expect(h.received(member).at(-1)).toContain(DEFAULT_SATISFACTION_TEXTS.comment);
    h.sandbox.customerSays(member, { text: 'Anna was great' });
    await h.settle();
    expect(h.received(member).at(-1)).toBe(DEFAULT_SATISFACTION_TEXTS.thanks);
    expect(satisfactionSeen(h)).toEqual([expect.objectContaining({ rating: 4, comment: 'Anna was great', ended: 'released', agent: '6474449cdfc4ee3646d392b1' })]);
    expect(messagesToBot(h)).not.toContain('4');
    expect(messagesToBot(h)).not.toContain('Anna was great');
    // Both are in the transcript all the same.
    const lines = await h.app.runtime.transcripts.list('woztell', h.bot.seen.at(-1)!.conversation!.id);
    expect(lines.filter((l) => l.role === 'customer').map((l) => l.text)).toEqual(expect.arrayContaining(['4', 'Anna was great']));

    // Asked once: the next message is the bot's again.
    h.sandbox.customerSays(member, { text: 'where is my parcel' });
    await h.settle();
    expect(messagesToBot(h)).toContain('where is my parcel');
    expect(satisfactionSeen(h)).toHaveLength(1);
  });

  it('Skip after the rating: the rating alone', async () => {
    const member = await releasedMember();
    h.sandbox.customerSays(member, { text: '5' });
    await h.settle();
    h.sandbox.customerSays(member, { payload: 'skip', data: { text: 'Skip', payload: 'skip' } });
    await h.settle();
    const told = satisfactionSeen(h);
    expect(told).toEqual([expect.objectContaining({ rating: 5, ended: 'released' })]);
    expect(told[0]!.comment).toBeUndefined();
  });

  it('a message that is no rating drops the question and reaches the bot', async () => {
    const member = await releasedMember();
    h.sandbox.customerSays(member, { text: 'I need to change my address' });
    await h.settle();
    expect(messagesToBot(h)).toContain('I need to change my address');
    h.sandbox.customerSays(member, { text: '3' });
    await h.settle();
    expect(messagesToBot(h)).toContain('3');
    expect(satisfactionSeen(h)).toEqual([]);
  });

  it('words that come long after the rating are not taken for a comment: the rating stands alone and the message reaches the bot', async () => {
    const member = await releasedMember({ commentWithinMs: 200 });
    h.sandbox.customerSays(member, { text: '2' });
    await h.settle();
    await new Promise((r) => setTimeout(r, 300));
    h.sandbox.customerSays(member, { text: 'my parcel is still missing' });
    await h.settle();
    expect(messagesToBot(h)).toContain('my parcel is still missing');
    const told = satisfactionSeen(h);
    expect(told).toEqual([expect.objectContaining({ rating: 2, ended: 'released' })]);
    expect(told[0]!.comment).toBeUndefined();
  });
});
