/**
 * A webhook body as JSON, bounded in depth. Platform payloads nest a handful of levels; a body nested
 * thousands deep parses, but every later walk of it (zod, JSON.stringify into the store) recurses once
 * per level and overflows the stack. It is refused before anything else looks at it, so hostile input
 * gets a 400 instead of a 500 the platform would redeliver forever.
 */

/** Deeper than any real payload, far below what overflows the stack. */
export const MAX_JSON_DEPTH = 64;

export type JsonBody = { value: unknown } | { refused: { status: 400; code: 'invalid_json' | 'payload_too_deep'; message: string } };

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when objects/arrays in `raw` nest deeper than `limit` (a byte scan: strings are skipped, nothing is allocated). */
export function nestsDeeperThan(raw: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}

export function parseJsonBody(raw: Buffer, maxDepth = MAX_JSON_DEPTH): JsonBody {
  if (nestsDeeperThan(raw, maxDepth)) {
    return { refused: { status: 400, code: 'payload_too_deep', message: `the body nests objects or arrays deeper than ${maxDepth} levels` } };
  }
  try {
    return { value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    return { refused: { status: 400, code: 'invalid_json', message: 'the body is not valid JSON' } };
  }
}
