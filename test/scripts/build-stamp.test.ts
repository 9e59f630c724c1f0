/**
 * `npm start` builds only when dist/ is not the build of the current sources: scripts/build-stamp.mjs
 * against a throwaway project whose "build" counts its runs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const STAMP_SCRIPT = path.join(ROOT, 'scripts/build-stamp.mjs');
/** Every fixture file starts with this mtime (seconds), so a test can put one back exactly. */
const FIXED_MTIME = 1_500_000_000;

describe('build stamp: npm start rebuilds only when the sources changed', () => {
  let dir: string;
  const builds = () => (fs.existsSync(path.join(dir, 'builds.log')) ? fs.readFileSync(path.join(dir, 'builds.log'), 'utf8').trim().split('\n').length : 0);
  const ensure = () => {
    const run = spawnSync(process.execPath, [STAMP_SCRIPT, 'ensure'], { cwd: dir, encoding: 'utf8' });
    return { status: run.status, out: `${run.stdout}${run.stderr}` };
  };
  /** Moves a file's mtime to a fixed moment (no wall clock involved). */
  const touch = (file: string, seconds: number) => fs.utimesSync(path.join(dir, file), seconds, seconds);
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  const fakeBuild = (fail = false) =>
    [
      `node ${JSON.stringify(STAMP_SCRIPT)} begin`,
      `node -e "const fs=require('fs');fs.appendFileSync('builds.log','x\\n');fs.mkdirSync('dist/src/cli',{recursive:true});fs.writeFileSync('dist/src/cli/main.js','');process.exit(${fail ? 1 : 0})"`,
      `node ${JSON.stringify(STAMP_SCRIPT)} done`,
    ].join(' && ');
  const setBuild = (fail = false) => write('package.json', JSON.stringify({ name: 'stamp-fixture', private: true, scripts: { build: fakeBuild(fail) } }, null, 2));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-stamp-'));
    setBuild();
    write('tsconfig.json', '{}');
    write('src/a.ts', 'export const a = 1;\n');
    write('adapters/x/b.ts', 'export const b = 2;\n');
    write('dialogs/c.ts', 'export const c = 3;\n');
    write('src/storage/worker.cjs', '// copied asset\n');
    for (const file of ['package.json', 'tsconfig.json', 'src/a.ts', 'adapters/x/b.ts', 'dialogs/c.ts', 'src/storage/worker.cjs']) touch(file, FIXED_MTIME);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds the first time, then starts from dist/ without building', () => {
    const first = ensure();
    expect(first.status).toBe(0);
    expect(first.out).toContain('Building (no finished build in dist/)');
    expect(builds()).toBe(1);
    for (let i = 0; i < 2; i++) {
      const again = ensure();
      expect(again.status).toBe(0);
      expect(again.out).toContain('not rebuilding');
    }
    expect(builds()).toBe(1);
  });

  it.each([
    ['a source file edited', () => touch('src/a.ts', 1_000_000_000)],
    [
      'a file in adapters/ rewritten with its old mtime kept',
      () => {
        fs.appendFileSync(path.join(dir, 'adapters/x/b.ts'), '// more\n');
        touch('adapters/x/b.ts', FIXED_MTIME);
      },
    ],
    ['a file added to dialogs/', () => write('dialogs/new.ts', 'export {};\n')],
    ['a file removed', () => fs.rmSync(path.join(dir, 'dialogs/c.ts'))],
    ['a .cjs asset changed', () => touch('src/storage/worker.cjs', 1_000_000_000)],
    ['tsconfig changed', () => touch('tsconfig.json', 1_000_000_000)],
    ['a tsconfig added', () => write('tsconfig.build.json', '{}')],
    ['package.json changed', () => touch('package.json', 1_000_000_000)],
    ['dist/ removed', () => fs.rmSync(path.join(dir, 'dist'), { recursive: true })],
  ])('rebuilds after %s', (_what, change) => {
    ensure();
    expect(builds()).toBe(1);
    change();
    const after = ensure();
    expect(after.status).toBe(0);
    expect(after.out).toContain('Building (');
    expect(builds()).toBe(2);
    ensure();
    expect(builds()).toBe(2);
  });

  it('a build that fails leaves no stamp: start fails, and the next start builds again', () => {
    setBuild(true);
    const failed = ensure();
    expect(failed.status).not.toBe(0);
    expect(fs.existsSync(path.join(dir, 'dist/.build-stamp'))).toBe(false);
    setBuild(false);
    ensure();
    expect(builds()).toBe(2);
    expect(ensure().out).toContain('not rebuilding');
  });

  it('is what npm start and npm run build use in this project', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prestart).toBe('node scripts/build-stamp.mjs ensure');
    expect(pkg.scripts.build).toMatch(/^node scripts\/build-stamp\.mjs begin && .*tsc -p tsconfig\.build\.json.* && node scripts\/build-stamp\.mjs done$/);
    expect(pkg.scripts.start).toBe('node dist/src/cli/main.js serve');
  });
});
