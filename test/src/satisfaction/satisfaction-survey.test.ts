/** The survey's rules that need no platform: the messaging window, what reads as a rating, expiry. */
import { MemoryStorage } from 'botbuilder-core';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log';
import { SatisfactionSurvey, readRating } from '../../../src/satisfaction/satisfaction-survey';
import { StorageTranscriptStore } from '../../../src/transcript';
import { TestClock } from '../../helpers/test-clock';

const HOUR = 3600_000;
const reference = { channelId: 'woztell', conversation: { id: 'm1', isGroup: false, conversationType: 'woztell', name: 'm1' }, user: { id: 'm1', name: 'Ada' }, bot: { id: 'bot', name: 'Bot' }, serviceUrl: 'x' };

function setup() {
  const clock = new TestClock(Date.parse('2026-12-07T10:00:00Z'));
  const storage = new MemoryStorage();
  const transcripts = new StorageTranscriptStore(storage);
  const survey = new SatisfactionSurvey({ enabled: true }, { storage, transcripts, clock, logger: silentLogger });
  return { clock, transcripts, survey };
}

describe('the satisfaction survey', () => {
  it('is not asked when the platform no longer delivers (the customer wrote more than the window ago)', async () => {
    const { clock, transcripts, survey } = setup();
    await transcripts.append('woztell', 'm1', [{ role: 'customer', text: 'please call me back', at: new Date(clock.now()).toISOString() }]);
    const channel = { channelId: 'woztell', replyWindowMs: 24 * HOUR };
    clock.advance(23 * HOUR);
    expect((await survey.stretchEnded(channel, reference, survey.stretchOf(undefined, 'ticket_closed'))).send).toHaveLength(1);
    clock.advance(2 * HOUR);
    const late = await survey.stretchEnded(channel, reference, survey.stretchOf(undefined, 'ticket_closed'));
    expect(late.send).toEqual([]);
    expect(late.note).toMatch(/window closed/);
  });

  it('a question unanswered for longer than answerWithinMs is dropped: a later "5" is not a rating', async () => {
    const { clock, survey } = setup();
    const channel = { channelId: 'woztell' };
    await survey.stretchEnded(channel, reference, survey.stretchOf(undefined, 'released'));
    clock.advance(25 * HOUR);
    const later = await survey.read(channel, { type: 'message', text: '5', conversation: reference.conversation, id: 'x' });
    expect(later.consumed).toBe(false);
    expect(later.note).toMatch(/expired/);
  });

  it('reads ratings from choices, digits and stars, and nothing else', () => {
    expect(readRating({ value: '4', text: '4' })).toBe(4);
    expect(readRating({ text: '5 - excellent' })).toBe(5);
    expect(readRating({ text: '2/5' })).toBe(2);
    expect(readRating({ text: '⭐⭐⭐' })).toBe(3);
    expect(readRating({ text: '6' })).toBeUndefined();
    expect(readRating({ text: '3 more questions' })).toBeUndefined();
    expect(readRating({ text: 'I need a human' })).toBeUndefined();
  });
});
