/**
 * WOZTELL webhook authenticity, pure: `X-Woztell-Signature` is the base64 HMAC-SHA256 of the raw body
 * keyed with the channel secret. A hex digest or a `sha256=` prefix is accepted too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type WoztellSignatureCheck =
  | { ok: true }
  | { ok: false; code: 'woztell_signature_missing' | 'woztell_signature_invalid'; message: string };

/** The signature WOZTELL sends: base64 HMAC-SHA256(secret, raw body). */
export function signWoztellPayload(secret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

/** Compares the digest bytes in constant time, whatever encoding the header used. */
export function verifyWoztellSignature(secret: string, rawBody: Buffer, signature: string | undefined): WoztellSignatureCheck {
  if (!signature || !signature.trim()) {
    return { ok: false, code: 'woztell_signature_missing', message: 'X-Woztell-Signature is required' };
  }
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = decodeDigest(signature.trim().replace(/^sha256=/i, ''));
  if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, code: 'woztell_signature_invalid', message: 'the signature does not match the body' };
  }
  return { ok: true };
}

function decodeDigest(text: string): Buffer | undefined {
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return undefined;
}
