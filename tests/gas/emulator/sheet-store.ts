/**
 * The data behind the emulated SpreadsheetApp: spreadsheets, their sheets and cells, in a store
 * that several emulated projects can share. Tests read it without counting calls.
 */
import { randomBytes } from 'node:crypto';
import { displayCell, hasContent, readCell, type Cell, type CellValue } from './cells';
import type { ChartData } from './sheet-builders';

/** A new sheet has 1,000 rows and 26 columns. */
export const NEW_SHEET_ROWS = 1000;
export const NEW_SHEET_COLUMNS = 26;
export const DEFAULT_COLUMN_WIDTH = 100;

export class SheetData {
  rows: Cell[][] = [];
  frozenRows = 0;
  frozenColumns = 0;
  columnWidths = new Map<number, number>();
  charts: ChartData[] = [];
  deleted = false;

  constructor(
    readonly sheetId: number,
    public name: string,
    public maxRows = NEW_SHEET_ROWS,
    public maxColumns = NEW_SHEET_COLUMNS,
  ) {}

  cell(row: number, column: number): Cell | undefined {
    return this.rows[row - 1]?.[column - 1];
  }

  ensure(row: number, column: number): Cell {
    while (this.rows.length < row) this.rows.push([]);
    const line = this.rows[row - 1]!;
    while (line.length < column) line.push({ value: '' });
    return line[column - 1]!;
  }

  lastRow(): number {
    for (let row = this.rows.length; row >= 1; row--) {
      if (this.rows[row - 1]!.some((cell) => hasContent(cell))) return row;
    }
    return 0;
  }

  lastColumn(): number {
    let last = 0;
    for (const line of this.rows) {
      for (let column = line.length; column > last; column--) {
        if (hasContent(line[column - 1])) {
          last = column;
          break;
        }
      }
    }
    return last;
  }
}

export class SpreadsheetData {
  sheets: SheetData[] = [];
  nextSheetId = 0;
  nextChartId = 1;

  constructor(
    readonly id: string,
    public name: string,
    public timeZone: string,
  ) {}

  addSheet(name: string, index?: number, rows?: number, columns?: number): SheetData {
    const sheet = new SheetData(this.nextSheetId, name, rows, columns);
    // The first sheet's id is 0; later ids are large numbers in Sheets, here small ones.
    this.nextSheetId = this.nextSheetId === 0 ? 1_000_001 : this.nextSheetId + 1;
    if (index === undefined || index >= this.sheets.length) this.sheets.push(sheet);
    else this.sheets.splice(Math.max(0, index), 0, sheet);
    return sheet;
  }

  sheetNamed(name: string): SheetData | undefined {
    return this.sheets.find((sheet) => sheet.name === name);
  }
}

/** Spreadsheets by id, shared by every emulated project that opens them. */
export class SpreadsheetStore {
  private readonly files = new Map<string, SpreadsheetData>();
  /** Set by writes, cleared by reads and flush: what a flush has to commit. */
  pendingWrites = false;

  constructor(readonly timeZone = 'Etc/UTC') {}

  create(name: string, rows?: number, columns?: number): SpreadsheetData {
    const id = `1${randomBytes(32).toString('base64url').slice(0, 43)}`;
    const data = new SpreadsheetData(id, name, this.timeZone);
    data.addSheet('Sheet1', undefined, rows, columns);
    this.files.set(id, data);
    return data;
  }

  get(id: string): SpreadsheetData | undefined {
    return this.files.get(id);
  }

  ids(): string[] {
    return [...this.files.keys()];
  }

  sheetNames(id: string): string[] {
    return this.require(id).sheets.map((sheet) => sheet.name);
  }

  /** What `getDataRange().getValues()` returns, without counting a call. */
  values(id: string, sheetName: string): CellValue[][] {
    return this.grid(id, sheetName, (cell) => readCell(cell));
  }

  /** What `getDataRange().getDisplayValues()` returns, without counting a call. */
  displayValues(id: string, sheetName: string): string[][] {
    const timeZone = this.require(id).timeZone;
    return this.grid(id, sheetName, (cell) => displayCell(cell, timeZone));
  }

  /** What `getDataRange().getFormulas()` returns, without counting a call. */
  formulas(id: string, sheetName: string): string[][] {
    return this.grid(id, sheetName, (cell) => cell?.formula ?? '');
  }

  sheet(id: string, sheetName: string): SheetData {
    const sheet = this.require(id).sheetNamed(sheetName);
    if (sheet === undefined) throw new Error(`SpreadsheetStore: spreadsheet ${id} has no sheet "${sheetName}"`);
    return sheet;
  }

  private require(id: string): SpreadsheetData {
    const data = this.files.get(id);
    if (data === undefined) throw new Error(`SpreadsheetStore: no spreadsheet ${id}`);
    return data;
  }

  private grid<T>(id: string, sheetName: string, read: (cell: Cell | undefined) => T): T[][] {
    const sheet = this.sheet(id, sheetName);
    const rows = Math.max(sheet.lastRow(), 1);
    const columns = Math.max(sheet.lastColumn(), 1);
    return Array.from({ length: rows }, (_, r) => Array.from({ length: columns }, (_, c) => read(sheet.cell(r + 1, c + 1))));
  }
}
