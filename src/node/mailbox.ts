/**
 * Local mailboxes for the Node runtime: a folder of .eml or .box files, an mbox file (the
 * Google Takeout export) or a Maildir. Each source lists its messages in delivery order: by the
 * delivery time that the mailbox stores (mbox postmark, Maildir name), or else by the Date
 * header.
 *
 * An mbox is indexed in one streaming pass that keeps only the offset, length and date of each
 * message (24 bytes), and each message is read back by offset when it is processed, so no
 * message stays in memory.
 */
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { parseDateHeader } from '../core/dates';
import type { InboundMail } from '../core/ports';

export type MailboxKind = 'folder' | 'mbox' | 'maildir';

export interface MailboxSource {
  kind: MailboxKind;
  count: number;
  /** Messages in delivery order, as Indexed describes it. Each call starts a new pass over the mailbox. */
  messages(): AsyncIterable<InboundMail>;
}

/** A path that does not exist, cannot be read or is not a mailbox. */
export class MailboxError extends Error {
  override name = 'MailboxError';
}

const EXPECTED =
  'Pass a folder of .eml or .box files, an mbox file, ' +
  'or a Maildir folder (one with cur/ and new/).';

/** File extensions of single messages in a folder mailbox, lower case. */
const MESSAGE_EXTENSIONS = new Set(['.eml', '.box']);

/** Bytes read at a time from a message file while its header block is scanned for the date. */
const HEADER_READ_CHUNK = 64 * 1024;
/** Bytes of a message file's header block read at most to find its Date header. */
const HEADER_READ_LIMIT = 1024 * 1024;

/** Characters kept from the start of each mbox line, which is enough for a Date header line. */
const LINE_KEEP = 1024;

/** Files whose headers are read at the same time while a folder is indexed. */
const READ_CONCURRENCY = 32;

/**
 * Standard mbox postmark: `From <sender> Www Mmm dd hh:mm:ss ...`, as Google Takeout and
 * Thunderbird write it.
 */
const POSTMARK = new RegExp(
  '^From \\S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun) +' +
    '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\\d{1,2} +\\d{1,2}:\\d{2}',
);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The date of a postmark: month, day, time, then the year with a zone before or after it. */
const POSTMARK_DATE = new RegExp(
  '^From \\S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(' + MONTHS.join('|') + ') +(\\d{1,2}) +' +
    '(\\d{1,2}):(\\d{2})(?::(\\d{2}))?(?: +([+-]\\d{4}))? +(\\d{4})(?: +([+-]\\d{4}))?(?:\\s|$)',
);

/**
 * Returns the delivery time of an mbox postmark line in epoch ms, or null when the line has none
 * or its date is not a real one (Feb 31, a year before 1970). A postmark without a zone is read
 * as UTC. Google Takeout writes `+0000` before the year.
 */
export function postmarkDate(line: string): number | null {
  const match = POSTMARK_DATE.exec(line);
  if (match === null) return null;
  const [, month, day, hour, minute, second, zoneBefore, year, zoneAfter] = match;
  const zone = zoneBefore ?? zoneAfter ?? '+0000';
  const sign = zone.startsWith('-') ? -1 : 1;
  const zoneHours = Number(zone.slice(1, 3));
  const zoneMinutes = Number(zone.slice(3));
  // Real offsets run from -12:00 to +14:00.
  if (zoneHours > 14 || zoneMinutes > 59) return null;
  const offsetMinutes = sign * (zoneHours * 60 + zoneMinutes);
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(Number(year), MONTHS.indexOf(month!), Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second ?? 0));
  // A field out of range (Feb 31, 25:00) rolls the date over, so the fields no longer match.
  const valid =
    date.getUTCFullYear() === Number(year) &&
    date.getUTCDate() === Number(day) &&
    date.getUTCHours() === Number(hour) &&
    date.getUTCMinutes() === Number(minute) &&
    Number(year) >= 1970;
  return valid ? date.getTime() - offsetMinutes * 60_000 : null;
}

/** 1995-01-01: Maildir unique names that start with an earlier number are not delivery times. */
const MAILDIR_EPOCH = Date.UTC(1995, 0, 1);

