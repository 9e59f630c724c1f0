/**
 * What only the PostgreSQL store has: the schema migrated under a lock by replicas starting together,
 * the outbox claim for several replicas (SKIP LOCKED, one conversation's actions in order, expiring
 * claims), retention on one replica at a time, the pool's settings, and a password that never shows.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/cli/doctor';
import { silentLogger } from '../../../src/log';
import { createPostgresStores, type PostgresStores, type PostgresStoresOptions } from '../../../src/storage/postgres-stores';
import { HANDOFF_LOCKS, PG_SCHEMA_VERSION, RETENTION_LOCK } from '../../../src/storage/postgres-schema';
import { createTestDatabase, dropTestDatabases, pgAdminUrl } from '../../helpers/postgres';

const opened: PostgresStores[] = [];
const clients: pg.Client[] = [];
afterAll(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  await dropTestDatabases();
});

async function stores(url: string, options: PostgresStoresOptions = {}): Promise<PostgresStores> {
  const s = createPostgresStores(url, silentLogger, options);
  opened.push(s);
  await s.open();
  return s;
}

/** A connection of its own (outside any pool), e.g. to hold a lock in an open transaction. */
async function connection(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  clients.push(client);
  await client.connect();
  return client;
}

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const action = (conversationId: string, n = 0) => ({ platform: 'p', conversationId, kind: 'reply', payload: { n } });

