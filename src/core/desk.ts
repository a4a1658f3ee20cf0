/**
 * The desk's state during a run: tickets, team, settings and the Messages log, with the indexes
 * that joining and duplicate detection need, and a record of what changed for the store.
 */
import { normalizeEmail, subjectKey } from './address';
import type { TicketLookup } from './classify';
import { epochOf } from './dates';
import { FingerprintMap, FingerprintSet } from './fingerprints';
import type { DeskChanges, DeskSnapshot, TicketShelf } from './ports';
import type { Agent, MessageRecord, Settings, Ticket } from './types';

/** A customer's ticket as far as joining and acknowledging need it. */
export interface CustomerTicket {
  number: number;
  /** ISO 8601 time of the ticket's first message. */
  created: string;
  open: boolean;
  subject: string;
}

/** Tickets in a Map: what a desk keeps them in unless its store gives a shelf. */
export class MapShelf implements TicketShelf {
  private readonly tickets = new Map<number, Ticket>();

  has(number: number): boolean {
    return this.tickets.has(number);
  }

  get(number: number): Ticket | undefined {
    return this.tickets.get(number);
  }

  put(ticket: Ticket): void {
    this.tickets.set(ticket.number, ticket);
  }

  values(): Iterable<Ticket> {
    return this.tickets.values();
  }
}

export class Desk {
  readonly team: Agent[];
  readonly teamByEmail = new Map<string, Agent>();
  readonly settings: Settings;
  /**
   * Messages rows by their place in the log. A row this run appended and saved is dropped
   * (undefined), so that a run over a large mailbox does not hold every row.
   */
  private readonly rows: (MessageRecord | undefined)[];

  /** Rows read from the store: their place in the Messages tab is known, so they can be changed. */
  private readonly loadedRecordCount: number;
  /** Rows already in the store; the rows after them are appended by the next save. */
  private savedRecordCount: number;
  // Indexes with an entry per message keep fingerprints, not strings, so that a run over a
  // large mailbox stays small.
  private readonly ticketByMessageId = new FingerprintMap();
  private readonly seenSources = new FingerprintSet();
  private readonly seenMessageIds = new FingerprintSet();
  /** Message-IDs and mailbox ids of quarantined messages. */
  private readonly quarantined = new Set<string>();
  private readonly ticketByThread = new FingerprintMap();
  /** Keys of the outgoing messages in the log. */
  private readonly outgoingKeys = new FingerprintSet();
  /** Facts of each customer's tickets that joining needs, so that it need not build every ticket. */
  private readonly ticketsByCustomer = new Map<string, CustomerTicket[]>();
  private readonly changedTickets = new Set<number>();
  private readonly updatedRecords = new Set<number>();
  private highestNumber = 0;
  /** Time of the latest held message of each ticket (epoch ms), for the daily alert. */
  private readonly lastHeld = new Map<number, number>();
  /** Notifications this run saved and dropped that wait for the digest: how many, and the oldest's time. */
  private readonly droppedDigests = { count: 0, oldest: Number.POSITIVE_INFINITY };

  constructor(
    snapshot: DeskSnapshot,
    readonly tickets: TicketShelf = new MapShelf(),
  ) {
    this.settings = snapshot.settings;
    this.team = snapshot.team;
    for (const agent of snapshot.team) this.teamByEmail.set(normalizeEmail(agent.email), agent);
    for (const ticket of snapshot.tickets) this.indexTicket(ticket);
    this.rows = [...snapshot.messages];
    this.loadedRecordCount = snapshot.messages.length;
    this.savedRecordCount = snapshot.messages.length;
    for (const record of snapshot.messages) this.indexRecord(record);
  }

  /** Number of Messages rows: those read from the store, then those this run appended. */
  get recordCount(): number {
    return this.rows.length;
  }

  /** Returns the row at `index`, or undefined when this run appended and saved it. */
  record(index: number): MessageRecord | undefined {
    return this.rows[index];
  }

  /** Yields the rows in memory, from `start` on, with their indexes. */
  *records(start = 0): Generator<{ index: number; record: MessageRecord }> {
    for (let index = start; index < this.rows.length; index++) {
      const record = this.rows[index];
      if (record !== undefined) yield { index, record };
    }
  }

  private indexTicket(ticket: Ticket): void {
    this.tickets.put(ticket);
    this.highestNumber = Math.max(this.highestNumber, ticket.number);
    for (const id of ticket.conversation) {
      this.ticketByMessageId.set(id, ticket.number);
      this.seenMessageIds.add(id);
    }
    if (ticket.threadId !== '') this.ticketByThread.set(ticket.threadId, ticket.number);
    const customer = normalizeEmail(ticket.customer.email);
    const list = this.ticketsByCustomer.get(customer) ?? [];
    const facts: CustomerTicket = {
      number: ticket.number,
      created: ticket.created,
      open: ticket.status !== 'closed',
      subject: ticket.subject,
    };
    const index = list.findIndex((known) => known.number === ticket.number);
    if (index < 0) list.push(facts);
    else list[index] = facts;
    this.ticketsByCustomer.set(customer, list);
  }

