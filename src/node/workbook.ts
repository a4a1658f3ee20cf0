/**
 * The ticket store of the Node runtime: an .xlsx workbook with the same tabs and columns as
 * the Google Sheet (src/core/sheet.ts), so that a workbook made locally imports as it is.
 *
 * The workbook is written with exceljs's streaming writer, because building the whole workbook
 * in memory first took about 1.3 GB and 9 s for 100,000 Messages rows, against 0.2 GB and 2.5 s
 * streamed (exceljs 4.4.0, Node 20).
 */
import { once, type EventEmitter } from 'node:events';
import { createWriteStream, existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
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
import type { Agent, MessageRecord, Settings, Ticket } from '../core/types';

export interface WorkbookOptions {
  /** Path of the .xlsx file, such as DIR/plusdesk.xlsx. */
  path: string;
  /** Support address of the default settings of a new workbook. */
  supportAddress: string;
  /** Agents that replace the Team tab when given. */
  team?: Agent[];
  /** Address that replaces the support address of the Settings tab when given. */
  support?: string;
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

/**
 * Rows per deflated chunk. A save inflates one chunk at a time, so small chunks keep its
 * temporary text and buffers small.
 */
const ROWS_PER_CHUNK = 100;

/**
 * Rows appended by a store's earlier saves, as deflated JSON lines. Each save rewrites the
 * workbook and needs them all. Deflated, they take a small part of the memory of objects.
 */
class RowLog {
  private chunks: Buffer[] = [];
  count = 0;

  add(records: readonly MessageRecord[]): void {
    for (let start = 0; start < records.length; start += ROWS_PER_CHUNK) {
      const lines = records.slice(start, start + ROWS_PER_CHUNK).map((record) => JSON.stringify(record));
      // zlib returns a view of its 16 KiB output buffer when the result fits in one, so the
      // chunk is copied to keep only its own bytes.
      this.chunks.push(Buffer.from(deflateRawSync(lines.join('\n'))));
    }
    this.count += records.length;
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }

  *records(): Generator<MessageRecord> {
    for (const chunk of this.chunks) {
      for (const line of inflateRawSync(chunk).toString('utf8').split('\n')) {
        yield JSON.parse(line) as MessageRecord;
      }
    }
  }
}

/** A store's desk between saves: the workbook as loaded, with the changes saved since. */
interface StoreState {
  tickets: Ticket[];
  /** Rows read from the workbook. The rows that saves appended follow them in the log. */
  messages: MessageRecord[];
  team: Agent[];
  settings: Settings;
  /** Changed rows of the log, by their place in it. */
  logUpdates: Map<number, MessageRecord>;
}

export class WorkbookStore implements TicketStore {
  private state: StoreState | null = null;
  private readonly log = new RowLog();
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
    if (this.options.support !== undefined) snapshot.settings.supportAddress = this.options.support;
    this.state = { ...snapshot, logUpdates: new Map() };
    this.log.clear();
    return structuredClone(snapshot);
  }

  /**
   * Applies `changes` and writes the whole workbook to a temporary file that then replaces the
   * old one, so a crash leaves either the old or the new workbook. When the write fails, the
   * changes stay staged for the next save.
   */
  save(changes: DeskChanges): Promise<void> {
    return this.serialize(async () => {
      await this.apply(changes);
      const state = this.state!;
      const log = this.log;
      function* messages(): Generator<MessageRecord> {
        yield* state.messages;
        let position = 0;
        for (const record of log.records()) yield state.logUpdates.get(position++) ?? record;
      }
      await writeTabs(this.options.path, { ...state, messages: messages() });
    });
  }

  /**
   * Takes changes that the next save writes, without writing the workbook now. Each save
   * rewrites the whole file, so a long run stages its rows as it goes and saves once.
   */
  stage(changes: DeskChanges): Promise<void> {
    return this.serialize(() => this.apply(changes));
  }

  /** Runs `task` after every earlier save or stage. */
  private serialize(task: () => Promise<void>): Promise<void> {
    const run = this.saving.then(task);
    this.saving = run.catch(() => undefined);
    return run;
  }

  /** Applies `changes` to the state, or changes nothing when one of them does not fit. */
  private async apply(changes: DeskChanges): Promise<void> {
    if (this.state === null) await this.load();
    const state = this.state!;
    const loaded = state.messages.length;
    const total = loaded + this.log.count + changes.appended.length;
    for (const { index } of changes.updated) {
      if (!Number.isInteger(index) || index < 0 || index >= total) {
        throw new WorkbookError(`Cannot update Messages row ${index}: the tab has rows 0 to ${total - 1}.`);
      }
    }
    // The desk replaces tickets and rows instead of changing them, so they are not copied.
    state.tickets = upsertTickets(state.tickets, changes.tickets);
    const appended = [...changes.appended];
    for (const { index, record } of changes.updated) {
      if (index < loaded) state.messages[index] = record;
      else if (index < loaded + this.log.count) state.logUpdates.set(index - loaded, record);
      else appended[index - loaded - this.log.count] = record;
    }
    this.log.add(appended);
  }
}

/** Returns `tickets` with `changed` put in by number: replaced in place, or added at the end. */
function upsertTickets(tickets: readonly Ticket[], changed: readonly Ticket[]): Ticket[] {
  const result = [...tickets];
  const position = new Map<number, number>();
  result.forEach((ticket, index) => position.set(ticket.number, index));
  for (const ticket of changed) {
    const index = position.get(ticket.number);
    if (index === undefined) {
      position.set(ticket.number, result.length);
      result.push(ticket);
    } else {
      result[index] = ticket;
    }
  }
  return result;
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

/**
 * Converts an exceljs cell value to the plain values the Sheet layout reads.
 * NOTE: exceljs decodes `_xHHHH_` escapes with upper-case hex only, so an escape that LibreOffice
 * wrote in lower case (`_x001b_` for ESC) is read as literal text.
 */
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

/** A desk to write: like a snapshot, but its Messages rows may come one at a time. */
interface WorkbookContent extends Omit<DeskSnapshot, 'messages'> {
  messages: Iterable<MessageRecord>;
}

/** Start of the names of the temporary files that saves of `path` write in its folder. */
function temporaryPrefix(path: string): string {
  return `.${basename(path)}.`;
}

/**
 * Removes the temporary files that stopped saves of `path` left behind. Call it only while no
 * save of `path` runs, such as under the output folder's lock.
 */
export function removeStoppedSaves(path: string): void {
  const folder = dirname(path);
  if (!existsSync(folder)) return;
  for (const name of readdirSync(folder)) {
    if (name.startsWith(temporaryPrefix(path)) && name.endsWith('.tmp')) rmSync(join(folder, name), { force: true });
  }
}

/** Writes `snapshot` to `path` through a temporary file in the same folder, then renames it. */
export function writeWorkbook(path: string, snapshot: DeskSnapshot): Promise<void> {
  return writeTabs(path, snapshot);
}

/** Rows written between two waits for the zip stream to take them. */
const ROWS_PER_PAUSE = 2000;

async function writeTabs(path: string, content: WorkbookContent): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temporary = join(folder, `${temporaryPrefix(path)}${process.pid}.${Date.now()}.tmp`);
  try {
    const output = createWriteStream(temporary);
    const closed = once(output, 'close');
    // Inline strings: a shared-strings table would hold every distinct text of the workbook
    // in memory until the commit.
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
      stream: output,
      useSharedStrings: false,
      useStyles: true,
    });
    await addTab(workbook, TICKETS_TAB, mapRows(content.tickets, ticketToRow));
    await addTab(workbook, MESSAGES_TAB, mapRows(content.messages, messageToRow));
    await addTab(workbook, TEAM_TAB, mapRows(content.team, agentToRow));
    await addTab(workbook, SETTINGS_TAB, settingsToRows(content.settings));
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

function* concat<T>(head: readonly T[], tail: Iterator<T>): Generator<T> {
  yield* head;
  for (let next = tail.next(); next.done !== true; next = tail.next()) yield next.value;
}

function* mapRows<T>(items: Iterable<T>, toRow: (item: T) => Row): Generator<Row> {
  for (const item of items) yield toRow(item);
}

async function flushToDisk(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function addTab(
  workbook: ExcelJS.stream.xlsx.WorkbookWriter,
  tab: TabLayout,
  rows: Iterable<Row>,
): Promise<void> {
  const worksheet = workbook.addWorksheet(tab.name, {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  const iterator = rows[Symbol.iterator]();
  const first: Row[] = [];
  for (let next = iterator.next(); ; next = iterator.next()) {
    if (next.done === true) break;
    first.push(next.value);
    if (first.length === WIDTH_SAMPLE_ROWS) break;
  }
  worksheet.columns = columnWidths(tab.headers, first).map((width) => ({ width }));
  const header = worksheet.addRow(tab.headers.map(toXlsxValue));
  header.font = { bold: true };
  header.commit();
  let written = 0;
  for (const cells of concat(first, iterator)) {
    worksheet.addRow(cells.map(toXlsxValue)).commit();
    if (++written % ROWS_PER_PAUSE === 0) await zipped(worksheet);
  }
  worksheet.commit();
}

/**
 * Waits until the zip stream has taken the sheet's rows written so far. exceljs (4.4.0) hands
 * them on without waiting, so a large tab would otherwise pile up in memory before it is
 * compressed. The sheet's buffer is piped into a PassThrough stream of archiver, whose
 * `drain` event marks when it has taken them.
 */
async function zipped(worksheet: ExcelJS.Worksheet): Promise<void> {
  // The streaming writer's sheets have a `stream`, which exceljs's types leave out, and
  // archiver's PassThrough comes from readable-stream 2, which has no `writableNeedDrain`.
  const stream = (worksheet as unknown as { stream: { pipes?: PipedStream[] } }).stream;
  for (const pipe of stream.pipes ?? []) {
    if (pipe._writableState?.needDrain === true) await once(pipe, 'drain');
  }
}

type PipedStream = EventEmitter & { _writableState?: { needDrain?: boolean } };

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

/**
 * Converts a Sheet cell for exceljs: '' to an empty cell, and text to an inline string. The
 * text is one rich-text run because exceljs writes plain inline strings as formula results
 * (t="str"), whose `_xHHHH_` escapes it does not read back.
 */
function toXlsxValue(cell: Cell): ExcelJS.CellValue {
  if (typeof cell !== 'string') return cell;
  return cell === '' ? null : { richText: [{ text: xlsxText(cell) }] };
}

/**
 * Prepares text for an xlsx cell. It is cut to Excel's cell limit. Characters that XML 1.0
 * cannot contain (C0 controls, U+FFFE, U+FFFF), DEL, which exceljs drops, and CR, which XML
 * reads as LF, become `_xHHHH_` escapes. The `_` of a literal `_xHHHH_` becomes `_x005F_`, the escape ECMA-376
 * defines for it, also when two such literals touch.
 */
export function xlsxText(text: string): string {
  const cut =
    text.length > EXCEL_CELL_LIMIT
      ? text.slice(0, EXCEL_CELL_LIMIT - CUT_MARKER.length) + CUT_MARKER
      : text;
  return cut
    .replace(/_(?=x[0-9A-Fa-f]{4}_)/g, '_x005F_')
    .replace(
      /[\x00-\x08\x0B-\x1F\x7F\uFFFE\uFFFF]/g,
      (character) => `_x${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`,
    );
}
