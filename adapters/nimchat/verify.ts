/**
 * Webhook authenticity checks, pure: the HMAC signature of Nimchat ≥4.13, and the URL token that
 * protects servers which sign nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const SIGNATURE_WINDOW_SECONDS = 300;

export type SignatureCheck =
  | { ok: true }
  | { ok: false; code: 'nimchat_signature_missing' | 'nimchat_signature_invalid' | 'nimchat_signature_stale'; message: string };

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. */
export function signNimchatPayload(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/** Checks `X-Chatwoot-Signature` over the exact bytes received, in constant time, within ±300 s. */
export function verifyNimchatSignature(input: {
  secret: string;
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  nowSeconds: number;
}): SignatureCheck {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) {
    return { ok: false, code: 'nimchat_signature_missing', message: 'X-Chatwoot-Signature and X-Chatwoot-Timestamp are required' };
  }
  if (!/^\d{1,12}$/.test(timestamp.trim())) {
    return { ok: false, code: 'nimchat_signature_invalid', message: 'X-Chatwoot-Timestamp is not a unix time' };
  }
  if (Math.abs(input.nowSeconds - Number(timestamp)) > SIGNATURE_WINDOW_SECONDS) {
    return { ok: false, code: 'nimchat_signature_stale', message: `the signature timestamp is more than ${SIGNATURE_WINDOW_SECONDS} s away` };
  }
  const expected = Buffer.from(signNimchatPayload(input.secret, timestamp.trim(), input.rawBody));
  const given = Buffer.from(signature.trim());
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, code: 'nimchat_signature_invalid', message: 'the signature does not match the body' };
  }
  return { ok: true };
}

export interface UrlTokenClaims {
  account: number;
  inbox?: number;
}

/** The JWT `register` puts in the outgoing_url (`?token=`): HS256, claims account and inbox. */
export function createUrlToken(secret: string, claims: UrlTokenClaims): string {
  return jwt.sign({ account: claims.account, ...(claims.inbox !== undefined ? { inbox: claims.inbox } : {}) }, secret, {
    algorithm: 'HS256',
    issuer: 'botbuilder-handoff-adapters',
    // No iat: the same claims give the same URL, so registering again changes nothing.
    noTimestamp: true,
  });
}

export type UrlTokenCheck = { ok: true; claims: UrlTokenClaims } | { ok: false; code: 'nimchat_url_token_invalid'; message: string };

export function verifyUrlToken(secret: string, token: string | undefined): UrlTokenCheck {
  if (!token) return { ok: false, code: 'nimchat_url_token_invalid', message: 'the token query parameter is required' };
  try {
    const decoded = jwt.verify(token, secret, { algorithms: ['HS256'], issuer: 'botbuilder-handoff-adapters' });
    if (typeof decoded !== 'object' || decoded === null || typeof decoded.account !== 'number') {
      return { ok: false, code: 'nimchat_url_token_invalid', message: 'the token has no account claim' };
    }
    const inbox = typeof decoded.inbox === 'number' ? decoded.inbox : undefined;
    return { ok: true, claims: { account: decoded.account, inbox } };
  } catch {
    return { ok: false, code: 'nimchat_url_token_invalid', message: 'the token is not valid' };
  }
}

/** The account/inbox a webhook belongs to, for the URL token's claims. */
export function webhookScope(body: unknown): { account?: number; inbox?: number } {
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, any>;
  const account = typeof b.account?.id === 'number' ? b.account.id : undefined;
  const inbox =
    typeof b.inbox?.id === 'number'
      ? b.inbox.id
      : typeof b.conversation?.inbox_id === 'number'
        ? b.conversation.inbox_id
        : typeof b.inbox_id === 'number'
          ? b.inbox_id
          : undefined;
  return { account, inbox };
}
