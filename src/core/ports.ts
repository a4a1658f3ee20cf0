/**
 * Interfaces the core needs from a runtime. Apps Script and Node each implement them in a few
 * lines; the core never touches a mailbox, a spreadsheet or a clock directly.
 */
import type { Agent, MessageRecord, OutgoingMessage, ParsedMessage, Settings, Ticket } from './types';

/** A value, or a promise of it: Apps Script adapters are synchronous, Node's are not. */
export type MaybePromise<T> = T | Promise<T>;

/** A raw message as the support mailbox stores it. */
export interface InboundMail {
  /** Mailbox-specific id: the Gmail message id, or the path of the local file. */
  sourceId: string;
  /** Gmail thread id of the support mailbox, '' when the mailbox has no threads. */
  threadId: string;
  raw: Uint8Array | string;
  /**
   * ISO 8601 time by which the source orders the message: the delivery time that the mailbox
   * stores (Gmail's internalDate, an mbox postmark, a Maildir name), or else the Date header. A
   * local mailbox gives a message with neither the time of a neighbour in its file. With the Date
   * header, it gives the message its recorded time (see messageDate).
   */
  date?: string;
}

/** Everything the Sheet holds, read once at the start of a run. */
export interface DeskSnapshot {
  tickets: Ticket[];
  messages: MessageRecord[];
  team: Agent[];
  settings: Settings;
}

/** Changes of a run: tickets to write, Messages rows to append and rows whose state moved. */
export interface DeskChanges {
  tickets: Ticket[];
  appended: MessageRecord[];
  /** Rows already in the Sheet (by index into `DeskSnapshot.messages`, then appended rows). */
  updated: { index: number; record: MessageRecord }[];
}

/**
 * Container of a desk's tickets by number. A store with a large desk may keep them compactly
 * and rebuild a ticket on each request. Tickets are values: a changed ticket is put back whole,
 * never changed in place.
 */
export interface TicketShelf {
  has(number: number): boolean;
  get(number: number): Ticket | undefined;
  put(ticket: Ticket): void;
  /** Every ticket, in the order each was first put. */
  values(): Iterable<Ticket>;
}

export interface TicketStore {
  load(): MaybePromise<DeskSnapshot>;
  /**
   * Returns the container for the tickets of a desk made from this store (by default a Map).
   * The store writes the tickets from it, so a desk and its store share one copy.
   */
  shelf?(): TicketShelf;
  save(changes: DeskChanges): MaybePromise<void>;
  /**
   * Takes changes that the next save writes, so that a long run need not keep them. Stores whose
   * every save rewrites everything implement it. Without it, Run.stage saves at once.
   */
  stage?(changes: DeskChanges): MaybePromise<void>;
}

export interface Mailer {
  /** Sends one message; the key is in its X-Plusdesk-Key header. */
  send(message: OutgoingMessage): MaybePromise<void>;
  /** Reports whether a message with this key was already sent (a crash may hide a send). */
  wasSent(message: OutgoingMessage): MaybePromise<boolean>;
  /**
   * Sends every message not sent yet, at once where the runtime can. Returns the messages the
   * mail server rejected as invalid, which no retry can send; throws if any other send fails.
   */
  sendAll?(messages: OutgoingMessage[]): MaybePromise<SendRejection[]>;
}

/** A message the mail server rejected, and the reason it gave. */
export interface SendRejection {
  key: string;
  reason: string;
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

/** Clues to the ticket of an opened message, from its headers and Gmail thread. */
export interface TicketHint {
  /** X-Plusdesk-Ticket header value. */
  ticketHeader: string;
  /** To, Cc and Reply-To addresses (a plus address names the ticket). */
  addresses: string[];
  subject: string;
  threadId: string;
  /** Message-ID, In-Reply-To and References ids, without angle brackets. */
  messageIds: string[];
}

/** One ticket card's data, read in a small fixed number of Sheet calls. */
export interface CardData {
  ticket: Ticket;
  /** The customer's earlier tickets (number, status, subject, created). */
  earlier: Pick<Ticket, 'number' | 'status' | 'subject' | 'created'>[];
  team: Agent[];
}

export interface HomeData {
  mine: Ticket[];
  following: Ticket[];
  unassigned: Ticket[];
  team: Agent[];
}

/** The sidebar's access to the ticket store. */
export interface SidebarStore {
  findTicketNumber(hint: TicketHint): MaybePromise<number | null>;
  readCard(number: number): MaybePromise<CardData | null>;
  readHome(agent: string): MaybePromise<HomeData>;
  /**
   * Applies a change to the ticket's freshest row (and appends a queued comment row), so that
   * two agents acting at once both keep their change. Returns the ticket as written.
   */
  update(
    number: number,
    change: (ticket: Ticket) => { ticket: Ticket; record: MessageRecord | null },
  ): MaybePromise<Ticket>;
  /**
   * Opens a ticket from a message that is not one yet and returns its number, or null when the
   * request was queued for the processor, which alone numbers tickets in a shared Sheet.
   */
  openTicket(message: ParsedMessage, threadId: string, agent: string, time: string): MaybePromise<number | null>;
}
