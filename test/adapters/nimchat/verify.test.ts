import { describe, expect, it } from 'vitest';
import { createUrlToken, signNimchatPayload, verifyNimchatSignature, verifyUrlToken, webhookScope } from '../../../adapters/nimchat/verify';

const secret = 'bot-secret-xyz';
const body = Buffer.from('{"event":"message_created","content":"héllo"}', 'utf8');
const now = 1_781_690_568;
// Computed once outside this code (openssl dgst -sha256 -hmac bot-secret-xyz over
// `1781690568.` + the body's UTF-8 bytes) and pasted: a signature the adapter computed itself
// would follow any change to its format.
const signature = 'sha256=33eed3174cf3a210fc22374b3d83ea6e82f313cc39cb50ee3d482f7855ca2a95';

/** `text` with the byte at `index` changed (the last byte when -1). */
function flipByte(text: string | Buffer, index = -1): Buffer {
  const bytes = Buffer.from(text);
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes;
}

describe('Nimchat signature: fixed vector', () => {
  const check = (over: Partial<{ rawBody: Buffer; signature: string; timestamp: string }>) =>
    verifyNimchatSignature({ secret, rawBody: body, signature, timestamp: String(now), nowSeconds: now, ...over });

  it('the adapter signs and accepts the vector', () => {
    expect(signNimchatPayload(secret, String(now), body)).toBe(signature);
    expect(check({})).toEqual({ ok: true });
  });

  it('refuses a one-byte change to the body, the timestamp, the signature or the secret', () => {
    expect(check({ rawBody: flipByte(body) })).toMatchObject({ ok: false, code: 'nimchat_signature_invalid' });
    // A byte inside the two-byte "é".
    expect(check({ rawBody: flipByte(body, body.indexOf(0xa9)) })).toMatchObject({ ok: false, code: 'nimchat_signature_invalid' });
    expect(check({ timestamp: String(now + 1) })).toMatchObject({ ok: false, code: 'nimchat_signature_invalid' });
    expect(check({ signature: flipByte(signature).toString() })).toMatchObject({ ok: false, code: 'nimchat_signature_invalid' });
    expect(check({ signature: flipByte(signature, 'sha256='.length).toString() })).toMatchObject({ ok: false, code: 'nimchat_signature_invalid' });
    expect(verifyNimchatSignature({ secret: 'bot-secret-xyZ', rawBody: body, signature, timestamp: String(now), nowSeconds: now }).ok).toBe(false);
  });
});

describe('verifyNimchatSignature', () => {
  it.each([
    ['valid', signature, String(now), now, true, undefined],
    ['valid at the edge of the window', signature, String(now), now + 300, true, undefined],
    ['missing signature', undefined, String(now), now, false, 'nimchat_signature_missing'],
    ['missing timestamp', signature, undefined, now, false, 'nimchat_signature_missing'],
    ['wrong signature', signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')), String(now), now, false, 'nimchat_signature_invalid'],
    ['no sha256= prefix', signature.slice(7), String(now), now, false, 'nimchat_signature_invalid'],
    ['stale timestamp', signature, String(now), now + 301, false, 'nimchat_signature_stale'],
    ['future timestamp', signature, String(now), now - 301, false, 'nimchat_signature_stale'],
    ['garbage timestamp', signature, 'yesterday', now, false, 'nimchat_signature_invalid'],
  ])('%s', (_name, sig, ts, nowSeconds, ok, code) => {
    const result = verifyNimchatSignature({ secret, rawBody: body, signature: sig, timestamp: ts, nowSeconds });
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.code).toBe(code);
  });

  it('is computed over the exact bytes (a re-serialised body fails)', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString())).replace(':', ': '));
    const result = verifyNimchatSignature({ secret, rawBody: reserialised, signature, timestamp: String(now), nowSeconds: now });
    expect(result.ok).toBe(false);
  });
});

describe('URL token', () => {
  it('round-trips the claims, is deterministic, and rejects other secrets or none', () => {
    const token = createUrlToken('a-long-url-token-secret', { account: 3, inbox: 7 });
    expect(createUrlToken('a-long-url-token-secret', { account: 3, inbox: 7 })).toBe(token);
    expect(verifyUrlToken('a-long-url-token-secret', token)).toEqual({ ok: true, claims: { account: 3, inbox: 7 } });
    expect(verifyUrlToken('another-long-secret-value', token).ok).toBe(false);
    expect(verifyUrlToken('a-long-url-token-secret', undefined).ok).toBe(false);
  });

  it('reads the scope of message and conversation payloads', () => {
    expect(webhookScope({ account: { id: 1 }, inbox: { id: 2 } })).toEqual({ account: 1, inbox: 2 });
    expect(webhookScope({ account: { id: 1 }, inbox_id: 4 })).toEqual({ account: 1, inbox: 4 });
  });
});
