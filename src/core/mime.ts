/**
 * MIME parsing of inbound mail into a ParsedMessage, built on postal-mime.
 *
 * Runs under Node and under Apps Script V8. Apps Script has no TextDecoder, TextEncoder, Blob or
 * atob, which postal-mime and html-to-text use when they load, so an Apps Script bundle imports
 * `src/gas/text-shim.ts` before this module.
 *
 * Real mail breaks the standards in ways every helpdesk meets sooner or later. Beyond what
 * postal-mime already tolerates, this module also reads:
 * - a header block that starts with an mbox `From ` line or a stray line, or whose folded lines
 *   lost their leading whitespace;
 * - raw 8-bit header text in a legacy charset, decoded in a charset the message declares;
 * - address lists with empty `<>`, `addr (Name)` comments, encoded words holding commas and
 *   bare local parts such as `MAILER-DAEMON`;
 * - x-uuencode parts and uuencoded blocks inside a plain text body.
 */
import PostalMime, { decodeWords } from 'postal-mime';
import type { Attachment as PostalAttachment, Email, PostalMimeOptions } from 'postal-mime';
import { convert as convertHtml } from 'html-to-text';
import type { HtmlToTextOptions } from 'html-to-text';
import { parseDateHeader } from './dates';
import type { Address, Attachment, ParsedMessage } from './types';

/** Raised for input that cannot be read as a message at all. `reason` describes the fault for a person. */
export class MailParseError extends Error {
  override readonly name = 'MailParseError';
  readonly reason: string;

  constructor(reason: string) {
    super(`cannot parse message: ${reason}`);
    this.reason = reason;
  }
}

/**
 * Parses a raw RFC 5322 message. A string is read as UTF-8 text.
 *
 * Throws MailParseError only for input that is no message: empty, binary, or without any header
 * field. Anything the parser works around (an unknown charset, a repaired header, a missing
 * From) is listed in `warnings`.
 */
export async function parseMessage(raw: Uint8Array | string): Promise<ParsedMessage> {
  const input = normaliseLineBreaks(toBytes(raw));
  checkReadable(input);

  const warnings: string[] = [];
  const repaired = repairHeaderBlock(input, warnings);
  const { email, root } = await runPostalMime(repaired);

  const headers = collectHeaders(email);
  if (!Object.keys(headers).some((name) => /^[!-9;-~]+$/.test(name))) {
    throw new MailParseError('no header fields found; the input does not start with "Name: value" lines');
  }

  const charsets = new CharsetCheck();
  const parts = describeParts(root);
  warnAboutCharsets(headers, parts, charsets, warnings);
  repairMislabelledUtf8(email, parts, warnings);

  const body = extractBody(email, warnings);
  const attachments = [
    ...collectAttachments(email.attachments, parts, warnings),
    ...secondaryHtmlParts(parts),
    ...body.uuencoded,
  ];

  return {
    messageId: firstOf(extractMessageIds(firstHeader(headers, 'message-id'))),
    inReplyTo: extractMessageIds(allHeaders(headers, 'in-reply-to')),
    references: unique(extractMessageIds(allHeaders(headers, 'references'))),
    from: pickAuthor(headers, warnings),
    replyTo: mailboxesOf(headers, 'reply-to'),
    to: mailboxesOf(headers, 'to'),
    cc: mailboxesOf(headers, 'cc'),
    subject: repairWindows1252(decodeWords(firstHeader(headers, 'subject'))),
    date: parseMailDate(firstHeader(headers, 'date'), warnings),
    headers,
    text: body.text,
    html: body.html,
    attachments,
    contentType: topContentType(root, headers),
    warnings,
  };
}

// ---------------------------------------------------------------------------------------------
// Input checks

function toBytes(raw: Uint8Array | string): Uint8Array {
  if (typeof raw === 'string') return new TextEncoder().encode(raw);
  return raw;
}

/** How far into the input the binary check looks: a header block is far shorter than this. */
const BINARY_CHECK_BYTES = 16 * 1024;

function checkReadable(input: Uint8Array): void {
  if (input.length === 0 || input.every((byte) => isWhitespaceByte(byte))) {
    throw new MailParseError('the input is empty');
  }

  const end = Math.min(input.length, BINARY_CHECK_BYTES);
  let controlBytes = 0;
  for (let i = 0; i < end; i++) {
    const byte = input[i] as number;
    if (byte === 0) {
      throw new MailParseError(
        `the input contains a NUL byte at offset ${i}; it is binary data or UTF-16 text, not a message`,
      );
    }
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x1b) controlBytes++;
  }
  // ESC is allowed above because ISO-2022-JP text uses it.
  if (controlBytes > end / 10) {
    throw new MailParseError(`the input is not text: ${controlBytes} control bytes in its first ${end} bytes`);
  }
}

/**
 * Writes every bare LF as CR LF, the line break of mail on the wire (RFC 5322), so that a message
 * saved with LF line breaks parses exactly like the same message read from Gmail or SMTP.
 * Quoted-printable hard line breaks then decode to CR LF as RFC 2045 6.7 requires, which keeps
 * a binary attachment sent as quoted-printable intact. Text bodies come out with LF either way,
 * because postal-mime turns CR LF into LF in text.
 */
