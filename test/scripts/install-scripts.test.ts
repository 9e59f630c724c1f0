/**
 * npm runs a dependency's install script only when package.json's `allowScripts` approves it, and
 * warns about every one it does not cover: each package of the lockfile with an install script has
 * a decision (allowed or denied), so `npm install` and `npm ci` run without that warning.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

describe('install scripts', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
  const withScripts = Object.entries(lock.packages)
    .filter(([key, p]) => key !== '' && p.hasInstallScript)
    .map(([key]) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));

  it('every dependency with an install script is allowed or denied in allowScripts', () => {
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => typeof pkg.allowScripts[name] !== 'boolean')).toEqual([]);
  });

  it("restify's optional DTrace probes (dtrace-provider) are denied: Linux has no DTrace, restify runs without them", () => {
    expect(withScripts).toContain('dtrace-provider');
    expect(pkg.allowScripts['dtrace-provider']).toBe(false);
    expect(pkg.allowScripts['better-sqlite3']).toBe(true);
  });
});
