/**
 * The console's session: the operator gives a token once (compared in constant time) and gets a
 * signed cookie (HMAC-SHA256 with a key derived from that token, so changing it ends its sessions),
 * `HttpOnly`, `SameSite=Strict`, `Path=/console`, `Secure` over HTTPS, with an expiry, the session's CSRF
 * token and its scope inside. CONSOLE_TOKEN's scope is everything; a tenant's console token's is that
 * tenant (its conversations only).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'handoff_console';
const DEFAULT_TTL_MS = 12 * 3600_000;

export interface Session {
  /** Every action must carry it (X-Console-CSRF): a page of another site cannot read it. */
  csrf: string;
  expiresAt: number;
  /** The tenant whose conversations alone it sees; undefined: every conversation (CONSOLE_TOKEN). */
  tenant?: string;
}

/** The tokens that open the console: CONSOLE_TOKEN (every conversation) and each tenant's own. */
export interface ConsoleTokens {
  all?: string;
  /** By tenant id, as they are now (tenants come and go while running). */
  tenants(): ReadonlyMap<string, string>;
}

/** The scope written in a cookie for CONSOLE_TOKEN's sessions. */
const EVERYTHING = '*';

/** Equal strings, in time independent of where they differ (both hashed first: lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export class ConsoleSessions {
  private readonly tokens: ConsoleTokens;

  constructor(
    tokens: string | ConsoleTokens,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = DEFAULT_TTL_MS,
  ) {
    this.tokens = typeof tokens === 'string' ? { all: tokens, tenants: () => new Map() } : tokens;
  }

  /** Whether a token opens the console, and for what: `{}` every conversation, `{ tenant }` that tenant's. */
  checkToken(given: string): { tenant?: string } | undefined {
    // Every token is compared (in constant time each), so which one matched does not show in the timing.
    let found: { tenant?: string } | undefined;
    if (this.tokens.all !== undefined && sameSecret(given, this.tokens.all)) found = {};
    for (const [tenant, token] of this.tokens.tenants()) if (sameSecret(given, token) && !found) found = { tenant };
    return found;
  }

  /** A new session (of a tenant's operator: `tenant`) and its cookie's value. */
  issue(tenant?: string): { session: Session; value: string } {
    const session: Session = { csrf: randomBytes(24).toString('base64url'), expiresAt: this.now() + this.ttlMs, ...(tenant ? { tenant } : {}) };
    const payload = Buffer.from(JSON.stringify({ c: session.csrf, e: session.expiresAt, s: tenant ?? EVERYTHING }), 'utf8').toString('base64url');
    return { session, value: `${payload}.${this.sign(payload, this.keyOf(tenant ?? EVERYTHING)!)}` };
  }

  /** The session a cookie value carries, when its signature holds and it has not expired. */
  verify(value: string | undefined): Session | undefined {
    if (!value) return undefined;
    const dot = value.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = value.slice(0, dot);
    let data: { c?: unknown; e?: unknown; s?: unknown };
    try {
      data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof data;
    } catch {
      return undefined;
    }
    // The scope only chooses the key; nothing is believed before the signature holds. A cookie from
    // before scopes existed is CONSOLE_TOKEN's.
    const scope = typeof data.s === 'string' ? data.s : EVERYTHING;
    const key = this.keyOf(scope);
    if (!key) return undefined;
    const signature = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(payload, key), 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return undefined;
    if (typeof data.c !== 'string' || typeof data.e !== 'number' || data.e <= this.now()) return undefined;
    return { csrf: data.c, expiresAt: data.e, ...(scope !== EVERYTHING ? { tenant: scope } : {}) };
  }

  /** The Set-Cookie header for a session value (`secure` over HTTPS). */
  cookie(value: string, secure: boolean): string {
    return `${SESSION_COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  clearCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }

  /** The signing key of a scope: derived from its token (none: that token is gone, and its sessions with it). */
  private keyOf(scope: string): Buffer | undefined {
    const token = scope === EVERYTHING ? this.tokens.all : this.tokens.tenants().get(scope);
    return token === undefined ? undefined : createHmac('sha256', token).update('handoff console session v1').digest();
  }

  private sign(payload: string, key: Buffer): string {
    return createHmac('sha256', key).update(payload).digest('base64url');
  }
}
