/**
 * Encodes an OutgoingMessage as an RFC 5322 message with CRLF line ends, for the local outbox
 * and for the Gmail API's raw send. The multipart structure comes from mimetext, but the
 * header encoding is done here. mimetext 3.0 writes each display name or subject as one
 * encoded-word of any length and puts file names into parameters without escaping. RFC 2047
 * limits an encoded-word to 75 characters, and RFC 5322 limits a line to 998.
 *
 * Runs in Apps Script: no Node built-ins, and base64 comes from js-base64, which falls back to
 * its own encoder where neither btoa nor Buffer exists.
 */
import { Base64 } from 'js-base64';
import { Mailbox, MIMEMessage } from 'mimetext/browser';
import type { EnvironmentContext, HeaderField, MIMEMessageContent } from 'mimetext/browser';
import type { Address, Attachment, OutgoingMessage } from './types';

const CRLF = '\r\n';
/** RFC 5322 section 2.1.1: lines should be at most 78 characters, excluding CRLF. */
const LINE_LENGTH = 78;
/** RFC 2045 section 6.8: base64 lines are at most 76 characters. */
const BASE64_LINE_LENGTH = 76;
/**
 * UTF-8 bytes per encoded-word: 42 bytes make 56 base64 characters, so a word is 68 long and
 * fits on a first line after a header name of up to 8 characters.
 */
const ENCODED_WORD_BYTES = 42;
/** RFC 2231 section length in characters, so that `filename*12*=` plus a section fits a line. */
const PARAMETER_SECTION_LENGTH = 60;

/**
 * Fixed multipart boundaries, so that the same message always encodes to the same bytes.
 * They contain `_`, which base64 never produces. Every body part is base64 except forwarded
 * messages, which go as they are only when no line of them is a boundary line.
 */
const BOUNDARIES = {
  mixed: 'plusdesk_mixed_boundary',
  alt: 'plusdesk_alternative_boundary',
  related: 'plusdesk_related_boundary',
};

/** Headers written from the message's own fields, so `headers` may not set them. */
const RESERVED_HEADERS = new Set([
  'date',
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'bcc',
  'message-id',
  'in-reply-to',
  'references',
  'subject',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'content-disposition',
  'content-id',
]);

/** RFC 5322 field name: printable US-ASCII except the colon. */
const HEADER_NAME = /^[!-9;-~]+$/;
/** RFC 2045 type/subtype made of token characters. */
const MIME_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/;

const environment: EnvironmentContext = {
  toBase64: (value) => Base64.encode(value),
  toBase64WebSafe: (value) => Base64.encodeURI(value),
  eol: CRLF,
  validateContentType: (value) => (MIME_TYPE.test(value) ? value : false),
};

/**
 * Encodes `message` as RFC 5322 text with CRLF line ends, dated `date`.
 *
 * CR and LF in any header value, display name or address become spaces, so no field of the
 * message can add a header. Throws when `message.headers` has a name that is not a valid field
 * name or that this function writes itself (From, Subject, Content-Type, ...).
 */
export function toMime(message: OutgoingMessage, date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('toMime: the date is invalid');
  const mime = new MIMEMessage(environment);
  mime.boundaries = { ...BOUNDARIES };

  setHeaders(mime, message, date);
  addBody(mime, message);
  for (const attachment of message.attachments) addAttachment(mime, attachment);
  return mime.asRaw() + CRLF;
}

