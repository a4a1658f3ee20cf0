/**
 * The emulated Gmail mailbox: raw messages with labels and threads, the label list, and the
 * history log that every change appends to. Tests deliver mail into it and read what was sent.
 * The Gmail advanced service, GmailApp and the Gmail REST API all work on the same mailbox.
 */
import PostalMime from 'postal-mime';
import type { Address } from 'postal-mime';
import { compileQuery, type CompiledQuery } from './query';
import {
  addresses,
  headerValue,
  messageIds,
  normalizeMessageId,
  normalizeSubject,
  prependHeader,
  readHeaders,
  type HeaderField,
} from './message-headers';

export const SYSTEM_LABELS = [
  'INBOX',
  'SENT',
  'UNREAD',
  'STARRED',
  'IMPORTANT',
  'TRASH',
  'SPAM',
  'DRAFT',
  'CHAT',
  'CATEGORY_PERSONAL',
  'CATEGORY_SOCIAL',
  'CATEGORY_PROMOTIONS',
  'CATEGORY_UPDATES',
  'CATEGORY_FORUMS',
] as const;

/** Names `labels.create` rejects with 400 "Invalid label name" (case-insensitive). */
const RESERVED_LABEL_NAMES = new Set([
  'inbox',
  'spam',
  'trash',
  'sent',
  'drafts',
  'draft',
  'starred',
  'important',
  'unread',
  'chats',
  'chat',
]);

/** The first history id of a new mailbox. Real ids are large and grow in uneven steps. */
const FIRST_HISTORY_ID = 1_000_000;
const HISTORY_STEP = 7;

/** Gmail usually keeps history for about a week (sometimes only hours). */
export const DEFAULT_HISTORY_RETENTION_MS = 7 * 24 * 3600 * 1000;

export interface StoredMessage {
  id: string;
  threadId: string;
  raw: Uint8Array;
  headers: HeaderField[];
  labelIds: Set<string>;
  /** Epoch ms when Gmail accepted the message. */
  internalDate: number;
  /** Id of the last history record that touched the message. */
  historyId: number;
}

export interface LabelInfo {
  id: string;
  name: string;
  type: 'system' | 'user';
  labelListVisibility?: string;
  messageListVisibility?: string;
}

export type HistoryType = 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';

export interface HistoryEvent {
  id: number;
  /** Epoch ms of the change, for retention. */
  time: number;
  type: HistoryType;
  messageId: string;
  threadId: string;
  /** The labels added or removed; for messageAdded, the message's labels when it was added. */
  labelIds: string[];
  /** The message's labels right after the change. */
  messageLabels: string[];
}

export interface DeliverOptions {
  /** Puts the message in this existing thread whatever its headers contain. */
  threadId?: string;
  /** Label ids or user label names; INBOX and UNREAD by default. Missing user labels are created. */
  labels?: string[];
  /** Gmail's receive time (internalDate); the emulated clock by default. */
  date?: Date;
  /**
   * Address for the Delivered-To field that Gmail adds on delivery. By default: the first To or
   * Cc address that is the mailbox's address or a plus address of it, else the mailbox's address.
   */
  deliveredTo?: string;
}

/** A stored message as tests see it. */
export interface MailboxMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  internalDate: Date;
  /** The raw message decoded as UTF-8. */
  raw: string;
  headers: HeaderField[];
  /** The first field with this name (any case), unfolded and still encoded; undefined when absent. */
  header(name: string): string | undefined;
}

/** A message parsed with postal-mime, for checking what was sent. */
export interface ParsedMailboxMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  messageId: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  inReplyTo: string;
  references: string;
  /** Header values by lower-case name (the first field of each name), decoded by postal-mime. */
  headers: Record<string, string>;
  text: string;
  html: string;
  raw: string;
}

export interface MailboxOptions {
  user: string;
  /** Epoch ms of the emulated clock. */
  now: () => number;
  historyRetentionMs?: number;
}

const utf8 = new TextDecoder('utf-8');

function toBytes(raw: string | Uint8Array): Uint8Array {
  return typeof raw === 'string' ? new TextEncoder().encode(raw) : Uint8Array.from(raw);
}

function flatten(list: Address[] | undefined): string[] {
  const out: string[] = [];
  for (const entry of list ?? []) {
    if (entry.group !== undefined) out.push(...entry.group.map((mailbox) => mailbox.address));
    else out.push(entry.address);
  }
  return out;
}

