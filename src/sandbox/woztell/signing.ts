/**
 * How WOZTELL signs channel webhooks, written here from the platform's format rather than taken
 * from the adapter: a sandbox that borrowed the adapter's signer would agree with any change to it.
 */
import { createHmac } from 'node:crypto';

/** `X-Woztell-Signature`: base64 HMAC-SHA256 keyed with the channel secret over the raw body. */
export function woztellSignature(channelSecret: string, body: string): string {
  return createHmac('sha256', channelSecret).update(Buffer.from(body, 'utf8')).digest('base64');
}
