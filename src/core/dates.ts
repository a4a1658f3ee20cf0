/**
 * The time of an inbound message, from its Date header and the delivery time that its mailbox
 * stores (Gmail's internalDate, an mbox postmark, a Maildir file name).
 */

/**
 * How far a Date header may be after the delivery time. A message cannot be written after it
 * arrived, so a later header comes from a wrong clock. A day allows for a wrong time zone.
 */
export const MAX_HEADER_AFTER_DELIVERY_MS = 24 * 60 * 60 * 1000;

/**
 * Returns a message's time in epoch ms: its Date header, or else the delivery time when the
 * header is missing or more than a day after delivery. Returns null when neither is known.
 */
export function messageDate(header: number | null, delivered: number | null): number | null {
  if (header === null) return delivered;
  if (delivered !== null && header - delivered > MAX_HEADER_AFTER_DELIVERY_MS) return delivered;
  return header;
}

/** Returns an ISO 8601 time in epoch ms, or null when it is missing, empty or does not parse. */
export function epochOf(iso: string | undefined): number | null {
  const time = iso === undefined || iso === '' ? Number.NaN : Date.parse(iso);
  return Number.isFinite(time) ? time : null;
}

const MONTH_NAME = /\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b/i;
/** A time zone at the end of a date: a numeric offset, Z, or a name JavaScript's Date reads. */
const ZONE_AT_END = /(?:[+-]\d\d:?\d\d|\b(?:UT|UTC|GMT|Z|[ECMP][SD]T))\s*$/i;

/**
 * Parses a Date header value to epoch ms, or returns null when it is not a date. Comments are
 * dropped. A date without a time zone is read as UTC, so the result never depends on the time
 * zone of the machine or script that runs it.
 */
export function parseDateHeader(value: string): number | null {
  const withoutComments = value.replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  if (!MONTH_NAME.test(withoutComments) && !/\d{4}-\d\d-\d\d/.test(withoutComments)) return null;
  let zoned = withoutComments;
  if (!ZONE_AT_END.test(zoned)) zoned += /\d{4}-\d\d-\d\dT/.test(zoned) ? 'Z' : ' GMT';
  const time = Date.parse(zoned);
  return Number.isNaN(time) ? null : time;
}
