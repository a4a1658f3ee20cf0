/**
 * The ticket store of the Node runtime: an .xlsx workbook with the same tabs and columns as
 * the Google Sheet (src/core/sheet.ts), so that a workbook made locally imports as it is.
 *
 * The workbook is read with exceljs and written row by row with ./xlsx-writer, so a save never
 * keeps a whole tab in memory.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import type { DeskChanges, DeskSnapshot, TicketShelf, TicketStore } from '../core/ports';
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
import { CompactTicketShelf } from './ticket-shelf';
import { writeXlsx, type SheetContent } from './xlsx-writer';

export { xlsxText } from './xlsx-writer';

export interface WorkbookOptions {
  /** Path of the .xlsx file, such as DIR/plusdesk.xlsx. */
  path: string;
  /** Support address of the default settings of a new workbook. */
  supportAddress: string;
  /** Agents that replace the Team tab when given. */
  team?: Agent[];
  /** Address that replaces the support address of the Settings tab when given. */
  support?: string;
  /** Bytes of deflated staged rows kept in memory before they move to a file (default 4 MiB). */
  rowMemoryBytes?: number;
}

/** A workbook that cannot be read or written, or changes that do not fit it. */
export class WorkbookError extends Error {
  override name = 'WorkbookError';
}

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
 * Deflated rows a log keeps in memory by default. Past this, it moves them to a file beside
 * the workbook, so that a run over a large mailbox keeps its memory flat.
 */
const ROW_MEMORY_BYTES = 4 * 1024 * 1024;

/** A chunk of a log's rows: deflated bytes in memory, or their place in the log's file. */
type Chunk = Buffer | { offset: number; length: number };

/**
 * Rows appended by a store's earlier saves, as deflated JSON lines. Each save rewrites the
 * workbook and needs them all. Deflated, they take a small part of the memory of objects, and
 * beyond a few megabytes they go to a temporary file.
 */
class RowLog {
  private chunks: Chunk[] = [];
  private bytesInMemory = 0;
  private file: { path: string; fd: number; size: number } | null = null;
  count = 0;

  /** `filePath` names the file the log moves its rows to when they pass `memoryBytes`. */
  constructor(
    private readonly filePath: () => string,
    private readonly memoryBytes: number,
  ) {}

  add(records: readonly MessageRecord[]): void {
    for (let start = 0; start < records.length; start += ROWS_PER_CHUNK) {
      const lines = records.slice(start, start + ROWS_PER_CHUNK).map((record) => JSON.stringify(record));
      // zlib returns a view of its 16 KiB output buffer when the result fits in one, so the
      // chunk is copied to keep only its own bytes.
      const chunk = Buffer.from(deflateRawSync(lines.join('\n')));
      this.chunks.push(chunk);
      this.bytesInMemory += chunk.length;
    }
    this.count += records.length;
    if (this.bytesInMemory > this.memoryBytes) this.moveToFile();
  }

  private moveToFile(): void {
    if (this.file === null) {
      const path = this.filePath();
      mkdirSync(dirname(path), { recursive: true });
      this.file = { path, fd: openSync(path, 'w+'), size: 0 };
    }
    const file = this.file;
    this.chunks = this.chunks.map((chunk) => {
      if (!Buffer.isBuffer(chunk)) return chunk;
      writeSync(file.fd, chunk, 0, chunk.length, file.size);
      const place = { offset: file.size, length: chunk.length };
      file.size += chunk.length;
      return place;
    });
    this.bytesInMemory = 0;
  }

  /** Drops every row and removes the log's file. */
  clear(): void {
    if (this.file !== null) {
      closeSync(this.file.fd);
      rmSync(this.file.path, { force: true });
      this.file = null;
    }
    this.chunks = [];
    this.bytesInMemory = 0;
    this.count = 0;
  }

  *records(): Generator<MessageRecord> {
    for (const chunk of this.chunks) {
      for (const line of inflateRawSync(this.bytesOf(chunk)).toString('utf8').split('\n')) {
        yield JSON.parse(line) as MessageRecord;
      }
    }
  }

  private bytesOf(chunk: Chunk): Buffer {
    if (Buffer.isBuffer(chunk)) return chunk;
    const bytes = Buffer.allocUnsafe(chunk.length);
    readSync(this.file!.fd, bytes, 0, chunk.length, chunk.offset);
    return bytes;
  }
}

/**
 * A store's desk between saves: the workbook as loaded, with the changes saved since. Its
 * tickets are on the store's shelf.
 */
interface StoreState {
  /** Rows read from the workbook. The rows that saves appended follow them in the log. */
  messages: MessageRecord[];
  team: Agent[];
  settings: Settings;
  /** Changed rows of the log, by their place in it. */
  logUpdates: Map<number, MessageRecord>;
}

