/**
 * Interfaces the core needs from a runtime. Apps Script and Node each implement them in a few
 * lines; the core never touches a mailbox, a spreadsheet or a clock directly.
 */
import type { Agent, MessageRecord, OutgoingMessage, Settings, Ticket } from './types';

/** A value, or a promise of it: Apps Script adapters are synchronous, Node's are not. */
export type MaybePromise<T> = T | Promise<T>;

/** A raw message as the support mailbox holds it. */
export interface InboundMail {
  /** Mailbox-specific id: the Gmail message id, or the path of the local file. */
  sourceId: string;
  /** Gmail thread id of the support mailbox, '' when the mailbox has no threads. */
  threadId: string;
  raw: Uint8Array | string;
}

/** Everything the Sheet holds, read once at the start of a run. */
export interface DeskSnapshot {
  tickets: Ticket[];
  messages: MessageRecord[];
  team: Agent[];
  settings: Settings;
}

/** What a run changed: tickets to write, Messages rows to append and rows whose state moved. */
export interface DeskChanges {
  tickets: Ticket[];
  appended: MessageRecord[];
  /** Rows already in the Sheet (by index into `DeskSnapshot.messages`, then appended rows). */
  updated: { index: number; record: MessageRecord }[];
}

export interface TicketStore {
  load(): MaybePromise<DeskSnapshot>;
  save(changes: DeskChanges): MaybePromise<void>;
}

export interface Mailer {
  /** Sends one message; the key is in its X-Plusdesk-Key header. */
  send(message: OutgoingMessage): MaybePromise<void>;
  /** Reports whether a message with this key was already sent (a crash may hide a send). */
  wasSent(message: OutgoingMessage): MaybePromise<boolean>;
}

/** Signs with the desk's secret, which never leaves the adapter. */
export interface Signer {
  /** HMAC-SHA256 of `data` under the desk's secret. */
  sign(data: string): Uint8Array;
}

export interface Clock {
  now(): Date;
}

/** One structured line per event; never bodies, subjects or full addresses. */
export type LogFields = Record<string, string | number | boolean | null>;
export interface Log {
  info(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}
