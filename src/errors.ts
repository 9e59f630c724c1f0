/**
 * One error family per concern. Every error carries a string `code` callers can switch on
 * (`nimchat_api_error`, `nimchat_signature_invalid`, …) and never the secrets used to produce it.
 */

import type { ErrorCode } from './error-codes';

/** Base class of every error this package throws on purpose. */
export class HandoffError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The platform answered, and the answer was "no" (4xx/5xx after retries). */
export class PlatformApiError extends HandoffError {
  constructor(
    readonly platform: string,
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly platformMessage: string | undefined,
    code: ErrorCode = `${platform}_api_error`,
    /** How long the platform asked to wait before another attempt (Retry-After), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(
      code,
      `${platform} ${method} ${path} failed with HTTP ${status}${platformMessage ? `: ${platformMessage}` : ''}`,
    );
  }
}

/** The platform could not be reached, or did not answer in time, after retries. */
export class PlatformNetworkError extends HandoffError {
  constructor(
    readonly platform: string,
    readonly method: string,
    readonly path: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`${platform}_network_error`, `${platform} ${method} ${path} failed: ${reason}`, { cause });
  }
}

/** The configuration is invalid; `problems` lists every problem found, without values. */
export class ConfigError extends HandoffError {
  constructor(readonly problems: string[]) {
    super('config_invalid', `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** The server cannot start as configured (a port taken …); the message says what to change. */
export class StartupError extends HandoffError {}

/**
 * The store could not be read for a step that must know what it holds first (the look for an earlier
 * attempt's echo): the action is tried again later, neither skipped nor repeated blindly.
 */
export class StoreUnavailableError extends HandoffError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_unavailable', message, options);
  }
}

/** An operation the platform cannot perform (update/delete a message, an unknown event …). */
export class NotSupportedError extends HandoffError {
  constructor(platform: string, what: string) {
    super(`${platform}_not_supported`, `${platform} does not support ${what}`);
  }
}

/** A webhook that is refused; `status` is the HTTP status answered. */
export class WebhookRejectedError extends HandoffError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/** Input from a bot or a caller that is not valid (an unsupported control field, a bad id …). */
export class InvalidRequestError extends HandoffError {}

/**
 * The error a turn really failed with: botbuilder-dialogs wraps errors thrown inside a dialog in a
 * DialogContextError whose `error` is the original (e.g. our PlatformApiError).
 */
export function unwrapTurnError(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 5 && current && typeof current === 'object'; i++) {
    const inner = (current as { error?: unknown }).error;
    if (current instanceof HandoffError || !(inner instanceof Error)) break;
    current = inner;
  }
  return current;
}
