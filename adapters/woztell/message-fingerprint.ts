/**
 * What identifies a message the bot sent, as well in the `sendResponses` item that creates it as in
 * WOZTELL's `BOT` echo of it: its type and text. WOZTELL keeps no id of ours on a message, so this is
 * how an echo is matched with the send it came from.
 */
import { createHash } from 'node:crypto';

export interface FingerprintedItem {
  type?: string | null;
  text?: unknown;
}

export function itemFingerprint(item: FingerprintedItem): string {
  const text = typeof item.text === 'string' ? item.text : '';
  return createHash('sha256')
    .update(`${(item.type || 'TEXT').toUpperCase()}|${text}`)
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
