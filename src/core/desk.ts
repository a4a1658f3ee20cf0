/**
 * The desk's state during a run: tickets, team, settings and the Messages log, with the indexes
 * that joining and duplicate detection need, and a record of what changed for the store.
 */
import { normalizeEmail, subjectKey } from './address';
import type { TicketLookup } from './classify';
import type { DeskChanges, DeskSnapshot } from './ports';
import type { Agent, MessageRecord, Settings, Ticket } from './types';

export class Desk {
  readonly tickets = new Map<number, Ticket>();
  readonly team: Agent[];
  readonly teamByEmail = new Map<string, Agent>();
  readonly settings: Settings;
  readonly records: MessageRecord[];

  private readonly baseRecordCount: number;
  private readonly ticketByMessageId = new Map<string, number>();
  private readonly seenSources = new Set<string>();
  private readonly seenMessageIds = new Set<string>();
  /** Message-IDs and mailbox ids of quarantined messages. */
  private readonly quarantined = new Set<string>();
  private readonly ticketByThread = new Map<string, number>();
  private readonly ticketsByCustomer = new Map<string, number[]>();
  private readonly changedTickets = new Set<number>();
  private readonly updatedRecords = new Set<number>();
  private highestNumber = 0;

  constructor(snapshot: DeskSnapshot) {
    this.settings = snapshot.settings;
    this.team = snapshot.team;
    for (const agent of snapshot.team) this.teamByEmail.set(normalizeEmail(agent.email), agent);
    for (const ticket of snapshot.tickets) this.indexTicket(ticket);
    this.records = [...snapshot.messages];
    this.baseRecordCount = snapshot.messages.length;
    for (const record of this.records) this.indexRecord(record);
  }

  private indexTicket(ticket: Ticket): void {
    const previous = this.tickets.get(ticket.number);
    this.tickets.set(ticket.number, ticket);
    this.highestNumber = Math.max(this.highestNumber, ticket.number);
    for (const id of ticket.conversation) {
      this.ticketByMessageId.set(id, ticket.number);
      this.seenMessageIds.add(id);
    }
    if (ticket.threadId !== '') this.ticketByThread.set(ticket.threadId, ticket.number);
    const customer = normalizeEmail(ticket.customer.email);
    if (previous === undefined) {
      const list = this.ticketsByCustomer.get(customer) ?? [];
      list.push(ticket.number);
      this.ticketsByCustomer.set(customer, list);
    }
  }

  private indexRecord(record: MessageRecord): void {
    if (record.messageId !== '' && record.ticket !== null) {
      this.ticketByMessageId.set(record.messageId, record.ticket);
    }
    const inbound = record.key === '' && record.state !== 'queued';
    if (inbound && record.messageId !== '') this.seenMessageIds.add(record.messageId);
    if (inbound && record.sourceId !== '') this.seenSources.add(record.sourceId);
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

  nextTicketNumber(): number {
    return this.highestNumber + 1;
  }

  putTicket(ticket: Ticket): void {
    this.indexTicket(ticket);
    this.changedTickets.add(ticket.number);
  }

  append(record: MessageRecord): void {
    this.records.push(record);
    this.indexRecord(record);
  }

  update(index: number, record: MessageRecord): void {
    this.records[index] = record;
    this.indexRecord(record);
    if (index < this.baseRecordCount) this.updatedRecords.add(index);
  }

  ticketsOf(customerEmail: string): Ticket[] {
    const numbers = this.ticketsByCustomer.get(normalizeEmail(customerEmail)) ?? [];
    return numbers.map((number) => this.tickets.get(number)!).filter(Boolean);
  }

  lookup(): TicketLookup {
    return {
      ticket: (number) => this.tickets.get(number),
      byMessageId: (messageId) => this.ticketByMessageId.get(messageId),
      byThread: (threadId) => this.ticketByThread.get(threadId),
      openBySubject: (customerEmail, key) => {
        const candidates = this.ticketsOf(customerEmail)
          .filter((ticket) => ticket.status !== 'closed' && subjectKey(ticket.subject) === key)
          .sort((a, b) => b.number - a.number);
        return candidates[0]?.number;
      },
    };
  }

  changes(): DeskChanges {
    return {
      tickets: [...this.changedTickets].sort((a, b) => a - b).map((n) => this.tickets.get(n)!),
      appended: this.records.slice(this.baseRecordCount),
      updated: [...this.updatedRecords].map((index) => ({ index, record: this.records[index]! })),
    };
  }
}
