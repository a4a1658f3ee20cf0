/**
 * The sidebar's ticket store on the Google Sheet, through the Sheets advanced service. Ticket
 * #N lives on row N+1, so the card of a message that names its ticket reads the ticket and the
 * team in one batched call and the customer's earlier tickets in a second. Only a message that
 * names no ticket costs a TextFinder search of the Tickets tab. Writes run under the
 * add-on's script lock (shared by every agent using the add-on), re-read the row first, and
 * append with the API's atomic append, so concurrent actions keep each other's changes.
 */
import { openRequestRecord } from '../core/actions';
import { appendMessages, sheetsApi } from './sheets-api';
import { normalizeEmail } from '../core/address';
import type { CardData, HomeData, SidebarStore, TicketHint } from '../core/ports';
import { visibleText } from '../core/quote';
import {
  rowToAgent,
  rowToTicket,
  TAB,
  TICKET_HEADERS,
  ticketToRow,
  type Row,
} from '../core/sheet';
import { findTicketTag } from '../core/address';
import { customerOf } from '../core/sidebar';
import type { Agent, MessageRecord, ParsedMessage, Ticket } from '../core/types';

const LAST_COLUMN = String.fromCharCode(64 + TICKET_HEADERS.length);
/** Columns the homepage needs: Number to Followers; conversation and recent are left out. */
const HOME_LAST_COLUMN = String.fromCharCode(64 + TICKET_HEADERS.indexOf('Created') + 1);
const LOCK_WAIT_MS = 10_000;
const THREAD_COLUMN = String.fromCharCode(65 + TICKET_HEADERS.indexOf('Thread ID'));
const CONVERSATION_COLUMN = String.fromCharCode(65 + TICKET_HEADERS.indexOf('Conversation'));
/** Rows read to check a lookup's hits; more means the Sheet repeats one thread or id. */
const MAX_LOOKUP_ROWS = 20;

/** Escapes text for a regular expression of the RE2 syntax that Sheets' TextFinder uses. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}


function ticketRange(number: number, last = LAST_COLUMN): string {
  return `${TAB.tickets}!A${number + 1}:${last}${number + 1}`;
}

function rowsOf(range: GoogleAppsScript.Sheets.Schema.ValueRange | undefined): Row[] {
  return (range?.values ?? []) as Row[];
}

/**
 * Reports whether an API error is the one for a range past the sheet's last row or column, such
 * as the row of a ticket number from another desk's `[#N]` subject tag.
 */
function isOutsideGrid(error: unknown): boolean {
  return error instanceof Error && /exceeds grid limits/i.test(error.message);
}

function padded(row: Row | undefined, width: number): Row {
  const result = [...(row ?? [])];
  while (result.length < width) result.push('');
  return result;
}

/**
 * The ticket a message names without any Sheet call: its X-Plusdesk-Ticket header, a plus
 * address, or a `[#N]` subject tag. The add-on has no signing secret, so a plus tag is read for
 * its number only; the card shows that ticket, and every action is open to agents anyway.
 */
export function namedTicket(hint: TicketHint): number | null {
  const header = /^\s*(\d{1,9})\s*$/.exec(hint.ticketHeader);
  if (header !== null) return Number(header[1]);
  for (const address of hint.addresses) {
    const plus = /^[^+@\s]+\+(\d{1,9})-[a-z2-7]+@/i.exec(address.trim());
    if (plus !== null) return Number(plus[1]);
  }
  return findTicketTag(hint.subject);
}

export class SheetSidebarStore implements SidebarStore {
  private sheet: GoogleAppsScript.Spreadsheet.Sheet | null | undefined;

  constructor(private readonly spreadsheetId: string) {}

  private batchGet(ranges: string[]): GoogleAppsScript.Sheets.Schema.ValueRange[] {
    const response = sheetsApi().Spreadsheets!.Values!.batchGet(this.spreadsheetId, {
      ranges,
      valueRenderOption: 'UNFORMATTED_VALUE',
    });
    return response.valueRanges ?? [];
  }