export class WorkbookStore implements TicketStore {
  private state: StoreState | null = null;
  private readonly log: RowLog;
  private readonly tickets = new CompactTicketShelf();
  /** The last save, so that saves write one after another. */
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: WorkbookOptions) {
    this.log = new RowLog(() => temporaryPath(options.path, 'rows'), options.rowMemoryBytes ?? ROW_MEMORY_BYTES);
  }

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
    const copy = structuredClone(snapshot);
    this.tickets.clear();
    for (const ticket of snapshot.tickets) this.tickets.put(ticket);
    this.state = { messages: snapshot.messages, team: snapshot.team, settings: snapshot.settings, logUpdates: new Map() };
    this.log.clear();
    return copy;
  }

  /** Returns the store's tickets, which a desk keeps up to date and a save writes. */
  shelf(): TicketShelf {
    return this.tickets;
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
      const tickets = this.tickets;
      await writeTabs(this.options.path, {
        ...state,
        tickets: { [Symbol.iterator]: () => tickets.values() },
        messages: { [Symbol.iterator]: messages },
      });
    });
  }

  /**
   * Takes changes that the next save writes, without writing the workbook now. Each save
   * rewrites the whole file, so a long run stages its rows as it goes and saves once.
   */
  stage(changes: DeskChanges): Promise<void> {
    return this.serialize(() => this.apply(changes));
  }

  /**
   * Drops the rows kept for later saves and removes their temporary file. Call it after the
   * last save; a later save loads the workbook again.
   */
  close(): Promise<void> {
    return this.serialize(async () => {
      this.log.clear();
      this.tickets.clear();
      this.state = null;
    });
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
    for (const ticket of changes.tickets) this.tickets.put(ticket);
    const appended = [...changes.appended];
    for (const { index, record } of changes.updated) {
      if (index < loaded) state.messages[index] = record;
      else if (index < loaded + this.log.count) state.logUpdates.set(index - loaded, record);
      else appended[index - loaded - this.log.count] = record;
    }
    this.log.add(appended);
  }
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

/**
 * A desk to write: like a snapshot, but its Messages rows may come one at a time. Each tab's
 * rows are read twice.
 */
interface WorkbookContent extends Omit<DeskSnapshot, 'tickets' | 'messages'> {
  tickets: Iterable<Ticket>;
  messages: Iterable<MessageRecord>;
}

/** Start of the names of the temporary files that stores of `path` write in its folder. */
function temporaryPrefix(path: string): string {
  return `.${basename(path)}.`;
}

/** Returns a new temporary file's path beside `path`, named with its `use`. */
function temporaryPath(path: string, use: string): string {
  return join(dirname(path), `${temporaryPrefix(path)}${process.pid}.${Date.now()}.${use}.tmp`);
}

/**
 * Removes the temporary files that stopped saves and runs of `path` left behind. Call it only
 * while no store of `path` is in use, such as under the output folder's lock.
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

function writeTabs(path: string, content: WorkbookContent): Promise<void> {
  return writeThroughTemporary(path, (temporary) =>
    writeXlsx(temporary, [
      sheetOf(TICKETS_TAB, mapRows(content.tickets, ticketToRow)),
      sheetOf(MESSAGES_TAB, mapRows(content.messages, messageToRow)),
      sheetOf(TEAM_TAB, mapRows(content.team, agentToRow)),
      sheetOf(SETTINGS_TAB, settingsToRows(content.settings)),
    ]),
  );
}

/** Writes a file with `write` to a temporary file in the same folder, then renames it to `path`. */
async function writeThroughTemporary(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temporary = temporaryPath(path, 'xlsx');
  try {
    await write(temporary);
    await flushToDisk(temporary);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new WorkbookError(`Cannot write workbook ${path}: ${reason}`);
  }
}

/**
 * Returns a tab with column widths sized from its first rows. `rows` is read twice, first for
 * the widths, so that no rows are kept for later. V8 allocates the objects of a call site whose
 * objects tend to live long in its old generation, so kept rows would put every later row there.
 */
function sheetOf(tab: TabLayout, rows: Iterable<Row>): SheetContent {
  return { name: tab.name, header: tab.headers, widths: columnWidths(tab.headers, rows), rows };
}

/** Returns `items` as rows, in an iterable that may be read more than once when `items` may. */
function mapRows<T>(items: Iterable<T>, toRow: (item: T) => Row): Iterable<Row> {
  return {
    *[Symbol.iterator]() {
      for (const item of items) yield toRow(item);
    },
  };
}

async function flushToDisk(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Widths in characters: the longest of the header and the first rows, within 8 to 60. */
function columnWidths(headers: readonly string[], rows: Iterable<Row>): number[] {
  const longest = headers.map((header) => header.length);
  let sampled = 0;
  for (const row of rows) {
    if (sampled++ === WIDTH_SAMPLE_ROWS) break;
    longest.forEach((length, column) => {
      longest[column] = Math.max(length, String(row[column] ?? '').length);
    });
  }
  return longest.map((length) => Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, length + 2)));
}
