/**
 * Who may use the console, request by request. With CONSOLE_TOKEN: a valid session cookie (else 401,
 * or the login page for the page itself). Without it (sandbox mode only): loopback clients addressing
 * a loopback host (a page elsewhere cannot reach in, nor a rebound DNS name). Every action is a POST
 * that carries the CSRF token of the session (or of this process, in the sandbox) in X-Console-CSRF, from
 * this origin when the browser says one; read-only mode refuses them all.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { clientAddress, isLoopbackAddress } from '../http/client-address';
import { ConsoleHttpError, cookiesOf } from './console-http';
import { ConsoleSessions, SESSION_COOKIE, sameSecret } from './console-session';

export const CSRF_HEADER = 'x-console-csrf';

export interface AccessOptions {
  enabled: boolean;
  token?: string;
  /** Each tenant's console token, as they are now: its operator sees that tenant's conversations only. */
  tenantTokens?: () => ReadonlyMap<string, string>;
  readOnly: boolean;
  now?: () => number;
}

/** `tenant`: the operator sees that tenant's conversations only. */
export type Admission = { csrf: string; tenant?: string } | { login: true };

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

export class ConsoleAccess {
  readonly sessions?: ConsoleSessions;
  /** Without a token: one CSRF token for the process (the page gets it; another site cannot read it). */
  private readonly processCsrf = randomBytes(24).toString('base64url');

  constructor(private readonly options: AccessOptions) {
    if (options.token || options.tenantTokens) this.sessions = new ConsoleSessions({ all: options.token, tenants: options.tenantTokens ?? (() => new Map()) }, options.now);
  }

  get readOnly(): boolean {
    return this.options.readOnly;
  }

  get needsLogin(): boolean {
    return this.sessions !== undefined;
  }

  /** Throws the refusal; otherwise the CSRF token to give the page, or that it must log in. */
  admit(req: IncomingMessage): Admission {
    if (!this.options.enabled && !(this.options.tenantTokens && this.options.tenantTokens().size > 0)) {
      throw new ConsoleHttpError(404, 'console_disabled', 'the console is off on this server: set CONSOLE_TOKEN (or a tenant\'s consoleToken) to turn it on');
    }
    if (this.sessions) {
      const session = this.sessions.verify(cookiesOf(req).get(SESSION_COOKIE));
      return session ? { csrf: session.csrf, ...(session.tenant ? { tenant: session.tenant } : {}) } : { login: true };
    }
    if (!isLoopbackAddress(clientAddress(req))) throw new ConsoleHttpError(403, 'console_loopback_only', 'without CONSOLE_TOKEN the console answers only on this machine (loopback)');
    if (!LOOPBACK_HOST.test(String(req.headers.host ?? ''))) throw new ConsoleHttpError(403, 'console_host_refused', 'without CONSOLE_TOKEN the console answers only to a loopback host name (127.0.0.1, localhost)');
    return { csrf: this.processCsrf };
  }

  /** An action (POST): admitted, from this origin, with the CSRF token, outside read-only mode. */
  admitAction(req: IncomingMessage): { csrf: string; tenant?: string } {
    const admission = this.admit(req);
    if ('login' in admission) throw new ConsoleHttpError(401, 'console_unauthorized', 'log in to the console first');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null' && !sameOrigin(origin, String(req.headers.host ?? ''))) {
      throw new ConsoleHttpError(403, 'console_csrf', 'the request comes from another origin');
    }
    const given = req.headers[CSRF_HEADER];
    if (typeof given !== 'string' || !sameSecret(given, admission.csrf)) throw new ConsoleHttpError(403, 'console_csrf', `the ${CSRF_HEADER} header is missing or wrong`);
    if (this.options.readOnly) throw new ConsoleHttpError(403, 'console_read_only', 'the console is read-only on this server (CONSOLE_READ_ONLY)');
    return admission;
  }
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
