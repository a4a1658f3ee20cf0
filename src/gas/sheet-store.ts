/**
 * The ticket store on a Google Sheet, through the Sheets advanced service. A run reads all four
 * tabs in one call. A save appends its Messages rows in one atomic call, because the add-on
 * appends to the same tab at any moment, and writes changed rows in one more, after one read of
 * the changed ticket rows to merge them with what the sidebar wrote since the run started. So a
 * run makes the same few Sheet calls however many messages it handles.
 *
 * A save writes two tabs, and a run can die between the writes. So each save is first recorded
 * as a pending save in script properties, and cleared once both tabs are written. The next run
 * writes a pending save that was not cleared again before it reads the Sheet. Appended rows
 * already in the tab are left out and ticket rows are merged again, so writing a pending save
 * twice gives the same rows as writing it once.
 */
import { appendMessages, sheetsApi } from './sheets-api';
import type { DeskChanges, DeskSnapshot, Log, TicketStore } from '../core/ports';
import {
  CELL_LIMIT,
  defaultSettings,
  fitCell,
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
  type Cell,
  type Row,
} from '../core/sheet';
import { mergeTicket } from '../core/ticket';
import type { MessageRecord, Ticket } from '../core/types';
import { PROPERTY, readMessagesLastRow } from './properties';

type Sheet = GoogleAppsScript.Spreadsheet.Sheet;
type Spreadsheet = GoogleAppsScript.Spreadsheet.Spreadsheet;
type Properties = GoogleAppsScript.Properties.Properties;

/**
 * Bytes of script properties a pending save may take. Apps Script allows 9 KB per value and
 * 500 KB per store, so a pending save is split into values of PENDING_CHUNK_BYTES and leaves
 * room for the other properties.
 */
export const PENDING_SAVE_LIMIT_BYTES = 400 * 1024;
const PENDING_CHUNK_BYTES = 8000;

/**
 * Latest Messages rows a run reads, so that the read stays the same size as the tab grows. The
 * run needs them for work queued in the sidebar, notifications waiting for the digest, the
 * recipients of the last 24 hours and duplicates that arrive close together. Joining needs no
 * old rows: each ticket keeps its recent Message-IDs, and Gmail labels mark what was handled.
 * NOTE: the size is an estimate of a day of mail for a busy team, at two or three rows per
 * message. Past about 4,000 messages a day, the recipient count misses the oldest rows.
 */
export const MESSAGES_WINDOW = 10_000;

/** Reads every data row of a tab (below the header) in one call; returns [] when empty. */
export function readRows(sheet: Sheet, width: number): Row[] {
  const last = sheet.getLastRow();
  if (last < 2) return [];
  return sheet.getRange(2, 1, last - 1, width).getValues() as Row[];
}

/**
 * Converts a cell to what Sheets must receive so that it reads back unchanged. Sheets reads text
 * written with setValues as if typed: '=1+2' becomes a formula, '00123' the number 123, and
 * 'June 5' or '2026-03-02' a date. A leading apostrophe keeps any text as text and is not part of
 * the value Sheets returns, so every non-empty string gets one.
 */
export function guardCell(value: Cell): Cell {
  if (typeof value !== 'string' || value === '') return value;
  const text = value.length < CELL_LIMIT ? value : shortenForPrefix(value);
  const guarded = guardFormula(text);
  return guarded === text ? `'${text}` : guarded;
}

/** Text that fitCell appends to a cut cell, read from fitCell itself. */
const CUT_MARKER = (() => {
  const probe = fitCell('\u0000'.repeat(CELL_LIMIT + 1));
  return probe.slice(probe.lastIndexOf('\u0000') + 1);
})();

/**
 * Makes room for the apostrophe in a cell that is already at the cell limit, because the
 * emulated Sheets counts it. A cut cell keeps its cut marker at the end.
 * NOTE: whether real Sheets counts a leading apostrophe toward the limit is not documented.
 */
function shortenForPrefix(value: string): string {
  const room = CELL_LIMIT - 1;
  if (value.length <= room) return value;
  if (CUT_MARKER !== '' && value.endsWith(CUT_MARKER)) return value.slice(0, room - CUT_MARKER.length) + CUT_MARKER;
  return value.slice(0, room);
}

