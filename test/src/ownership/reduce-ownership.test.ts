import { describe, expect, it } from 'vitest';
import { reduceOwnership, type OwnershipEvent, type OwnershipReason, type OwnershipRecord } from '../../../src/ownership';

const bot = (observedAt = 100): OwnershipRecord => ({ owner: 'bot', reason: 'status', platformStatus: 'pending', observedAt });
const human = (reason: OwnershipReason, observedAt = 100, status = 'open'): OwnershipRecord => ({ owner: 'human', reason, platformStatus: status, observedAt });
const ticket = (ticketId: number, desk?: string): OwnershipRecord => ({ owner: 'ticket', reason: 'ticket', platformStatus: 'resolved', observedAt: 100, details: { ticketId, ...(desk ? { desk } : {}) } });
const status = (s: string, explicit: boolean, observedAt: number, botStatus = s === 'pending'): OwnershipEvent => ({ type: 'status_observed', status: s, botStatus, explicit, observedAt });

describe('reduceOwnership', () => {
  it.each<[string, OwnershipRecord | undefined, OwnershipEvent, string, OwnershipReason, string | undefined]>([
    ['new conversation, pending', undefined, status('pending', false, 100), 'bot', 'status', undefined],
    ['status became open', bot(), status('open', true, 200), 'human', 'status', 'taken'],
    ['a message snapshot in open', bot(), status('open', false, 200), 'human', 'status', 'taken'],
    ['agent message while still pending', bot(), { type: 'agent_message', observedAt: 200 }, 'human', 'agent_message', 'taken'],
    ['pending snapshot does not undo an agent takeover', human('agent_message', 200, 'pending'), status('pending', false, 300), 'human', 'agent_message', undefined],
    ['explicit change back to pending releases a takeover', human('agent_message', 200, 'pending'), status('pending', true, 300), 'bot', 'status', 'released'],
    ['pending snapshot right after our handoff: stays human', human('handoff', 100), status('pending', false, 150), 'human', 'handoff', undefined],
    ['pending snapshot newer than a confirmed open releases', human('status', 200), status('pending', false, 300), 'bot', 'status', 'released'],
    ['a stale observation is ignored', human('status', 200), status('pending', true, 150), 'human', 'status', undefined],
    ['resolved stays with a ticket', ticket(7), status('resolved', true, 200), 'ticket', 'ticket', undefined],
    ['a configured bot status (snoozed) keeps the bot', bot(), status('snoozed', true, 200, true), 'bot', 'status', undefined],
    ['handoff done', bot(), { type: 'handoff_completed', platformStatus: 'open' }, 'human', 'handoff', 'taken'],
    ['a ticket opened', bot(), { type: 'ticket_opened', ticketId: 7 }, 'ticket', 'ticket', 'taken'],
    ['its ticket closed', ticket(7), { type: 'ticket_closed', ticketId: 7 }, 'bot', 'ticket_closed', 'released'],
    ['another ticket closed: no change', ticket(7), { type: 'ticket_closed', ticketId: 8 }, 'ticket', 'ticket', undefined],
    ['its ticket closed by its project', ticket(4, 'inbenta@acme'), { type: 'ticket_closed', ticketId: 4, desk: 'inbenta@acme' }, 'bot', 'ticket_closed', 'released'],
    ["the same number closed in another project: no change", ticket(4, 'inbenta@acme'), { type: 'ticket_closed', ticketId: 4, desk: 'inbenta' }, 'ticket', 'ticket', undefined],
    ['a ticket recorded before projects were kept: its number closes it', ticket(4), { type: 'ticket_closed', ticketId: 4, desk: 'inbenta@acme' }, 'bot', 'ticket_closed', 'released'],
    ['a ticket closed while a human owns it: no change', human('handoff'), { type: 'ticket_closed', ticketId: 7 }, 'human', 'handoff', undefined],
    ['released by the platform rules', human('handoff'), { type: 'released', why: 'thread moved', observedAt: 200 }, 'bot', 'released', 'released'],
    ['a release of the bot is nothing', bot(), { type: 'released', why: 'x', observedAt: 200 }, 'bot', 'status', undefined],
    ['facts keep the owner', human('handoff'), { type: 'facts_observed', details: { assignee: 'u1' } }, 'human', 'handoff', undefined],
  ])('%s', (_name, current, event, owner, reason, transition) => {
    const d = reduceOwnership(current, event);
    expect(d.record.owner).toBe(owner);
    expect(d.record.reason).toBe(reason);
    expect(d.transition).toBe(transition);
  });

  it('details belong to their owner: a ticket id is kept through status changes and dropped when the owner changes', () => {
    expect(reduceOwnership(ticket(7), status('resolved', true, 200)).record.details).toEqual({ ticketId: 7 });
    expect(reduceOwnership(ticket(7), { type: 'ticket_closed', ticketId: 7 }).record.details).toBeUndefined();
    expect(reduceOwnership(human('handoff'), { type: 'facts_observed', details: { assignee: 'u1' } }).record.details).toEqual({ assignee: 'u1' });
  });

  it('says when nothing changed, so nothing is written', () => {
    expect(reduceOwnership(bot(100), status('pending', false, 100)).changed).toBe(false);
    expect(reduceOwnership(bot(100), status('pending', false, 200)).changed).toBe(true);
    expect(reduceOwnership(human('status', 200), status('pending', true, 150)).changed).toBe(false);
  });
});
