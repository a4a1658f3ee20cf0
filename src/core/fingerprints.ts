/**
 * Lookup tables keyed by strings that keep a 64-bit fingerprint of each string instead of the
 * string. A desk's indexes hold a few entries for every message ever handled (Message-IDs,
 * mailbox ids, outgoing keys), so a Set or Map of strings grows by about 120 bytes per entry.
 * These tables take 11 to 32 bytes per entry in typed arrays, which the garbage collector never
 * scans.
 *
 * Two different strings match when their fingerprints are equal. With 64 bits and a million
 * entries, a lookup of an absent string matches by chance with probability about 5e-14. The
 * fingerprint is not keyed, so a sender could craft a string that matches a Message-ID it
 * already has, which gains nothing that citing that Message-ID does not already give.
 */

// A local binding, because the loop below runs once per character. The tests load the Apps
// Script bundle in a Node vm context, where each lookup of the global Math goes through the
// context's interceptor, and that made the loop about 50 times slower.
const imul = Math.imul;

/** Fingerprint of a string as two 32-bit halves, never both zero (zero marks an empty slot). */
function fingerprint(text: string): [number, number] {
  // Two multiply-xor lanes over the UTF-16 code units, each finished with murmur3's avalanche.
  let high = 0x9e3779b9 ^ text.length;
  let low = 0x85ebca6b;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    high = imul(high ^ code, 0x01000193);
    low = imul(low ^ code, 0x5bd1e995) ^ (high >>> 15);
  }
  high = avalanche(high ^ low);
  low = avalanche(low + imul(high, 0xc2b2ae35));
  return [high >>> 0, (high | low) === 0 ? 1 : low >>> 0];
}

function avalanche(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

const INITIAL_CAPACITY = 1024;

/**
 * Fingerprints in a table with open addressing and linear probing, with a 32-bit value per
 * slot when `withValues` is set. The table doubles when it is three quarters full, so an entry
 * takes 8 bytes (12 with values) times 1.33 to 2.67.
 */
class FingerprintTable {
  private high = new Uint32Array(INITIAL_CAPACITY);
  private low = new Uint32Array(INITIAL_CAPACITY);
  protected values: Int32Array | null;
  private count = 0;

  constructor(withValues: boolean) {
    this.values = withValues ? new Int32Array(INITIAL_CAPACITY) : null;
  }

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return this.slotOf(key) >= 0;
  }

  /** Returns the slot of `key`'s fingerprint, or -1 when the table does not contain it. */
  protected slotOf(key: string): number {
    const [high, low] = fingerprint(key);
    const slot = this.find(high, low);
    return this.high[slot] === 0 && this.low[slot] === 0 ? -1 : slot;
  }

  /** Puts `key`'s fingerprint in the table and returns its slot. */
  protected insert(key: string): number {
    if ((this.count + 1) * 4 > this.high.length * 3) this.grow();
    const [high, low] = fingerprint(key);
    const slot = this.find(high, low);
    if (this.high[slot] === 0 && this.low[slot] === 0) {
      this.high[slot] = high;
      this.low[slot] = low;
      this.count++;
    }
    return slot;
  }

  /** Returns the slot that contains the fingerprint, or the empty slot where it would go. */
  private find(high: number, low: number): number {
    const mask = this.high.length - 1;
    let slot = low & mask;
    while (this.high[slot] !== 0 || this.low[slot] !== 0) {
      if (this.high[slot] === high && this.low[slot] === low) return slot;
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  private grow(): void {
    const { high, low, values } = this;
    this.high = new Uint32Array(high.length * 2);
    this.low = new Uint32Array(high.length * 2);
    this.values = values === null ? null : new Int32Array(high.length * 2);
    for (let slot = 0; slot < high.length; slot++) {
      if (high[slot] === 0 && low[slot] === 0) continue;
      const target = this.find(high[slot]!, low[slot]!);
      this.high[target] = high[slot]!;
      this.low[target] = low[slot]!;
      if (values !== null) this.values![target] = values[slot]!;
    }
  }
}

/** A map from strings to 32-bit integers, kept as fingerprints. */
export class FingerprintMap extends FingerprintTable {
  constructor() {
    super(true);
  }

  get(key: string): number | undefined {
    const slot = this.slotOf(key);
    return slot < 0 ? undefined : this.values![slot];
  }

  /** Sets the value of `key`, which must fit in a signed 32-bit integer. */
  set(key: string, value: number): void {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new RangeError(`Invalid FingerprintMap value ${value}: it must be a 32-bit integer.`);
    }
    // Inserting may grow the table and replace `values`, so it comes first.
    const slot = this.insert(key);
    this.values![slot] = value;
  }
}

/** A set of strings, kept as fingerprints. */
export class FingerprintSet extends FingerprintTable {
  constructor() {
    super(false);
  }

  add(key: string): void {
    this.insert(key);
  }
}
