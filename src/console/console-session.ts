/**
 * The console's session: the operator gives CONSOLE_TOKEN once (compared in constant time) and gets a
 * signed cookie (HMAC-SHA256 with a key derived from the token, so changing the token ends every
 * session), `HttpOnly`, `SameSite=Strict`, `Path=/console`, `Secure` over HTTPS, with an expiry and the
 * session's CSRF token inside.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'handoff_console';
const DEFAULT_TTL_MS = 12 * 3600_000;

export interface Session {
  /** Every action must carry it (X-Console-CSRF): a page of another site cannot read it. */
  csrf: string;
  expiresAt: number;
}

/** Equal strings, in time independent of where they differ (both hashed first: lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export class ConsoleSessions {
  private readonly key: Buffer;

  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {
    this.key = createHmac('sha256', token).update('handoff console session v1').digest();
  }

  checkToken(given: string): boolean {
    return sameSecret(given, this.token);
  }

  /** A new session and its cookie's value. */
  issue(): { session: Session; value: string } {
    const session: Session = { csrf: randomBytes(24).toString('base64url'), expiresAt: this.now() + this.ttlMs };
    const payload = Buffer.from(JSON.stringify({ c: session.csrf, e: session.expiresAt }), 'utf8').toString('base64url');
    return { session, value: `${payload}.${this.sign(payload)}` };
  }

  /** The session a cookie value carries, when its signature holds and it has not expired. */
  verify(value: string | undefined): Session | undefined {
    if (!value) return undefined;
    const dot = value.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = value.slice(0, dot);
    const signature = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(payload), 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
    try {
      const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { c?: unknown; e?: unknown };
      if (typeof data.c !== 'string' || typeof data.e !== 'number' || data.e <= this.now()) return undefined;
      return { csrf: data.c, expiresAt: data.e };
    } catch {
      return undefined;
    }
  }

  /** The Set-Cookie header for a session value (`secure` over HTTPS). */
  cookie(value: string, secure: boolean): string {
    return `${SESSION_COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  clearCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
