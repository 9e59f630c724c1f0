import fs from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// `npm run test:unit`: the files that need no database, start no child process and drive no browser.
// Found by what they use: the test PostgreSQL (test/helpers/postgres, the store engines, the provided
// pgAdminUrl), a child process (spawn, execFile, the CLI and serve children), the browser; the rest run in `npm test`.
const NEEDS_DATABASE = /helpers\/postgres|helpers\/store-engines|pgAdminUrl/;
const STARTS_PROCESSES = /\b(spawn|spawnSync|execFile|execFileSync)\(|cli-child|serve-child|playwright/;
const SLOW = ['test/src/restart.test.ts'];

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(file);
    return entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

const excluded = testFiles('test').filter((file) => {
  const text = fs.readFileSync(file, 'utf8');
  return SLOW.includes(file) || NEEDS_DATABASE.test(text) || STARTS_PROCESSES.test(text);
});

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['node_modules/**', ...excluded],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: 'forks',
    // The files share each worker's loaded modules (botbuilder, zod, restify load once per worker, not
    // once per file): most of a file's time was loading them.
    isolate: false,
  },
});
