/** WOZTELL webhook signature: a fixed vector, the accepted encodings, and what is refused. */
import { describe, expect, it } from 'vitest';
import { signWoztellPayload, verifyWoztellSignature } from '../../../adapters/woztell/verify';

const secret = 'channel-secret-abc';
const body = Buffer.from('{"type":"TEXT","data":{"text":"héllo"},"member":"m1"}', 'utf8');
// Computed once outside this code (openssl dgst -sha256 -hmac channel-secret-abc -binary over the
// body's UTF-8 bytes, base64 and hex) and pasted: a signature the adapter computed itself would
// follow any change to its format.
const base64 = 'DCj+oqJiNhv1vnAo5m2E6/PfG1+w9/S59N4UxLqkPsw=';
const hex = '0c28fea2a262361bf5be7028e66d84ebf3df1b5fb0f7f4b9f4de14c4baa43ecc';

/** `text` with the byte at `index` changed (the last byte when -1). */
function flipByte(text: string | Buffer, index = -1): Buffer {
  const bytes = Buffer.from(text);
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes;
}

describe('WOZTELL signature: fixed vector', () => {
  it('the adapter signs and accepts the vector', () => {
    expect(signWoztellPayload(secret, body)).toBe(base64);
    expect(verifyWoztellSignature(secret, body, base64)).toEqual({ ok: true });
  });

  it('refuses a one-byte change to the body, the signature or the secret', () => {
    expect(verifyWoztellSignature(secret, flipByte(body), base64)).toMatchObject({ ok: false, code: 'woztell_signature_invalid' });
    // A byte inside the two-byte "é".
    expect(verifyWoztellSignature(secret, flipByte(body, body.indexOf(0xa9)), base64).ok).toBe(false);
    // The first character: the last one of 43 carries two padding bits a decoder may ignore.
    expect(verifyWoztellSignature(secret, body, flipByte(base64, 0).toString())).toMatchObject({ ok: false, code: 'woztell_signature_invalid' });
    expect(verifyWoztellSignature(secret, body, flipByte(hex).toString())).toMatchObject({ ok: false, code: 'woztell_signature_invalid' });
    expect(verifyWoztellSignature('channel-secret-abC', body, base64).ok).toBe(false);
  });

  it('accepts the hex and sha256= forms of the same digest; refuses garbage or none', () => {
    expect(verifyWoztellSignature(secret, body, hex).ok).toBe(true);
    expect(verifyWoztellSignature(secret, body, `sha256=${base64}`).ok).toBe(true);
    expect(verifyWoztellSignature(secret, body, `sha256=${hex}`).ok).toBe(true);
    expect(verifyWoztellSignature(secret, body, 'garbage').ok).toBe(false);
    expect(verifyWoztellSignature(secret, body, undefined)).toMatchObject({ ok: false, code: 'woztell_signature_missing' });
  });
});
