/**
 * Inbenta access tokens: `/v1/auth` with the API key and secret, kept in memory with
 * its expiration, refreshed through `/v1/refreshToken` when fewer than 180 s remain, `/auth` again
 * once expired or when a refresh fails. One auth or refresh in flight however many callers wait.
 * The ticketing URL comes from `apis` of the last `/auth` (or `/v1/apis`) and is never persisted.
 */
import { PlatformHttpClient, type PlatformHttpClientOptions } from '../../src/http/platform-http-client';
import { HandoffError, PlatformApiError } from '../../src/errors';
import { systemClock, type Clock } from '../../src/clock';
import { ApisResponseSchema, AuthResponseSchema, type AuthResponse } from './schemas';
import { readThrottleReset } from './throttle';

export type HttpOptions = Omit<PlatformHttpClientOptions, 'platform' | 'baseUrl' | 'headers'>;

export interface InbentaAuthOptions {
  /** `https://api.inbenta.io` or a regional host. */
  authUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Makes actions appear as a named Inbenta user. */
  userPersonalSecret?: string;
  /** Refresh when fewer than this many ms remain (default 180 s, as Inbenta's own code does). */
  refreshMarginMs?: number;
  http?: HttpOptions;
  clock?: Clock;
}

export interface InbentaToken {
  accessToken: string;
  /** ms since the epoch. */
  expiresAt: number;
  /** Product base URLs (`ticketing`, `chatbot` …) from the last `/auth`. */
  apis: Record<string, string>;
}

/** Why a token could not be had (the secret is never part of it). */
export class InbentaAuthError extends HandoffError {}

export class InbentaAuth {
  readonly http: PlatformHttpClient;
  private current?: InbentaToken;
  private pending?: Promise<InbentaToken>;
  private readonly clock: Clock;

  constructor(private readonly options: InbentaAuthOptions) {
    this.clock = options.clock ?? options.http?.clock ?? systemClock;
    this.http = new PlatformHttpClient({
      ...options.http,
      platform: 'inbenta',
      baseUrl: options.authUrl,
      headers: { 'x-inbenta-key': options.apiKey },
      readRetryDelay: readThrottleReset,
    });
  }

  /** A token with more than the margin left, from memory or from the one auth/refresh in flight. */
  async token(): Promise<InbentaToken> {
    const now = this.clock.now();
    const margin = this.options.refreshMarginMs ?? 180_000;
    const current = this.current;
    if (current && now < current.expiresAt - margin) return current;
    if (!this.pending) {
      const started =
        current && now < current.expiresAt
          ? this.refresh(current).catch(() => this.authenticate())
          : this.authenticate();
      this.pending = started.then(
        (token) => {
          this.current = token;
          this.pending = undefined;
          return token;
        },
        (error: unknown) => {
          this.pending = undefined;
          throw error;
        },
      );
    }
    return this.pending;
  }

  /** The ticketing base URL of the current token. */
  async ticketingUrl(): Promise<string> {
    return ticketingUrlOf(await this.token());
  }

  /** Forgets a token Inbenta refused, so the next call authenticates afresh. */
  invalidate(accessToken: string): void {
    if (this.current?.accessToken === accessToken) this.current = undefined;
  }

  private async authenticate(): Promise<InbentaToken> {
    let data: AuthResponse;
    try {
      const res = await this.http.request({
        method: 'POST',
        path: '/v1/auth',
        data: { secret: this.options.apiSecret, ...(this.options.userPersonalSecret ? { user_personal_secret: this.options.userPersonalSecret } : {}) },
      });
      data = AuthResponseSchema.parse(res.data);
    } catch (error) {
      if (error instanceof PlatformApiError && (error.status === 401 || error.status === 403)) {
        throw new InbentaAuthError('inbenta_auth_failed', `Inbenta refused the API key or secret (HTTP ${error.status}${error.platformMessage ? `: ${error.platformMessage}` : ''})`);
      }
      throw error;
    }
    let apis = data.apis ?? {};
    if (!apis.ticketing) apis = await this.readApis(data.accessToken);
    return { accessToken: data.accessToken, expiresAt: this.expiresAt(data), apis };
  }

  private async refresh(current: InbentaToken): Promise<InbentaToken> {
    const res = await this.http.request({
      method: 'POST',
      path: '/v1/refreshToken',
      headers: { Authorization: `Bearer ${current.accessToken}` },
      retry: false,
    });
    const data = AuthResponseSchema.parse(res.data);
    // A refresh answers without `apis`: the map of the last /auth stays.
    return { accessToken: data.accessToken, expiresAt: this.expiresAt(data), apis: data.apis?.ticketing ? data.apis : current.apis };
  }

  private async readApis(accessToken: string): Promise<Record<string, string>> {
    const res = await this.http.request({ method: 'GET', path: '/v1/apis', headers: { Authorization: `Bearer ${accessToken}` } });
    return ApisResponseSchema.parse(res.data).apis;
  }

  private expiresAt(data: AuthResponse): number {
    if (data.expiration !== undefined) return data.expiration * 1000;
    return this.clock.now() + (data.expires_in ?? 1200) * 1000;
  }
}

export function ticketingUrlOf(token: InbentaToken): string {
  const url = token.apis.ticketing;
  if (!url) throw new InbentaAuthError('inbenta_no_ticketing', 'Inbenta did not name a ticketing API for this key (apis.ticketing is missing)');
  return url.replace(/\/+$/, '');
}