function normaliseLineBreaks(input: Uint8Array): Uint8Array {
  let bareLineFeeds = 0;
  for (let i = input.indexOf(0x0a); i >= 0; i = input.indexOf(0x0a, i + 1)) {
    if (i === 0 || input[i - 1] !== 0x0d) bareLineFeeds++;
  }
  if (bareLineFeeds === 0) return input;

  const output = new Uint8Array(input.length + bareLineFeeds);
  let written = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] as number;
    if (byte === 0x0a && (i === 0 || input[i - 1] !== 0x0d)) output[written++] = 0x0d;
    output[written++] = byte;
  }
  return output;
}

function isWhitespaceByte(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

// ---------------------------------------------------------------------------------------------
// Header block repair, done on bytes before postal-mime reads them

interface Line {
  start: number;
  /** End of the line's content, before CR LF. */
  end: number;
  /** End of the line including its line break. */
  next: number;
}

type LineKind = 'field' | 'fold' | 'other';

/**
 * Lines tolerated before the first header field (an mbox `From ` line, a forwarding banner).
 * More than this and the text is more likely a body without headers than a message.
 */
const MAX_LEADING_LINES = 3;

/**
 * Repairs the top-level header block so that postal-mime reads every header in it. Stray lines
 * before the first field are dropped. A line without leading whitespace between two fields
 * becomes a fold, as lenient readers such as Ruby's mail gem treat it. Raw 8-bit header text
 * that is not UTF-8 is re-encoded as UTF-8. The input itself is returned when nothing needed repair.
 *
 * NOTE: a header that follows such a repaired line is read here while a strict parser (Python's
 * email package) reads it as body text. Sender checks rely on Authentication-Results, which the
 * receiving server puts first, before any repaired line.
 */
function repairHeaderBlock(input: Uint8Array, warnings: string[]): Uint8Array {
  let blockStart = 0;
  while (input[blockStart] === 0x0d || input[blockStart] === 0x0a) blockStart++;

  const lines = headerBlockLines(input, blockStart);
  const kinds = lines.map((line) => lineKind(input, line));
  const firstField = kinds.indexOf('field');
  if (firstField < 0 || firstField > MAX_LEADING_LINES) return input;

  const lastField = kinds.lastIndexOf('field');
  const pieces: Uint8Array[] = [];
  let changed = blockStart > 0;
  let joinedLines = 0;
  let droppedLines = 0;
  let transcoded: string | null = null;
  const legacyCharset = new LegacyHeaderCharset(input);

  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as Line;
    const kind = kinds[index] as LineKind;

    if (index < firstField) {
      changed = true;
      if (index > 0 || !isMboxFromLine(input, line)) droppedLines++;
      continue;
    }

    let content = input.subarray(line.start, line.end);
    const lineBreak = input.subarray(line.end, line.next);

    if (kind === 'other' && index < lastField) {
      pieces.push(SPACE);
      joinedLines++;
      changed = true;
    }

    if (!isUtf8(content)) {
      const decoded = legacyCharset.decode(content);
      if (decoded) {
        content = new TextEncoder().encode(decoded.text);
        transcoded = decoded.charset;
        changed = true;
      }
    }

    pieces.push(content, lineBreak);
  }

  if (!changed) return input;

  if (blockStart > 0) warnings.push('ignored blank lines before the header block');
  if (droppedLines > 0) warnings.push(`ignored ${droppedLines} line(s) before the first header field`);
  if (joinedLines > 0) warnings.push(`joined ${joinedLines} header line(s) that lacked folding whitespace`);
  if (transcoded) warnings.push(`decoded raw 8-bit header text as ${transcoded}`);

  const blockEnd = lines.length ? (lines[lines.length - 1] as Line).next : blockStart;
  pieces.push(input.subarray(blockEnd));
  return concatBytes(pieces);
}

const SPACE = new Uint8Array([0x20]);

/** Splits the top-level header block into lines, up to but not including the first empty line. */
function headerBlockLines(input: Uint8Array, blockStart: number): Line[] {
  const lines: Line[] = [];
  let start = blockStart;
  while (start < input.length) {
    let lineFeed = input.indexOf(0x0a, start);
    if (lineFeed < 0) lineFeed = input.length;
    const end = lineFeed > start && input[lineFeed - 1] === 0x0d ? lineFeed - 1 : lineFeed;
    if (end === start) break;
    const next = Math.min(lineFeed + 1, input.length);
    lines.push({ start, end, next });
    start = next;
  }
  return lines;
}

/**
 * Classifies a header line. A field starts with a name of printable ASCII other than the colon,
 * optional blanks and a colon.
 */
function lineKind(input: Uint8Array, line: Line): LineKind {
  const first = input[line.start] as number;
  if (first === 0x20 || first === 0x09) return 'fold';

  let i = line.start;
  while (i < line.end) {
    const byte = input[i] as number;
    if (byte === 0x3a) break;
    if (byte < 0x21 || byte > 0x7e) break;
    i++;
  }
  const nameEnd = i;
  while (i < line.end && (input[i] === 0x20 || input[i] === 0x09)) i++;
  return nameEnd > line.start && input[i] === 0x3a ? 'field' : 'other';
}

function isMboxFromLine(input: Uint8Array, line: Line): boolean {
  return asciiText(input.subarray(line.start, Math.min(line.end, line.start + 5))) === 'From ';
}

