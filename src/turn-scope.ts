/**
 * Which conversation's work the current async call runs inside, and the unit of work of its turn.
 * The pipeline passes a turn's unit explicitly to its own steps; this ambient copy is for the calls
 * that carry no turn: botbuilder's `Storage` (the bot's state, the ownership record and its timeline
 * step go to the turn's writes) and a proactive call (`continueConversation`) made from inside the
 * conversation's own work, which must run at once: queueing it would wait for itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { NewOutboxAction, TurnWrites } from './storage/turn-writes';

/** One turn's unit of work: its writes, committed together when it ends, and the effects to deliver once they are. */
export interface TurnUnit {
  readonly conversationId: string;
  readonly writes: TurnWrites;
  readonly effects: NewOutboxAction[];
  /** False once the turn ended: later work (a promise it left running) writes on its own. */
  open: boolean;
}

export interface TurnScope {
  conversationId: string;
  /** Absent for work in a conversation's slot that is not a turn (e.g. a ticket event). */
  unit?: TurnUnit;
}

const scope = new AsyncLocalStorage<TurnScope>();

export function runInTurnScope<T>(turn: TurnScope, fn: () => Promise<T>): Promise<T> {
  return scope.run(turn, fn);
}

export function currentTurn(): TurnScope | undefined {
  return scope.getStore();
}

/** The open unit of work of the turn the current call runs in, if any. */
export function currentUnit(): TurnUnit | undefined {
  const unit = scope.getStore()?.unit;
  return unit?.open ? unit : undefined;
}

/** Runs `fn` outside any turn: work it starts (timers, promises) never sees a turn's scope. */
export function outsideTurn<T>(fn: () => T): T {
  return scope.exit(fn);
}
