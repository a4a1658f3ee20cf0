/**
 * The ticket store on a Google Sheet. A run reads each tab once and writes changed ticket rows
 * and new Messages rows in one block each. Ticket rows are merged with the row as it is at
 * write time, so a sidebar action taken during the run is kept.
 */
import type { DeskChanges, DeskSnapshot, TicketStore } from '../core/ports';
import {
  defaultSettings,
  guardFormula,
  messageToRow,
  MESSAGE_HEADERS,
  rowsToSettings,
  rowToAgent,
  rowToMessage,
  rowToTicket,
  TAB,
  TICKET_HEADERS,
  ticketToRow,
  type Row,
} from '../core/sheet';
import { mergeTicket } from '../core/ticket';
import type { Ticket } from '../core/types';

type Sheet = GoogleAppsScript.Spreadsheet.Sheet;
type Spreadsheet = GoogleAppsScript.Spreadsheet.Spreadsheet;

/** Reads every data row of a tab (below the header) in one call; returns [] when empty. */
export function readRows(sheet: Sheet, width: number): Row[] {
  const last = sheet.getLastRow();
  if (last < 2) return [];
  return sheet.getRange(2, 1, last - 1, width).getValues() as Row[];
}

/** Cells as Sheets must receive them: formula-looking text made inert. */
export function guardRow(row: Row): Row {
  return row.map(guardFormula);
}

/** Adds rows at the bottom when a write would reach past the sheet's last row. */
export function ensureRows(sheet: Sheet, lastRow: number): void {
  const max = sheet.getMaxRows();
  if (lastRow > max) sheet.insertRowsAfter(max, lastRow - max);
}

export function requireSheet(spreadsheet: Spreadsheet, name: string): Sheet {
  const sheet = spreadsheet.getSheetByName(name);
  if (sheet === null) {
    throw new Error(`The ticket Sheet has no "${name}" tab: run setup() again to recreate it.`);
  }
  return sheet;
}

export class SheetStore implements TicketStore {
  private loadedTickets = new Map<number, Ticket>();
  /** Sheet row (1-based) of each ticket number, as found at load time. */
  private rowOf = new Map<number, number>();
  private messageCount = 0;

  constructor(
    private readonly spreadsheet: Spreadsheet,
    private readonly supportAddress: string,
  ) {}

  load(): DeskSnapshot {
    const tickets: Ticket[] = [];
    readRows(requireSheet(this.spreadsheet, TAB.tickets), TICKET_HEADERS.length).forEach((row, i) => {
      const ticket = rowToTicket(row);
      if (ticket === null) return;
      tickets.push(ticket);
      this.loadedTickets.set(ticket.number, ticket);
      this.rowOf.set(ticket.number, i + 2);
    });
    const messages = readRows(requireSheet(this.spreadsheet, TAB.messages), MESSAGE_HEADERS.length).map(
      rowToMessage,
    );
    this.messageCount = messages.length;
    const team = readRows(requireSheet(this.spreadsheet, TAB.team), 4)
      .map(rowToAgent)
      .filter((agent) => agent !== null);
    const settings = rowsToSettings(
      readRows(requireSheet(this.spreadsheet, TAB.settings), 2),
      defaultSettings(this.supportAddress),
    );
    return { tickets, messages, team, settings };
  }

  save(changes: DeskChanges): void {
    this.saveTickets(changes.tickets);
    this.saveMessages(changes);
  }

  private saveTickets(tickets: Ticket[]): void {
    if (tickets.length === 0) return;
    const sheet = requireSheet(this.spreadsheet, TAB.tickets);
    let nextRow = Math.max(1, ...this.rowOf.values()) + 1;
    const target = new Map<number, Ticket>();
    for (const ticket of tickets) {
      if (!this.rowOf.has(ticket.number)) this.rowOf.set(ticket.number, nextRow++);
      target.set(this.rowOf.get(ticket.number)!, ticket);
    }
    const rows = [...target.keys()];
    const first = Math.min(...rows);
    const count = Math.max(...rows) - first + 1;
    ensureRows(sheet, first + count - 1);
    const range = sheet.getRange(first, 1, count, TICKET_HEADERS.length);
    // One read of the span just before writing it: rows between changed ones are written back
    // as read, and changed rows are merged with what others wrote since the run started.
    const fresh = range.getValues() as Row[];
    const output = fresh.map((row, offset) => {
      const mine = target.get(first + offset);
      if (mine === undefined) return row;
      const current = rowToTicket(row);
      const merged = mergeTicket(
        this.loadedTickets.get(mine.number),
        mine,
        current?.number === mine.number ? current : null,
      );
      this.loadedTickets.set(merged.number, merged);
      return guardRow(ticketToRow(merged));
    });
    range.setValues(output);
  }

  private saveMessages(changes: DeskChanges): void {
    const sheet = requireSheet(this.spreadsheet, TAB.messages);
    for (const { index, record } of changes.updated) {
      sheet.getRange(index + 2, 1, 1, MESSAGE_HEADERS.length).setValues([guardRow(messageToRow(record))]);
    }
    if (changes.appended.length === 0) return;
    // NOTE: a sidebar comment appended between getLastRow and setValues would be overwritten;
    // the window is one service round trip, and the sidebar appends with appendRow.
    const start = Math.max(sheet.getLastRow(), this.messageCount + 1) + 1;
    ensureRows(sheet, start + changes.appended.length - 1);
    sheet
      .getRange(start, 1, changes.appended.length, MESSAGE_HEADERS.length)
      .setValues(changes.appended.map((record) => guardRow(messageToRow(record))));
    this.messageCount = start - 2 + changes.appended.length;
  }
}
