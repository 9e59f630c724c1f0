/**
 * How Nimchat signs agent-bot webhooks, written here from the platform's format rather than taken
 * from the adapter: a sandbox that borrowed the adapter's signer would agree with any change to it.
 */
import { createHmac } from 'node:crypto';

/** `X-Chatwoot-Timestamp` (unix seconds) and `X-Chatwoot-Signature`: `sha256=` + hex HMAC-SHA256(secret, "<timestamp>.<raw body>"). */
export function chatwootSignatureHeaders(secret: string, body: string, nowMs: number): { 'X-Chatwoot-Timestamp': string; 'X-Chatwoot-Signature': string } {
  const timestamp = String(Math.floor(nowMs / 1000));
  const digest = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), Buffer.from(body, 'utf8')])).digest('hex');
  return { 'X-Chatwoot-Timestamp': timestamp, 'X-Chatwoot-Signature': `sha256=${digest}` };
}
