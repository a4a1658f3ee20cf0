/**
 * The ticket store of the Node runtime: an .xlsx workbook with the same tabs and columns as
 * the Google Sheet (src/core/sheet.ts), so that a workbook made locally imports as it is.
 *
 * The workbook is written with exceljs's streaming writer, because building the whole workbook
 * in memory first took about 1.3 GB and 9 s for 100,000 Messages rows, against 0.2 GB and 2.5 s
 * streamed (exceljs 4.4.0, Node 20).
 */
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import ExcelJS from 'exceljs';
import type { DeskChanges, DeskSnapshot, TicketStore } from '../core/ports';
import {
  agentToRow,
  defaultSettings,
  MESSAGE_HEADERS,
  messageToRow,
  rowsToSettings,
  rowToAgent,
  rowToMessage,
  rowToTicket,
  SETTINGS_HEADERS,
  settingsToRows,
  TAB,
  TEAM_HEADERS,
  TICKET_HEADERS,
  ticketToRow,
} from '../core/sheet';
import type { Cell, Row } from '../core/sheet';
import type { Agent, Ticket } from '../core/types';

export interface WorkbookOptions {
  /** Path of the .xlsx file, such as DIR/plusdesk.xlsx. */
  path: string;
  /** Support address of the default settings of a new workbook. */
  supportAddress: string;
  /** Agents that replace the Team tab when given. */
  team?: Agent[];
}

/** A workbook that cannot be read or written, or changes that do not fit it. */
export class WorkbookError extends Error {
  override name = 'WorkbookError';
}

/** Maximum characters in an Excel cell (Microsoft KB 211878). Google Sheets allows 50,000. */
const EXCEL_CELL_LIMIT = 32_767;
const CUT_MARKER = ' [cut: full text in Gmail]';

const MIN_COLUMN_WIDTH = 8;
const MAX_COLUMN_WIDTH = 60;
/** Rows looked at to size each column. */
const WIDTH_SAMPLE_ROWS = 1000;

interface TabLayout {
  name: string;
  headers: readonly string[];
}

const TICKETS_TAB: TabLayout = { name: TAB.tickets, headers: TICKET_HEADERS };
const MESSAGES_TAB: TabLayout = { name: TAB.messages, headers: MESSAGE_HEADERS };
const TEAM_TAB: TabLayout = { name: TAB.team, headers: TEAM_HEADERS };
const SETTINGS_TAB: TabLayout = { name: TAB.settings, headers: SETTINGS_HEADERS };
const TABS = [TICKETS_TAB, MESSAGES_TAB, TEAM_TAB, SETTINGS_TAB];

export class WorkbookStore implements TicketStore {
  private snapshot: DeskSnapshot | null = null;
  /** The last save, so that saves write one after another. */
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: WorkbookOptions) {}

  /**
   * Reads the workbook, or starts an empty desk with the default settings when the file does
   * not exist. Returns a copy, so the caller may change it freely.
   */
  async load(): Promise<DeskSnapshot> {
    const { path, supportAddress, team } = this.options;
    const snapshot = existsSync(path)
      ? await readWorkbook(path, supportAddress)
      : { tickets: [], messages: [], team: [], settings: defaultSettings(supportAddress) };
    if (team !== undefined) snapshot.team = structuredClone(team);
    this.snapshot = snapshot;
    return structuredClone(snapshot);
  }

  /**
   * Applies `changes` to the loaded snapshot and writes the whole workbook to a temporary file
   * that then replaces the old one, so a crash leaves either the old or the new workbook.
   */
  save(changes: DeskChanges): Promise<void> {
    const run = this.saving.then(() => this.write(changes));
    this.saving = run.catch(() => undefined);
    return run;
  }

  private async write(changes: DeskChanges): Promise<void> {
    if (this.snapshot === null) await this.load();
    // The desk replaces tickets and rows instead of changing them, so they are not copied, which
    // would hold every row of a large run twice.
    const next = applyChanges(this.snapshot!, changes);
    await writeWorkbook(this.options.path, next);
    this.snapshot = next;
  }
}