/** Cells as Sheets must receive them: text kept as text, formula-looking text made inert. */
export function guardRow(row: Row): Row {
  return row.map(guardCell);
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

/** Everything one save writes, kept in script properties until both tabs hold it. */
export interface PendingSave {
  /** Each changed ticket, with the ticket as the run loaded it (null for a new ticket). */
  tickets: { base: Ticket | null; mine: Ticket }[];
  appended: MessageRecord[];
  /** Messages rows changed in place, by Sheet row. */
  updated: { row: number; record: MessageRecord }[];
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** UTF-8 bytes of the character starting with UTF-16 unit `code`; a high surrogate starts a 4-byte pair. */
function utf8Size(code: number): number {
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (isHighSurrogate(code)) return 4;
  return 3;
}

/** Returns the length of a string in UTF-8 bytes, as Apps Script counts property sizes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    bytes += utf8Size(code);
    if (isHighSurrogate(code)) i++;
  }
  return bytes;
}

/** Splits text into pieces of at most `limit` UTF-8 bytes without splitting a surrogate pair. */
function splitUtf8(text: string, limit: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const pair = isHighSurrogate(code);
    const size = utf8Size(code);
    if (bytes + size > limit) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    if (pair) i++;
  }
  pieces.push(text.slice(start));
  return pieces;
}

function chunkKey(index: number): string {
  return `${PROPERTY.pendingSave}_${index}`;
}

/** Reads a pending save from a snapshot of the script properties; null when there is none. */
export function readPendingSave(stored: Record<string, string>): PendingSave | null {
  const count = Number.parseInt(stored[PROPERTY.pendingSave] ?? '', 10);
  if (!Number.isInteger(count) || count <= 0) return null;
  let text = '';
  for (let i = 1; i <= count; i++) {
    const chunk = stored[chunkKey(i)];
    if (chunk === undefined) throw new Error(`Script property ${chunkKey(i)} of the pending save is missing`);
    text += chunk;
  }
  return JSON.parse(text) as PendingSave;
}

/** Identity of a Messages row, to tell whether a pending save's rows are already in the Sheet. */
function recordIdentity(record: MessageRecord): string {
  return [record.kind, record.state, record.sourceId, record.key, record.messageId].join('\u0000');
}

export class SheetStore implements TicketStore {
  private loadedTickets = new Map<number, Ticket>();
  /** Sheet row (1-based) of each ticket number, as found at load time. */
  private rowOf = new Map<number, number>();
  private messageCount = 0;
  /** Messages rows above the ones this run read, below the header. */
  private messageOffset = 0;
  /** Property keys of pending-save chunks that may hold text, to empty them when clearing. */
  private readonly chunkKeys: Set<string>;

  constructor(
    private readonly spreadsheetId: string,
    /** Opens the spreadsheet, only when a tab must grow. */
    private readonly open: () => Spreadsheet,
    private readonly supportAddress: string,
    private readonly properties: Properties,
    /** The script properties as the run read them after taking the lock. */
    private readonly stored: Record<string, string>,
    private readonly log: Log,
  ) {
    this.chunkKeys = new Set(
      Object.keys(stored).filter((key) => key.startsWith(`${PROPERTY.pendingSave}_`) && stored[key] !== ''),
    );
  }

  /**
   * Last row of the Messages tab counted from the rows this run read and the rows it appended.
   * A higher last row in the tab means the sidebar appended rows since.
   */
  get messagesLastRow(): number {
    return this.messageOffset + this.messageCount + 1;
  }

  /**
   * Returns the range of the latest MESSAGES_WINDOW rows, by the last row the previous run
   * stored, and notes the rows above it. Without a stored row, it is every row.
   */
  private messagesRange(): string {
    const lastRow = readMessagesLastRow(this.stored);
    const first = lastRow === null ? 2 : Math.max(2, lastRow - MESSAGES_WINDOW + 1);
    this.messageOffset = first - 2;
    return `${TAB.messages}!A${first}:${column(MESSAGE_HEADERS.length)}`;
  }

  load(): DeskSnapshot {
    const pending = this.readPending();
    if (pending !== null) {
      // An earlier run died while saving: finish its save before reading the desk.
      const [rows] = batchRead(this.spreadsheetId, [`${TAB.tickets}!A2:${column(TICKET_HEADERS.length)}`]);
      this.loadTickets(rows!);
      this.apply(pending, true);
      this.clearPending();
      this.log.info('pending_save_written', {
        tickets: pending.tickets.length,
        appended: pending.appended.length,
        updated: pending.updated.length,
      });
      this.loadedTickets.clear();
      this.rowOf.clear();
    }
    const [ticketRows, messageRows, teamRows, settingRows] = batchRead(this.spreadsheetId, [
      `${TAB.tickets}!A2:${column(TICKET_HEADERS.length)}`,
      this.messagesRange(),
      `${TAB.team}!A2:D`,
      `${TAB.settings}!A2:B`,
    ]);
    const tickets = this.loadTickets(ticketRows!);
    const messages = messageRows!.map((row) => rowToMessage(padRow(row, MESSAGE_HEADERS.length)));
    this.messageCount = messages.length;
    const team = teamRows!.map((row) => rowToAgent(padRow(row, 4))).filter((agent) => agent !== null);
    const settings = rowsToSettings(settingRows!.map((row) => padRow(row, 2)), defaultSettings(this.supportAddress));
    return { tickets, messages, team, settings };
  }

  save(changes: DeskChanges): void {
    const pending: PendingSave = {
      tickets: changes.tickets.map((mine) => ({ base: this.loadedTickets.get(mine.number) ?? null, mine })),
      appended: changes.appended,
      updated: changes.updated.map(({ index, record }) => ({ row: this.messageOffset + index + 2, record })),
    };
    if (pending.tickets.length === 0 && pending.appended.length === 0 && pending.updated.length === 0) return;
    this.storePending(pending);
    this.apply(pending, false);
    this.messageCount += pending.appended.length;
  }

  /**
   * Returns the property values that clear the pending save once the Sheet contains it, for the
   * caller to write with its other properties at the end of the run. Until they are written, a
   * new run writes the save again, which gives the same rows.
   */
  settle(): Record<string, string> {
    if (this.chunkKeys.size === 0) return {};
    const values: Record<string, string> = { [PROPERTY.pendingSave]: '' };
    for (const key of this.chunkKeys) values[key] = '';
    this.chunkKeys.clear();
    return values;
  }

  /** Reads the pending save an earlier run left; logs and drops one that cannot be read. */
  private readPending(): PendingSave | null {
    try {
      return readPendingSave(this.stored);
    } catch (error) {
      // Retrying cannot repair it, and every later run would fail on it the same way.
      this.log.error('pending_save_unreadable', { error: String(error) });
      this.clearPending();
      return null;
    }
  }

  private loadTickets(rows: Row[]): Ticket[] {
    const tickets: Ticket[] = [];
    rows.forEach((row, i) => {
      const ticket = rowToTicket(padRow(row, TICKET_HEADERS.length));
      if (ticket === null) return;
      tickets.push(ticket);
      this.loadedTickets.set(ticket.number, ticket);
      this.rowOf.set(ticket.number, i + 2);
    });
    return tickets;
  }

  /**
   * Records the save in script properties, in one call. When it is too large to record, the save
   * is written unguarded and the failure logged.
   */
  private storePending(pending: PendingSave): void {
    const text = JSON.stringify(pending);
    const size = utf8Length(text);
    if (size > PENDING_SAVE_LIMIT_BYTES) {
      // NOTE: a run that dies between the two tab writes of an unguarded save leaves Tickets and
      // Messages out of step. The processor stops taking messages well before this size.
      this.log.error('save_unguarded', { bytes: size, limit: PENDING_SAVE_LIMIT_BYTES });
      // An earlier save of this run must not be written again over this one after a crash.
      if (this.chunkKeys.size > 0) this.clearPending();
      return;
    }
    const chunks = splitUtf8(text, PENDING_CHUNK_BYTES);
    const values: Record<string, string> = { [PROPERTY.pendingSave]: String(chunks.length) };
    chunks.forEach((chunk, i) => {
      values[chunkKey(i + 1)] = chunk;
    });
    // Chunks of an earlier, larger save are emptied in the same call.
    for (const key of this.chunkKeys) if (!(key in values)) values[key] = '';
    this.properties.setProperties(values);
    for (const key of Object.keys(values)) if (key !== PROPERTY.pendingSave) this.chunkKeys.add(key);
  }

  /** Empties the pending save's properties in one call; the empty values stay as keys. */
  private clearPending(): void {
    const values: Record<string, string> = { [PROPERTY.pendingSave]: '' };
    for (const key of this.chunkKeys) values[key] = '';
    this.properties.setProperties(values);
    this.chunkKeys.clear();
  }

  /**
   * Writes a save to both tabs. `again` is true when an earlier run may have written part of it:
   * appended rows whose identity is already in the tab are then left out.
   */
  private apply(pending: PendingSave, again: boolean): void {
    const id = this.spreadsheetId;
    let appended = pending.appended;
    if (again && appended.length > 0) {
      // The rows of the save that died are the latest ones, so the window finds them.
      const [rows] = batchRead(id, [this.messagesRange()]);
      const present = new Set(rows!.map((row) => recordIdentity(rowToMessage(padRow(row, MESSAGE_HEADERS.length)))));
      appended = appended.filter((record) => !present.has(recordIdentity(record)));
    }
    appendMessages(id, appended);
    const writes: Write[] = pending.updated.map(({ row, record }) => ({
      range: `${TAB.messages}!A${row}:${column(MESSAGE_HEADERS.length)}${row}`,
      values: [messageToRow(record)],
    }));
    writes.push(...this.ticketWrites(pending.tickets));
    batchWrite(id, writes);
  }

  /**
   * The writes of changed tickets, one per block of consecutive rows, after one read of all the
   * blocks. Each row is merged with the row as read just before the write, so what the sidebar
   * wrote since the run loaded the Sheet is kept. Rows the run did not change are never written.
   * NOTE: a sidebar write between that read and the write is still overwritten; the Sheets API
   * has no conditional write.
   */
  private ticketWrites(tickets: PendingSave['tickets']): Write[] {
    if (tickets.length === 0) return [];
    let nextRow = Math.max(1, ...this.rowOf.values()) + 1;
    const target = new Map<number, PendingSave['tickets'][number]>();
    let grows = false;
    for (const entry of tickets) {
      const number = entry.mine.number;
      if (!this.rowOf.has(number)) {
        this.rowOf.set(number, nextRow++);
        grows = true;
      }
      target.set(this.rowOf.get(number)!, entry);
    }
    const rows = [...target.keys()].sort((a, b) => a - b);
    if (grows) ensureRows(requireSheet(this.open(), TAB.tickets), rows[rows.length - 1]!);
    const blocks: { first: number; count: number }[] = [];
    for (let i = 0; i < rows.length; ) {
      let j = i;
      while (j + 1 < rows.length && rows[j + 1] === rows[j]! + 1) j++;
      blocks.push({ first: rows[i]!, count: j - i + 1 });
      i = j + 1;
    }
    const last = column(TICKET_HEADERS.length);
    const ranges = blocks.map(({ first, count }) => `${TAB.tickets}!A${first}:${last}${first + count - 1}`);
    const fresh = batchRead(this.spreadsheetId, ranges);
    return blocks.map(({ first, count }, index) => {
      const values: Row[] = [];
      for (let offset = 0; offset < count; offset++) {
        const entry = target.get(first + offset)!;
        const current = rowToTicket(padRow(fresh[index]![offset], TICKET_HEADERS.length));
        const merged = mergeTicket(
          entry.base ?? undefined,
          entry.mine,
          current?.number === entry.mine.number ? current : null,
        );
        // The run's own ticket is the base of its next save: fields it has not changed since
        // then keep what others wrote.
        this.loadedTickets.set(merged.number, entry.mine);
        values.push(ticketToRow(merged));
      }
      return { range: ranges[index]!, values };
    });
  }
}

interface Write {
  range: string;
  values: Row[];
}

/** Column letter of a 1-based column number up to 26. */
function column(number: number): string {
  return String.fromCharCode(64 + number);
}

function padRow(row: Row | undefined, width: number): Row {
  const result = [...(row ?? [])];
  while (result.length < width) result.push('');
  return result;
}

/** Reads several ranges in one call; the API leaves out trailing empty rows and cells. */
function batchRead(spreadsheetId: string, ranges: string[]): Row[][] {
  const response = sheetsApi().Spreadsheets!.Values!.batchGet(spreadsheetId, {
    ranges,
    valueRenderOption: 'UNFORMATTED_VALUE',
    dateTimeRenderOption: 'FORMATTED_STRING',
  });
  const found = response.valueRanges ?? [];
  return ranges.map((_, index) => (found[index]?.values ?? []) as Row[]);
}

/**
 * Writes several ranges in one call. RAW input stores text exactly as given, so text that looks
 * like a formula, a number or a date stays text without the apostrophe SpreadsheetApp needs.
 */
function batchWrite(spreadsheetId: string, writes: Write[]): void {
  if (writes.length === 0) return;
  sheetsApi().Spreadsheets!.Values!.batchUpdate({ valueInputOption: 'RAW', data: writes }, spreadsheetId);
}