function setHeaders(mime: MIMEMessage, message: OutgoingMessage, date: Date): void {
  mime.setHeader('Date', formatDate(date));

  mime.setSender(toMailbox(message.from));
  formatField(mime, 'From', (value) => formatAddressList('From', toAddresses(value)));

  if (message.replyTo.length > 0) {
    // mimetext accepts one Reply-To mailbox, RFC 5322 allows a list.
    const field = findField(mime, 'Reply-To');
    field.validate = (value) => mime.headers.validateMailboxMulti(value);
    const mailboxes = message.replyTo.map((address) => new Mailbox(toMailbox(address)));
    mime.setHeader('Reply-To', mailboxes);
    formatField(mime, 'Reply-To', (value) => formatAddressList('Reply-To', toAddresses(value)));
  }
  if (message.to.length > 0) {
    mime.setTo(message.to.map(toMailbox));
    formatField(mime, 'To', (value) => formatAddressList('To', toAddresses(value)));
  }
  if (message.cc.length > 0) {
    mime.setCc(message.cc.map(toMailbox));
    formatField(mime, 'Cc', (value) => formatAddressList('Cc', toAddresses(value)));
  }

  mime.setHeader('Message-ID', formatMessageId(message.messageId));
  mime.setSubject(message.subject);
  formatField(mime, 'Subject', (value) =>
    encodeUnstructured('Subject', typeof value === 'string' ? value : ''),
  );

  const inReplyTo = cleanMessageId(message.inReplyTo);
  if (inReplyTo !== '') mime.setHeader('In-Reply-To', `<${inReplyTo}>`);
  const references = message.references.map(cleanMessageId).filter((id) => id !== '');
  if (references.length > 0) {
    const ids = references.map((id) => `<${id}>`);
    mime.setHeader('References', foldWords('References', ids, ' '));
  }

  for (const [name, value] of Object.entries(message.headers)) {
    if (!HEADER_NAME.test(name)) {
      throw new Error(`toMime: invalid header name ${JSON.stringify(name)}`);
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new Error(
        `toMime: header "${name}" is set from the message's own fields, so remove it from headers`,
      );
    }
    mime.setHeader(name, encodeUnstructured(name, value));
  }
}

function addBody(mime: MIMEMessage, message: OutgoingMessage): void {
  // mimetext needs a text part to build a message, so an empty text still gets one.
  mime.addMessage({
    contentType: 'text/plain',
    charset: 'UTF-8',
    encoding: 'base64',
    data: wrapBase64(Base64.encode(message.text)),
  });
  if (message.html !== '') {
    mime.addMessage({
      contentType: 'text/html',
      charset: 'UTF-8',
      encoding: 'base64',
      data: wrapBase64(Base64.encode(message.html)),
    });
  }
}

function addAttachment(mime: MIMEMessage, attachment: Attachment): void {
  const mimeType = MIME_TYPE.test(attachment.mimeType)
    ? attachment.mimeType.toLowerCase()
    : 'application/octet-stream';
  const filename = cleanText(attachment.filename);
  const inline = attachment.disposition === 'inline';

  const forwarded = mimeType === 'message/rfc822' ? sevenBitMessage(attachment.content) : null;
  const part: MIMEMessageContent = mime.addAttachment({
    // mimetext puts this name into headers unquoted; the real headers are set below.
    filename: 'attachment',
    contentType: mimeType,
    encoding: forwarded === null ? 'base64' : '7bit',
    inline,
    data: forwarded ?? wrapBase64(Base64.fromUint8Array(attachment.content)),
  });

  // mimetext sorts a part by searching its Content-Disposition text for "inline" and
  // "attachment", which a file name such as "inline.png" would confuse.
  part.isInlineAttachment = () => inline;
  part.isAttachment = () => !inline;

  const disposition = inline ? 'inline' : 'attachment';
  part.setHeader('Content-Type', formatParameters('Content-Type', mimeType, 'name', filename));
  part.setHeader(
    'Content-Disposition',
    formatParameters('Content-Disposition', disposition, 'filename', filename),
  );
  const contentId = cleanMessageId(attachment.contentId);
  if (contentId !== '') part.setHeader('Content-ID', `<${contentId}>`);
}

/** Octets a line of a 7bit body may have at most, CRLF excluded (RFC 5322 section 2.1.1). */
const MAX_LINE_OCTETS = 998;

