/** Pure WOZTELL conversions, classification and release rules (signature checks: verify.test.ts). */
import { describe, expect, it } from 'vitest';
import { normaliseTimestamp, planIncoming } from '../../../adapters/woztell/convert-incoming';
import { matchNumberedChoice, toWoztellResponses } from '../../../adapters/woztell/convert-outgoing';
import { releaseEvents, type ReleaseRules, type ThreadObservation } from '../../../adapters/woztell/ownership-rules';
import { reduceOwnership, type OwnershipRecord } from '../../../src/ownership';
import { parseWoztellWebhook } from '../../../adapters/woztell/schemas';
import { parseWoztellControl } from '../../../adapters/woztell/conversation-actions';
import { InvalidRequestError, NotSupportedError } from '../../../src/errors';
import type { Activity } from 'botbuilder-core';

const ctx = { botApiUrl: 'https://bot.api.woztell.com', bodyHash: 'h', now: Date.parse('2026-12-01T10:00:00Z') };
const base = { member: 'm1', channel: 'c1', app: 'a1' };

describe('classification and incoming conversion', () => {
  it('tells inbound, status and outbound echo apart by shape', () => {
    expect(parseWoztellWebhook({ ...base, type: 'TEXT', data: { text: 'hi' } }).kind).toBe('inbound');
    expect(parseWoztellWebhook({ ...base, type: 'READ', data: { messageId: 'x' } }).kind).toBe('status');
    expect(parseWoztellWebhook({ ...base, type: 'failed' }).kind).toBe('status');
    expect(parseWoztellWebhook({ ...base, type: 'BOT', messageEvent: { type: 'TEXT', data: { text: 'x' } } }).kind).toBe('outbound');
  });

  it('an inbox agent echo is a takeover; other echoes are ignored', () => {
    const agent = planIncoming(
      parseWoztellWebhook({ ...base, type: 'MANUAL', meta: { agentUserId: 'u1', source: { integrationId: 'inbox' } }, messageEvent: { type: 'TEXT', data: { text: 'Hi' }, messageId: 'e1' } }),
      ctx,
    );
    expect(agent).toMatchObject({ kind: 'agent', conversationId: 'c1:m1', agentUserId: 'u1', dedupeKeys: ['echo:e1'] });
    const api = planIncoming(parseWoztellWebhook({ ...base, type: 'MANUAL', meta: { agentUserId: 'u1', source: { integrationId: 'api' } }, messageEvent: {} }), ctx);
    expect(api).toHaveProperty('ignored');
    const bot = planIncoming(parseWoztellWebhook({ ...base, type: 'BOT', messageEvent: { data: { text: 'menu' } } }), ctx);
    expect(bot).toHaveProperty('ignored');
  });

  it('dedupes on messageId, else on the body hash', () => {
    const withId = planIncoming(parseWoztellWebhook({ ...base, type: 'TEXT', data: { text: 'x' }, messageId: 'w1' }), ctx);
    const without = planIncoming(parseWoztellWebhook({ ...base, type: 'TEXT', data: { text: 'x' } }), ctx);
    expect(withId).toMatchObject({ dedupeKeys: ['message:w1'] });
    expect(without).toMatchObject({ dedupeKeys: ['message:h'] });
  });

  it('normalises timestamps', () => {
    expect(normaliseTimestamp('1599536864')).toBe(1599536864000);
    expect(normaliseTimestamp(1701914905000)).toBe(1701914905000);
    expect(normaliseTimestamp(1701914905)).toBe(1701914905000);
    expect(normaliseTimestamp('2023-12-07T02:08:25Z')).toBe(1701914905000);
    expect(normaliseTimestamp('')).toBeUndefined();
    expect(normaliseTimestamp('soon')).toBeUndefined();
  });

  it('media without a URL keeps the media id; an empty inbound is ignored', () => {
    const plan = planIncoming(parseWoztellWebhook({ ...base, type: 'AUDIO', data: { attachments: [{ type: 'AUDIO', waMediaId: 'wm1' }] } }), ctx);
    expect(plan).toMatchObject({ activity: { attachments: [{ contentType: 'audio/*', content: { waMediaId: 'wm1' } }] } });
    expect(planIncoming(parseWoztellWebhook({ ...base, type: 'TEXT', data: {} }), ctx)).toHaveProperty('ignored');
  });
});

