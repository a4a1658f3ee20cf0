/**
 * Builders of raw inbound messages for the hostile-input and property tests: ordinary mail with
 * exact control over every header, and messages that break the standards on purpose (broken
 * MIME, binary data, unknown charsets, huge headers, bodies and attachments, header injection).
 * Every builder is deterministic: the same arguments give the same bytes.
 */
import { plusAddress } from '../../src/core/address';
import type { Signer } from '../../src/core/ports';

export const SUPPORT_ADDRESS = 'support@example.com';
/** Date of hostile messages; the good message that follows them is dated later. */
export const HOSTILE_DATE = 'Mon, 02 Mar 2026 09:00:00 +0000';
export const GOOD_DATE = 'Tue, 03 Mar 2026 09:00:00 +0000';

/** A header field: name and value, written as `name: value`. */
export type Field = [name: string, value: string];

export interface MailSpec {
  from?: string | null;
  to?: string | null;
  cc?: string;
  subject?: string | null;
  /** Message-ID with or without angle brackets; null leaves the header out. */
  messageId?: string | null;
  date?: string | null;
  inReplyTo?: string;
  references?: string;
  contentType?: string | null;
  /** Fields written after the standard ones, in order; a name may repeat. */
  extra?: Field[];
  body?: string;
}

/**
 * Writes an RFC 5322 message with CRLF line breaks. Fields set to null are left out, so a test
 * can build a message without From, Message-ID or Date.
 */
export function buildMail(spec: MailSpec): string {
  const fields: Field[] = [];
  const add = (name: string, value: string | null | undefined): void => {
    if (value !== null && value !== undefined) fields.push([name, value]);
  };
  add('From', spec.from === undefined ? 'Casey Customer <casey@customer.example>' : spec.from);
  add('To', spec.to === undefined ? SUPPORT_ADDRESS : spec.to);
  add('Cc', spec.cc);
  add('Subject', spec.subject === undefined ? 'A question' : spec.subject);
  add('Date', spec.date === undefined ? HOSTILE_DATE : spec.date);
  if (spec.messageId !== null) add('Message-ID', bracket(spec.messageId ?? 'hostile@customer.example'));
  add('In-Reply-To', spec.inReplyTo);
  add('References', spec.references);
  add('MIME-Version', '1.0');
  add('Content-Type', spec.contentType === undefined ? 'text/plain; charset=utf-8' : spec.contentType);
  for (const field of spec.extra ?? []) fields.push(field);
  const head = fields.map(([name, value]) => `${name}: ${value}`).join('\r\n');
  const body = (spec.body ?? 'Hello, I have a question.').replace(/\r?\n/g, '\r\n');
  return `${head}\r\n\r\n${body}\r\n`;
}

function bracket(id: string): string {
  return id.startsWith('<') ? id : `<${id}>`;
}

/** RFC 2047 B encoded-word of UTF-8 text, which may hold CR and LF. */
export function encodedWord(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** Bytes from a small linear congruential generator, the same for the same seed. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : part));
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const result = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Broken MIME and data that is no message

/** Builds a multipart message whose closing boundary never comes. */
export function unterminatedMultipart(messageId: string): string {
  return buildMail({
    messageId,
    subject: 'Unterminated multipart',
    contentType: 'multipart/mixed; boundary="never-closed"',
    body: [
      '--never-closed',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The first part says the printer is offline.',
      '--never-closed',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      'AAECAwQFBgcICQ',
    ].join('\n'),
  });
}

/** Makes random bytes with no header structure. */
export function garbageBytes(seed: number): Uint8Array {
  return pseudoRandomBytes(4096, seed);
}

/** Makes a PNG signature followed by NUL bytes and binary data. */
export function binaryJunk(): Uint8Array {
  return concat(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), pseudoRandomBytes(2048, 7));
}

/** Builds header fields followed by body text with no empty line between them. */
export function missingSeparator(messageId: string): string {
  return [
    'From: Casey Customer <casey@customer.example>',
    `To: ${SUPPORT_ADDRESS}`,
    'Subject: No blank line after the headers',
    `Date: ${HOSTILE_DATE}`,
    `Message-ID: <${messageId}>`,
    'The body starts right here without a separator line.',
    'And it goes on.',
    '',
  ].join('\r\n');
}

/** Builds a message with one header line of `size` characters: the Subject, or an X- field. */
export function longHeaderLine(messageId: string, field: 'Subject' | 'X-Padding', size: number): string {
  const long = 'L'.repeat(size);
  return field === 'Subject'
    ? buildMail({ messageId, subject: long })
    : buildMail({ messageId, subject: 'A very long extra header', extra: [['X-Padding', long]] });
}

// ---------------------------------------------------------------------------------------------
// Charsets

/** Builds a text body and subject in the charset `label`, with `body` written as Latin-1 bytes. */
export function unknownCharset(messageId: string, label: string, body: string): Uint8Array {
  const head = buildMail({
    messageId,
    subject: `=?${label}?Q?Caf=E9_order?=`,
    contentType: `text/plain; charset=${label}`,
    body: '',
  }).replace(/\r\n\r\n$/, '');
  return concat(head, '\r\n', Buffer.from(`${body}\r\n`, 'latin1'));
}

/** Builds a message in UTF-7 (RFC 2152), which WHATWG TextDecoder does not support. */
export function utf7Mail(messageId: string): string {
  return buildMail({
    messageId,
    subject: 'UTF-7 body',
    contentType: 'text/plain; charset=utf-7',
    body: 'Hi Mom -+Jjo--! The invoice +AKM-5 is wrong.',
  });
}

// ---------------------------------------------------------------------------------------------
// Size

