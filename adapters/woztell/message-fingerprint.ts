/**
 * What identifies a message the bot sent, as well in the `sendResponses` item that creates it as in
 * WOZTELL's `BOT` echo of it: its type and text. WOZTELL keeps no id of ours on a message, so this is
 * how an echo is matched with the send it came from.
 */
import { createHash } from 'node:crypto';

export interface FingerprintedItem {
  type?: string | null;
  text?: unknown;
  url?: unknown;
  fileName?: unknown;
  filename?: unknown;
}

/**
 * The item's type, text, media URL and file name. Two items that differ in none of these (two custom
 * templates with no text) look alike: a look may then take one's echo for the other, so a send of such
 * items is only found again when its echo is the only one of its kind since the earlier actions.
 */
export function itemFingerprint(item: FingerprintedItem): string {
  const part = (value: unknown) => (typeof value === 'string' ? value : '');
  return createHash('sha256')
    .update([(item.type || 'TEXT').toUpperCase(), part(item.text), part(item.url), part(item.fileName) || part(item.filename)].join('|'))
    .digest('base64url')
    .slice(0, 22);
}

/** A send's result: the ids of every message it created, in order, separated by spaces. */
export function joinMessageIds(ids: readonly string[]): string {
  return ids.join(' ');
}

export function splitMessageIds(result: string): string[] {
  return result.split(' ').filter(Boolean);
}