/** Label names compare case-insensitively, ignoring blanks around `/`. */
function labelKey(name: string): string {
  return name.trim().toLowerCase().replace(/\s*\/\s*/g, '/');
}

export class Mailbox {
  readonly user: string;
  /** Epoch ms of the emulated clock. */
  readonly now: () => number;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly labelList = new Map<string, LabelInfo>();
  private events: HistoryEvent[] = [];
  private currentHistoryId = FIRST_HISTORY_ID;
  private floor = FIRST_HISTORY_ID;
  private nextLabelNumber = 1;
  private sequence = 0;
  private lastIdValue = 0n;
  /** Retention of history records in ms; older records are dropped when history is read. */
  historyRetentionMs: number;

  constructor(options: MailboxOptions) {
    this.user = options.user.toLowerCase();
    this.now = options.now;
    this.historyRetentionMs = options.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS;
    for (const id of SYSTEM_LABELS) this.labelList.set(id, { id, name: id, type: 'system' });
  }

  // ----- For tests -----

  /** Delivers a message into the mailbox as Gmail does for incoming mail. */
  deliver(raw: string | Uint8Array, options: DeliverOptions = {}): { id: string; threadId: string } {
    let bytes = toBytes(raw);
    const parsed = readHeaders(bytes);
    const deliveredTo = options.deliveredTo ?? this.deliveredToFor(parsed);
    bytes = prependHeader(bytes, 'Delivered-To', deliveredTo);
    const headers = readHeaders(bytes);
    let threadId: string | undefined;
    if (options.threadId !== undefined) {
      if (!this.threadMessages(options.threadId).length) {
        throw new Error(`Mailbox.deliver: no thread ${options.threadId} in the mailbox`);
      }
      threadId = options.threadId;
    } else {
      threadId = this.threadByReferences(headers);
    }
    const labels = (options.labels ?? ['INBOX', 'UNREAD']).map((label) => this.resolveLabel(label));
    const message = this.store(bytes, headers, threadId, labels, options.date?.getTime() ?? this.now());
    return { id: message.id, threadId: message.threadId };
  }

  message(id: string): MailboxMessage | undefined {
    const stored = this.messages.get(id);
    if (stored === undefined) return undefined;
    return {
      id: stored.id,
      threadId: stored.threadId,
      labelIds: [...stored.labelIds],
      internalDate: new Date(stored.internalDate),
      raw: utf8.decode(stored.raw),
      headers: stored.headers.map((field) => ({ ...field })),
      header: (name) => headerValue(stored.headers, name),
    };
  }

  /** Label names of a message: user labels by name, system labels by id (INBOX, SENT, ...). */
  labelsOf(id: string): string[] {
    const stored = this.messages.get(id);
    if (stored === undefined) throw new Error(`Mailbox.labelsOf: no message ${id}`);
    return [...stored.labelIds].map((labelId) => this.labelList.get(labelId)?.name ?? labelId).sort();
  }

  /** Threads with their message ids, oldest message first. */
  threads(): { id: string; messageIds: string[] }[] {
    const byThread = new Map<string, string[]>();
    for (const message of this.ordered()) {
      const list = byThread.get(message.threadId) ?? [];
      list.push(message.id);
      byThread.set(message.threadId, list);
    }
    return [...byThread.entries()].map(([id, ids]) => ({ id, messageIds: ids }));
  }

  /** Parses every message labelled SENT, oldest first. */
  async sent(): Promise<ParsedMailboxMessage[]> {
    const sent = this.ordered().filter((message) => message.labelIds.has('SENT'));
    return Promise.all(sent.map((message) => this.parseStored(message)));
  }

  async parse(id: string): Promise<ParsedMailboxMessage> {
    const stored = this.messages.get(id);
    if (stored === undefined) throw new Error(`Mailbox.parse: no message ${id}`);
    return this.parseStored(stored);
  }

  /** Creates a user label (or returns the id of an existing one with that name). */
  ensureLabel(name: string): string {
    const existing = this.findLabelByName(name);
    if (existing !== undefined) return existing.id;
    return this.createLabel(name, {}).id;
  }

