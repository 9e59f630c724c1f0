/**
 * Webhook signatures as the platforms compute them, for tests that post straight to the bot
 * endpoint. Written from the platforms' formats, not imported from the adapters: a test that signs
 * with the code it tests stays green when that code signs wrongly.
 */
import { createHmac } from 'node:crypto';

/** Nimchat: `sha256=` + hex HMAC-SHA256(secret, "<unix seconds>.<raw body>"). */
export function nimchatSignature(secret: string, timestamp: string, rawBody: string | Buffer): string {
  const raw = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  return `sha256=${createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), raw])).digest('hex')}`;
}

/** WOZTELL: base64 HMAC-SHA256 keyed with the channel secret over the raw body. */
export function woztellSignature(channelSecret: string, rawBody: string | Buffer, encoding: 'base64' | 'hex' = 'base64'): string {
  const raw = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  return createHmac('sha256', channelSecret).update(raw).digest(encoding);
}
