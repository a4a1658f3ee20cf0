/**
 * The mailer of the Node runtime: each outgoing message becomes an .eml file in DIR/outbox,
 * named `<NNNN>-<kind>-<ticket>-<key>.eml` with NNNN counting up in send order. The file name
 * carries the message's key, so a rerun over the same DIR finds what was sent before.
 *
 * A message is first written to DIR/outbox/.unsaved and moves to the outbox only once the
 * workbook that records it is saved. A run that dies before its save leaves no mail behind
 * that names ticket numbers the next run may give out otherwise.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import PostalMime, { decodeWords } from 'postal-mime';
import type { Email, Address as ParsedAddress } from 'postal-mime';
import { FingerprintSet } from '../core/fingerprints';
import { toMime } from '../core/mime-writer';
import type { Clock, Mailer } from '../core/ports';
import type { Address, OutgoingMessage } from '../core/types';

export interface OutboxOptions {
  /** Output folder. Messages go to its `outbox` subfolder. */
  dir: string;
  /** Clock that dates the messages. */
  clock: Clock;
}

/** One message file of the outbox with its headers decoded. */
export interface OutboxEntry {
  file: string;
  path: string;
  sequence: number;
  kind: string;
  ticket: number;
  /** X-Plusdesk-Key header of the message. */
  key: string;
  /** Every header, unfolded but not decoded, by lower-case name. */
  headers: Record<string, string[]>;
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  subject: string;
  /** Message-ID without angle brackets. */
  messageId: string;
  inReplyTo: string;
  references: string[];
  /** ISO 8601. */
  date: string;
  text: string;
}

const OUTBOX_FOLDER = 'outbox';
/** Subfolder of the outbox for messages whose workbook is not saved yet. */
const UNSAVED_FOLDER = '.unsaved';
const FILE_NAME = /^(\d+)-([a-z]+)-(\d+)-(.+)\.eml$/;
/** Minimum digits of the sequence in a file name. Sequences past 9999 get more digits. */
const SEQUENCE_DIGITS = 4;
/** Maximum length of the key in a file name, which keeps names well under the usual 255 bytes. */
const MAX_KEY_PART = 160;

export class OutboxMailer implements Mailer {
  private readonly folder: string;
  private readonly unsavedFolder: string;
  /** Key parts of the outbox's file names, read on first use, with this run's unsaved files. */
  private files: FingerprintSet | null = null;
  private nextSequence = 1;
  /** The last send, so that sends are numbered one after another. */
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly options: OutboxOptions) {
    this.folder = join(options.dir, OUTBOX_FOLDER);
    this.unsavedFolder = join(this.folder, UNSAVED_FOLDER);
  }

  /**
   * Moves the unsaved mail that the workbook records (by key) to the outbox and deletes the
   * rest, which the next run plans again. A run calls it after its save, and before its first
   * message for the mail that a run which died left behind.
   */
  async settle(recorded: (key: string) => boolean): Promise<void> {
    await this.sending;
    for (const file of await outboxFiles(this.unsavedFolder)) {
      const path = join(this.unsavedFolder, file.name);
      const key = keyOfPart(file.keyPart) ?? keyOf(await PostalMime.parse(await readFile(path)));
      if (key !== '' && recorded(key)) await rename(path, join(this.folder, file.name));
    }
    // What is left was never recorded, or is a file that a dead run did not finish writing.
    await rm(this.unsavedFolder, { recursive: true, force: true });
    this.files = null;
  }

  /**
   * Writes `message` as the next .eml file. A message whose key is already in the outbox is not
   * written again.
   */
  send(message: OutgoingMessage): Promise<void> {
    const run = this.sending.then(() => this.write(message));
    this.sending = run.catch(() => undefined);
    return run;
  }

  async wasSent(message: OutgoingMessage): Promise<boolean> {
    const files = await this.index();
    return files.has(keyPart(message.key));
  }

  private async write(message: OutgoingMessage): Promise<void> {
    const files = await this.index();
    const part = keyPart(message.key);
    if (files.has(part)) return;

    const sequence = String(this.nextSequence).padStart(SEQUENCE_DIGITS, '0');
    const name = `${sequence}-${message.kind}-${message.ticket}-${part}.eml`;
    const raw = toMime(message, this.options.clock.now());
    await mkdir(this.unsavedFolder, { recursive: true });
    // A file appears under its real name only when complete, so a crash mid-write never
    // leaves a half message.
    const temporary = join(this.unsavedFolder, `.${name}.tmp`);
    await writeFile(temporary, raw);
    await rename(temporary, join(this.unsavedFolder, name));
    files.add(part);
    this.nextSequence++;
  }

  private async index(): Promise<FingerprintSet> {
    if (this.files !== null) return this.files;
    const files = new FingerprintSet();
    let highest = 0;
    for (const { sequence, keyPart } of await outboxFiles(this.folder)) {
      files.add(keyPart);
      highest = Math.max(highest, sequence);
    }
    this.files = files;
    this.nextSequence = highest + 1;
    return files;
  }
}

