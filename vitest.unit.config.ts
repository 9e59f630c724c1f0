import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// `npm run test:unit`: the files that need no database, no child processes and no package install,
// in seconds. A file needs the database when it reaches the test PostgreSQL (test/helpers/postgres,
// the store engines, the provided pgAdminUrl); those and the slow end-to-end files run in `npm test`.
const NEEDS_DATABASE = /helpers\/postgres|helpers\/store-engines|pgAdminUrl/;
const SLOW = ['test/src/crash.test.ts', 'test/src/replicas.test.ts', 'test/src/restart.test.ts', 'test/src/hosting/own-bot-package.test.ts', 'test/src/console/console-browser.test.ts', 'test/docs/snippets.test.ts'];

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(file);
    return entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

const excluded = testFiles('test').filter((file) => SLOW.includes(file) || NEEDS_DATABASE.test(fs.readFileSync(file, 'utf8')));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', ...excluded],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: 'forks',
  },
});
