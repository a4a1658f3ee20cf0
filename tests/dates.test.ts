import { describe, expect, it } from 'vitest';
import { epochOf, MAX_HEADER_AFTER_DELIVERY_MS, messageDate, parseDateHeader } from '../src/core/dates';

const HOUR = 60 * 60 * 1000;
const delivered = Date.parse('2026-03-02T12:00:00Z');

describe('messageDate', () => {
  it.each([
    ['the header without a delivery time', delivered + 48 * HOUR, null, delivered + 48 * HOUR],
    ['the delivery time without a header', null, delivered, delivered],
    ['neither', null, null, null],
    ['the header before delivery', delivered - 48 * HOUR, delivered, delivered - 48 * HOUR],
    ['the header hours after delivery', delivered + 10 * HOUR, delivered, delivered + 10 * HOUR],
    ['the header a day after delivery', delivered + MAX_HEADER_AFTER_DELIVERY_MS, delivered, delivered + MAX_HEADER_AFTER_DELIVERY_MS],
    ['the delivery time for a header days later', delivered + 72 * HOUR, delivered, delivered],
  ])('returns %s', (_name, header, mailbox, expected) => {
    expect(messageDate(header, mailbox)).toBe(expected);
  });
});

describe('epochOf', () => {
  it('parses ISO 8601', () => {
    expect(epochOf('2026-03-02T12:00:00.000Z')).toBe(delivered);
  });

  it.each([undefined, '', 'soon'])('returns null for %j', (value) => {
    expect(epochOf(value)).toBeNull();
  });
});

describe('parseDateHeader', () => {
  it.each([
    ['Mon, 01 Jan 2024 10:00:00 +0000', '2024-01-01T10:00:00.000Z'],
    ['1 Jan 2024 11:00:00 +0100', '2024-01-01T10:00:00.000Z'],
    ['Mon, 01 Jan 2024 10:00:00 GMT', '2024-01-01T10:00:00.000Z'],
    ['Mon, 01 Jan 2024 05:00:00 -0500 (EST)', '2024-01-01T10:00:00.000Z'],
    ['Mon, 01 Jan 2024 05:00:00 EST', '2024-01-01T10:00:00.000Z'],
    ['Mon, 01 Jan 2024 10:00:00', '2024-01-01T10:00:00.000Z'],
    ['Mon, 4 Mar 2024', '2024-03-04T00:00:00.000Z'],
    ['2024-03-04T10:00:00', '2024-03-04T10:00:00.000Z'],
    ['2024-03-04', '2024-03-04T00:00:00.000Z'],
  ])('reads %j', (value, expected) => {
    expect(new Date(parseDateHeader(value)!).toISOString()).toBe(expected);
  });

  it.each(['', 'yesterday', '0', '2024', 'someday soon'])('rejects %j', (value) => {
    expect(parseDateHeader(value)).toBeNull();
  });
});