describe('outgoing conversion', () => {
  const choices = (n: number, title = (i: number) => `Choice ${i}`): Partial<Activity> => ({
    type: 'message',
    text: 'Pick',
    suggestedActions: { to: [], actions: Array.from({ length: n }, (_, i) => ({ type: 'imBack', title: title(i + 1), value: `v${i + 1}` })) },
  });

  it('≤3 short choices → reply buttons; 4 choices or a long title → numbered text', () => {
    expect(toWoztellResponses(choices(3), { replyButtons: true }).items[0]!.type).toBe('WHATSAPP_REPLY_BUTTONS');
    const four = toWoztellResponses(choices(4), { replyButtons: true });
    expect(four.items).toEqual([{ type: 'TEXT', text: 'Pick\n\n1. Choice 1\n2. Choice 2\n3. Choice 3\n4. Choice 4' }]);
    expect(four.numberedChoices).toHaveLength(4);
    const long = toWoztellResponses(choices(2, () => 'A title much longer than twenty characters'), { replyButtons: true });
    expect(long.items[0]!.type).toBe('TEXT');
  });

  it('numbered replies map back to the choice; other text does not', () => {
    const list = [{ title: 'A', value: 'a' }, { title: 'B', value: 'b' }];
    expect(matchNumberedChoice('2', list)).toEqual({ title: 'B', value: 'b' });
    expect(matchNumberedChoice(' 1. ', list)).toEqual({ title: 'A', value: 'a' });
    expect(matchNumberedChoice('3', list)).toBeUndefined();
    expect(matchNumberedChoice('2 please', list)).toBeUndefined();
  });

  it('attachments by URL become media items; without an http URL they are refused clearly', () => {
    const plan = toWoztellResponses(
      { type: 'message', text: 'Here', attachments: [{ contentType: 'image/png', contentUrl: 'https://x/a.png' }, { contentType: 'application/pdf', contentUrl: 'https://x/b.pdf', name: 'b.pdf' }] },
      { replyButtons: true },
    );
    expect(plan.items).toEqual([{ type: 'TEXT', text: 'Here' }, { type: 'IMAGE', url: 'https://x/a.png' }, { type: 'FILE', url: 'https://x/b.pdf', fileName: 'b.pdf' }]);
    expect(() => toWoztellResponses({ type: 'message', attachments: [{ contentType: 'image/png', contentUrl: 'data:image/png;base64,AA' }] }, { replyButtons: true })).toThrow(/http\(s\) contentUrl/);
    expect(() => toWoztellResponses({ type: 'message' }, { replyButtons: true })).toThrow(InvalidRequestError);
  });

  it('channelData.woztell.response is sent as given', () => {
    const response = [{ type: 'WHATSAPP_LIST', text: 'x', sections: [] }];
    expect(toWoztellResponses({ type: 'message', text: 'ignored', channelData: { woztell: { response } } }, { replyButtons: true }).items).toEqual(response);
  });
});

describe('control on WOZTELL', () => {
  it('takes folder, title, agent and note; names the fields it cannot do', () => {
    expect(parseWoztellControl({ folder: 'done', note: 'closed' })).toEqual({ folder: 'done', note: 'closed' });
    expect(() => parseWoztellControl({ folder: 'done', status: 'resolved', priority: 'high' })).toThrow(NotSupportedError);
    expect(() => parseWoztellControl({ status: 'resolved', priority: 'high' })).toThrow(/status, priority/);
    expect(() => parseWoztellControl({ folder: 'x', colour: 'red' })).toThrow(InvalidRequestError);
  });
});

describe('release rules', () => {
  const human = { owner: 'human' as const, reason: 'handoff' as const, platformStatus: 'main', observedAt: 0, details: {} };
  const rules = { releaseFolders: ['bot', 'done'] };
  it('releases on a bot folder; not on the mere absence of an assignee never seen', () => {
    expect(decideRelease(human, { thread: { folder: 'bot' }, now: 1 }, rules).release).toBe(true);
    expect(decideRelease(human, { thread: { folder: 'main' }, now: 1 }, rules).release).toBe(false);
  });
  it('remembers an assignee, then releases when it is removed', () => {
    const seen = decideRelease(human, { thread: { folder: 'main', userId: 'u1' }, now: 1 }, rules);
    expect(seen.release).toBe(false);
    expect(seen.record!.details).toEqual({ assignee: 'u1' });
    expect(decideRelease(seen.record!, { thread: { folder: 'main' }, now: 2 }, rules)).toMatchObject({ release: true, reason: 'assignee removed' });
    // a lookup that found no thread says nothing about the assignee
    expect(decideRelease(seen.record!, { now: 2 }, rules).release).toBe(false);
  });
  it('live chat off releases only after it was seen on; the optional timeout releases', () => {
    expect(decideRelease(human, { liveChat: false, now: 1 }, rules).release).toBe(false);
    const on = decideRelease(human, { liveChat: true, now: 1 }, rules).record!;
    expect(decideRelease(on, { liveChat: false, now: 2 }, rules).release).toBe(true);
    expect(decideRelease(human, { now: 60_000 }, { ...rules, humanTimeoutMs: 60_000 }).release).toBe(true);
    expect(decideRelease(human, { now: 59_999 }, { ...rules, humanTimeoutMs: 60_000 }).release).toBe(false);
  });
});

/** The release rules through the reducer: whether the member went back to the bot, why, and the record after. */
function decideRelease(current: OwnershipRecord, obs: ThreadObservation, rules: ReleaseRules) {
  let record = current;
  let release = false;
  for (const event of releaseEvents(current, obs, rules)) {
    const d = reduceOwnership(record, event);
    record = d.record;
    release ||= d.transition === 'released';
  }
  return { release, reason: record.details?.why, record };
}
