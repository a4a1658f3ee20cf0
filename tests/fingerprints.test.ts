import { describe, expect, it } from 'vitest';
import { FingerprintMap, FingerprintSet } from '../src/core/fingerprints';

describe('FingerprintMap', () => {
  it('returns the value set for a key', () => {
    const map = new FingerprintMap();
    map.set('a@example.com', 7);
    map.set('', 0);

    expect(map.get('a@example.com')).toBe(7);
    expect(map.get('')).toBe(0);
    expect(map.has('')).toBe(true);
    expect(map.get('b@example.com')).toBeUndefined();
    expect(map.size).toBe(2);
  });

  it('replaces the value of a key set again', () => {
    const map = new FingerprintMap();
    map.set('m1@example.com', 1);
    map.set('m1@example.com', 2);

    expect(map.get('m1@example.com')).toBe(2);
    expect(map.size).toBe(1);
  });

  it('keeps every entry while it grows', () => {
    const map = new FingerprintMap();
    const count = 200_000;
    for (let i = 0; i < count; i++) map.set(`m${i}.agent-reply@example.com`, i);

    let wrong = 0;
    for (let i = 0; i < count; i++) if (map.get(`m${i}.agent-reply@example.com`) !== i) wrong++;
    expect(wrong).toBe(0);
    expect(map.size).toBe(count);
  });

  it('finds no absent key among many entries', () => {
    const map = new FingerprintMap();
    for (let i = 0; i < 200_000; i++) map.set(`<${i}@customer.example>`, i);

    let found = 0;
    // Near misses: one character more, one changed, and another domain.
    for (let i = 0; i < 200_000; i++) {
      if (map.has(`<${i}@customer.example>.`)) found++;
      if (map.has(`<${i}@customer.exampla>`)) found++;
      if (map.has(`<${i}@example.org>`)) found++;
    }
    expect(found).toBe(0);
  });

  it('tells apart strings of other code units', () => {
    const map = new FingerprintMap();
    map.set('ünï@example.com', 1);
    map.set('\u{1F600}@example.com', 2);

    expect(map.get('ünï@example.com')).toBe(1);
    expect(map.get('uni@example.com')).toBeUndefined();
    expect(map.get('\u{1F600}@example.com')).toBe(2);
  });

  it.each([2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN])('rejects the value %s', (value) => {
    const map = new FingerprintMap();

    expect(() => map.set('key', value)).toThrow(RangeError);
    expect(map.size).toBe(0);
  });
});

describe('FingerprintSet', () => {
  it('contains what was added', () => {
    const set = new FingerprintSet();
    set.add('support.mbox#0');
    set.add('support.mbox#0');
    set.add('support.mbox#17');

    expect(set.has('support.mbox#0')).toBe(true);
    expect(set.has('support.mbox#17')).toBe(true);
    expect(set.has('support.mbox#1')).toBe(false);
    expect(set.size).toBe(2);
  });
});
