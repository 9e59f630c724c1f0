import { describe, expect, it } from 'vitest';
import { createUrlToken, signNimchatPayload, verifyNimchatSignature, verifyUrlToken, webhookScope } from '../../../adapters/nimchat/verify';

const secret = 'bot-secret-xyz';
const body = Buffer.from('{"event":"message_created","content":"héllo"}', 'utf8');
const now = 1_781_690_568;

describe('verifyNimchatSignature', () => {
  const signature = signNimchatPayload(secret, String(now), body);
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
    const result = verifyNimchatSignature({ secret, rawBody: reserialised, signature: signNimchatPayload(secret, String(now), body), timestamp: String(now), nowSeconds: now });
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
