/**
 * Pure rules: when a member who is with a human goes back to the bot on WOZTELL (woztell.md §5).
 * There is no push event for folder or assignee changes, so the adapter looks the thread up when the
 * member writes and applies these rules. A signal only releases once it was seen in its "human" state
 * (an assignee that is later removed, a live-chat flag that is later turned off), so a handoff without
 * an assignee is not undone by the mere absence of one.
 */
import type { OwnershipRecord } from '../../src/ownership';
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

export type Record_ = Omit<OwnershipRecord, 'updatedAt'>;

export interface ReleaseDecision {
  release: boolean;
  /** Why it was released (for the log and `handoff.status`). */
  reason?: string;
  /** The record to store when it changed (new facts seen, or the release). */
  record?: Record_;
}

export function decideRelease(current: Record_, obs: ThreadObservation, rules: ReleaseRules): ReleaseDecision {
  const details = { ...current.details };
  const folder = obs.thread?.folder ?? undefined;
  const assignee = obs.thread?.userId ?? undefined;
  const release = (reason: string): ReleaseDecision => ({
    release: true,
    reason,
    record: { owner: 'bot', reason: `released: ${reason}`, platformStatus: folder ?? current.platformStatus, observedAt: obs.now },
  });

  if (folder && rules.releaseFolders.includes(folder)) return release(`thread moved to folder "${folder}"`);
  if (obs.thread && details.assignee && !assignee) return release('assignee removed');
  if (details.liveChat === true && obs.liveChat === false) return release('live chat turned off');
  if (rules.humanTimeoutMs !== undefined && current.observedAt !== undefined && obs.now - current.observedAt >= rules.humanTimeoutMs) {
    return release(`no human activity for ${Math.round(rules.humanTimeoutMs / 60000)} min`);
  }

  let changed = false;
  if (assignee && details.assignee !== assignee) {
    details.assignee = assignee;
    changed = true;
  }
  if (obs.liveChat === true && details.liveChat !== true) {
    details.liveChat = true;
    changed = true;
  }
  if (folder && current.platformStatus !== folder) changed = true;
  return changed ? { release: false, record: { ...current, platformStatus: folder ?? current.platformStatus, details } } : { release: false };
}
