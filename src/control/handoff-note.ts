/**
 * The private note a handoff leaves for the human agents: the reason, Copilot Studio's context when the
 * request carries it, then the transcript, one line per message.
 */
import type { Activity } from 'botbuilder-core';
import { formatTranscript, formatTranscriptActivities, type TranscriptEntry } from '../transcript';
import { copilotStudioContext, copilotStudioLines } from './copilot-context';
import type { HandoffRequest } from './vocabulary';

/** The transcript a `handoff.initiate` carries as its attachment (botbuilder's standard), if any. */
export function attachedTranscript(activity: Partial<Activity>): Partial<Activity>[] | undefined {
  const attachment = activity.attachments?.find((a) => a.name === 'Transcript' || (a.content as { activities?: unknown })?.activities);
  const activities = (attachment?.content as { activities?: Partial<Activity>[] } | undefined)?.activities;
  return Array.isArray(activities) ? activities : undefined;
}

/** `Handoff requested: <reason>`, a blank line, `Transcript:` and the lines (the attached ones, else the stored ones). */
export function handoffNote(request: HandoffRequest, attached: Partial<Activity>[] | undefined, stored: readonly TranscriptEntry[]): string {
  const transcript = attached ? formatTranscriptActivities(attached) : formatTranscript(stored);
  const copilot = copilotStudioContext(request);
  return [
    `Handoff requested${request.reason ? `: ${request.reason}` : ''}`,
    ...(copilot ? ['', ...copilotStudioLines(copilot)] : []),
    '',
    'Transcript:',
    transcript || '(no messages)',
  ].join('\n');
}
