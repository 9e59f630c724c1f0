/**
 * What the console sends is scrubbed of the configured secrets (tokens, webhook secrets, keys) once more
 * before it leaves, wherever they might have slipped in (an error message, a URL in a platform's answer).
 */
import { scrubSecrets } from '../log';

/**
 * A JSON text with every secret replaced: a secret inside a JSON string appears in its escaped form,
 * which is what is searched (the same as the secret itself for tokens and keys); one pass over the text
 * per secret, cheaper than walking the value.
 */
export function redactJson(json: string, secrets: readonly string[]): string {
  return scrubSecrets(json, secrets.map((secret) => JSON.stringify(secret).slice(1, -1)));
}

export function redactSecrets<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  return scrub(value, secrets, 0) as T;
}

function scrub(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return scrubSecrets(value, secrets);
  if (value === null || typeof value !== 'object' || depth > 12) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, secrets, depth + 1);
  return out;
}