  /** Ticket #N from its row; a Tickets tab that was sorted by hand is searched instead. */
  private readTicket(number: number, extra: string[] = []) {
    let ranges: GoogleAppsScript.Sheets.Schema.ValueRange[];
    try {
      ranges = this.batchGet([ticketRange(number), ...extra]);
    } catch (error) {
      if (!isOutsideGrid(error)) throw error;
      // Past the last row there is no ticket row; the search below covers a re-sorted tab.
      ranges = [];
    }
    const [ticketRange_, ...rest] = ranges;
    let ticket = rowToTicket(padded(rowsOf(ticketRange_)[0], TICKET_HEADERS.length));
    let row = number + 1;
    if (ticket?.number !== number) {
      row = this.findRow(number);
      ticket = row < 0 ? null : this.readRow(row);
    }
    return { ticket, row, rest };
  }

  private readRow(row: number): Ticket | null {
    const range = sheetsApi().Spreadsheets!.Values!.get(
      this.spreadsheetId,
      `${TAB.tickets}!A${row}:${LAST_COLUMN}${row}`,
      { valueRenderOption: 'UNFORMATTED_VALUE' },
    );
    return rowToTicket(padded((range.values ?? [])[0] as Row | undefined, TICKET_HEADERS.length));
  }

  /** Opens the Tickets tab for TextFinder searches, once per store. */
  private ticketsSheet(): GoogleAppsScript.Spreadsheet.Sheet | null {
    if (this.sheet === undefined) {
      this.sheet = SpreadsheetApp.openById(this.spreadsheetId).getSheetByName(TAB.tickets);
    }
    return this.sheet;
  }

  /** Row of a ticket number by a search of the Number column; -1 when it is not there. */
  private findRow(number: number): number {
    const found = this.ticketsSheet()
      ?.getRange('A:A')
      .createTextFinder(String(number))
      .matchEntireCell(true)
      .findNext();
    return found === null || found === undefined ? -1 : found.getRow();
  }

  /**
   * Finds the ticket of a message that names none, by its Message-IDs in the Conversation
   * column or its support-mailbox thread in the Thread ID column. The contextual trigger runs
   * for every message an agent opens, most of them no ticket, so this is one TextFinder search
   * of both columns (a regular expression) and, on a hit, one read of the matching rows.
   */
  findTicketNumber(hint: TicketHint): number | null {
    const named = namedTicket(hint);
    if (named !== null) return named;
    const ids = [...new Set(hint.messageIds)];
    const alternatives: string[] = [];
    if (hint.threadId !== '') alternatives.push(`^${escapeRegExp(hint.threadId)}$`);
    if (ids.length > 0) alternatives.push(`(^|\\s)(${ids.map(escapeRegExp).join('|')})(\\s|$)`);
    if (alternatives.length === 0) return null;
    const found =
      this.ticketsSheet()
        ?.getRange(`${THREAD_COLUMN}:${CONVERSATION_COLUMN}`)
        .createTextFinder(alternatives.join('|'))
        .useRegularExpression(true)
        .findAll() ?? [];
    if (found.length === 0) return null;
    const rows = [...new Set(found.map((cell) => cell.getRow()))].slice(0, MAX_LOOKUP_ROWS);
    const candidates = this.batchGet(rows.map((row) => `${TAB.tickets}!A${row}:${LAST_COLUMN}${row}`))
      .map((range) => rowToTicket(padded(rowsOf(range)[0], TICKET_HEADERS.length)))
      .filter((ticket): ticket is Ticket => ticket !== null);
    // The search ignores case and matches a row wherever either pattern hits, so the rows are
    // checked exactly here: a known Message-ID wins over the thread, as in findTicketNumberIn.
    for (const id of ids) {
      const byMessage = candidates.find((ticket) => ticket.conversation.includes(id));
      if (byMessage !== undefined) return byMessage.number;
    }
    return candidates.find((ticket) => ticket.threadId === hint.threadId)?.number ?? null;
  }

