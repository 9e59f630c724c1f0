/**
 * Which conversation's turn the current async call runs inside, and the turn's writes. A proactive
 * call for the same conversation made from inside its own turn runs at once (queueing it would wait
 * for itself); the bot's storage calls inside a turn go to the turn's writes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TurnWrites } from './storage/turn-writes';

export interface TurnScope {
  conversationId: string;
  /** Absent for work in a conversation's slot that is not a turn (e.g. a ticket event). */
  writes?: TurnWrites;
}

const scope = new AsyncLocalStorage<TurnScope>();

export function runInTurnScope<T>(turn: TurnScope, fn: () => Promise<T>): Promise<T> {
  return scope.run(turn, fn);
}

export function currentTurn(): TurnScope | undefined {
  return scope.getStore();
}

/** Runs `fn` outside any turn: work it starts (timers, promises) never sees a turn's scope. */
export function outsideTurn<T>(fn: () => T): T {
  return scope.exit(fn);
}
