/**
 * Databases of one test file on the run's PostgreSQL server (test/setup/postgres-global-setup.ts):
 * each call creates an empty database, so test files (and tests) never share tables and can run in
 * parallel; `dropTestDatabases` removes this file's databases (call it in afterAll, after closing the stores).
 */
import crypto from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

const created: string[] = [];

/** The server's superuser URL (from PG_TEST_URL or the embedded server). */
export function pgAdminUrl(): string {
  return inject('pgAdminUrl');
}

/** A new, empty database; resolves with its URL. */
export async function createTestDatabase(): Promise<string> {
  const name = `handoff_test_${process.pid}_${crypto.randomBytes(5).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  created.push(name);
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropTestDatabases(): Promise<void> {
  const names = created.splice(0);
  if (names.length === 0) return;
  await admin(async (client) => {
    for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  });
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
