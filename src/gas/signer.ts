/** HMAC signing with Apps Script's Utilities; the secret stays in script properties. */
import type { Signer } from '../core/ports';

export function utilitiesSigner(secret: string): Signer {
  return {
    sign(data: string): Uint8Array {
      // Apps Script returns Java-style signed bytes (-128..127).
      const signed = Utilities.computeHmacSha256Signature(data, secret);
      return Uint8Array.from(signed, (byte) => byte & 0xff);
    },
  };
}
