/**
 * Addresses and subjects: signed plus addresses (`support+123-k7fq2mab@example.com`), ticket tags
 * in subjects (`[#123]`) and subjects with their reply prefixes removed.
 */
import { base32 } from './hash';
import type { Signer } from './ports';
import type { Address } from './types';

export type TagPurpose = 'reply' | 'comment';

/** Characters of base32 kept from the HMAC: 40 bits, far beyond guessing by mail. */
const TAG_LENGTH = 8;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Maximum length of an address SMTP carries: RFC 5321 section 4.5.3.1 allows a 256-octet path including its angle brackets. */
export const ADDRESS_LENGTH = 254;

/**
 * Checks whether mail can be sent to an address: a local part of at most 64 characters, an `@`, a
 * domain, and at most ADDRESS_LENGTH characters in all. RFC 5321 counts octets, so a non-ASCII
 * address may pass here and still be too long.
 */
export function isDeliverable(email: string): boolean {
  const at = email.lastIndexOf('@');
  return at > 0 && at <= 64 && at < email.length - 1 && email.length <= ADDRESS_LENGTH && !/[\s<>,;]/.test(email);
}

/** RFC 5322 dot-atom of a local part; non-ASCII letters and digits as RFC 6531 allows. */
const DOT_ATOM = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\\.[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+)*";
const DOMAIN_LABEL = '[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?';
const PLAIN_ADDRESS = new RegExp(`^${DOT_ATOM}@${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})+$`, 'u');

/**
 * Checks an address a person typed into a setting: a deliverable dot-atom address such as
 * team@example.com, with no display name, brackets, `mailto:` or quoted local part.
 */
export function isPlainAddress(email: string): boolean {
  return isDeliverable(email) && PLAIN_ADDRESS.test(email);
}

export function domainOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? '' : normalizeEmail(email.slice(at + 1));
}

function splitAddress(email: string): { local: string; domain: string } | null {
  const at = email.lastIndexOf('@');
  if (at <= 0) return null;
  return { local: email.slice(0, at), domain: email.slice(at + 1) };
}

export function plusTag(signer: Signer, ticket: number, purpose: TagPurpose): string {
  return base32(signer.sign(`plusdesk:${purpose}:${ticket}`)).slice(0, TAG_LENGTH);
}

/** Returns the signed address that replies to the customer (reply) or adds an internal note (comment). */
export function plusAddress(
  supportAddress: string,
  signer: Signer,
  ticket: number,
  purpose: TagPurpose,
): string {
  const parts = splitAddress(supportAddress);
  if (parts === null) throw new Error(`Invalid support address "${supportAddress}"`);
  return `${parts.local}+${ticket}-${plusTag(signer, ticket, purpose)}@${parts.domain}`;
}

export type PlusTagResult =
  | { status: 'valid'; ticket: number; purpose: TagPurpose }
  | { status: 'invalid'; reason: string }
  | { status: 'none' };

function sameText(a: string, b: string): boolean {
  // Compares every character so the time taken does not reveal how much of a tag matched.
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** Checks one address against the support address and, if it is a plus address of it, its tag. */
export function readPlusAddress(
  email: string,
  supportAddress: string,
  signer: Signer,
): PlusTagResult {
  const address = splitAddress(normalizeEmail(email));
  const support = splitAddress(normalizeEmail(supportAddress));
  if (address === null || support === null || address.domain !== support.domain) {
    return { status: 'none' };
  }
  const plus = address.local.indexOf('+');
  if (plus < 0 || address.local.slice(0, plus) !== support.local) return { status: 'none' };
  const suffix = address.local.slice(plus + 1);
  const match = /^(\d{1,9})-([a-z2-7]+)$/.exec(suffix);
  if (match === null) return { status: 'invalid', reason: `plus tag "${suffix}" is malformed` };
  const ticket = Number(match[1]);
  const tag = match[2]!;
  for (const purpose of ['reply', 'comment'] as const) {
    if (sameText(tag, plusTag(signer, ticket, purpose))) return { status: 'valid', ticket, purpose };
  }
  return { status: 'invalid', reason: `plus tag for ticket ${ticket} has a wrong signature` };
}

/** Finds the first valid plus address among the recipients, else the first invalid one, else none. */
export function findPlusAddress(
  recipients: Address[],
  supportAddress: string,
  signer: Signer,
): PlusTagResult {
  let invalid: PlusTagResult = { status: 'none' };
  for (const recipient of recipients) {
    const result = readPlusAddress(recipient.email, supportAddress, signer);
    if (result.status === 'valid') return result;
    if (result.status === 'invalid' && invalid.status === 'none') invalid = result;
  }
  return invalid;
}

/** Returns the ticket number of a `[#123]` tag anywhere in a subject, even with text right after it. */
export function findTicketTag(subject: string): number | null {
  const match = /\[#(\d{1,9})\]/.exec(subject);
  return match === null ? null : Number(match[1]);
}

/**
 * Reply and forward prefixes of common mail clients: English, German (AW, WG, Antw), Nordic
 * (SV, VS, VB, VL), Dutch, French (TR, Réf), Italian (R, RIF, I), Spanish (RV), Polish (Odp,
 * PD), Turkish (YNT), Czech (Odp, Fwd), Chinese and Japanese. Each may carry a count such as
 * `Re[2]:` and a full-width colon.
 */
const REPLY_PREFIX = new RegExp(
  '^\\s*(?:re|fwd?|aw|wg|antw(?:ort)?|sv|vs|vb|vl|tr|réf|ref|rif|r|i|rv|enc|odp|pd|ynt|antwort|' +
    'atb|vá|sv|ang|doorst|wtrd|回复|回覆|答复|转发|轉寄|返信|転送)' +
    '\\s*(?:\\[\\d+\\]|\\(\\d+\\))?\\s*[:：]\\s*',
  'iu',
);

/** Removes leading reply and forward prefixes, e.g. `VS: AW: Laskun kopio` -> `Laskun kopio`. */
export function stripReplyPrefixes(subject: string): string {
  let current = subject.trim();
  for (;;) {
    const next = current.replace(REPLY_PREFIX, '');
    if (next === current) return current;
    current = next.trim();
  }
}

/**
 * Characters of a subject key. A stored subject may have been cut to a spreadsheet cell's
 * limit (32,767 characters in Excel), so subjects that agree this far match.
 */
const SUBJECT_KEY_LENGTH = 1000;

/**
 * Returns the subject a ticket is matched by: no prefixes, no ticket tag, spaces collapsed,
 * lower case, and at most its first 1,000 characters.
 */
export function subjectKey(subject: string): string {
  return stripReplyPrefixes(subject.replace(/\[#\d{1,9}\]/g, ' '))
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase()
    .slice(0, SUBJECT_KEY_LENGTH);
}

/** Returns the subject shown on a ticket: the customer's subject without prefixes or the ticket tag. */
export function ticketSubject(subject: string): string {
  const cleaned = stripReplyPrefixes(subject.replace(/\s*\[#\d{1,9}\]\s*/g, ' ')).trim();
  return cleaned === '' ? '(no subject)' : cleaned;
}

export function formatAddress(address: Address): string {
  if (address.name === '' || address.name === address.email) return address.email;
  return `${address.name} <${address.email}>`;
}