/**
 * Returns the delivery time that starts a Maildir unique name (seconds since the epoch, as
 * Maildir delivery agents name files) in epoch ms, or null when the name does not start with one.
 */
export function maildirDeliveryTime(uniqueName: string): number | null {
  const match = /^(\d{9,10})\./.exec(uniqueName);
  if (match === null) return null;
  const time = Number(match[1]) * 1000;
  // A number before Maildir existed is a name of another scheme, not a time.
  return time >= MAILDIR_EPOCH ? time : null;
}

/**
 * Opens the mailbox at `path`. Throws MailboxError when the path does not exist, cannot be read
 * or is neither a folder, an mbox file nor a Maildir.
 */
export async function openMailbox(path: string): Promise<MailboxSource> {
  const stats = await statOrThrow(path);
  if (stats.isDirectory()) {
    if ((await isDirectory(join(path, 'cur'))) && (await isDirectory(join(path, 'new')))) {
      return openMaildir(path);
    }
    return openFolder(path);
  }
  if (stats.isFile()) return openMbox(path, stats.size);
  throw new MailboxError(`${path} is neither a file nor a folder. ${EXPECTED}`);
}

async function statOrThrow(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    throw mailboxError(path, error);
  }
}

function mailboxError(path: string, error: unknown): MailboxError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new MailboxError(`Mailbox not found: ${path}. ${EXPECTED}`);
  if (code === 'EACCES' || code === 'EPERM') {
    return new MailboxError(`Cannot read mailbox ${path}: permission denied.`);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new MailboxError(`Cannot read mailbox ${path}: ${reason}`);
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Ordering

interface Indexed {
  /**
   * Milliseconds since the epoch by which the message is sorted: the delivery time that the
   * mailbox stores (postmark, Maildir name), or else the Date header. Null when there is neither.
   * Delivery order comes first because a reply cannot arrive before the message it replies to,
   * while a sender's clock can be wrong.
   */
  date: number | null;
}

/**
 * Gives each message without a date (NaN) the date of the message before it in file order, so
 * that it stays next to that message and is dated like it. Messages before the first date take
 * that first date. Only a mailbox without any date keeps NaN, and the run dates it with its clock.
 */
function fillMissingDates(dates: Float64Array): void {
  let previous = Number.NaN;
  for (let index = 0; index < dates.length; index++) {
    if (Number.isNaN(dates[index]!)) dates[index] = previous;
    else previous = dates[index]!;
  }
  const first = dates.findIndex((date) => !Number.isNaN(date));
  if (first > 0) dates.fill(dates[first]!, 0, first);
}

/** Returns the indexes of messages in date order, keeping file order for equal dates. NaN comes first. */
function dateOrder(dates: Float64Array): Uint32Array {
  const key = (index: number) => (Number.isNaN(dates[index]!) ? -Infinity : dates[index]!);
  const order = new Uint32Array(dates.length);
  for (let index = 0; index < order.length; index++) order[index] = index;
  // Two -Infinity keys subtract to NaN, which falls through to file order.
  return order.sort((a, b) => key(a) - key(b) || a - b);
}

/** Sorts entries by date after filling missing dates as fillMissingDates does. */
function sortByDate<T extends Indexed>(entries: T[]): T[] {
  const dates = Float64Array.from(entries, (entry) => entry.date ?? Number.NaN);
  fillMissingDates(dates);
  return Array.from(dateOrder(dates), (index) => {
    const date = dates[index]!;
    return { ...entries[index]!, date: Number.isNaN(date) ? null : date };
  });
}


function isoDate(date: number | null): string | undefined {
  return date === null ? undefined : new Date(date).toISOString();
}

/** Finds the first Date header in the header block of a message, fed one line at a time. */
class DateHeaderScanner {
  /** True once the blank line that ends the header block has been seen. */
  done = false;
  private value: string | null = null;
  private inDate = false;

  /** Takes one line without its LF, with or without a trailing CR. */
  feed(line: string): void {
    if (this.done) return;
    if (line === '' || line === '\r') {
      this.done = true;
      return;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (this.inDate) this.value += ` ${line.trim()}`;
      return;
    }
    this.inDate = false;
    if (this.value === null && /^date[ \t]*:/i.test(line)) {
      this.value = line.slice(line.indexOf(':') + 1).trim();
      this.inDate = true;
    }
  }

  get date(): number | null {
    return this.value === null ? null : parseDateHeader(this.value);
  }
}

// ---------------------------------------------------------------------------------------------
// Folder of message files and Maildir

interface FileEntry extends Indexed {
  path: string;
  sourceId: string;
}

async function openFolder(root: string): Promise<MailboxSource> {
  const files: string[] = [];
  const mboxFiles: string[] = [];
  await collectFiles(root, files, mboxFiles);
  if (files.length === 0 && mboxFiles.length > 0) {
    throw new MailboxError(
      `${root} contains no .eml or .box files but has the mbox file ${mboxFiles[0]}. ` +
        'Pass that file instead.',
    );
  }
  const entries = await indexFiles(
    sortPaths(files).map((path) => ({ path, sourceId: relative(root, path).split(sep).join('/') })),
  );
  return fileSource('folder', entries);
}

async function collectFiles(folder: string, files: string[], mboxFiles: string[]): Promise<void> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    throw mailboxError(folder, error);
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(folder, name);
    const stats = await stat(path).catch(() => null);
    if (stats === null) continue;
    if (stats.isDirectory()) {
      await collectFiles(path, files, mboxFiles);
    } else if (stats.isFile()) {
      const extension = extname(name).toLowerCase();
      if (MESSAGE_EXTENSIONS.has(extension)) files.push(path);
      else if (extension === '.mbox') mboxFiles.push(path);
    }
  }
}