/**
 * Chooses the charset for raw 8-bit header text from the charsets the message declares
 * (Content-Type parameters and encoded words): the first multi-byte charset in which the bytes
 * decode without an error, else the first such single-byte charset. A multi-byte charset goes
 * first because nearly any byte string is valid in a single-byte one. The message is searched
 * for declarations only when a header line needs it.
 */
class LegacyHeaderCharset {
  private declared: string[] | null = null;

  constructor(private readonly input: Uint8Array) {}

  decode(bytes: Uint8Array): { text: string; charset: string } | null {
    this.declared ??= declaredCharsets(this.input);

    for (const charset of this.declared) {
      if (!MULTI_BYTE_ENCODINGS.has(charset)) continue;
      const text = decodeStrict(bytes, charset);
      if (text !== null) return { text, charset };
    }
    for (const charset of this.declared) {
      if (MULTI_BYTE_ENCODINGS.has(charset) || charset === 'utf-8') continue;
      const text = decodeStrict(bytes, charset);
      if (text !== null) return { text, charset };
    }
    return null;
  }
}

/** Encoding names (as TextDecoder reports them) whose characters take more than one byte. */
const MULTI_BYTE_ENCODINGS = new Set(['gbk', 'gb18030', 'big5', 'shift_jis', 'euc-jp', 'euc-kr']);

/** Encoding names that never describe raw 8-bit header text. */
const UNSUITABLE_HEADER_ENCODINGS = new Set(['utf-16le', 'utf-16be', 'replacement', 'iso-2022-jp', 'x-user-defined']);

function declaredCharsets(input: Uint8Array): string[] {
  const text = new TextDecoder('windows-1252').decode(input);
  const found: string[] = [];
  const pattern = /charset\s*=\s*"?([A-Za-z0-9_.:+-]+)|=\?([A-Za-z0-9_.:+-]+)(?:\*[^?]*)?\?[QqBb]\?/g;
  for (const match of text.matchAll(pattern)) {
    const label = (match[1] ?? match[2] ?? '').toLowerCase();
    const encoding = encodingOf(label);
    if (encoding && !UNSUITABLE_HEADER_ENCODINGS.has(encoding) && !found.includes(encoding)) found.push(encoding);
  }
  return found;
}

/** Looks up the encoding name TextDecoder gives a label, trying it also without an `x-` prefix. */
function encodingOf(label: string): string | null {
  for (const candidate of [label, label.replace(/^x-/, '')]) {
    try {
      return new TextDecoder(candidate).encoding;
    } catch {
      // This runtime does not support the label. The next spelling may work.
    }
  }
  return null;
}

