/**
 * The PostgreSQL store's schema: created and migrated at start, on one connection holding a
 * session advisory lock, so replicas starting together migrate one after the other (the others wait,
 * then find the schema current). The version is a row of `handoff_schema`; each migration runs in
 * its own transaction with the version bump. Tables live in the connection's current schema
 * (search_path) and are prefixed `handoff_`, so the bot can share a database.
 */
import type pg from 'pg';

/** The advisory-lock key space of this package: (HANDOFF_LOCKS, n). 0x68616e64 is "hand". */
export const HANDOFF_LOCKS = 0x68616e64;
export const MIGRATION_LOCK = 1;
export const RETENTION_LOCK = 2;

/** How long a starting replica waits for another one's migration before giving up. */
const MIGRATION_LOCK_WAIT = '120s';

/** Each entry moves the schema one version up; never edit a released one, append. */
const MIGRATIONS: string[] = [
  `CREATE TABLE handoff_state (
     key text PRIMARY KEY,
     value text NOT NULL,
     etag bigint NOT NULL,
     updated_at bigint NOT NULL
   );
   CREATE INDEX handoff_state_updated ON handoff_state (updated_at);

   CREATE TABLE handoff_dedupe (
     key text PRIMARY KEY,
     expires_at bigint NOT NULL
   );
   CREATE INDEX handoff_dedupe_expires ON handoff_dedupe (expires_at);

   CREATE TABLE handoff_inbox (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     platform text NOT NULL,
     conversation text NOT NULL,
     payload text NOT NULL,
     received_at bigint NOT NULL,
     attempts integer NOT NULL DEFAULT 0,
     done_at bigint
   );
   CREATE INDEX handoff_inbox_unfinished ON handoff_inbox (platform, id) WHERE done_at IS NULL;
   CREATE INDEX handoff_inbox_unfinished_conversation ON handoff_inbox (conversation, id) WHERE done_at IS NULL;
   CREATE INDEX handoff_inbox_done ON handoff_inbox (done_at) WHERE done_at IS NOT NULL;

   CREATE TABLE handoff_outbox (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     platform text NOT NULL,
     conversation text NOT NULL,
     kind text NOT NULL,
     payload text NOT NULL,
     created_at bigint NOT NULL,
     attempts integer NOT NULL DEFAULT 0,
     next_attempt_at bigint NOT NULL,
     status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
     last_error text,
     finished_at bigint,
     claimed_by text,
     claimed_until timestamptz
   );
   CREATE INDEX handoff_outbox_due ON handoff_outbox (next_attempt_at, id) WHERE status = 'pending';
   CREATE INDEX handoff_outbox_pending_conversation ON handoff_outbox (conversation, id) WHERE status = 'pending';
   CREATE INDEX handoff_outbox_finished ON handoff_outbox (finished_at) WHERE status <> 'pending';

   CREATE TABLE handoff_leases (
     conversation text PRIMARY KEY,
     holder text NOT NULL,
     expires_at timestamptz NOT NULL
   );

   CREATE TABLE handoff_health (id integer PRIMARY KEY CHECK (id = 1), checked_at bigint NOT NULL);
   INSERT INTO handoff_health (id, checked_at) VALUES (1, 0);

   -- Aborts the statement that calls it (everything it wrote is rolled back) with a SQLSTATE of ours:
   -- how one statement refuses a duplicate or a stale eTag without a round trip more.
   CREATE FUNCTION handoff_abort(code text, message text) RETURNS boolean LANGUAGE plpgsql AS $$
   BEGIN
     RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
   END
   $$;`,
  // Per-conversation timers (the no-answer ladder): one row per key, claimed when due (SKIP LOCKED across replicas).
  `CREATE TABLE handoff_timers (
     key text PRIMARY KEY,
     channel text NOT NULL,
     conversation text NOT NULL,
     kind text NOT NULL,
     payload text NOT NULL,
     due_at bigint NOT NULL,
     attempts integer NOT NULL DEFAULT 0,
     claim_token text,
     claimed_until bigint,
     created_at bigint NOT NULL
   );
   CREATE INDEX handoff_timers_due ON handoff_timers (due_at);`,
  // The conversation timeline and its per-conversation summary (the console), and set-aside events.
  // handoff_record_steps(steps) records steps in order, each an insert plus the summary's fold, so one
  // statement (an accept, a turn's commit, an outbox mark) can carry its steps with it.
  `CREATE TABLE handoff_timeline (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     conversation text NOT NULL,
     platform text NOT NULL,
     kind text NOT NULL,
     at bigint NOT NULL,
     duration_ms double precision,
     owner text,
     role text,
     text text,
     detail text NOT NULL
   );
   CREATE INDEX handoff_timeline_conversation ON handoff_timeline (conversation, id);
   CREATE INDEX handoff_timeline_at ON handoff_timeline (at);
   CREATE TABLE handoff_conversation_summary (
     conversation text PRIMARY KEY,
     platform text NOT NULL,
     first_at bigint NOT NULL,
     last_at bigint NOT NULL,
     owner text NOT NULL,
     owner_since bigint NOT NULL,
     last_role text,
     last_text text,
     last_message_at bigint,
     waiting_since bigint
   );
   CREATE INDEX handoff_conversation_summary_last ON handoff_conversation_summary (last_at);
   ALTER TABLE handoff_inbox ADD COLUMN set_aside_at bigint;
   ALTER TABLE handoff_inbox ADD COLUMN set_aside_reason text;
   CREATE INDEX handoff_inbox_set_aside ON handoff_inbox (set_aside_at) WHERE set_aside_at IS NOT NULL;
   ALTER TABLE handoff_outbox DROP CONSTRAINT handoff_outbox_status_check;
   ALTER TABLE handoff_outbox ADD CONSTRAINT handoff_outbox_status_check CHECK (status IN ('pending', 'done', 'failed', 'discarded'));
   CREATE FUNCTION handoff_record_steps(steps jsonb, now_ms bigint) RETURNS integer LANGUAGE plpgsql AS $$
   DECLARE
     s jsonb;
     n integer := 0;
     at_ms bigint;
     own text;
     rol text;
     txt text;
   BEGIN
     IF steps IS NULL THEN RETURN 0; END IF;
     FOR s IN SELECT e.value FROM jsonb_array_elements(steps) WITH ORDINALITY AS e(value, ordinality) ORDER BY e.ordinality LOOP
       at_ms := coalesce((s->>'at')::bigint, now_ms);
       own := s->>'owner';
       rol := s->'message'->>'role';
       txt := s->'message'->>'text';
       INSERT INTO handoff_timeline (conversation, platform, kind, at, duration_ms, owner, role, text, detail)
       VALUES (s->>'conversationId', s->>'platform', s->>'kind', at_ms, (s->>'durationMs')::double precision, own, rol, txt, coalesce(s->'detail', '{}'::jsonb)::text);
       IF own IS NOT NULL OR rol IS NOT NULL THEN
         INSERT INTO handoff_conversation_summary AS c (conversation, platform, first_at, last_at, owner, owner_since, last_role, last_text, last_message_at, waiting_since)
         VALUES (s->>'conversationId', s->>'platform', at_ms, at_ms, coalesce(own, 'bot'), at_ms, rol, txt, CASE WHEN rol IS NULL THEN NULL ELSE at_ms END,
                 CASE WHEN coalesce(own, 'bot') <> 'bot' THEN at_ms ELSE NULL END)
         ON CONFLICT (conversation) DO UPDATE SET
           last_at = greatest(c.last_at, at_ms),
           owner_since = CASE WHEN own IS NOT NULL AND own <> c.owner THEN at_ms ELSE c.owner_since END,
           waiting_since = CASE
             WHEN coalesce(own, c.owner) = 'bot' THEN NULL
             WHEN own IS NOT NULL AND own <> c.owner THEN at_ms
             WHEN rol = 'agent' THEN NULL
             WHEN rol = 'customer' AND c.waiting_since IS NULL THEN at_ms
             ELSE c.waiting_since END,
           owner = coalesce(own, c.owner),
           last_role = coalesce(rol, c.last_role),
           last_text = CASE WHEN rol IS NULL THEN c.last_text ELSE txt END,
           last_message_at = CASE WHEN rol IS NULL THEN c.last_message_at ELSE at_ms END;
       END IF;
       n := n + 1;
     END LOOP;
     RETURN n;
   END
   $$;`,
  // What a done action created on the platform (a message id): a look before repeating starts after it.
  `ALTER TABLE handoff_outbox ADD COLUMN result text;`,
  // The platforms' echoes of the bot's messages, kept for a look before repeating (any replica gets them).
  `CREATE TABLE handoff_echoes (
     platform text NOT NULL,
     conversation text NOT NULL,
     message_id text NOT NULL,
     fingerprint text NOT NULL,
     at bigint NOT NULL,
     PRIMARY KEY (platform, conversation, message_id)
   );
   CREATE INDEX handoff_echoes_at ON handoff_echoes (at);`,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema to PG_SCHEMA_VERSION; resolves with it. Throws when the database is newer than this code. */
export async function migratePostgres(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection that breaks while it is ours fails the next statement (and so the start), not the process.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    // Migrations may take long; waiting for another replica's is bounded by the lock timeout instead.
    await client.query(`SET statement_timeout = 0; SET lock_timeout = '${MIGRATION_LOCK_WAIT}'`);
    await client.query('SELECT pg_advisory_lock($1, $2)', [HANDOFF_LOCKS, MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS handoff_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)');
    await client.query('INSERT INTO handoff_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING');
    const current = Number((await client.query<{ version: number }>('SELECT version FROM handoff_schema WHERE id = 1')).rows[0]!.version);
    if (current > MIGRATIONS.length) {
      throw new Error(`the database has schema version ${current}, newer than this version of the bot understands (${MIGRATIONS.length})`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v]!);
        await client.query('UPDATE handoff_schema SET version = $1 WHERE id = 1', [v + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
    await client.query('SELECT pg_advisory_unlock($1, $2)', [HANDOFF_LOCKS, MIGRATION_LOCK]);
    return MIGRATIONS.length;
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    // The session's settings (and, after a failure, its lock) go with it: the connection is not reused.
    client.off('error', ignore);
    client.release(broken ?? true);
  }
}
