/**
 * vitest globalSetup: one PostgreSQL server for the whole run, its superuser URL provided to the test
 * files as `pgAdminUrl` (each file creates databases of its own there: test/helpers/postgres.ts).
 * `PG_TEST_URL` names an existing server instead (a user allowed to CREATE DATABASE); otherwise the
 * embedded server is started here and stopped when the run ends.
 */
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './embedded-postgres-server';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.PG_TEST_URL?.trim();
  if (given) {
    project.provide('pgAdminUrl', given);
    return undefined;
  }
  // Said here: vitest ends the run with exit code 1 and no message when a global setup throws.
  const server = await startTestPostgres().catch((error: unknown) => {
    process.stderr.write(`\nThe test PostgreSQL server could not be started (set PG_TEST_URL to use another one):\n${error instanceof Error ? error.message : String(error)}\n`);
    throw error;
  });
  project.provide('pgAdminUrl', server.url);
  return () => server.stop();
}
