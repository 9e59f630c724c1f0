/**
 * What identifies a message the bot sent, as well in the request that creates it as in Nimchat's echo
 * of it (`message_created` from the agent bot): its text, kind, privacy and number of files. Nimchat
 * keeps no id of ours on a message, so this is how an echo is matched with the send it came from.
 */
import { createHash } from 'node:crypto';

export interface FingerprintedMessage {
  content?: string | null;
  content_type?: string | null;
  private?: boolean | null;
  files: number;
}

export function messageFingerprint(message: FingerprintedMessage): string {
  const kind = message.content_type || 'text';
  return createHash('sha256')
    .update(`${message.private ? 1 : 0}|${kind}|${message.files}|${message.content ?? ''}`)
    .digest('base64url')
    .slice(0, 22);
}