/**
 * Returns a forwarded message as 7bit text with CRLF line ends, or null when it must go as
 * base64. RFC 2046 section 5.2.1 allows a message/rfc822 part no encoding but 7bit, 8bit or
 * binary, and forwarded mail is usually 7-bit text. Base64 is kept for one with 8-bit
 * bytes, NUL, a bare CR, a line over 998 octets, or a line that is one of the boundaries.
 */
function sevenBitMessage(content: Uint8Array): string | null {
  let text = '';
  for (let start = 0; start < content.length; start += 8192) {
    const chunk = content.subarray(start, start + 8192);
    if (chunk.some((byte) => byte === 0 || byte > 0x7f)) return null;
    text += String.fromCharCode(...chunk);
  }
  if (/\r(?!\n)/.test(text)) return null;
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  if (lines.some((line) => line.length > MAX_LINE_OCTETS)) return null;
  if (lines.some((line) => Object.values(BOUNDARIES).some((boundary) => line.startsWith(`--${boundary}`)))) return null;
  return lines.join(CRLF);
}

/** RFC 5322 date-time in UTC, such as `Thu, 04 Dec 2025 15:43:00 +0000`. */
export function formatDate(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

function findField(mime: MIMEMessage, name: string): HeaderField {
  const field = mime.headers.fields.find((candidate) => candidate.name === name);
  if (field === undefined) throw new Error(`toMime: mimetext has no ${name} field`);
  return field;
}

/** Replaces mimetext's encoding of one of its own fields. */
function formatField(
  mime: MIMEMessage,
  name: string,
  dump: (value: string | Mailbox | Mailbox[] | undefined) => string,
): void {
  findField(mime, name).dump = dump;
}

function toMailbox(address: Address): { addr: string; name: string } {
  return { addr: cleanAddress(address.email), name: cleanText(address.name) };
}

function toAddresses(value: string | Mailbox | Mailbox[] | undefined): Address[] {
  if (value === undefined || typeof value === 'string') return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((mailbox) => ({ name: mailbox.name, email: mailbox.addr }));
}

/** Turns CR and LF into spaces and drops the other control characters except tab. */
function cleanText(text: string): string {
  return text.replace(/\r\n|[\r\n]/g, ' ').replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g, '');
}

/** Removes line breaks, angle brackets and outer whitespace from an address. */
function cleanAddress(email: string): string {
  return cleanText(email).replace(/[<>]/g, '').trim();
}

/** Removes angle brackets and whitespace from a Message-ID. */
function cleanMessageId(id: string): string {
  return id.replace(/[<>\s]/g, '');
}

function formatMessageId(id: string): string {
  const clean = cleanMessageId(id);
  if (clean === '') throw new Error('toMime: the message has no messageId');
  return `<${clean}>`;
}

/** Printable ASCII that no decoder would read as an encoded-word. */
function isPlainAscii(text: string): boolean {
  return /^[\x20-\x7E\t]*$/.test(text) && !text.includes('=?');
}

/**
 * Encodes an unstructured header value (RFC 5322 section 3.2.5): plain ASCII folded at spaces,
 * or RFC 2047 encoded-words when the value has other characters or whitespace that a parser
 * would trim at its ends.
 */
function encodeUnstructured(name: string, value: string): string {
  const text = cleanText(value);
  const trimmed = text.trim() === text && !/[ \t]{2}/.test(text);
  if (isPlainAscii(text) && trimmed) {
    return foldWords(name, text.split(' '), ' ');
  }
  return foldWords(name, encodeWords(text), ' ');
}

/**
 * Splits `text` into RFC 2047 B encoded-words of UTF-8, each at most 75 characters, never
 * splitting a character between two words.
 */