/** Sorts paths so that `2.eml` comes before `10.eml`. */
function sortPaths(paths: string[]): string[] {
  return [...paths].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

async function openMaildir(root: string): Promise<MailboxSource> {
  const found: { path: string; sourceId: string }[] = [];
  for (const folder of ['cur', 'new']) {
    let names: string[];
    try {
      names = await readdir(join(root, folder));
    } catch (error) {
      throw mailboxError(join(root, folder), error);
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(root, folder, name);
      const stats = await stat(path).catch(() => null);
      if (stats === null || !stats.isFile()) continue;
      // The unique name before ":2,<flags>" stays the same when a mail client moves the file
      // from new/ to cur/ or changes its flags, so it is the stable id.
      found.push({ path, sourceId: name.split(':')[0]! });
    }
  }
  // Maildir unique names start with the delivery time in seconds, so name order is close to
  // delivery order.
  found.sort((a, b) => a.sourceId.localeCompare(b.sourceId, 'en', { numeric: true }));
  return fileSource('maildir', await indexFiles(found, maildirDeliveryTime));
}

/**
 * Reads each file's date as Indexed describes it. The delivery time is that of a postmark line
 * that starts the file, else `deliveryTime` of its id.
 */
async function indexFiles(
  files: { path: string; sourceId: string }[],
  deliveryTime: (sourceId: string) => number | null = () => null,
): Promise<FileEntry[]> {
  const entries: FileEntry[] = [];
  for (let start = 0; start < files.length; start += READ_CONCURRENCY) {
    const batch = files.slice(start, start + READ_CONCURRENCY);
    const dates = await Promise.all(
      batch.map(async (file) => {
        const { header, postmark } = await readFileDates(file.path);
        return postmark ?? deliveryTime(file.sourceId) ?? header;
      }),
    );
    batch.forEach((file, index) => entries.push({ ...file, date: dates[index] ?? null }));
  }
  return sortByDate(entries);
}

/**
 * Reads the Date header and the date of a starting postmark line from a file's header block,
 * of which it reads at most HEADER_READ_LIMIT bytes.
 */
async function readFileDates(path: string): Promise<{ header: number | null; postmark: number | null }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw mailboxError(path, error);
  }
  try {
    const buffer = Buffer.alloc(HEADER_READ_CHUNK);
    const scanner = new DateHeaderScanner();
    let firstLine: string | null = null;
    let partial = '';
    let position = 0;
    while (!scanner.done && position < HEADER_READ_LIMIT) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) {
        // The file ends without a newline, so its last line is complete.
        scanner.feed(partial);
        firstLine ??= partial;
        break;
      }
      position += bytesRead;
      const lines = (partial + buffer.toString('latin1', 0, bytesRead)).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        firstLine ??= line;
        scanner.feed(line);
        if (scanner.done) break;
      }
    }
    return { header: scanner.date, postmark: postmarkDate(firstLine ?? partial) };
  } finally {
    await handle.close();
  }
}