/** Returns `snapshot` with tickets upserted by number, rows appended, then rows updated. */
export function applyChanges(snapshot: DeskSnapshot, changes: DeskChanges): DeskSnapshot {
  const tickets = [...snapshot.tickets];
  const position = new Map<number, number>();
  tickets.forEach((ticket, index) => position.set(ticket.number, index));
  for (const ticket of changes.tickets) {
    const index = position.get(ticket.number);
    if (index === undefined) {
      position.set(ticket.number, tickets.length);
      tickets.push(ticket);
    } else {
      tickets[index] = ticket;
    }
  }

  const messages = [...snapshot.messages, ...changes.appended];
  for (const { index, record } of changes.updated) {
    if (!Number.isInteger(index) || index < 0 || index >= messages.length) {
      throw new WorkbookError(
        `Cannot update Messages row ${index}: the tab has rows 0 to ${messages.length - 1}.`,
      );
    }
    messages[index] = record;
  }
  return { ...snapshot, tickets, messages };
}

// ---------------------------------------------------------------------------------------------
// Reading

/**
 * Reads a plusdesk workbook. Columns are found by their header, so a column that was moved
 * in a spreadsheet program still reads. Missing settings take the defaults for
 * `supportAddress`.
 */
export async function readWorkbook(path: string, supportAddress = ''): Promise<DeskSnapshot> {
  if (!existsSync(path)) throw new WorkbookError(`Workbook not found: ${path}`);
  const tabs = await readTabs(path);
  if (TABS.every((tab) => !tabs.has(tab.name.toLowerCase()))) {
    const names = TABS.map((tab) => tab.name).join(', ');
    throw new WorkbookError(`${path} is not a plusdesk workbook: it has none of the tabs ${names}`);
  }
  const rows = (tab: TabLayout): Row[] =>
    alignRows(tabs.get(tab.name.toLowerCase()) ?? [], tab.headers);

  const tickets: Ticket[] = [];
  for (const row of rows(TICKETS_TAB)) {
    const ticket = rowToTicket(row);
    if (ticket !== null) tickets.push(ticket);
  }
  const messages = rows(MESSAGES_TAB)
    .filter((row) => row.some((cell) => cell !== ''))
    .map(rowToMessage);
  const team: Agent[] = [];
  for (const row of rows(TEAM_TAB)) {
    const agent = rowToAgent(row);
    if (agent !== null) team.push(agent);
  }
  const settings = rowsToSettings(rows(SETTINGS_TAB), defaultSettings(supportAddress));
  return { tickets, messages, team, settings };
}

/**
 * Reads every tab's rows, header row included, by lower-case tab name.
 *
 * This uses exceljs's in-memory reader: its streaming reader (4.4.0) now and then misses the
 * last entries of the zip file, and with them the tab names or the shared strings.
 */
async function readTabs(path: string): Promise<Map<string, Cell[][]>> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new WorkbookError(
      `Cannot read workbook ${path}: ${reason}. Move the file away to start a new workbook.`,
    );
  }
  const tabs = new Map<string, Cell[][]>();
  for (const worksheet of workbook.worksheets) {
    const rows: Cell[][] = [];
    worksheet.eachRow((row, number) => {
      // exceljs numbers columns from 1, so values[0] is always empty.
      rows[number - 1] = (row.values as unknown[]).slice(1).map(toCell);
    });
    tabs.set(worksheet.name.toLowerCase(), Array.from(rows, (cells) => cells ?? []));
  }
  return tabs;
}

/** Converts an exceljs cell value to the plain values the Sheet layout reads. */
function toCell(value: unknown): Cell {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (Array.isArray(object.richText)) {
      return (object.richText as { text?: string }[]).map((run) => run.text ?? '').join('');
    }
    if ('result' in object) return toCell(object.result);
    if ('formula' in object || 'sharedFormula' in object) return '';
    if ('text' in object) return toCell(object.text);
    if ('error' in object) return '';
  }
  return String(value);
}

