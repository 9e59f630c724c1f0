/** What the console sends is scrubbed of the configured secrets, however they are escaped in JSON. */
import { describe, expect, it } from 'vitest';
import { redactJson, redactSecrets } from '../../../src/console/redact-secrets';

describe('redactJson', () => {
  it('replaces every secret inside JSON strings, also one holding quotes and backslashes, and the text stays JSON', () => {
    const secrets = ['plain-token-0123456789', 'we"ird\\secret-xyz'];
    const text = JSON.stringify({ error: `401 for plain-token-0123456789 at /x?t=plain-token-0123456789`, nested: [{ why: 'we"ird\\secret-xyz leaked' }] });
    const out = redactJson(text, secrets);
    expect(JSON.parse(out)).toEqual({ error: '401 for [redacted] at /x?t=[redacted]', nested: [{ why: '[redacted] leaked' }] });
    expect(redactJson('{"a":"nothing here"}', secrets)).toBe('{"a":"nothing here"}');
  });
});

describe('redactSecrets', () => {
  it('walks a value (error messages)', () => {
    expect(redactSecrets({ m: 'x plain-token-0123456789', n: 3 }, ['plain-token-0123456789'])).toEqual({ m: 'x [redacted]', n: 3 });
  });
});
