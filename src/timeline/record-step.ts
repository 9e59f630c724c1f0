/**
 * Records a timeline step where the work it describes is written: inside a turn, in the turn's unit of
 * work (committed with it); anywhere else, submitted at once beside the write it accompanies (on
 * SQLite the same group-committed transaction: no fsync of its own).
 */
import type { Logger } from '../log';
import type { Timeline, TimelineStep } from '../storage/timeline';
import { currentTurn } from '../turn-scope';

export function recordStep(timeline: Timeline, step: TimelineStep, logger?: Logger): void {
  const writes = currentTurn()?.writes;
  if (writes) {
    try {
      writes.addTimeline(step);
      return;
    } catch {
      // The unit was committed already (work that outlived its turn): recorded on its own.
    }
  }
  timeline.record([step]).catch((error: unknown) => logger?.warn('could not record a timeline step', { conversationId: step.conversationId, kind: step.kind, error }));
}