function fileSource(kind: 'folder' | 'maildir', entries: FileEntry[]): MailboxSource {
  return {
    kind,
    count: entries.length,
    async *messages() {
      for (const entry of entries) {
        const raw = await readFile(entry.path).catch((error: unknown) => {
          throw mailboxError(entry.path, error);
        });
        yield {
          sourceId: entry.sourceId,
          threadId: '',
          raw: withoutPostmark(raw),
          date: isoDate(entry.date),
        };
      }
    },
  };
}

/**
 * Drops an mbox `From ` envelope line that some tools write at the start of a message file.
 * It is not a header, because a header line has a colon right after the field name.
 */
function withoutPostmark(raw: Buffer): Buffer {
  if (raw.toString('latin1', 0, 5) !== 'From ') return raw;
  const newline = raw.indexOf(10);
  return newline === -1 ? raw : raw.subarray(newline + 1);
}

// ---------------------------------------------------------------------------------------------
// mbox

/**
 * Offset, length and date of each message of an mbox, in file order. Typed arrays keep it at
 * 24 bytes a message, so a large mbox's index stays small during the whole run.
 */
class MboxIndex {
  count = 0;
  /** Byte offset of each message's `From ` separator line. */
  private offsets = new Float64Array(1024);
  /** Bytes up to the next separator line or the end of the file. */
  private lengths = new Float64Array(1024);
  /** Date of each message in epoch ms, as Indexed has it, NaN for null. */
  private dates = new Float64Array(1024);

  add(offset: number, length: number, date: number | null): void {
    if (this.count === this.offsets.length) {
      this.offsets = grown(this.offsets);
      this.lengths = grown(this.lengths);
      this.dates = grown(this.dates);
    }
    this.offsets[this.count] = offset;
    this.lengths[this.count] = length;
    this.dates[this.count] = date ?? Number.NaN;
    this.count++;
  }

  entry(index: number): { offset: number; length: number; date: number | null } {
    const date = this.dates[index]!;
    return {
      offset: this.offsets[index]!,
      length: this.lengths[index]!,
      date: Number.isNaN(date) ? null : date,
    };
  }

  /** Fills missing dates as fillMissingDates does and returns the message indexes in date order. */
  dateOrder(): Uint32Array {
    const dates = this.dates.subarray(0, this.count);
    fillMissingDates(dates);
    return dateOrder(dates);
  }
}

function grown(array: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const larger = new Float64Array(array.length * 2);
  larger.set(array);
  return larger;
}

async function openMbox(path: string, size: number): Promise<MailboxSource> {
  await checkMboxStart(path, size);
  const index = await indexMbox(path);
  const order = index.dateOrder();
  const name = basename(path);
  return {
    kind: 'mbox',
    count: index.count,
    async *messages() {
      const handle = await open(path, 'r').catch((error: unknown) => {
        throw mailboxError(path, error);
      });
      try {
        for (const position of order) {
          const entry = index.entry(position);
          const buffer = Buffer.alloc(entry.length);
          let filled = 0;
          while (filled < entry.length) {
            const { bytesRead } = await handle.read(
              buffer,
              filled,
              entry.length - filled,
              entry.offset + filled,
            );
            if (bytesRead === 0) {
              throw new MailboxError(`${path} changed while it was read: it ends early.`);
            }
            filled += bytesRead;
          }
          yield {
            sourceId: `${name}#${entry.offset}`,
            threadId: '',
            raw: unwrapMboxMessage(buffer),
            date: isoDate(entry.date),
          };
        }
      } finally {
        await handle.close();
      }
    },
  };
}