describe('schema', () => {
  it('replicas starting together on an empty database: one migrates, the others wait and find it done', async () => {
    const url = await createTestDatabase();
    const replicas = Array.from({ length: 6 }, () => createPostgresStores(url, silentLogger));
    opened.push(...replicas);
    await Promise.all(replicas.map((r) => r.open()));
    const { rows } = await replicas[0]!.database.pool.query('SELECT version FROM handoff_schema');
    expect(rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
    await Promise.all(replicas.map((r, i) => r.storage.write({ [`from/${i}`]: { i } })));
    expect(Object.keys(await replicas[5]!.storage.read(replicas.map((_, i) => `from/${i}`)))).toHaveLength(6);
  });

  it('a database migrated by a newer version of the bot is refused with a clear error', async () => {
    const url = await createTestDatabase();
    const first = await stores(url);
    await first.database.pool.query('UPDATE handoff_schema SET version = 99');
    const later = createPostgresStores(url, silentLogger);
    opened.push(later);
    await expect(later.open()).rejects.toMatchObject({ code: 'storage_unavailable', message: expect.stringMatching(/schema version 99, newer than this version of the bot understands/) });
  });
});

describe('outbox attempts across replicas', () => {
  it('an attempt holds its action: a discard through another replica is refused (in flight) until the attempt is marked', async () => {
    const url = await createTestDatabase();
    const a = await stores(url, { replicaId: 'A' });
    const b = await stores(url, { replicaId: 'B' });
    const id = await a.outbox.add(action('c'));
    expect(await a.outbox.attempt(id)).toBe(1);
    expect(await b.outbox.discard(id, 'given up')).toBe('in_flight');
    expect(await b.outbox.get(id)).toMatchObject({ status: 'pending' });
    expect(await a.outbox.revive(id, Date.now())).toBeDefined(); // an operator's retry does not end the attempt
    expect(await b.outbox.discard(id, 'given up')).toBe('in_flight');
    expect(await a.outbox.markRetry(id, Date.now() + 60_000, 'HTTP 503')).toBe(true); // the attempt ends
    expect(await b.outbox.discard(id, 'given up')).toBe('discarded');
    expect(await a.outbox.attempt(id)).toBeUndefined();
    const other = await a.outbox.add(action('d'));
    expect(await a.outbox.attempt(other)).toBe(1);
    await a.outbox.markDone(other);
    expect(await b.outbox.discard(other, 'given up')).toBe('not_found');
  });
});

describe('retention on one replica at a time', () => {
  it('a pass finds another replica running one and skips; once it is over, a pass deletes', async () => {
    let now = 1_000_000_000;
    const clock = { now: () => now, sleep: async () => undefined, random: () => 0.5 };
    const url = await createTestDatabase();
    const s = await stores(url, { clock, retention: { eventsMs: 3600_000 } });
    const r = await s.inbox.accept({ platform: 'p', conversationId: 'c', dedupeKeys: ['k'], ttlMs: 1000, payload: {} });
    if (r.duplicate) throw new Error('unexpected duplicate');
    await s.inbox.markDone(r.id);
    now += 2 * 3600_000;
    const replica = await connection(url);
    await replica.query('BEGIN');
    expect((await replica.query('SELECT pg_try_advisory_xact_lock($1, $2) AS locked', [HANDOFF_LOCKS, RETENTION_LOCK])).rows[0].locked).toBe(true);
    expect(await s.prune()).toEqual({ inbox: 0, outbox: 0, dedupe: 0, transcripts: 0, state: 0 });
    await replica.query('COMMIT');
    expect(await s.prune()).toMatchObject({ inbox: 1, dedupe: 1 });
  });
});

describe('connection settings and secrets', () => {
  it('the statement timeout and pool size are applied', async () => {
    const s = await stores(await createTestDatabase(), { pool: { statementTimeoutMs: 200, poolSize: 3 } });
    expect(s.database.pool.options.max).toBe(3);
    await expect(s.database.query({ name: 'sleep', text: 'SELECT pg_sleep(2)' })).rejects.toMatchObject({ code: 'storage_write_failed', message: expect.stringMatching(/57014.*statement timeout/) });
    expect(await s.checkWritable()).toBeUndefined();
  });

  it('an unreachable server or a wrong password: a clear error naming the store, never the password', async () => {
    const password = 'Sup3r-Secret-Pw';
    const port = await closedPort();
    const down = createPostgresStores(`postgres://bot:${password}@127.0.0.1:${port}/handoff`, silentLogger, { pool: { connectTimeoutMs: 2000 } });
    opened.push(down);
    expect(down.describe).toBe(`postgres://bot@127.0.0.1:${port}/handoff`);
    const refused = await down.open().then(() => undefined, (error: Error & { code?: string }) => error);
    expect(refused).toMatchObject({ code: 'storage_unavailable', message: expect.stringContaining(`cannot use the PostgreSQL store at postgres://bot@127.0.0.1:${port}/handoff`) });
    expect(refused!.message).toMatch(/ECONNREFUSED/);
    expect(await down.checkWritable()).toMatch(/cannot be written/);

    const admin = new URL(pgAdminUrl());
    admin.password = password;
    const wrong = createPostgresStores(admin.toString(), silentLogger);
    opened.push(wrong);
    const denied = await wrong.open().then(() => undefined, (error: Error) => error);
    expect(denied?.message).toMatch(/password authentication failed/);
    for (const text of [refused!.message, denied!.message, down.describe, wrong.describe, String(refused!.stack), String(denied!.stack)]) expect(text).not.toContain(password);
  });

  it('handoff doctor checks the database and shows the URL without its password', async () => {
    const url = await createTestDatabase();
    const ok = await runChecks({ STORAGE_URL: url });
    const line = ok.find((c) => c.text.startsWith('STORAGE_URL='));
    expect(line).toMatchObject({ verdict: 'ok', text: expect.stringMatching(/the database answers, its schema is at version \d+ and it can be written/) });
    const password = new URL(url).password;
    expect(line!.text).not.toContain(password);
    const bad = new URL(url);
    bad.password = 'not-the-password';
    const failed = await runChecks({ STORAGE_URL: bad.toString() });
    const failure = failed.find((c) => c.verdict === 'fail');
    expect(failure?.text).toMatch(/cannot use the PostgreSQL store at postgres:\/\/postgres@.*password authentication failed/);
    expect(failure?.text).not.toContain('not-the-password');
  });
});