  readCard(number: number): CardData | null {
    const { ticket, rest } = this.readTicket(number, [`${TAB.team}!A2:D`]);
    if (ticket === null) return null;
    const team = rowsOf(rest[0])
      .map((row) => rowToAgent(padded(row, 4)))
      .filter((agent): agent is Agent => agent !== null);
    const earlier = this.readEarlier(ticket.earlier)
      .map((range) => rowToTicket(padded(rowsOf(range)[0], TICKET_HEADERS.length)))
      .filter((found): found is Ticket => found !== null && ticket.earlier.includes(found.number))
      .map(({ number: n, status, subject, created }) => ({ number: n, status, subject, created }));
    return { ticket, earlier, team };
  }

  /** Reads the rows of earlier tickets, or none when a hand-edited number points past the last row. */
  private readEarlier(numbers: number[]): GoogleAppsScript.Sheets.Schema.ValueRange[] {
    if (numbers.length === 0) return [];
    try {
      return this.batchGet(numbers.map((previous) => ticketRange(previous, HOME_LAST_COLUMN)));
    } catch (error) {
      if (!isOutsideGrid(error)) throw error;
      return [];
    }
  }

  // NOTE: the homepage reads the Number..Created columns of every ticket in one call; the call
  // count stays fixed, but the data read grows with the Tickets tab.
  readHome(agent: string): HomeData {
    const [tickets, teamRows] = this.batchGet([`${TAB.tickets}!A2:${HOME_LAST_COLUMN}`, `${TAB.team}!A2:D`]);
    const me = normalizeEmail(agent);
    const all = rowsOf(tickets)
      .map((row) => rowToTicket(padded(row, TICKET_HEADERS.length)))
      .filter((ticket): ticket is Ticket => ticket !== null)
      .sort((a, b) => b.updated.localeCompare(a.updated));
    const open = all.filter((ticket) => ticket.status !== 'closed');
    return {
      mine: open.filter((ticket) => ticket.assignee === me),
      following: open.filter((ticket) => ticket.followers.includes(me)),
      unassigned: open.filter((ticket) => ticket.assignee === ''),
      team: rowsOf(teamRows)
        .map((row) => rowToAgent(padded(row, 4)))
        .filter((member): member is Agent => member !== null),
    };
  }

  update(number: number, change: (ticket: Ticket) => { ticket: Ticket; record: MessageRecord | null }): Ticket {
    const lock = LockService.getScriptLock();
    lock.waitLock(LOCK_WAIT_MS);
    try {
      const { ticket, row } = this.readTicket(number);
      if (ticket === null) throw new Error(`Ticket #${number} was not found in the Tickets tab.`);
      const result = change(ticket);
      const values = sheetsApi().Spreadsheets!.Values!;
      values.update({ values: [ticketToRow(result.ticket)] }, this.spreadsheetId, `${TAB.tickets}!A${row}:${LAST_COLUMN}${row}`, {
        valueInputOption: 'RAW',
      });
      if (result.record !== null) this.append(result.record);
      return result.ticket;
    } finally {
      lock.releaseLock();
    }
  }

  private append(record: MessageRecord): void {
    appendMessages(this.spreadsheetId, [record]);
  }


  /** Queues the request: the processor alone numbers tickets, so two writers never collide. */
  openTicket(message: ParsedMessage, _threadId: string, agent: string, time: string): null {
    const customer = customerOf(message);
    if (customer === null) throw new Error('The message has no sender address (From or Reply-To).');
    this.append(
      openRequestRecord({
        subject: message.subject,
        customerName: customer.name,
        customerEmail: customer.email,
        text: visibleText(message.text, message.html),
        agent,
        messageId: message.messageId,
        time,
      }),
    );
    return null;
  }
}

