/** The writer thread's plain .cjs reaches dist/ next to the compiled writer, where it looks for it. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WRITER_THREAD_FILE } from '../../../src/storage/sqlite-writer';

const ROOT = path.resolve(__dirname, '../../..');

describe('build', () => {
  it('copies the writer thread file next to the compiled writer module', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-build-'));
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'scripts/copy-build-assets.mjs'), out]);
      const relative = path.relative(ROOT, WRITER_THREAD_FILE); // src/storage/sqlite-writer-worker.cjs
      expect(fs.readFileSync(path.join(out, relative), 'utf8')).toBe(fs.readFileSync(WRITER_THREAD_FILE, 'utf8'));
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(pkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json.*&& node scripts\/copy-build-assets\.mjs/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
