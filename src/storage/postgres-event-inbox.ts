/**
 * The event inbox in PostgreSQL (`handoff_inbox`): accepting is ONE statement (one round trip, one
 * transaction): the dedupe keys are remembered and the event stored together, or, when a key is
 * live, neither (see postgres-dedupe-store.ts). Committed before the 2xx.
 */
import type { Clock } from '../clock';
import type { AcceptInput, AcceptResult, EventInbox, InboxEvent } from './event-inbox';
import { DuplicateRefused, int, type PostgresDatabase, type Statement } from './postgres-database';
import { ABORT_IF_DUPLICATE, REMEMBER_KEYS } from './postgres-dedupe-store';

const ACCEPT: Statement = {
  name: 'handoff_inbox_accept',
  text: `WITH ${REMEMBER_KEYS},
event AS (
  INSERT INTO handoff_inbox (platform, conversation, payload, received_at) VALUES ($4, $5, $6, $3::bigint) RETURNING id
)
SELECT (SELECT id FROM event) AS id, ${ABORT_IF_DUPLICATE}`,
};
const STARTED: Statement = { name: 'handoff_inbox_started', text: 'UPDATE handoff_inbox SET attempts = attempts + 1 WHERE id = $1' };
const DONE: Statement = { name: 'handoff_inbox_done', text: 'UPDATE handoff_inbox SET done_at = $2 WHERE id = $1' };
const UNFINISHED: Statement = {
  name: 'handoff_inbox_unfinished',
  text: 'SELECT id, platform, conversation, payload, received_at, attempts FROM handoff_inbox WHERE done_at IS NULL AND platform = $1 ORDER BY id',
};

export type InboxRow = {
  id: string;
  platform: string;
  conversation: string;
  payload: string;
  received_at: string;
  attempts: number;
};

export class PostgresEventInbox implements EventInbox {
  /** started() calls not yet answered: an event's done mark waits for them (a pool does not keep order by itself). */
  private readonly starting = new Map<number, Promise<void>>();

  constructor(
    private readonly db: PostgresDatabase,
    private readonly clock: Clock,
  ) {}

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const now = this.clock.now();
    const keys = [...new Set(input.dedupeKeys)];
    try {
      const { rows } = await this.db.query<{ id: string }>(ACCEPT, [keys, now + input.ttlMs, now, input.platform, input.conversationId, JSON.stringify(input.payload)]);
      return { duplicate: false, id: int(rows[0]!.id) };
    } catch (error) {
      if (error instanceof DuplicateRefused) return { duplicate: true };
      throw error;
    }
  }

  /** May be left unawaited: the event's later done mark (markDone, or a turn's commit) waits for it. */
  started(id: number): Promise<void> {
    const previous = this.starting.get(id) ?? Promise.resolve();
    const done: Promise<void> = previous.catch(() => undefined).then(() => this.db.query(STARTED, [id])).then(() => undefined);
    this.starting.set(id, done);
    const forget = () => {
      if (this.starting.get(id) === done) this.starting.delete(id);
    };
    done.then(forget, forget); // also keeps an unawaited failure from being an unhandled rejection
    return done;
  }

  /** Resolves once the started() calls of these events are answered (whatever the answer). */
  async afterStarts(ids: readonly number[]): Promise<void> {
    const pending = ids.map((id) => this.starting.get(id)).filter((p): p is Promise<void> => p !== undefined);
    if (pending.length > 0) await Promise.allSettled(pending);
  }

  async markDone(id: number): Promise<void> {
    await this.afterStarts([id]);
    await this.db.query(DONE, [id, this.clock.now()]);
  }

  async unfinished(platform: string): Promise<InboxEvent[]> {
    const { rows } = await this.db.query<InboxRow>(UNFINISHED, [platform]);
    return rows.map(eventOf);
  }
}

export const INBOX_COLUMNS = 'id, platform, conversation, payload, received_at, attempts';

export function eventOf(r: InboxRow): InboxEvent {
  return {
    id: int(r.id),
    platform: r.platform,
    conversationId: r.conversation,
    payload: JSON.parse(r.payload) as unknown,
    receivedAt: int(r.received_at),
    attempts: r.attempts,
  };
}
