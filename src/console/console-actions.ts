/**
 * What an operator can do when something is stuck: retry or discard a platform action of the outbox
 * (discarding a pending one tells the bot, as a final failure does: `handoff.status failed` for a
 * handoff or a control action, `conversation.deliveryFailed` for a message), and retry or discard an
 * event that was set aside. Each is recorded on the conversation's timeline.
 */
import type { Logger } from '../log';
import type { OutboxDelivery } from '../outbox/outbox-delivery';
import type { Stores } from '../storage/stores';
import type { InboxEvent } from '../storage/event-inbox';
import { inboxEventStep } from '../timeline/timeline-steps';
import { ConsoleHttpError } from './console-http';

export const DISCARD_REASON = 'discarded by an operator';

export interface ConsoleActionsDeps {
  stores: Stores;
  delivery: OutboxDelivery;
  /** Processes an event taken back from the set-aside ones (its platform's intake); false when none serves it. */
  requeue: (event: InboxEvent) => boolean;
  logger: Logger;
}

export class ConsoleActions {
  constructor(private readonly deps: ConsoleActionsDeps) {}

  async retryAction(id: number): Promise<void> {
    if (!(await this.deps.delivery.retry(id))) throw notFound('outbox action', id, 'pending or failed');
    this.deps.logger.info('platform action retried by an operator', { id });
  }

  async discardAction(id: number, reason?: string): Promise<void> {
    const outcome = await this.deps.delivery.discard(id, reason ? `${DISCARD_REASON}: ${reason}` : DISCARD_REASON);
    if (outcome === 'not_found') throw notFound('outbox action', id, 'pending or failed');
    if (outcome === 'in_flight') throw new ConsoleHttpError(409, 'action_in_flight', `outbox action ${id} is being attempted right now; try again in a moment`);
  }

  async retryEvent(id: number): Promise<void> {
    const current = (await this.deps.stores.inbox.listSetAside(10_000)).find((e) => e.id === id);
    if (!current) throw notFound('event', id, 'set aside');
    const event = await this.deps.stores.inbox.reviveSetAside(id, inboxEventStep(current, 'retried'));
    if (!event) throw notFound('event', id, 'set aside');
    if (!this.deps.requeue(event)) {
      // Nothing serves its platform now: it stays unfinished, for the next start.
      this.deps.logger.warn('a retried event has no intake on this server; it runs at the next start', { id, platform: event.platform });
    }
    this.deps.logger.info('set-aside event retried by an operator', { id, conversationId: event.conversationId });
  }

  async discardEvent(id: number): Promise<void> {
    const current = (await this.deps.stores.inbox.listSetAside(10_000)).find((e) => e.id === id);
    if (!current || !(await this.deps.stores.inbox.discardSetAside(id, inboxEventStep(current, 'discarded', DISCARD_REASON)))) throw notFound('event', id, 'set aside');
    this.deps.logger.info('set-aside event discarded by an operator', { id, conversationId: current.conversationId });
  }
}

function notFound(what: string, id: number, state: string): ConsoleHttpError {
  return new ConsoleHttpError(404, 'not_found', `no ${state} ${what} ${id}`);
}