/** Builds a message with one attachment of `size` bytes, encoded in base64 with 76-character lines. */
export function bigAttachment(messageId: string, size: number): Uint8Array {
  const data = pseudoRandomBytes(size, 11);
  const encoded = Buffer.from(data).toString('base64');
  const lines: string[] = [];
  for (let start = 0; start < encoded.length; start += 76) lines.push(encoded.slice(start, start + 76));
  const head = buildMail({
    messageId,
    subject: 'Log file attached',
    contentType: 'multipart/mixed; boundary="big-boundary"',
    body: '',
  }).replace(/\r\n\r\n$/, '');
  return concat(
    head,
    '\r\n',
    '--big-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe log of the crash is attached.\r\n',
    '--big-boundary\r\nContent-Type: application/octet-stream; name="crash.log"\r\n',
    'Content-Disposition: attachment; filename="crash.log"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    lines.join('\r\n'),
    '\r\n--big-boundary--\r\n',
  );
}

/** Builds multipart containers nested `depth` deep around one text part. */
export function deeplyNested(messageId: string, depth: number): string {
  let body = 'The innermost text.';
  let contentType = 'text/plain; charset=utf-8';
  for (let level = 0; level < depth; level++) {
    body = `--level${level}\r\nContent-Type: ${contentType}\r\n\r\n${body}\r\n--level${level}--`;
    contentType = `multipart/mixed; boundary="level${level}"`;
  }
  return buildMail({ messageId, subject: 'Nested parts', contentType, body });
}

/** Builds a message with `count` extra header fields. */
export function manyHeaders(messageId: string, count: number): string {
  const extra = Array.from({ length: count }, (_, index): Field => [`X-Filler-${index}`, 'value']);
  return buildMail({ messageId, subject: 'Many header fields', extra });
}

/** Builds a message with `count` small text attachments. */
export function manyAttachments(messageId: string, count: number): string {
  const parts = Array.from(
    { length: count },
    (_, index) =>
      `--many\r\nContent-Type: text/plain; name="note-${index}.txt"\r\n` +
      `Content-Disposition: attachment; filename="note-${index}.txt"\r\n\r\nnote ${index}\r\n`,
  );
  return buildMail({
    messageId,
    subject: 'Many attachments',
    contentType: 'multipart/mixed; boundary="many"',
    body: `--many\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the notes.\r\n${parts.join('')}--many--`,
  });
}

/** Lists the addresses `person<N>@victims.example` for N from 1 to `count`. */
export function victimAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `person${index + 1}@victims.example`);
}

/** Builds a message to support@ and `count` other people, split between To and Cc. */
export function manyRecipients(messageId: string, count: number): string {
  const victims = victimAddresses(count);
  const half = Math.floor(count / 2);
  return buildMail({
    messageId,
    subject: 'Newsletter to everyone',
    to: [SUPPORT_ADDRESS, ...victims.slice(0, half)].join(',\r\n '),
    cc: victims.slice(half).join(',\r\n '),
  });
}

/** Builds a body of at least `length` characters in lines of words, ending with `lastLine`. */
export function longBody(length: number, lastLine: string): string {
  const line = 'This line repeats to make the body very long, as a pasted log would. ';
  let body = '';
  while (body.length < length) body += `${line}\n`;
  return `${body}${lastLine}`;
}

// ---------------------------------------------------------------------------------------------
// Addresses and tags

/** Builds a plus address of the support mailbox with `tag` after the plus sign. */
export function plusTagAddress(tag: string): string {
  const [local, domain] = SUPPORT_ADDRESS.split('@') as [string, string];
  return `${local}+${tag}@${domain}`;
}

/** Builds the signed reply or comment address of a ticket. */
export function signedAddress(signer: Signer, ticket: number, purpose: 'reply' | 'comment'): string {
  return plusAddress(SUPPORT_ADDRESS, signer, ticket, purpose);
}

/** Returns the signature part of a signed address, to paste onto another ticket number. */
export function signatureOf(address: string): string {
  return /\+\d+-([a-z2-7]+)@/.exec(address)?.[1] ?? '';
}

// ---------------------------------------------------------------------------------------------
// Loops

/** Builds an Authentication-Results field as Gmail adds it, with DMARC passing or failing for `domain`. */
export function authResults(domain: string, dmarc: 'pass' | 'fail'): Field {
  const value =
    dmarc === 'pass'
      ? `mx.google.com; dkim=pass header.i=@${domain}; spf=pass smtp.mailfrom=${domain}; dmarc=pass (p=REJECT) header.from=${domain}`
      : `mx.google.com; dmarc=fail (p=REJECT) header.from=${domain}; dkim=none; spf=softfail smtp.mailfrom=${domain}`;
  return ['Authentication-Results', value];
}

/** Builds a delivery status notification that returns the message with `returnedId`. */
export function bounceFor(messageId: string, recipient: string, returnedId: string): string {
  return buildMail({
    messageId,
    from: 'Mail Delivery System <MAILER-DAEMON@mx.customer.example>',
    subject: 'Undelivered Mail Returned to Sender',
    contentType: 'multipart/report; report-type=delivery-status; boundary="dsn"',
    extra: [['Return-Path', '<>']],
    body: [
      '--dsn',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Your message could not be delivered.',
      '--dsn',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.customer.example',
      '',
      `Final-Recipient: rfc822; ${recipient}`,
      'Action: failed',
      'Status: 5.1.1',
      '--dsn',
      'Content-Type: text/rfc822-headers',
      '',
      `From: ${SUPPORT_ADDRESS}`,
      `To: ${recipient}`,
      `Message-ID: <${returnedId}>`,
      '--dsn--',
    ].join('\n'),
  });
}
