/**
 * Inbenta hook signature: `X-Hook-Signature` carries the registered secret itself, on the
 * challenge GET and on deliveries. No digest, no timestamp: a fixed vector is the literal pair.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hookSignatureMatches } from '../../../adapters/inbenta/verify';

const secret = 'hook-secret-Qx7é';
const header = 'hook-secret-Qx7é';

/** `text` with the byte at `index` of its UTF-8 form changed. */
function flipByte(text: string, index: number): string {
  const bytes = Buffer.from(text, 'utf8');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('utf8');
}

describe('Inbenta hook signature: fixed vector', () => {
  it('accepts the secret as sent', () => {
    expect(hookSignatureMatches(secret, header)).toBe(true);
  });

  it('refuses a one-byte change anywhere, a longer or shorter value, and none', () => {
    const length = Buffer.byteLength(header, 'utf8');
    for (const index of [0, 7, length - 3, length - 1]) expect(hookSignatureMatches(secret, flipByte(header, index))).toBe(false);
    for (const bad of [`${header} `, ` ${header}`, header.slice(0, -1), `${header}${header}`, '', undefined]) {
      expect(hookSignatureMatches(secret, bad)).toBe(false);
    }
  });

  it('is the secret, not a digest of it or of a body', () => {
    const body = '[{"item":"ticket","action":"add"}]';
    for (const digest of [createHmac('sha256', secret).update(body).digest('hex'), createHmac('sha256', secret).update(body).digest('base64')]) {
      expect(hookSignatureMatches(secret, digest)).toBe(false);
    }
  });
});