/**
 * Puts each row's cells in the order of `headers`, matching the first row's header names
 * without regard to case. When the first row names none of them, it is taken as data in the
 * standard column order.
 */
function alignRows(rows: Cell[][], headers: readonly string[]): Row[] {
  const first = rows[0] ?? [];
  const found = first.map((cell) => String(cell).trim().toLowerCase());
  const columns = headers.map((header) => found.indexOf(header.toLowerCase()));
  if (columns.every((column) => column === -1)) return rows.map((row) => pad(row, headers.length));
  return rows
    .slice(1)
    .map((row) => columns.map((column) => (column === -1 ? '' : (row[column] ?? ''))));
}

function pad(row: Cell[], length: number): Row {
  return Array.from({ length }, (_, index) => row[index] ?? '');
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Writes `snapshot` to `path` through a temporary file in the same folder, then renames it. */
export async function writeWorkbook(path: string, snapshot: DeskSnapshot): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const output = createWriteStream(temporary);
    const closed = once(output, 'close');
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
      stream: output,
      useSharedStrings: true,
      useStyles: true,
    });
    addTab(workbook, TICKETS_TAB, snapshot.tickets.map(ticketToRow));
    addTab(workbook, MESSAGES_TAB, snapshot.messages.map(messageToRow));
    addTab(workbook, TEAM_TAB, snapshot.team.map(agentToRow));
    addTab(workbook, SETTINGS_TAB, settingsToRows(snapshot.settings));
    await workbook.commit();
    await closed;
    await flushToDisk(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new WorkbookError(`Cannot write workbook ${path}: ${reason}`);
  }
}

async function flushToDisk(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function addTab(workbook: ExcelJS.stream.xlsx.WorkbookWriter, tab: TabLayout, rows: Row[]): void {
  const worksheet = workbook.addWorksheet(tab.name, {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  worksheet.columns = columnWidths(tab.headers, rows).map((width) => ({ width }));
  const header = worksheet.addRow(tab.headers.map((name) => xlsxText(name)));
  header.font = { bold: true };
  header.commit();
  for (const row of rows) worksheet.addRow(row.map(toXlsxValue)).commit();
  worksheet.commit();
}

/** Widths in characters: the longest of the header and the first rows, within 8 to 60. */
function columnWidths(headers: readonly string[], rows: Row[]): number[] {
  return headers.map((header, column) => {
    let longest = header.length;
    for (const row of rows.slice(0, WIDTH_SAMPLE_ROWS)) {
      longest = Math.max(longest, String(row[column] ?? '').length);
    }
    return Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, longest + 2));
  });
}

/** Converts a Sheet cell for exceljs: '' to an empty cell, and text to a string cell. */
function toXlsxValue(cell: Cell): string | number | boolean | null {
  if (typeof cell !== 'string') return cell;
  return cell === '' ? null : xlsxText(cell);
}

/**
 * Prepares text for an xlsx cell. It is cut to Excel's cell limit. Characters that XML 1.0
 * cannot contain, and CR, which XML reads as LF, become `_xHHHH_` escapes. A literal `_xHHHH_`
 * becomes `_x005F_xHHHH_`, the escape ECMA-376 defines for shared strings.
 */
export function xlsxText(text: string): string {
  const cut =
    text.length > EXCEL_CELL_LIMIT
      ? text.slice(0, EXCEL_CELL_LIMIT - CUT_MARKER.length) + CUT_MARKER
      : text;
  return cut
    .replace(/_(x[0-9A-Fa-f]{4}_)/g, '_x005F_$1')
    .replace(
      /[\x00-\x08\x0B-\x1F\x7F]/g,
      (character) => `_x${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`,
    );
}
