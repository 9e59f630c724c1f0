import { describe, expect, it } from 'vitest';
import { decideOwnership } from '../../../adapters/nimchat/ownership-rules';
import type { OwnershipRecord } from '../../../src/ownership';

type Rec = Omit<OwnershipRecord, 'updatedAt'>;
const bot = (observedAt = 100): Rec => ({ owner: 'bot', reason: 'status', platformStatus: 'pending', observedAt });
const human = (reason: string, observedAt = 100, status = 'open'): Rec => ({ owner: 'human', reason, platformStatus: status, observedAt });
const B = ['pending'];

describe('decideOwnership', () => {
  it.each<[string, Rec | undefined, Parameters<typeof decideOwnership>[1], string, string | undefined]>([
    ['new conversation, pending', undefined, { kind: 'snapshot', status: 'pending', observedAt: 100 }, 'bot', undefined],
    ['status became open', bot(), { kind: 'status_change', status: 'open', observedAt: 200 }, 'human', 'taken'],
    ['a message snapshot in open', bot(), { kind: 'snapshot', status: 'open', observedAt: 200 }, 'human', 'taken'],
    ['agent message while still pending', bot(), { kind: 'agent_message', status: 'pending', observedAt: 200 }, 'human', 'taken'],
    ['pending snapshot does not undo an agent takeover', human('agent_message', 200, 'pending'), { kind: 'snapshot', status: 'pending', observedAt: 300 }, 'human', undefined],
    ['explicit change back to pending releases a takeover', human('agent_message', 200, 'pending'), { kind: 'status_change', status: 'pending', observedAt: 300 }, 'bot', 'released'],
    ['pending snapshot right after our handoff is in flight: stays human', human('handoff', 100), { kind: 'snapshot', status: 'pending', observedAt: 150 }, 'human', undefined],
    ['pending snapshot newer than a confirmed open releases', human('status', 200), { kind: 'snapshot', status: 'pending', observedAt: 300 }, 'bot', 'released'],
    ['a stale observation is ignored', human('status', 200), { kind: 'status_change', status: 'pending', observedAt: 150 }, 'human', undefined],
    ['resolved stays with a ticket', { owner: 'ticket', reason: 'ticket', observedAt: 100 }, { kind: 'status_change', status: 'resolved', observedAt: 200 }, 'ticket', undefined],
  ])('%s', (_name, current, obs, owner, transition) => {
    const d = decideOwnership(current, obs, B);
    expect(d.record.owner).toBe(owner);
    expect(d.transition).toBe(transition);
  });

  it('configurable bot statuses', () => {
    expect(decideOwnership(bot(), { kind: 'status_change', status: 'snoozed', observedAt: 200 }, ['pending', 'snoozed']).record.owner).toBe('bot');
  });
});
