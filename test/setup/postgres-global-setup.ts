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
  const server = await startTestPostgres();
  project.provide('pgAdminUrl', server.url);
  return () => server.stop();
}
