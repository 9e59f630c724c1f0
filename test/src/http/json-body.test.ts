import { describe, expect, it } from 'vitest';
import { nestsDeeperThan, parseJsonBody } from '../../../src/http/json-body';

const nested = (depth: number, open = '{"a":', close = '}') => open.repeat(depth) + '1' + close.repeat(depth);

describe('parseJsonBody', () => {
  it('parses bodies up to the depth bound and refuses deeper ones with payload_too_deep', () => {
    expect(parseJsonBody(Buffer.from(nested(64)))).toHaveProperty('value');
    expect(parseJsonBody(Buffer.from(nested(65)))).toEqual({ refused: expect.objectContaining({ status: 400, code: 'payload_too_deep' }) });
    expect(parseJsonBody(Buffer.from(nested(5000, '[', ']')))).toEqual({ refused: expect.objectContaining({ code: 'payload_too_deep' }) });
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ text: '{{{{[[[[ \\" {{{{ "'.repeat(50) });
    expect(nestsDeeperThan(Buffer.from(text), 2)).toBe(false);
    expect(parseJsonBody(Buffer.from(text), 2)).toHaveProperty('value');
  });

  it('refuses what is not JSON with invalid_json', () => {
    expect(parseJsonBody(Buffer.from('{"a": '))).toEqual({ refused: expect.objectContaining({ code: 'invalid_json' }) });
  });
});
