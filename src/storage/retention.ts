/** How long finished work is kept (configurable; docs/operations.md, "State"). */
export interface RetentionPolicy {
  /** Finished (or set-aside) inbox events, outbox actions, timeline entries. */
  eventsMs: number;
  /** Transcripts not written to for this long. */
  transcriptsMs: number;
  /** Any other state (dialog stacks, ownership, …) not written to for this long. */
  stateMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  eventsMs: 72 * 3600_000,
  transcriptsMs: 30 * 86_400_000,
  stateMs: 180 * 86_400_000,
};

export interface PruneResult {
  inbox: number;
  outbox: number;
  dedupe: number;
  transcripts: number;
  state: number;
  /** Timeline entries (kept as long as finished events) and conversation summaries (as long as other state). */
  timeline?: number;
  conversations?: number;
  /** The platforms' echoes of the bot's messages past their hour (PostgreSQL; elsewhere they go with their document). */
  echoes?: number;
}
