/** Pure retry decisions: the platform HTTP client's and the outbox's (one backoff, one rule of what is retryable). */
import { PlatformApiError, PlatformNetworkError, StoreUnavailableError } from '../errors';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff; doubles each attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry is started if it would end later than this after the first attempt began. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 4, baseDelayMs: 300, maxDelayMs: 10_000, maxTotalMs: 30_000 };

/** For clients whose calls the outbox makes: one attempt each, since the outbox retries the action (with backoff, Retry-After, across restarts). */
export const OUTBOX_CALLS: Partial<RetryOptions> = { maxAttempts: 1 };

/** The wait a failed call asked for (Retry-After), if any. */
export function requestedDelay(error: unknown): number | undefined {
  return error instanceof PlatformApiError ? error.retryAfterMs : undefined;
}

/** Whether an HTTP status is worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Whether a failed platform call is worth another attempt: the network failed, or a retryable status. */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof PlatformNetworkError || error instanceof StoreUnavailableError) return true;
  return error instanceof PlatformApiError && isRetryableStatus(error.status);
}

/**
 * Parses `Retry-After`: delta seconds or an HTTP date. Returns milliseconds from `now`, or undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined | null, now: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = String(value).trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Exponential backoff, half fixed and half jitter; `random` is in [0, 1). */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  // Half fixed, half jitter: never zero, still spreads a thundering herd.
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
