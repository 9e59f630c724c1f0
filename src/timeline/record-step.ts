/**
 * Records a timeline step where the work it describes is written: inside a turn, in the turn's unit of
 * work (committed with it); anywhere else, submitted at once beside the write it accompanies (on
 * SQLite the same group-committed transaction: no fsync of its own).
 */
import type { Logger } from '../log';
import type { Timeline, TimelineStep } from '../storage/timeline';
import { currentUnit } from '../turn-scope';

export function recordStep(timeline: Timeline, step: TimelineStep, logger?: Logger): void {
  const unit = currentUnit();
  if (unit) {
    unit.writes.addTimeline(step);
    return;
  }
  timeline.record([step]).catch((error: unknown) => logger?.warn('could not record a timeline step', { conversationId: step.conversationId, kind: step.kind, error }));
}