/** Throws MailboxError unless the file is empty with an .mbox name or starts with `From `. */
async function checkMboxStart(path: string, size: number): Promise<void> {
  if (size === 0) {
    if (extname(path).toLowerCase() === '.mbox') return;
    throw new MailboxError(`${path} is an empty file, not a mailbox. ${EXPECTED}`);
  }
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw mailboxError(path, error);
  });
  let start: string;
  try {
    const buffer = Buffer.alloc(Math.min(size, 256));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    start = buffer.toString('latin1', 0, bytesRead);
  } finally {
    await handle.close();
  }
  if (start.startsWith('From ')) return;
  if (/^[!-9;-~]+:/.test(start)) {
    throw new MailboxError(
      `${path} is a single message, not a mailbox. Pass the folder that contains it.`,
    );
  }
  throw new MailboxError(`${path} is not a mailbox: an mbox file starts with "From ". ${EXPECTED}`);
}

/**
 * Streams the mbox once and returns where each message starts and ends and its date, as Indexed
 * describes it.
 *
 * A line starting with `From ` separates messages when it is the first line of the file, when
 * the line before it is blank, or when it is a standard postmark. A `From ` line in a body is
 * written as `>From ` by mbox writers, so it never starts a message.
 */
async function indexMbox(path: string): Promise<MboxIndex> {
  const index = new MboxIndex();
  let current: { offset: number; scanner: DateHeaderScanner; delivered: number | null } | null = null;
  let previousBlank = false;

  const finish = (end: number): void => {
    if (current === null) return;
    const { offset, scanner, delivered } = current;
    index.add(offset, end - offset, delivered ?? scanner.date);
  };

  const handleLine = (start: number, head: string): void => {
    const blank = head === '' || head === '\r';
    if (head.startsWith('From ') && (start === 0 || previousBlank || POSTMARK.test(head))) {
      finish(start);
      current = { offset: start, scanner: new DateHeaderScanner(), delivered: postmarkDate(head) };
    } else if (current !== null && !current.scanner.done) {
      current.scanner.feed(head);
    }
    previousBlank = blank;
  };

  // Only the first LINE_KEEP characters of each line are kept, so a long body line (a base64
  // attachment without line breaks, say) costs no memory.
  let chunkStart = 0;
  let lineStart = 0;
  let head = '';
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let position = 0;
      while (position < chunk.length) {
        const newline = chunk.indexOf(10, position);
        const end = newline === -1 ? chunk.length : newline;
        if (head.length < LINE_KEEP) {
          const keepEnd = Math.min(end, position + LINE_KEEP - head.length);
          head += chunk.toString('latin1', position, keepEnd);
        }
        if (newline === -1) break;
        handleLine(lineStart, head);
        lineStart = chunkStart + newline + 1;
        head = '';
        position = newline + 1;
      }
      chunkStart += chunk.length;
    }
  } catch (error) {
    throw mailboxError(path, error);
  }
  if (lineStart < chunkStart) handleLine(lineStart, head);
  finish(chunkStart);
  return index;
}

/**
 * Turns the bytes of one mbox entry into the message: drops the `From ` separator line and
 * the blank line the writer added at the end, and unescapes `>From ` lines (mboxrd).
 */
function unwrapMboxMessage(entry: Buffer): Buffer {
  const firstNewline = entry.indexOf(10);
  let body = firstNewline === -1 ? Buffer.alloc(0) : entry.subarray(firstNewline + 1);
  if (endsWith(body, '\r\n\r\n')) body = body.subarray(0, body.length - 2);
  else if (endsWith(body, '\n\n')) body = body.subarray(0, body.length - 1);
  if (body.indexOf('>From ') === -1) return body;
  // latin1 maps each byte to one character and back, so the rest of the bytes are unchanged.
  const text = body.toString('latin1').replace(/^>(>*From )/gm, '$1');
  return Buffer.from(text, 'latin1');
}

function endsWith(buffer: Buffer, suffix: string): boolean {
  return (
    buffer.length >= suffix.length &&
    buffer.toString('latin1', buffer.length - suffix.length) === suffix
  );
}
