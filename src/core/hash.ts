/**
 * A small deterministic hash for message keys. Keys only need to be stable and unlikely to
 * collide within one desk, so a 64-bit FNV-1a (two 32-bit lanes) is enough and runs anywhere.
 */

export function hashKey(...parts: string[]): string {
  let high = 0x811c9dc5;
  let low = 0x01000193 ^ 0x5bd1e995;
  const text = parts.join('\u0000');
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    high = Math.imul(high ^ code, 0x01000193) >>> 0;
    low = Math.imul(low ^ code ^ (high >>> 7), 0x5bd1e995) >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lower-case RFC 4648 base32 without padding, safe in the local part of an address. */
export function base32(bytes: Uint8Array): string {
  let output = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) output += BASE32[(buffer << (5 - bits)) & 31];
  return output;
}
