/**
 * Inbenta webhook authenticity, pure: `X-Hook-Signature` carries the secret itself,
 * on the challenge GET and (assumed) on deliveries. Compared in constant time: digests of equal
 * length, so neither the content nor the length of the secret leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export function hookSignatureMatches(secret: string, signature: string | undefined): boolean {
  if (signature === undefined || signature === '') return false;
  const a = createHash('sha256').update(signature, 'utf8').digest();
  const b = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(a, b);
}
