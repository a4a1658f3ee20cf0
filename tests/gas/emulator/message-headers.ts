/**
 * Synchronous access to the header block of a raw RFC 5322 message, for the Gmail emulation.
 * It reads unfolded header fields and replaces or adds a field while every other byte stays as
 * it was. It also reads the values Gmail threads on (Message-ID, References, In-Reply-To,
 * Subject). Encoded words and address lists are decoded with postal-mime's `decodeWords` and
 * `addressParser`. Bodies are parsed asynchronously with postal-mime where a test needs them.
 */
import { addressParser, decodeWords } from 'postal-mime';

export interface HeaderField {
  /** The field name as the message spells it. */
  name: string;
  /** The unfolded value, still RFC 2047-encoded. */
  value: string;
}

const latin1 = new TextDecoder('latin1');

/** Splits raw bytes into the header block (as a byte-per-char string) and the body offset. */
function headerBlock(raw: Uint8Array): { text: string; bodyStart: number; newline: string } {
  // A byte-per-char string keeps string offsets equal to byte offsets.
  const limit = Math.min(raw.length, 1024 * 1024);
  const text = latin1.decode(raw.subarray(0, limit));
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) {
    return { text: text.slice(0, crlf + 2), bodyStart: crlf + 4, newline: '\r\n' };
  }
  if (lf >= 0) return { text: text.slice(0, lf + 1), bodyStart: lf + 2, newline: '\n' };
  return { text, bodyStart: raw.length, newline: text.includes('\r\n') ? '\r\n' : '\n' };
}

interface FieldSpan {
  name: string;
  value: string;
  start: number;
  end: number;
}

function fieldSpans(text: string): FieldSpan[] {
  const spans: FieldSpan[] = [];
  const pattern = /[^\r\n]*(?:\r?\n|$)/g;
  let current: FieldSpan | undefined;
  for (let match = pattern.exec(text); match !== null && match[0] !== ''; match = pattern.exec(text)) {
    const line = match[0];
    const content = line.replace(/\r?\n$/, '');
    if ((content.startsWith(' ') || content.startsWith('\t')) && current !== undefined) {
      current.value += content;
      current.end = match.index + line.length;
      continue;
    }
    const colon = content.indexOf(':');
    if (colon <= 0) {
      current = undefined;
      continue;
    }
    current = {
      name: content.slice(0, colon).trim(),
      value: content.slice(colon + 1),
      start: match.index,
      end: match.index + line.length,
    };
    spans.push(current);
  }
  return spans;
}

const utf8 = new TextDecoder('utf-8');

function fromLatin1(text: string): string {
  // Header bytes that are UTF-8 (RFC 6532) were read one byte per char; read them again as UTF-8.
  if (!/[\u0080-\u00ff]/.test(text)) return text;
  return utf8.decode(Uint8Array.from(text, (char) => char.charCodeAt(0)));
}

/** Reads the header fields in message order, unfolded, with leading and trailing blanks trimmed. */
export function readHeaders(raw: Uint8Array): HeaderField[] {
  return fieldSpans(headerBlock(raw).text).map((span) => ({
    name: span.name,
    value: fromLatin1(span.value).trim(),
  }));
}

export function headerValue(headers: readonly HeaderField[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  return headers.find((field) => field.name.toLowerCase() === wanted)?.value;
}

/**
 * Returns the message with every `name` field removed and `value` written once in place of the
 * first (or at the end of the header block when there was none). The body is untouched.
 */
export function replaceHeader(raw: Uint8Array, name: string, value: string): Uint8Array {
  const block = headerBlock(raw);
  const spans = fieldSpans(block.text).filter((span) => span.name.toLowerCase() === name.toLowerCase());
  const line = `${name}: ${value}${block.newline}`;
  let text: string;
  if (spans.length === 0) {
    const ended = block.text === '' || block.text.endsWith('\n');
    text = block.text + (ended ? '' : block.newline) + line;
  } else {
    text = '';
    let cursor = 0;
    spans.forEach((span, index) => {
      text += block.text.slice(cursor, span.start) + (index === 0 ? line : '');
      cursor = span.end;
    });
    text += block.text.slice(cursor);
  }
  const head = Uint8Array.from(text, (char) => char.charCodeAt(0) & 0xff);
  const separator = block.bodyStart > block.text.length ? raw.subarray(block.text.length, block.bodyStart) : new Uint8Array();
  const body = raw.subarray(block.bodyStart);
  const out = new Uint8Array(head.length + separator.length + body.length);
  out.set(head, 0);
  out.set(separator, head.length);
  out.set(body, head.length + separator.length);
  return out;
}

/** Adds a field at the top of the header block, as a receiving server does. */
export function prependHeader(raw: Uint8Array, name: string, value: string): Uint8Array {
  const block = headerBlock(raw);
  const head = Uint8Array.from(`${name}: ${value}${block.newline}`, (char) => char.charCodeAt(0) & 0xff);
  const out = new Uint8Array(head.length + raw.length);
  out.set(head, 0);
  out.set(raw, head.length);
  return out;
}

export function decodeHeader(value: string | undefined): string {
  return value === undefined ? '' : decodeWords(value);
}

/** Email addresses in an address-list header, groups flattened, as written. */
export function addresses(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  return addressParser(value, { flatten: true })
    .map((mailbox) => mailbox.address ?? '')
    .filter((address) => address !== '');
}

/** Message-IDs named in a References or In-Reply-To value, each with its angle brackets. */
export function messageIds(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.match(/<[^<>\s]+>/g) ?? [];
}

/** Message-ID normalized for comparison: angle brackets removed, lower case. */
export function normalizeMessageId(value: string): string {
  return value.trim().replace(/^<|>$/g, '').toLowerCase();
}

/** Reply and forward prefixes that Gmail-like threading strips before comparing subjects. */
const SUBJECT_PREFIX = /^\s*(?:re|fwd?|aw|wg|sv|vs|antw|tr|rif|ref|odp|r)\s*(?:\[\d+\])?\s*[:：]\s*/i;

/** Normalizes a subject for threading: decoded, prefixes removed, blanks collapsed, lower case. */
export function normalizeSubject(value: string | undefined): string {
  let subject = decodeHeader(value).replace(/\s+/g, ' ').trim();
  for (let previous = ''; previous !== subject; ) {
    previous = subject;
    subject = subject.replace(SUBJECT_PREFIX, '');
  }
  return subject.toLowerCase();
}
