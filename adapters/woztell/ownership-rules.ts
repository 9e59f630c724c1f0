/**
 * Pure rules: when a member who is with a human goes back to the bot on WOZTELL. There is no push
 * event for folder or assignee changes, so the connector looks the thread up when the member writes
 * and turns what it saw into ownership events. A signal only releases once it was seen in its "human"
 * state (an assignee that is later removed, a live-chat flag that is later turned off), so a handoff
 * without an assignee is not undone by the mere absence of one.
 */
import type { OwnershipEvent, OwnershipRecord } from '../../src/ownership';
import type { InboxThread } from './schemas';

export interface ReleaseRules {
  /** Folders that hand the member back to the bot (WOZTELL_BOT_FOLDER, WOZTELL_RESOLVED_FOLDER). */
  releaseFolders: string[];
  /** After this long without a human signal the bot takes the member back (optional). */
  humanTimeoutMs?: number;
}

export interface ThreadObservation {
  /** The thread as list-threads shows it now (undefined: not found). */
  thread?: InboxThread;
  /** The member's live-chat flag (undefined: not asked or unknown). */
  liveChat?: boolean;
  now: number;
}

/** The ownership events a thread lookup implies for a human-owned member: a release, new facts, or nothing. */
export function releaseEvents(current: OwnershipRecord, obs: ThreadObservation, rules: ReleaseRules): OwnershipEvent[] {
  const details = current.details ?? {};
  const folder = obs.thread?.folder ?? undefined;
  const assignee = obs.thread?.userId ?? undefined;
  const platformStatus = folder ?? current.platformStatus;
  const release = (why: string): OwnershipEvent[] => [{ type: 'released', why, platformStatus, observedAt: obs.now }];

  if (folder && rules.releaseFolders.includes(folder)) return release(`thread moved to folder "${folder}"`);
  if (obs.thread && details.assignee && !assignee) return release('assignee removed');
  if (details.liveChat === true && obs.liveChat === false) return release('live chat turned off');
  if (rules.humanTimeoutMs !== undefined && current.observedAt !== undefined && obs.now - current.observedAt >= rules.humanTimeoutMs) {
    return release(`no human activity for ${Math.round(rules.humanTimeoutMs / 60000)} min`);
  }
  const seen: Record<string, string | boolean> = {};
  if (assignee && details.assignee !== assignee) seen.assignee = assignee;
  if (obs.liveChat === true && details.liveChat !== true) seen.liveChat = true;
  if (Object.keys(seen).length === 0 && platformStatus === current.platformStatus) return [];
  // Facts carry no observation time: a lookup is not a human signal, so the timeout keeps running.
  return [{ type: 'facts_observed', platformStatus, details: seen }];
}
