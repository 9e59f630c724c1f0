/** The steps of a multi-step outbox action (a handoff's note, assignment, status) and which are done. */

/** Tracks which steps of a multi-step platform action are done, durably, so a retry resumes after the last one. */
export interface StepProgress {
  done(step: string): boolean;
  mark(step: string): Promise<void>;
  /**
   * An earlier attempt of this action may have been carried out without its outcome being known: a
   * retry after a timeout or a cut connection, or an action resumed after a restart. Look before
   * repeating what the platform lets you find.
   */
  readonly repeated: boolean;
  /**
   * With `repeated`: the earlier attempt got no answer at all (a timeout, a cut connection, a restart),
   * so evidence of it may still be on its way; false when the platform answered it (a 5xx, a 429).
   */
  readonly unanswered: boolean;
  /**
   * What the conversation's earlier done actions created on the platform (their results: message ids),
   * newest first (the latest few). The actions of a conversation run one after another, so evidence of
   * a send that is none of these can only be this action's (later ones have not run).
   */
  earlierResults(): Promise<string[]>;
  /**
   * A message this attempt created (or found created): kept as the action's result when the action
   * itself answers none (a handoff's note), so that later looks rule its echo out.
   */
  created?(messageId: string): void;
  /**
   * Whether the action is no longer pending in the store: another attempt (a replica that held the
   * conversation before this one took it over) finished it meanwhile. A look waiting for evidence asks.
   */
  settledElsewhere?(): Promise<boolean>;
}

/**
 * Thrown by a step that found its action finished by another attempt meanwhile (`settledElsewhere`):
 * this attempt does nothing more, and the action is not retried.
 */
export class SettledElsewhereError extends Error {
  constructor() {
    super('the action was finished by another attempt meanwhile');
    this.name = 'SettledElsewhereError';
  }
}

/** Runs a step of a multi-step action unless a previous attempt already did it; marks it done after. */
export async function runStep(progress: StepProgress, step: string, fn: () => Promise<unknown>): Promise<void> {
  if (progress.done(step)) return;
  await fn();
  await progress.mark(step);
}