  private indexRecord(record: MessageRecord): void {
    if (record.messageId !== '' && record.ticket !== null) {
      this.ticketByMessageId.set(record.messageId, record.ticket);
    }
    if (record.key !== '') this.outgoingKeys.add(record.key);
    // A quarantined message does not count as seen, so that a fixed copy of it is processed.
    const seen = record.key === '' && record.state !== 'queued' && record.state !== 'quarantined';
    if (seen && record.messageId !== '') this.seenMessageIds.add(record.messageId);
    if (seen && record.sourceId !== '') this.seenSources.add(record.sourceId);
    if (record.state === 'held' && record.ticket !== null) {
      this.lastHeld.set(record.ticket, Math.max(this.lastHeld.get(record.ticket) ?? 0, timeOf(record)));
    }
    if (record.state === 'quarantined') {
      if (record.messageId !== '') this.quarantined.add(`id:${record.messageId}`);
      if (record.sourceId !== '') this.quarantined.add(`source:${record.sourceId}`);
    }
  }

  /** Checks whether an inbound message was quarantined, by its Message-ID or its mailbox id. */
  wasQuarantined(messageId: string, sourceId: string): boolean {
    return (messageId !== '' && this.quarantined.has(`id:${messageId}`)) || this.quarantined.has(`source:${sourceId}`);
  }

  /** Whether an inbound message was already handled, by its Message-ID or its mailbox id. */
  hasSeen(messageId: string, sourceId: string): boolean {
    return (messageId !== '' && this.seenMessageIds.has(messageId)) || this.seenSources.has(sourceId);
  }

  /** Checks whether the log contains an outgoing message with this key. */
  hasOutgoing(key: string): boolean {
    return this.outgoingKeys.has(key);
  }

  /** Returns the time of the ticket's latest held message (epoch ms), or undefined when none was held. */
  latestHeld(ticket: number): number | undefined {
    return this.lastHeld.get(ticket);
  }

  nextTicketNumber(): number {
    return this.highestNumber + 1;
  }

  putTicket(ticket: Ticket): void {
    this.indexTicket(ticket);
    this.changedTickets.add(ticket.number);
  }

  append(record: MessageRecord): void {
    this.rows.push(record);
    this.indexRecord(record);
  }

  /** Checks whether update() may change a row: one read from the store, or one not saved yet. */
  isChangeable(index: number): boolean {
    return index < this.loadedRecordCount || index >= this.savedRecordCount;
  }

  /**
   * Changes a row. A row this run appended and already saved cannot change: the store appended
   * it after rows others may have added meanwhile, so its place in the tab is not known.
   */
  update(index: number, record: MessageRecord): void {
    if (!this.isChangeable(index)) {
      throw new Error(`Messages row ${index + 2} was saved by this run and cannot be changed again in it`);
    }
    this.rows[index] = record;
    this.indexRecord(record);
    if (index < this.loadedRecordCount) this.updatedRecords.add(index);
  }

  /** Returns the customer's tickets, newest first. */
  ticketsOf(customerEmail: string): readonly CustomerTicket[] {
    const list = this.ticketsByCustomer.get(normalizeEmail(customerEmail)) ?? [];
    return [...list].sort((a, b) => b.number - a.number);
  }

  lookup(): TicketLookup {
    return {
      ticket: (number) => this.tickets.get(number),
      byMessageId: (messageId) => this.ticketByMessageId.get(messageId),
      byThread: (threadId) => this.ticketByThread.get(threadId),
      openBySubject: (customerEmail, key) =>
        this.ticketsOf(customerEmail).find((ticket) => ticket.open && subjectKey(ticket.subject) === key)?.number,
    };
  }

  changes(): DeskChanges {
    return {
      tickets: [...this.changedTickets].sort((a, b) => a - b).map((n) => this.tickets.get(n)!),
      appended: this.rows.slice(this.savedRecordCount) as MessageRecord[],
      updated: [...this.updatedRecords].map((index) => ({ index, record: this.rows[index]! })),
    };
  }

  /**
   * Marks every change as saved, after the store wrote `changes()`; later changes start afresh.
   * The appended rows are dropped. A later run reads waiting notifications back from the store,
   * so of those only their number and the oldest time are kept.
   */
  markSaved(): void {
    this.changedTickets.clear();
    this.updatedRecords.clear();
    for (let index = Math.max(this.savedRecordCount, this.loadedRecordCount); index < this.rows.length; index++) {
      const row = this.rows[index];
      if (row?.state === 'digest') {
        this.droppedDigests.count++;
        this.droppedDigests.oldest = Math.min(this.droppedDigests.oldest, timeOf(row));
      }
      this.rows[index] = undefined;
    }
    this.savedRecordCount = this.rows.length;
  }

  /** Returns the notifications that wait for the digest: how many, and the oldest's time (epoch ms). */
  digestWaiting(): { count: number; oldest: number } {
    const waiting = { ...this.droppedDigests };
    for (const { record } of this.records()) {
      if (record.state !== 'digest') continue;
      waiting.count++;
      waiting.oldest = Math.min(waiting.oldest, timeOf(record));
    }
    return waiting;
  }
}

/** Returns a row's time in epoch ms, or 0 when it cannot be read, so that such a row counts as oldest. */
function timeOf(record: MessageRecord): number {
  return epochOf(record.time) ?? 0;
}