/**
 * Encodes a key for a file name. Characters other than letters, digits, `.`, `_` and `-` are
 * percent-encoded. A long key is cut and ends with `~` and a hash of the whole key. The
 * encoding never produces `~`, so a cut key cannot equal another key's name.
 */
export function keyPart(key: string): string {
  if (key === '') {
    throw new Error('Outgoing message has no key, so the outbox cannot tell whether it was sent.');
  }
  // The header carries the key back, and a header cannot hold control characters or an
  // unpaired surrogate intact.
  if (/[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(key)) {
    throw new Error(
      `Outgoing message key ${JSON.stringify(key.slice(0, 80))} is invalid: it contains a control character or an unpaired surrogate.`,
    );
  }
  const encoded = encodeURIComponent(key).replace(
    /[!'()*~]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  if (encoded.length <= MAX_KEY_PART) return encoded;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return `${encoded.slice(0, MAX_KEY_PART - hash.length - 1)}~${hash}`;
}

/** Decodes a key part back to the key, or returns null for a cut key, whose header has the key. */
function keyOfPart(part: string): string | null {
  if (part.includes('~')) return null;
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

/**
 * Returns the X-Plusdesk-Key header of a parsed message, or '' when it has none. postal-mime
 * unfolds a long header, and a non-ASCII key, written as encoded words, is decoded here.
 */
function keyOf(email: Email): string {
  const value = email.headers.find((header) => header.key === 'x-plusdesk-key')?.value ?? '';
  return decodeWords(value.trim());
}

interface OutboxFile {
  name: string;
  sequence: number;
  kind: string;
  ticket: number;
  /** The key as encoded in the name by keyPart. */
  keyPart: string;
}

/** Lists the message files of an outbox folder in sequence order, none when it is missing. */
async function outboxFiles(folder: string): Promise<OutboxFile[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: OutboxFile[] = [];
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (match === null) continue;
    files.push({
      name,
      sequence: Number(match[1]),
      kind: match[2]!,
      ticket: Number(match[3]),
      keyPart: match[4]!,
    });
  }
  return files.sort((a, b) => a.sequence - b.sequence);
}

/** Parses every message of `dir`/outbox in send order. */
export async function listOutbox(dir: string): Promise<OutboxEntry[]> {
  const folder = join(dir, OUTBOX_FOLDER);
  const entries: OutboxEntry[] = [];
  for (const file of await outboxFiles(folder)) {
    const path = join(folder, file.name);
    const email = await PostalMime.parse(await readFile(path));
    const headers: Record<string, string[]> = {};
    for (const header of email.headers) {
      (headers[header.key] ??= []).push(header.value);
    }
    entries.push({
      file: file.name,
      path,
      sequence: file.sequence,
      kind: file.kind,
      ticket: file.ticket,
      key: keyOf(email),
      headers,
      from: email.from === undefined ? null : (mailboxes([email.from])[0] ?? null),
      to: mailboxes(email.to),
      cc: mailboxes(email.cc),
      replyTo: mailboxes(email.replyTo),
      subject: email.subject ?? '',
      messageId: stripBrackets(email.messageId ?? ''),
      inReplyTo: stripBrackets(email.inReplyTo ?? ''),
      references: splitReferences(email.references ?? ''),
      date: email.date ?? '',
      text: email.text ?? '',
    });
  }
  return entries;
}

function mailboxes(addresses: ParsedAddress[] | undefined): Address[] {
  const list: Address[] = [];
  for (const address of addresses ?? []) {
    if (address.group !== undefined) {
      for (const member of address.group) list.push({ name: member.name, email: member.address });
    } else {
      list.push({ name: address.name, email: address.address });
    }
  }
  return list;
}

function splitReferences(value: string): string[] {
  return value
    .split(/\s+/)
    .map(stripBrackets)
    .filter((id) => id !== '');
}

function stripBrackets(id: string): string {
  return id.replace(/^<|>$/g, '');
}
