/**
 * The error-code registry: the compiler holds every thrown or answered code to it (HandoffError,
 * refusals and error bodies are typed with it); this test holds it to the sources (no code listed
 * that nothing uses) and to the HTTP reference (each code an endpoint answers with is documented
 * with its status).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/error-codes';

const ROOT = path.resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'client' ? [] : sources(rel);
    return /\.ts$/.test(entry.name) && rel !== path.join('src', 'error-codes.ts') ? [fs.readFileSync(path.join(ROOT, rel), 'utf8')] : [];
  });
}

describe('error codes', () => {
  const text = ['src', 'adapters', 'dialogs'].flatMap(sources).join('\n');

  it('every registered code is used by the sources (a code made by appending _too_large counts through its base)', () => {
    const unused = Object.keys(ERROR_CODES).filter((code) => {
      if (text.includes(`'${code}'`)) return false;
      const base = code.endsWith('_too_large') ? code.slice(0, -'_too_large'.length) : undefined;
      return !(base && text.includes(`'${base}'`) && text.includes('_too_large`'));
    });
    expect(unused).toEqual([]);
  });

  it('docs/http.md lists every code an endpoint answers with, with its status', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/http.md'), 'utf8');
    const rows = new Map<string, number>();
    for (const match of doc.matchAll(/^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d{3})\s*\|/gm)) rows.set(match[1]!, Number(match[2]));
    const expected = Object.entries(ERROR_CODES).filter(([, info]) => info.status !== undefined);
    expect(expected.length).toBeGreaterThan(20);
    const missing = expected.filter(([code, info]) => rows.get(code) !== info.status).map(([code, info]) => `${code} ${info.status} (documented: ${rows.get(code) ?? 'absent'})`);
    expect(missing).toEqual([]);
    const unknown = [...rows.keys()].filter((code) => !(code in ERROR_CODES));
    expect(unknown).toEqual([]);
  });
});