function encodeWords(text: string): string[] {
  const words: string[] = [];
  let chunk = '';
  let chunkBytes = 0;
  for (const character of text) {
    const bytes = utf8Length(character);
    if (chunkBytes + bytes > ENCODED_WORD_BYTES && chunk !== '') {
      words.push(`=?UTF-8?B?${Base64.encode(chunk)}?=`);
      chunk = '';
      chunkBytes = 0;
    }
    chunk += character;
    chunkBytes += bytes;
  }
  if (chunk !== '' || words.length === 0) words.push(`=?UTF-8?B?${Base64.encode(chunk)}?=`);
  return words;
}

function utf8Length(character: string): number {
  const code = character.codePointAt(0) ?? 0;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code < 0x10000) return 3;
  return 4;
}

/**
 * Joins `words` with `separator`, starting a new line (CRLF and a space) before a word that
 * would take the line past 78 characters. The space that starts a continuation line takes
 * the place of a separator space, so unfolding restores the value exactly.
 * NOTE: a single word longer than 998 characters still makes an over-long line.
 */
function foldWords(name: string, words: string[], separator: ', ' | ' '): string {
  let output = '';
  let lineLength = name.length + 2;
  words.forEach((word, index) => {
    if (index === 0) {
      output = word;
      lineLength += word.length;
      return;
    }
    const joined = separator + word;
    if (lineLength + joined.length > LINE_LENGTH && word !== '') {
      const head = separator.trimEnd();
      output += `${head}${CRLF} ${word}`;
      lineLength = 1 + word.length;
    } else {
      output += joined;
      lineLength += joined.length;
    }
  });
  return output;
}

function formatAddressList(name: string, addresses: Address[]): string {
  return foldWords(name, addresses.map(formatAddress), ', ');
}

/** Formats `"Name" <email>`, the encoded-words of a non-ASCII name, or a bare `email`. */
function formatAddress(address: Address): string {
  const name = address.name.trim();
  if (name === '') return address.email;
  if (isPlainAscii(name)) {
    return `"${name.replace(/[\\"]/g, (character) => `\\${character}`)}" <${address.email}>`;
  }
  return `${encodeWords(name).join(`${CRLF} `)} <${address.email}>`;
}

/**
 * Formats a Content-Type or Content-Disposition value with one file name parameter. A plain
 * ASCII name is quoted, and any other name becomes RFC 2231 percent-encoded UTF-8 sections,
 * one per line.
 */
function formatParameters(
  header: string,
  value: string,
  parameter: string,
  filename: string,
): string {
  if (filename === '') return value;
  if (isPlainAscii(filename) && !/[\\"]/.test(filename)) {
    const quoted = `${parameter}="${filename}"`;
    const fits = header.length + value.length + quoted.length + 4 <= LINE_LENGTH;
    return `${value};${fits ? ' ' : `${CRLF} `}${quoted}`;
  }
  const sections = splitPercentEncoded(percentEncode(filename));
  const lines = sections.map((section, index) => {
    const prefix = index === 0 ? "UTF-8''" : '';
    return `${parameter}*${index}*=${prefix}${section}`;
  });
  return [value, ...lines].join(`;${CRLF} `);
}

/** RFC 2231 section 7 attribute-char encoding of the UTF-8 bytes of `text`. */
function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function splitPercentEncoded(encoded: string): string[] {
  const sections: string[] = [];
  let position = 0;
  while (position < encoded.length) {
    let end = Math.min(position + PARAMETER_SECTION_LENGTH, encoded.length);
    // Never cut a %HH escape in two.
    const percent = encoded.lastIndexOf('%', end - 1);
    if (percent > end - 3 && percent >= position && end < encoded.length) end = percent;
    sections.push(encoded.slice(position, end));
    position = end;
  }
  return sections;
}

function wrapBase64(encoded: string): string {
  const lines: string[] = [];
  for (let start = 0; start < encoded.length; start += BASE64_LINE_LENGTH) {
    lines.push(encoded.slice(start, start + BASE64_LINE_LENGTH));
  }
  return lines.join(CRLF);
}