function decodeStrict(bytes: Uint8Array, encoding: string): string | null {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function isUtf8(bytes: Uint8Array): boolean {
  if (bytes.every((byte) => byte < 0x80)) return true;
  return decodeStrict(bytes, 'utf-8') !== null;
}

function asciiText(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

function concatBytes(pieces: Uint8Array[]): Uint8Array {
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const result = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    result.set(piece, offset);
    offset += piece.length;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// postal-mime

const POSTAL_MIME_OPTIONS: PostalMimeOptions = {
  // A forwarded message stays one .eml attachment instead of being merged into the body.
  forceRfc822Attachments: true,
  attachmentEncoding: 'arraybuffer',
};

/**
 * One node of postal-mime's MIME tree. postal-mime 4.2 keeps the tree on the parser as `root`, an
 * internal property. It is read, with every field checked, because the public result does not
 * carry the transfer encoding and charset of each part.
 */
interface MimeTreeNode {
  contentType?: { parsed?: { value?: unknown; params?: Record<string, unknown> } };
  contentTransferEncoding?: { encoding?: unknown };
  contentDisposition?: { parsed?: { value?: unknown } };
  childNodes?: unknown;
  content?: unknown;
}

async function runPostalMime(input: Uint8Array): Promise<{ email: Email; root: MimeTreeNode | null }> {
  const parser = new PostalMime(POSTAL_MIME_OPTIONS);
  let email: Email;
  try {
    email = await parser.parse(input);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') {
      throw new MailParseError(`${(error as Error).message} (postal-mime ${code})`);
    }
    throw error;
  }
  const root = (parser as unknown as { root?: unknown }).root;
  return { email, root: isObject(root) ? (root as MimeTreeNode) : null };
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** Type, charset, transfer encoding, disposition and decoded content of one leaf part. */
interface PartInfo {
  mimeType: string;
  charset: string;
  transferEncoding: string;
  disposition: string;
  content: ArrayBuffer | null;
}

function describeParts(root: MimeTreeNode | null): PartInfo[] {
  const parts: PartInfo[] = [];
  const walk = (node: MimeTreeNode): void => {
    const children = Array.isArray(node.childNodes) ? (node.childNodes as unknown[]) : [];
    if (children.length === 0) {
      const params = node.contentType?.parsed?.params ?? {};
      parts.push({
        mimeType: stringOr(node.contentType?.parsed?.value, '').toLowerCase(),
        charset: stringOr(params['charset'], '').trim(),
        transferEncoding: stringOr(node.contentTransferEncoding?.encoding, '').toLowerCase(),
        disposition: stringOr(node.contentDisposition?.parsed?.value, '').toLowerCase(),
        content: node.content instanceof ArrayBuffer ? node.content : null,
      });
    }
    for (const child of children) if (isObject(child)) walk(child as MimeTreeNode);
  };
  if (root) walk(root);
  return parts;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function topContentType(root: MimeTreeNode | null, headers: Record<string, string[]>): string {
  const fromTree = stringOr(root?.contentType?.parsed?.value, '');
  const value = fromTree || (firstHeader(headers, 'content-type').split(';')[0] ?? '');
  const normalised = value.trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(normalised) ? normalised : 'text/plain';
}

// ---------------------------------------------------------------------------------------------
// Headers

function collectHeaders(email: Email): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const { key, value } of email.headers) {
    // postal-mime keeps blanks before the colon in the name (`from :`), so that such a line
    // never counts as the header it imitates. It is stored under that name here too.
    if (!key.trim()) continue;
    const text = repairWindows1252(value);
    const existing = Object.prototype.hasOwnProperty.call(headers, key) ? headers[key] : undefined;
    if (existing) {
      existing.push(text);
    } else {
      // defineProperty, so that a header named __proto__ is stored like any other.
      Object.defineProperty(headers, key, { value: [text], enumerable: true, writable: true, configurable: true });
    }
  }
  return headers;
}

function allHeaders(headers: Record<string, string[]>, name: string): string {
  return (Object.prototype.hasOwnProperty.call(headers, name) ? (headers[name] ?? []) : []).join(' ');
}

function firstHeader(headers: Record<string, string[]>, name: string): string {
  return Object.prototype.hasOwnProperty.call(headers, name) ? (headers[name]?.[0] ?? '') : '';
}

function firstOf(values: string[]): string {
  return values[0] ?? '';
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * Message-IDs in a Message-ID, In-Reply-To or References value, without angle brackets.
 * Text around bracketed ids (`In-Reply-To: your message of ... <id>`) is ignored; a value
 * without brackets is split on whitespace and commas and its tokens holding an `@` are kept.
 */
export function extractMessageIds(value: string): string[] {
  const ids: string[] = [];
  for (const match of value.matchAll(/<([^<>]*)>/g)) {
    const id = (match[1] ?? '').replace(/\s+/g, '');
    if (id) ids.push(id);
  }
  if (ids.length > 0) return ids;

  return value
    .split(/[\s,]+/)
    .map((token) => token.replace(/^[<"']+|[>"']+$/g, ''))
    .filter((token) => token.includes('@'));
}

/** Converts the Date header to ISO 8601, or to '' when it is missing or not a date. */
function parseMailDate(value: string, warnings: string[]): string {
  const trimmed = value.trim();
  if (!trimmed) return '';
  const time = parseDateHeader(trimmed);
  if (time !== null) return new Date(time).toISOString();
  warnings.push(`invalid Date header ${JSON.stringify(trimmed.slice(0, 100))}`);
  return '';
}

// ---------------------------------------------------------------------------------------------
// Addresses

type AddressToken =
  | { kind: 'word' | 'quoted' | 'comment' | 'angle'; text: string; spaceBefore: boolean }
  | { kind: 'separator'; text: ',' | ':' | ';'; spaceBefore: boolean };

const ENCODED_WORD = /=\?[^?\s]+\?[QqBb]\?[^?]*\?=/y;

/**
 * Splits an address header into tokens. Quoted strings, comments, angle addresses, domain
 * literals and RFC 2047 encoded words are read whole, so a comma or a bracket inside one of them
 * never splits the list.
 */
function tokenizeAddresses(value: string): AddressToken[] {
  const tokens: AddressToken[] = [];
  let word = '';
  let wordSpaceBefore = false;
  let spaceBefore = false;
  let i = 0;

  const flushWord = (): void => {
    if (word) tokens.push({ kind: 'word', text: word, spaceBefore: wordSpaceBefore });
    word = '';
  };
  const startWord = (): void => {
    if (!word) wordSpaceBefore = spaceBefore;
    spaceBefore = false;
  };

  while (i < value.length) {
    const char = value[i] as string;

    if (char === ' ' || char === '\t' || char === '\r' || char === '\n' || char === ')' || char === '>') {
      flushWord();
      spaceBefore = true;
      i++;
    } else if (char === '"') {
      flushWord();
      const end = scanQuoted(value, i);
      tokens.push({ kind: 'quoted', text: unescapeQuoted(value.slice(i + 1, end.contentEnd)), spaceBefore });
      spaceBefore = false;
      i = end.next;
    } else if (char === '(') {
      flushWord();
      const end = scanComment(value, i);
      tokens.push({ kind: 'comment', text: unescapeQuoted(value.slice(i + 1, end.contentEnd)), spaceBefore });
      spaceBefore = true;
      i = end.next;
    } else if (char === '<') {
      flushWord();
      const close = value.indexOf('>', i + 1);
      const contentEnd = close < 0 ? value.length : close;
      tokens.push({ kind: 'angle', text: value.slice(i + 1, contentEnd), spaceBefore });
      spaceBefore = false;
      i = contentEnd + 1;
    } else if (char === ',' || char === ';' || char === ':') {
      flushWord();
      tokens.push({ kind: 'separator', text: char, spaceBefore });
      spaceBefore = false;
      i++;
    } else if (char === '[') {
      startWord();
      const close = value.indexOf(']', i + 1);
      const end = close < 0 ? value.length : close + 1;
      word += value.slice(i, end);
      i = end;
    } else if (char === '=' && value[i + 1] === '?') {
      startWord();
      ENCODED_WORD.lastIndex = i;
      const match = ENCODED_WORD.exec(value);
      const end = match ? i + match[0].length : i + 1;
      word += value.slice(i, end);
      i = end;
    } else {
      startWord();
      word += char;
      i++;
    }
  }
  flushWord();
  return tokens;
}

function scanQuoted(value: string, open: number): { contentEnd: number; next: number } {
  let i = open + 1;
  while (i < value.length) {
    const char = value[i];
    if (char === '\\') {
      i += 2;
    } else if (char === '"') {
      return { contentEnd: i, next: i + 1 };
    } else {
      i++;
    }
  }
  return { contentEnd: value.length, next: value.length };
}

function scanComment(value: string, open: number): { contentEnd: number; next: number } {
  let depth = 0;
  let i = open;
  while (i < value.length) {
    const char = value[i];
    if (char === '\\') {
      i += 2;
      continue;
    }
    if (char === '(') depth++;
    if (char === ')') {
      depth--;
      if (depth === 0) return { contentEnd: i, next: i + 1 };
    }
    i++;
  }
  return { contentEnd: value.length, next: value.length };
}

function unescapeQuoted(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

/**
 * Parses an address header (From, To, Cc, Reply-To) into mailboxes, with groups flattened.
 * An entry without a usable address, such as `"Name" <>` or `Recipients`, keeps an empty email
 * or a bare local part, so callers decide whether such an entry counts.
 */
export function parseAddressList(value: string): Address[] {
  const mailboxes: Address[] = [];
  let pending: AddressToken[] = [];

  const finish = (): void => {
    const mailbox = buildMailbox(pending);
    if (mailbox) mailboxes.push(mailbox);
    pending = [];
  };

  for (const token of tokenizeAddresses(value)) {
    if (token.kind !== 'separator') {
      pending.push(token);
    } else if (token.text === ':') {
      // A group starts: what came before is its display name. A colon after an angle
      // address is noise and is dropped.
      if (!pending.some((item) => item.kind === 'angle')) pending = [];
    } else {
      finish();
    }
  }
  finish();
  return mailboxes;
}

/** Finds the first mailbox in an address header that has an address, or null. */
export function addressOf(value: string): Address | null {
  const mailboxes = parseAddressList(value);
  return mailboxes.find((mailbox) => mailbox.email.includes('@')) ?? mailboxes.find((m) => m.email) ?? null;
}

/** An RFC 5322 dot-atom: what a bare local part such as MAILER-DAEMON may consist of. */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

const ADDRESS_IN_TEXT = /[^\s()<>,;:"[\]]+@[^\s()<>,;:"[\]]+/;

function buildMailbox(tokens: AddressToken[]): Address | null {
  if (tokens.length === 0) return null;

  const angles = tokens.filter((token) => token.kind === 'angle');
  const phrase = tokens.filter((token) => token.kind === 'word' || token.kind === 'quoted');
  const comments = tokens.filter((token) => token.kind === 'comment').map((token) => token.text);

  const lastAngle = angles[angles.length - 1];
  if (lastAngle) {
    return { name: displayName(joinPhrase(phrase) || comments.join(' ')), email: cleanAddress(lastAngle.text) };
  }

  // No angle address: `addr`, `addr (Name)`, `Name addr` or `Name (addr)`.
  let addressIndex = -1;
  for (let i = phrase.length - 1; i >= 0 && addressIndex < 0; i--) {
    const token = phrase[i] as AddressToken;
    if (token.text.includes('@') && !token.text.startsWith('=?')) addressIndex = i;
  }
  if (addressIndex >= 0) {
    const rest = phrase.filter((_, index) => index !== addressIndex);
    return {
      name: displayName(joinPhrase(rest) || comments.join(' ')),
      email: cleanAddress((phrase[addressIndex] as AddressToken).text),
    };
  }

  const inComment = comments.map((comment) => ADDRESS_IN_TEXT.exec(comment)?.[0]).find(Boolean);
  if (inComment) return { name: displayName(joinPhrase(phrase)), email: cleanAddress(inComment) };

  const only = phrase.length === 1 ? phrase[0] : undefined;
  if (only && only.kind === 'word' && DOT_ATOM.test(only.text)) {
    return { name: displayName(comments.join(' ')), email: only.text };
  }

  const name = displayName(joinPhrase(phrase) || comments.join(' '));
  return name ? { name, email: '' } : null;
}

function joinPhrase(tokens: AddressToken[]): string {
  let text = '';
  for (const token of tokens) text += (text && token.spaceBefore ? ' ' : '') + token.text;
  return text;
}

function displayName(text: string): string {
  return repairWindows1252(decodeWords(text))
    .replace(/[ \t\r\n]+/g, ' ')
    .trim();
}

function cleanAddress(text: string): string {
  let address = text.replace(/[\r\n]+/g, '').trim();
  address = address.replace(/^mailto:/i, '');
  // An obsolete source route, <@relay.example:user@example.com>, ends at the last colon.
  if (address.startsWith('@') && address.includes(':')) address = address.slice(address.lastIndexOf(':') + 1);
  return address.trim();
}

/** Mailboxes of every header with this name that have an address with an `@`. */
function mailboxesOf(headers: Record<string, string[]>, name: string): Address[] {
  const values = Object.prototype.hasOwnProperty.call(headers, name) ? (headers[name] ?? []) : [];
  return values.flatMap((value) => parseAddressList(value)).filter((mailbox) => mailbox.email.includes('@'));
}

/**
 * Picks the author: the first From mailbox with an address (`MAILER-DAEMON` alone counts, after
 * any with an `@`), else Sender, else Reply-To. Spam and broken mailers send a From without an
 * address, `"Name" <>`, or a second From header.
 */
function pickAuthor(headers: Record<string, string[]>, warnings: string[]): Address | null {
  const values = Object.prototype.hasOwnProperty.call(headers, 'from') ? (headers['from'] ?? []) : [];
  const fromMailboxes = values.flatMap((value) => parseAddressList(value));
  const author =
    fromMailboxes.find((mailbox) => mailbox.email.includes('@')) ?? fromMailboxes.find((mailbox) => mailbox.email);
  if (author) return author;

  for (const fallback of ['sender', 'reply-to']) {
    const mailbox = mailboxesOf(headers, fallback)[0];
    if (mailbox) {
      warnings.push(`From header has no address; used the ${fallback === 'sender' ? 'Sender' : 'Reply-To'} address`);
      return mailbox;
    }
  }
  warnings.push('no sender address in From, Sender or Reply-To');
  return null;
}

// ---------------------------------------------------------------------------------------------
// Charsets

/**
 * Checks whether postal-mime supports a charset label. postal-mime itself decodes probe bytes,
 * so that its alias table (cp932, x-sjis, ks_c_5601-1987, ...) counts. An unsupported label gives
 * exactly the text of its UTF-8-or-windows-1252 fallback. Labels of windows-1252 give that text
 * too, so a label TextDecoder accepts also counts as supported.
 */
class CharsetCheck {
  private readonly known = new Map<string, boolean>();
  private fallbackText: string | null = null;

  isKnown(label: string): boolean {
    const key = label.trim().toLowerCase();
    const cached = this.known.get(key);
    if (cached !== undefined) return cached;

    let known = false;
    if (/^[a-z0-9_.:+()-]+$/.test(key)) {
      this.fallbackText ??= decodeWords(`=?windows-1252?B?${PROBE_BASE64}?=`);
      known = decodeWords(`=?${key}?B?${PROBE_BASE64}?=`) !== this.fallbackText || encodingOf(key) !== null;
    }
    this.known.set(key, known);
    return known;
  }
}

/**
 * Base64 of the bytes 0x80 0xA4 0xC3 0xD0 0xE9 0xFF. Every other encoding of the WHATWG Encoding
 * Standard decodes them to a different text than windows-1252 does, in Node 20 and in
 * @zxing/text-encoding 0.9.
 */
const PROBE_BASE64 = 'gKTD0On/';

function warnAboutCharsets(
  headers: Record<string, string[]>,
  parts: PartInfo[],
  charsets: CharsetCheck,
  warnings: string[],
): void {
  const reported = new Set<string>();
  const report = (label: string, where: string): void => {
    const key = `${label.toLowerCase()} ${where}`;
    if (reported.has(key) || charsets.isKnown(label)) return;
    reported.add(key);
    warnings.push(`unknown charset ${JSON.stringify(label)} in ${where}; decoded as UTF-8 or windows-1252`);
  };

  for (const part of parts) {
    const isText = part.mimeType === 'text/plain' || part.mimeType === 'text/html';
    const isBodyText = isText && part.disposition !== 'attachment';
    if (!isBodyText) continue;
    if (part.charset) {
      report(part.charset, `a ${part.mimeType} part`);
    } else if (part.content && !isUtf8(new Uint8Array(part.content)) && !declaresHtmlCharset(part)) {
      // NOTE: no charset detection is done, so such text in a CJK charset comes out garbled.
      warnings.push(`a ${part.mimeType} part declares no charset and is not UTF-8; decoded as windows-1252`);
    }
  }

  for (const name of ['subject', 'from', 'to', 'cc', 'reply-to']) {
    for (const match of allHeaders(headers, name).matchAll(/=\?([^?\s*]+)(?:\*[^?]*)?\?[QqBb]\?/g)) {
      report(match[1] ?? '', `the ${name} header`);
    }
  }
}

/**
 * Reads as windows-1252 each body text part that is labelled UTF-8 but is not UTF-8, as legacy
 * mailers send Latin-1 text under a UTF-8 label. postal-mime decodes such a part with U+FFFD in
 * place of every non-ASCII letter, and that text is replaced in the body by the windows-1252 one.
 * NOTE: a part whose decoded text postal-mime changed further (format=flowed) keeps the U+FFFD.
 */
function repairMislabelledUtf8(email: Email, parts: PartInfo[], warnings: string[]): void {
  for (const part of parts) {
    const isBodyText = (part.mimeType === 'text/plain' || part.mimeType === 'text/html') && part.disposition !== 'attachment';
    if (!isBodyText || !part.content || encodingOf(part.charset.toLowerCase()) !== 'utf-8') continue;
    const bytes = new Uint8Array(part.content);
    if (isUtf8(bytes)) continue;

    const field = part.mimeType === 'text/html' ? 'html' : 'text';
    const decoded = new TextDecoder('utf-8').decode(bytes).replace(/\r\n/g, '\n');
    const body = email[field];
    if (body === undefined || !body.includes(decoded)) continue;
    const latin = new TextDecoder('windows-1252').decode(bytes).replace(/\r\n/g, '\n');
    email[field] = body.replace(decoded, () => latin);
    warnings.push(`a ${part.mimeType} part labelled ${JSON.stringify(part.charset)} is not UTF-8; decoded as windows-1252`);
  }
}

/** Checks whether an HTML part names its charset in a `<meta>` tag, which postal-mime then uses. */
function declaresHtmlCharset(part: PartInfo): boolean {
  if (part.mimeType !== 'text/html' || !part.content) return false;
  const head = new TextDecoder('windows-1252').decode(new Uint8Array(part.content).subarray(0, 1024));
  return /<meta[^>]*charset\s*=/i.test(head);
}

/** Unicode characters of windows-1252 bytes 0x80 to 0x9F; the five unassigned bytes keep their code. */
const WINDOWS_1252_HIGH_CONTROLS =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

let decoderReadsLatin1: boolean | null = null;

/**
 * Replaces C1 control characters with the windows-1252 characters they stand for, when the
 * runtime's TextDecoder decodes windows-1252 as ISO-8859-1. Node 20.18.3 and later, 22.13 and
 * later and 24 do, so Outlook's curly quotes and the euro sign would come out as control
 * characters. Mail text never means those controls, and TextDecoders that follow the WHATWG
 * Encoding Standard (browsers, @zxing/text-encoding under Apps Script) never produce them.
 */
function repairWindows1252(text: string): string {
  decoderReadsLatin1 ??= new TextDecoder('windows-1252').decode(new Uint8Array([0x80])) !== '\u20ac';
  if (!decoderReadsLatin1) return text;
  return text.replace(/[\u0080-\u009f]/g, (char) => WINDOWS_1252_HIGH_CONTROLS[char.charCodeAt(0) - 0x80] ?? char);
}

// ---------------------------------------------------------------------------------------------
// Body

/** html-to-text settings for a readable plain-text view of an HTML-only message. */
const HTML_TO_TEXT_OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

interface Body {
  text: string;
  html: string;
  uuencoded: Attachment[];
}

function extractBody(email: Email, warnings: string[]): Body {
  const html = repairWindows1252(email.html ?? '');
  let text = repairWindows1252(email.text ?? '');
  const uuencoded: Attachment[] = [];

  if (text.trim()) {
    text = extractUuencodedBlocks(text, uuencoded, warnings);
  } else if (html.trim()) {
    text = htmlToText(html, warnings);
  }
  // Blank lines around the text carry nothing; indentation of the first line is kept.
  text = text.replace(/^(?:[ \t]*\n)+/, '').replace(/\s+$/, '');
  return { text, html, uuencoded };
}

function htmlToText(html: string, warnings: string[]): string {
  // A browser moves content found after </body> or </html> into the body (HTML5 "after body"
  // parsing), and mailers do leave text there; html-to-text would drop it.
  const unclosed = html.replace(/<\/(?:body|html)\s*>/gi, '');
  try {
    return convertHtml(unclosed, HTML_TO_TEXT_OPTIONS).trim();
  } catch (error) {
    warnings.push(`HTML body could not be rendered as text: ${(error as Error).message}`);
    return html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  }
}

/** A uuencoded file inside plain text: `begin 644 name`, encoded lines, `end`. */
const UUENCODED_BLOCK = /^begin [0-7]{3,4} ([^\n]+)\n((?:[^\n]*\n)*?)end[ \t]*$/gm;

function extractUuencodedBlocks(text: string, found: Attachment[], warnings: string[]): string {
  if (!text.includes('begin ')) return text;
  return text.replace(UUENCODED_BLOCK, (block, filename: string, data: string) => {
    const content = decodeUuencode(data);
    if (!content) return block;
    found.push({
      filename: filename.trim(),
      mimeType: 'application/octet-stream',
      contentId: '',
      disposition: 'attachment',
      content,
    });
    warnings.push(`extracted uuencoded file ${JSON.stringify(filename.trim())} from the text body`);
    return '';
  });
}

/**
 * Decodes uuencoded data, with or without its `begin` and `end` lines. Returns null when a
 * line does not fit the format, so that text that only resembles uuencode is left alone.
 */
function decodeUuencode(data: string): Uint8Array | null {
  const bytes: number[] = [];
  for (const rawLine of data.split(/\r?\n/)) {
    const line = rawLine.replace(/[ \t]+$/, (spaces) => '`'.repeat(spaces.length));
    if (line === '' || /^begin [0-7]{3,4} /.test(line)) continue;
    if (line === 'end') break;

    const count = (line.charCodeAt(0) - 32) & 63;
    if (count === 0) break;
    const needed = Math.ceil(count / 3) * 4;
    const chars = line.slice(1);
    if (chars.length < needed - 1 || chars.length > needed + 2) return null;

    let written = 0;
    for (let i = 0; i < needed && written < count; i += 4) {
      const c = [0, 1, 2, 3].map((offset) => ((chars.charCodeAt(i + offset) || 32) - 32) & 63) as [
        number,
        number,
        number,
        number,
      ];
      const triple = [(c[0] << 2) | (c[1] >> 4), ((c[1] & 15) << 4) | (c[2] >> 2), ((c[2] & 3) << 6) | c[3]];
      for (const byte of triple) {
        if (written < count) {
          bytes.push(byte & 255);
          written++;
        }
      }
    }
  }
  return bytes.length ? new Uint8Array(bytes) : null;
}

// ---------------------------------------------------------------------------------------------
// Attachments

function collectAttachments(list: PostalAttachment[], parts: PartInfo[], warnings: string[]): Attachment[] {
  const partsByContent = new Map<ArrayBuffer, PartInfo>();
  for (const part of parts) if (part.content) partsByContent.set(part.content, part);

  return list.map((attachment, index) => {
    const part = attachment.content instanceof ArrayBuffer ? partsByContent.get(attachment.content) : undefined;
    let content = contentBytes(attachment.content);

    if (part && /^(x-)?uu(encode|e)?$/.test(part.transferEncoding)) {
      const decoded = decodeUuencode(new TextDecoder('windows-1252').decode(content));
      if (decoded) {
        content = decoded;
      } else {
        warnings.push(`attachment ${index + 1} is marked x-uuencode but is not uuencoded; kept as sent`);
      }
    }

    const contentId = (attachment.contentId ?? '').trim().replace(/^<|>$/g, '');
    const filename = repairWindows1252(attachment.filename?.trim() ?? '');
    return {
      filename: filename || fallbackFilename(attachment.mimeType, content, index),
      mimeType: attachment.mimeType || 'application/octet-stream',
      contentId,
      disposition: dispositionOf(attachment, contentId),
      content,
    };
  });
}

/**
 * Copies each text/html body part after the first into an inline attachment in UTF-8. postal-mime
 * joins all HTML body parts into one `html` string, and Apple Mail sends one before and one after
 * each attachment. The joined string is no longer one well-formed document, so the parts as sent
 * stay available here.
 */
function secondaryHtmlParts(parts: PartInfo[]): Attachment[] {
  const htmlParts = parts.filter((part) => part.mimeType === 'text/html' && part.disposition !== 'attachment');
  return htmlParts.slice(1).flatMap((part, index) => {
    if (!part.content) return [];
    const text = decodeCharset(new Uint8Array(part.content), part.charset);
    return [
      {
        filename: `document-${index + 1}.html`,
        mimeType: 'text/html',
        contentId: '',
        disposition: 'inline' as const,
        content: new TextEncoder().encode(text),
      },
    ];
  });
}

/** Decodes text in a charset label; an unknown label reads as UTF-8 when valid, else windows-1252. */
function decodeCharset(bytes: Uint8Array, label: string): string {
  const encoding = label ? encodingOf(label.toLowerCase()) : null;
  if (encoding && encoding !== 'replacement') return repairWindows1252(new TextDecoder(encoding).decode(bytes));
  if (isUtf8(bytes)) return new TextDecoder('utf-8').decode(bytes);
  return repairWindows1252(new TextDecoder('windows-1252').decode(bytes));
}

function contentBytes(content: PostalAttachment['content']): Uint8Array {
  if (typeof content === 'string') return new TextEncoder().encode(content);
  if (content instanceof Uint8Array) return content;
  return new Uint8Array(content);
}

/** Chooses the disposition. A part with a Content-ID and no Content-Disposition is inline (a `cid:` image). */
function dispositionOf(attachment: PostalAttachment, contentId: string): Attachment['disposition'] {
  const disposition = (attachment.disposition ?? '').toLowerCase();
  if (disposition === 'inline') return 'inline';
  if (!disposition && contentId) return 'inline';
  return 'attachment';
}

const EXTENSIONS: Record<string, string> = {
  'application/pdf': '.pdf',
  'image/jpeg': '.jpg',
  'message/delivery-status': '.txt',
  'message/rfc822': '.eml',
  'text/html': '.html',
  'text/plain': '.txt',
  'text/rfc822-headers': '.txt',
};

/** Names an attachment sent without a name. A forwarded message is named by its subject. */
function fallbackFilename(mimeType: string, content: Uint8Array, index: number): string {
  if (mimeType === 'message/rfc822') {
    const subject = forwardedSubject(content);
    if (subject) return `${subject}.eml`;
  }
  const imageExtension = /^image\/([a-z0-9]+)$/.exec(mimeType)?.[1];
  const extension = EXTENSIONS[mimeType] ?? (imageExtension ? `.${imageExtension}` : '');
  const base = mimeType.replace(/^[a-z]+\//, '').replace(/[^a-z0-9.-]+/g, '-') || 'attachment';
  return `${base}-${index + 1}${extension}`;
}

function forwardedSubject(content: Uint8Array): string {
  // windows-1252 maps every byte to one character, so offsets in `head` are byte offsets.
  const head = new TextDecoder('windows-1252').decode(content.subarray(0, 64 * 1024));
  const headerEnd = head.search(/\r?\n\r?\n/);
  const block = headerEnd < 0 ? head : head.slice(0, headerEnd);
  const match = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(block);
  if (!match) return '';

  const valueStart = match.index + match[0].length - (match[1] ?? '').length;
  const bytes = content.subarray(valueStart, match.index + match[0].length);
  const value = isUtf8(bytes)
    ? new TextDecoder('utf-8').decode(bytes)
    : (new LegacyHeaderCharset(content).decode(bytes)?.text ?? new TextDecoder('windows-1252').decode(bytes));

  return repairWindows1252(decodeWords(value.replace(/\r?\n/g, '')))
    .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_')
    .trim()
    .slice(0, 100);
}
