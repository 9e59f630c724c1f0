/**
 * Inbenta's rate-limit headers: on 429, `x-throttle-reset` (or `x-quota-reset`)
 * says when the window resets. Read as a delay in ms; a value that looks like an epoch is read as
 * one (seconds or ms), a small one as seconds from now.
 */
export function readThrottleReset(headers: Record<string, string>, now: number): number | undefined {
  const raw = headers['x-throttle-reset'] ?? headers['x-quota-reset'];
  if (raw === undefined) return undefined;
  const value = Number(raw.trim());
  if (!Number.isFinite(value) || value < 0) return undefined;
  if (value > 1e12) return Math.max(0, value - now);
  if (value > 1e9) return Math.max(0, value * 1000 - now);
  return Math.round(value * 1000);
}