  /** Deletes a message for good, as emptying the trash does: reading it then gets a 404. */
  remove(id: string): void {
    if (!this.messages.delete(id)) throw new Error(`Mailbox.remove: no message ${id}`);
  }

  /** Drops every history record, as Gmail does after its retention; older positions get a 404. */
  expireHistory(): void {
    this.events = [];
    this.floor = this.currentHistoryId;
  }

  // ----- For the Gmail services -----

  get historyId(): number {
    return this.currentHistoryId;
  }

  /** The oldest history position Gmail still accepts as `startHistoryId`. */
  get historyFloor(): number {
    this.expireOldHistory();
    return this.floor;
  }

  /** History records after `start`, in increasing id order. */
  historySince(start: number): HistoryEvent[] {
    this.expireOldHistory();
    return this.events.filter((event) => event.id > start);
  }

  get(id: string): StoredMessage | undefined {
    return this.messages.get(id);
  }

  /** Returns every message, newest first (Gmail's list order). */
  newestFirst(): StoredMessage[] {
    return this.ordered().reverse();
  }

  threadMessages(threadId: string): StoredMessage[] {
    return this.ordered().filter((message) => message.threadId === threadId);
  }

  labels(): LabelInfo[] {
    return [...this.labelList.values()];
  }

  labelById(id: string): LabelInfo | undefined {
    return this.labelList.get(id);
  }

  findLabelByName(name: string): LabelInfo | undefined {
    const key = labelKey(name);
    return [...this.labelList.values()].find((label) => label.type === 'user' && labelKey(label.name) === key);
  }

  isReservedLabelName(name: string): boolean {
    return RESERVED_LABEL_NAMES.has(name.trim().toLowerCase());
  }

  createLabel(name: string, visibility: { labelListVisibility?: string; messageListVisibility?: string }): LabelInfo {
    const label: LabelInfo = {
      id: `Label_${this.nextLabelNumber++}`,
      name,
      type: 'user',
      labelListVisibility: visibility.labelListVisibility ?? 'labelShow',
      messageListVisibility: visibility.messageListVisibility ?? 'show',
    };
    this.labelList.set(label.id, label);
    return label;
  }

  /** Label ids a `label:` search term names: user labels by name, system labels by id. */
  labelIdsNamed(name: string): string[] {
    // Gmail accepts `-` for `/` and blanks in label names in search terms.
    const wanted = labelKey(name).replace(/[-_ ]/g, '/');
    return [...this.labelList.values()]
      .filter((label) => labelKey(label.name).replace(/[-_ ]/g, '/') === wanted)
      .map((label) => label.id);
  }

  compileQuery(query: string): CompiledQuery {
    return compileQuery(query, { labelIdsNamed: (name) => this.labelIdsNamed(name), now: this.now() });
  }

  /** Adds and removes labels, recording a history record for each real change. */
  modify(id: string, add: readonly string[], remove: readonly string[]): StoredMessage {
    const message = this.messages.get(id);
    if (message === undefined) throw new Error(`Mailbox.modify: no message ${id}`);
    const added = add.filter((label) => !message.labelIds.has(label));
    for (const label of added) message.labelIds.add(label);
    if (added.length > 0) this.record('labelAdded', message, added);
    const removed = remove.filter((label) => message.labelIds.has(label) && !add.includes(label));
    for (const label of removed) message.labelIds.delete(label);
    if (removed.length > 0) this.record('labelRemoved', message, removed);
    return message;
  }

  /** Stores a sent message (already rewritten by the send emulation) in `threadId` or a new thread. */
  storeSent(raw: Uint8Array, threadId: string | undefined): StoredMessage {
    const headers = readHeaders(raw);
    const recipients = ['To', 'Cc', 'Bcc'].flatMap((name) => addresses(headerValue(headers, name)));
    const labels = ['SENT'];
    // Mail to oneself is assumed to become one message labelled SENT and INBOX.
    if (recipients.some((address) => this.isOwnAddress(address))) labels.push('INBOX');
    return this.store(raw, headers, threadId, labels, this.now());
  }

  /** Reports whether `address` reaches this mailbox: its own address or a plus address of it. */
  isOwnAddress(address: string): boolean {
    const [local = '', domain = ''] = this.user.split('@');
    const match = /^([^@+]+)(?:\+[^@]*)?@(.+)$/.exec(address.trim().toLowerCase());
    return match !== null && match[1] === local && match[2] === domain;
  }

  /** Finds the thread a message joins by its References or In-Reply-To and its subject, if any. */
  threadByReferences(headers: readonly HeaderField[]): string | undefined {
    const referenced = [
      ...messageIds(headerValue(headers, 'In-Reply-To')),
      ...messageIds(headerValue(headers, 'References')).reverse(),
    ];
    const subject = normalizeSubject(headerValue(headers, 'Subject'));
    for (const reference of referenced) {
      for (const candidate of this.byMessageId(reference)) {
        if (normalizeSubject(headerValue(candidate.headers, 'Subject')) === subject) return candidate.threadId;
      }
    }
    return undefined;
  }

  /** Messages whose Message-ID is `messageId` (brackets and case ignored). */
  byMessageId(messageId: string): StoredMessage[] {
    const wanted = normalizeMessageId(messageId);
    return this.ordered().filter(
      (message) => normalizeMessageId(headerValue(message.headers, 'Message-ID') ?? '') === wanted,
    );
  }

  // ----- Internals -----

  private ordered(): StoredMessage[] {
    return [...this.messages.values()].sort((a, b) => a.internalDate - b.internalDate || a.id.localeCompare(b.id));
  }

  private deliveredToFor(headers: readonly HeaderField[]): string {
    const recipients = ['To', 'Cc'].flatMap((name) => addresses(headerValue(headers, name)));
    return recipients.find((address) => this.isOwnAddress(address)) ?? this.user;
  }

  private resolveLabel(label: string): string {
    if (this.labelList.has(label)) return label;
    return this.ensureLabel(label);
  }

  /** Creates a message id like Gmail's: hex of the receive time in ms shifted left 20 bits, plus a counter. */
  private newId(time: number): string {
    let value = (BigInt(Math.max(0, Math.floor(time))) << 20n) | BigInt(this.sequence++ & 0xfffff);
    if (value <= this.lastIdValue) value = this.lastIdValue + 1n;
    this.lastIdValue = value;
    return value.toString(16);
  }

  private store(
    raw: Uint8Array,
    headers: HeaderField[],
    threadId: string | undefined,
    labels: string[],
    time: number,
  ): StoredMessage {
    const id = this.newId(time);
    const message: StoredMessage = {
      id,
      // Gmail gives a new thread the id of its first message.
      threadId: threadId ?? id,
      raw,
      headers,
      labelIds: new Set(labels),
      internalDate: time,
      historyId: this.currentHistoryId,
    };
    this.messages.set(id, message);
    this.record('messageAdded', message, [...message.labelIds]);
    return message;
  }

  private record(type: HistoryType, message: StoredMessage, labelIds: string[]): void {
    this.currentHistoryId += HISTORY_STEP;
    message.historyId = this.currentHistoryId;
    this.events.push({
      id: this.currentHistoryId,
      time: this.now(),
      type,
      messageId: message.id,
      threadId: message.threadId,
      labelIds: [...labelIds],
      messageLabels: [...message.labelIds],
    });
  }

  private expireOldHistory(): void {
    const cutoff = this.now() - this.historyRetentionMs;
    const kept = this.events.filter((event) => event.time >= cutoff);
    if (kept.length === this.events.length) return;
    const dropped = this.events.filter((event) => event.time < cutoff);
    this.floor = Math.max(this.floor, ...dropped.map((event) => event.id));
    this.events = kept;
  }

  private async parseStored(message: StoredMessage): Promise<ParsedMailboxMessage> {
    const email = await PostalMime.parse(message.raw);
    const headers: Record<string, string> = {};
    for (const header of email.headers) {
      if (!(header.key in headers)) headers[header.key] = header.value;
    }
    let from = '';
    if (email.from !== undefined && email.from.group === undefined) from = email.from.address;
    return {
      id: message.id,
      threadId: message.threadId,
      labelIds: [...message.labelIds],
      messageId: email.messageId ?? '',
      from,
      to: flatten(email.to),
      cc: flatten(email.cc),
      bcc: flatten(email.bcc),
      replyTo: flatten(email.replyTo),
      subject: email.subject ?? '',
      inReplyTo: email.inReplyTo ?? '',
      references: email.references ?? '',
      headers,
      text: email.text ?? '',
      html: email.html ?? '',
      raw: utf8.decode(message.raw),
    };
  }
}
