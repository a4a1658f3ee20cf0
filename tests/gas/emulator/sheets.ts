/**
 * The emulated SpreadsheetApp over a spreadsheet store that several emulated projects can share
 * (the processor and the add-on open the same ticket Sheet). Every method call of its
 * spreadsheets, sheets, ranges and text finders is counted.
 */

import {
  a1Notation,
  CELL_CHARACTER_LIMIT,
  displayCell,
  hasContent,
  parseA1,
  readCell,
  storeInput,
  type Cell,
  type CellValue,
} from './cells';
import type { Runtime, Subset } from './runtime';
import { DEFAULT_COLUMN_WIDTH, type SheetData, type SpreadsheetData, type SpreadsheetStore } from './sheet-store';
import {
  DATA_VALIDATION_CRITERIA,
  EmulatedChart,
  EmulatedChartBuilder,
  EmulatedDataValidation,
  EmulatedDataValidationBuilder,
  passesValidation,
  type ChartData,
  type ChartRange,
} from './sheet-builders';

export { SpreadsheetStore } from './sheet-store';

type SpreadsheetAppApi = GoogleAppsScript.Spreadsheet.SpreadsheetApp;
type SpreadsheetApi = GoogleAppsScript.Spreadsheet.Spreadsheet;
type SheetApi = GoogleAppsScript.Spreadsheet.Sheet;
type RangeApi = GoogleAppsScript.Spreadsheet.Range;
type TextFinderApi = GoogleAppsScript.Spreadsheet.TextFinder;

export interface SpreadsheetAppOptions {
  /** The spreadsheet a container-bound script belongs to; standalone scripts have none. */
  boundSpreadsheetId?: string;
}

/** Shared handles every emulated Sheets object needs. */
interface Context {
  rt: Runtime;
  store: SpreadsheetStore;
}

export class EmulatedSpreadsheetApp
  implements
    Subset<
      SpreadsheetAppApi,
      'create' | 'openById' | 'openByUrl' | 'getActiveSpreadsheet' | 'flush' | 'newDataValidation'
    >
{
  /** SpreadsheetApp.DataValidationCriteria with the criteria names as values. */
  readonly DataValidationCriteria = DATA_VALIDATION_CRITERIA;

  constructor(
    private readonly context: Context,
    private readonly options: SpreadsheetAppOptions = {},
  ) {}

  create(name: string, rows?: number, columns?: number): EmulatedSpreadsheet {
    return this.context.rt.track('SpreadsheetApp.create', () => {
      if (typeof name !== 'string' || name === '') throw this.context.rt.exception('Invalid argument: name');
      return new EmulatedSpreadsheet(this.context, this.context.store.create(name, rows, columns));
    });
  }

  openById(id: string): EmulatedSpreadsheet {
    return this.context.rt.track('SpreadsheetApp.openById', () => this.open(String(id), 'openById'));
  }

  openByUrl(url: string): EmulatedSpreadsheet {
    return this.context.rt.track('SpreadsheetApp.openByUrl', () => {
      const id = /\/d\/([A-Za-z0-9_-]+)/.exec(String(url))?.[1] ?? '';
      return this.open(id, 'openByUrl');
    });
  }

  getActiveSpreadsheet(): EmulatedSpreadsheet | null {
    return this.context.rt.track('SpreadsheetApp.getActiveSpreadsheet', () => {
      const id = this.options.boundSpreadsheetId;
      const data = id === undefined ? undefined : this.context.store.get(id);
      return data === undefined ? null : new EmulatedSpreadsheet(this.context, data);
    });
  }

  flush(): void {
    const variant = this.context.store.pendingWrites ? undefined : 'idle';
    this.context.rt.track(
      'SpreadsheetApp.flush',
      () => {
        this.context.store.pendingWrites = false;
      },
      variant === undefined ? {} : { variant },
    );
  }

  newDataValidation(): EmulatedDataValidationBuilder {
    return this.context.rt.track('SpreadsheetApp.newDataValidation', () => new EmulatedDataValidationBuilder(this.context.rt));
  }

  private open(id: string, method: string): EmulatedSpreadsheet {
    const data = this.context.store.get(id);
    if (data === undefined) {
      throw this.context.rt.exception(`Unexpected error while getting the method or property ${method} on object SpreadsheetApp.`);
    }
    return new EmulatedSpreadsheet(this.context, data);
  }
}

export class EmulatedSpreadsheet
  implements
    Subset<
      SpreadsheetApi,
      | 'getId'
      | 'getUrl'
      | 'getName'
      | 'rename'
      | 'getSheetByName'
      | 'getSheetById'
      | 'getSheets'
      | 'insertSheet'
      | 'deleteSheet'
      | 'getSpreadsheetTimeZone'
      | 'setSpreadsheetTimeZone'
    >
{
  constructor(
    private readonly context: Context,
    readonly data: SpreadsheetData,
  ) {}

  private get rt(): Runtime {
    return this.context.rt;
  }

  getId(): string {
    return this.rt.track('Spreadsheet.getId', () => this.data.id);
  }

  getUrl(): string {
    return this.rt.track('Spreadsheet.getUrl', () => `https://docs.google.com/spreadsheets/d/${this.data.id}/edit`);
  }

  getName(): string {
    return this.rt.track('Spreadsheet.getName', () => this.data.name);
  }

  rename(newName: string): void {
    this.rt.track('Spreadsheet.rename', () => {
      this.data.name = String(newName);
    });
  }

  getSheetByName(name: string): EmulatedSheet | null {
    return this.rt.track('Spreadsheet.getSheetByName', () => {
      const sheet = this.data.sheetNamed(String(name));
      return sheet === undefined ? null : new EmulatedSheet(this.context, this.data, sheet);
    });
  }

  getSheetById(id: number): EmulatedSheet | null {
    return this.rt.track('Spreadsheet.getSheetById', () => {
      const sheet = this.data.sheets.find((candidate) => candidate.sheetId === id);
      return sheet === undefined ? null : new EmulatedSheet(this.context, this.data, sheet);
    });
  }

  getSheets(): EmulatedSheet[] {
    return this.rt.track('Spreadsheet.getSheets', () =>
      this.data.sheets.map((sheet) => new EmulatedSheet(this.context, this.data, sheet)),
    );
  }

  /** insertSheet(), (index), (name) or (name, index); a template option is not emulated. */
  insertSheet(nameOrIndex?: string | number | object, index?: number | object): EmulatedSheet {
    return this.rt.track('Spreadsheet.insertSheet', () => {
      let name: string | undefined;
      let position: number | undefined;
      if (typeof nameOrIndex === 'string') name = nameOrIndex;
      else if (typeof nameOrIndex === 'number') position = nameOrIndex;
      if (typeof index === 'number') position = index;
      if ((typeof nameOrIndex === 'object' && nameOrIndex !== null) || (typeof index === 'object' && index !== null)) {
        throw new Error('insertSheet emulation: the template option is not emulated');
      }
      if (name === undefined) {
        let number = this.data.sheets.length + 1;
        while (this.data.sheetNamed(`Sheet${number}`) !== undefined) number++;
        name = `Sheet${number}`;
      }
      this.checkNewName(name);
      const sheet = this.data.addSheet(name, position);
      return new EmulatedSheet(this.context, this.data, sheet);
    });
  }

  deleteSheet(sheet: SheetApi): void {
    this.rt.track('Spreadsheet.deleteSheet', () => {
      const target = sheetDataOf(sheet);
      const index = this.data.sheets.indexOf(target);
      if (index < 0) throw this.rt.exception('Invalid argument: sheet');
      if (this.data.sheets.length === 1) {
        throw this.rt.exception("You can't remove all the sheets in a document.");
      }
      this.data.sheets.splice(index, 1);
      target.deleted = true;
    });
  }

  getSpreadsheetTimeZone(): string {
    return this.rt.track('Spreadsheet.getSpreadsheetTimeZone', () => this.data.timeZone);
  }

  setSpreadsheetTimeZone(timezone: string): void {
    this.rt.track('Spreadsheet.setSpreadsheetTimeZone', () => {
      this.data.timeZone = String(timezone);
    });
  }

  private checkNewName(name: string): void {
    if (this.data.sheets.some((sheet) => sheet.name.toLowerCase() === name.toLowerCase())) {
      throw this.rt.exception(`A sheet with the name "${name}" already exists. Please enter another name.`);
    }
  }
}

/** Returns the SheetData behind a Sheet the script passes back in. */
function sheetDataOf(sheet: unknown): SheetData {
  if (!(sheet instanceof EmulatedSheet)) throw new Error('Sheets emulation: expected a Sheet from this emulator');
  return sheet.data;
}

export class EmulatedSheet
  implements
    Subset<
      SheetApi,
      | 'getName'
      | 'setName'
      | 'getSheetId'
      | 'getIndex'
      | 'getParent'
      | 'getRange'
      | 'getLastRow'
      | 'getLastColumn'
      | 'getMaxRows'
      | 'getMaxColumns'
      | 'getDataRange'
      | 'appendRow'
      | 'setFrozenRows'
      | 'getFrozenRows'
      | 'setFrozenColumns'
      | 'getFrozenColumns'
      | 'insertRowsAfter'
      | 'deleteRows'
      | 'deleteRow'
      | 'setColumnWidth'
      | 'getColumnWidth'
      | 'autoResizeColumns'
      | 'autoResizeColumn'
      | 'newChart'
      | 'insertChart'
      | 'getCharts'
      | 'removeChart'
      | 'updateChart'
      | 'createTextFinder'
      | 'clear'
    >
{
  constructor(
    private readonly context: Context,
    private readonly spreadsheet: SpreadsheetData,
    readonly data: SheetData,
  ) {}

  private get rt(): Runtime {
    return this.context.rt;
  }

  /** Counts the call, failing it when the sheet was deleted. */
  private track<T>(name: string, action: () => T): T {
    return this.rt.track(name, () => {
      if (this.data.deleted) throw this.rt.exception(`The sheet ${this.data.name} has been deleted.`);
      return action();
    });
  }

  getName(): string {
    return this.track('Sheet.getName', () => this.data.name);
  }

  setName(name: string): EmulatedSheet {
    return this.track('Sheet.setName', () => {
      const text = String(name);
      const clash = this.spreadsheet.sheets.some(
        (sheet) => sheet !== this.data && sheet.name.toLowerCase() === text.toLowerCase(),
      );
      if (clash) throw this.rt.exception(`A sheet with the name "${text}" already exists. Please enter another name.`);
      this.data.name = text;
      return this;
    });
  }

  getSheetId(): number {
    return this.track('Sheet.getSheetId', () => this.data.sheetId);
  }

  getIndex(): number {
    return this.track('Sheet.getIndex', () => this.spreadsheet.sheets.indexOf(this.data) + 1);
  }

  getParent(): EmulatedSpreadsheet {
    return this.track('Sheet.getParent', () => new EmulatedSpreadsheet(this.context, this.spreadsheet));
  }

  getRange(rowOrA1: number | string, column?: number, numRows?: number, numColumns?: number): EmulatedRange {
    return this.track('Sheet.getRange', () => {
      if (typeof rowOrA1 === 'string') {
        const parsed = parseA1(rowOrA1, this.data.maxRows, this.data.maxColumns);
        if (parsed === undefined || (parsed.sheetName !== undefined && parsed.sheetName !== this.data.name)) {
          throw this.rt.exception('Range not found');
        }
        return this.range(parsed.row, parsed.column, parsed.numRows, parsed.numColumns);
      }
      return this.range(rowOrA1, column, numRows ?? 1, numColumns ?? 1);
    });
  }

  getLastRow(): number {
    return this.track('Sheet.getLastRow', () => this.data.lastRow());
  }

  getLastColumn(): number {
    return this.track('Sheet.getLastColumn', () => this.data.lastColumn());
  }

  getMaxRows(): number {
    return this.track('Sheet.getMaxRows', () => this.data.maxRows);
  }

  getMaxColumns(): number {
    return this.track('Sheet.getMaxColumns', () => this.data.maxColumns);
  }

  getDataRange(): EmulatedRange {
    return this.track('Sheet.getDataRange', () =>
      this.range(1, 1, Math.max(this.data.lastRow(), 1), Math.max(this.data.lastColumn(), 1)),
    );
  }

  appendRow(rowContents: unknown[]): EmulatedSheet {
    return this.track('Sheet.appendRow', () => {
      if (!Array.isArray(rowContents) || rowContents.length === 0) {
        throw this.rt.exception('The parameters (Object) don\'t match the method signature for SpreadsheetApp.Sheet.appendRow.');
      }
      const row = this.data.lastRow() + 1;
      this.data.maxRows = Math.max(this.data.maxRows, row);
      this.data.maxColumns = Math.max(this.data.maxColumns, rowContents.length);
      writeCells(this.context, this.spreadsheet, this.data, row, 1, [rowContents]);
      return this;
    });
  }

  setFrozenRows(rows: number): void {
    this.track('Sheet.setFrozenRows', () => {
      if (!Number.isInteger(rows) || rows < 0 || rows >= this.data.maxRows) {
        throw this.rt.exception(`Invalid argument: rows (${rows})`);
      }
      this.data.frozenRows = rows;
    });
  }

  getFrozenRows(): number {
    return this.track('Sheet.getFrozenRows', () => this.data.frozenRows);
  }

  setFrozenColumns(columns: number): void {
    this.track('Sheet.setFrozenColumns', () => {
      if (!Number.isInteger(columns) || columns < 0 || columns >= this.data.maxColumns) {
        throw this.rt.exception(`Invalid argument: columns (${columns})`);
      }
      this.data.frozenColumns = columns;
    });
  }

  getFrozenColumns(): number {
    return this.track('Sheet.getFrozenColumns', () => this.data.frozenColumns);
  }

  insertRowsAfter(afterPosition: number, howMany: number): EmulatedSheet {
    return this.track('Sheet.insertRowsAfter', () => {
      if (!Number.isInteger(afterPosition) || afterPosition < 1 || afterPosition > this.data.maxRows) {
        throw this.rt.exception('Those rows are out of bounds.');
      }
      if (!Number.isInteger(howMany) || howMany < 1) throw this.rt.exception(`Invalid argument: howMany (${howMany})`);
      if (afterPosition < this.data.rows.length) {
        this.data.rows.splice(afterPosition, 0, ...Array.from({ length: howMany }, () => [] as Cell[]));
      }
      this.data.maxRows += howMany;
      return this;
    });
  }

  deleteRows(rowPosition: number, howMany: number): void {
    this.track('Sheet.deleteRows', () => this.removeRows(rowPosition, howMany));
  }

  deleteRow(rowPosition: number): EmulatedSheet {
    return this.track('Sheet.deleteRow', () => {
      this.removeRows(rowPosition, 1);
      return this;
    });
  }

  setColumnWidth(columnPosition: number, width: number): EmulatedSheet {
    return this.track('Sheet.setColumnWidth', () => {
      this.checkColumn(columnPosition);
      this.data.columnWidths.set(columnPosition, width);
      return this;
    });
  }

  getColumnWidth(columnPosition: number): number {
    return this.track('Sheet.getColumnWidth', () => {
      this.checkColumn(columnPosition);
      return this.data.columnWidths.get(columnPosition) ?? DEFAULT_COLUMN_WIDTH;
    });
  }

  autoResizeColumns(startColumn: number, numColumns: number): EmulatedSheet {
    return this.track('Sheet.autoResizeColumns', () => {
      for (let column = startColumn; column < startColumn + numColumns; column++) this.fitColumn(column);
      return this;
    });
  }

  autoResizeColumn(columnPosition: number): EmulatedSheet {
    return this.track('Sheet.autoResizeColumn', () => {
      this.fitColumn(columnPosition);
      return this;
    });
  }

  newChart(): EmulatedChartBuilder {
    return this.track('Sheet.newChart', () => new EmulatedChartBuilder(this.rt, undefined, describeRange));
  }

  insertChart(chart: GoogleAppsScript.Spreadsheet.EmbeddedChart): void {
    this.track('Sheet.insertChart', () => {
      const data = chartDataOf(chart);
      this.data.charts.push({ ...structuredClone(data), id: this.spreadsheet.nextChartId++ });
    });
  }

  getCharts(): EmulatedChart[] {
    return this.track('Sheet.getCharts', () => this.data.charts.map((chart) => new EmulatedChart(this.rt, chart)));
  }

  removeChart(chart: GoogleAppsScript.Spreadsheet.EmbeddedChart): void {
    this.track('Sheet.removeChart', () => {
      const id = chartDataOf(chart).id;
      this.data.charts = this.data.charts.filter((candidate) => candidate.id !== id);
    });
  }

  updateChart(chart: GoogleAppsScript.Spreadsheet.EmbeddedChart): void {
    this.track('Sheet.updateChart', () => {
      const data = chartDataOf(chart);
      const index = this.data.charts.findIndex((candidate) => candidate.id === data.id);
      if (index < 0) throw this.rt.exception('Invalid argument: chart');
      this.data.charts[index] = structuredClone(data);
    });
  }

  createTextFinder(findText: string): EmulatedTextFinder {
    return this.track('Sheet.createTextFinder', () =>
      new EmulatedTextFinder(this.context, this.spreadsheet, this.data, String(findText), () => ({
        row: 1,
        column: 1,
        numRows: Math.max(this.data.lastRow(), 1),
        numColumns: Math.max(this.data.lastColumn(), 1),
      })),
    );
  }

  clear(): EmulatedSheet {
    return this.track('Sheet.clear', () => {
      this.data.rows = [];
      this.context.store.pendingWrites = true;
      return this;
    });
  }

  private range(row: number, column: number | undefined, numRows: number, numColumns: number): EmulatedRange {
    if (numRows === 0 || (Number.isInteger(numRows) && numRows < 0)) {
      throw this.rt.exception('The number of rows in the range must be at least 1.');
    }
    if (numColumns === 0 || (Number.isInteger(numColumns) && numColumns < 0)) {
      throw this.rt.exception('The number of columns in the range must be at least 1.');
    }
    const values = [row, column, numRows, numColumns];
    if (values.some((value) => typeof value !== 'number' || !Number.isFinite(value))) {
      throw this.rt.exception(
        `The parameters (${values.map((value) => (value === undefined ? 'null' : typeof value)).join(',')}) don't match the method signature for SpreadsheetApp.Sheet.getRange.`,
      );
    }
    const top = Math.floor(row);
    const left = Math.floor(column!);
    const rows = Math.floor(numRows);
    const columns = Math.floor(numColumns);
    if (top < 1 || left < 1 || top + rows - 1 > this.data.maxRows || left + columns - 1 > this.data.maxColumns) {
      throw this.rt.exception('The coordinates of the range are outside the dimensions of the sheet.');
    }
    return new EmulatedRange(this.context, this.spreadsheet, this.data, top, left, rows, columns);
  }

  private removeRows(rowPosition: number, howMany: number): void {
    if (!Number.isInteger(rowPosition) || !Number.isInteger(howMany) || rowPosition < 1 || howMany < 1) {
      throw this.rt.exception('Those rows are out of bounds.');
    }
    if (rowPosition + howMany - 1 > this.data.maxRows) throw this.rt.exception('Those rows are out of bounds.');
    if (this.data.maxRows - howMany <= this.data.frozenRows) {
      throw this.rt.exception('Sorry, it is not possible to delete all non-frozen rows.');
    }
    this.data.rows.splice(rowPosition - 1, howMany);
    this.data.maxRows -= howMany;
    this.context.store.pendingWrites = true;
  }

  private checkColumn(column: number): void {
    if (!Number.isInteger(column) || column < 1 || column > this.data.maxColumns) {
      throw this.rt.exception('Those columns are out of bounds.');
    }
  }

  private fitColumn(column: number): void {
    this.checkColumn(column);
    let longest = 0;
    for (let row = 1; row <= this.data.rows.length; row++) {
      longest = Math.max(longest, displayCell(this.data.cell(row, column), this.spreadsheet.timeZone).length);
    }
    // About 7 pixels a character plus padding, a stand-in for Sheets' text measurement.
    this.data.columnWidths.set(column, Math.max(DEFAULT_COLUMN_WIDTH, longest * 7 + 10));
  }
}

function describeRange(range: unknown): ChartRange {
  if (!(range instanceof EmulatedRange)) throw new Error('Sheets emulation: expected a Range from this emulator');
  return { sheetName: range.sheetData.name, a1: range.a1() };
}

function chartDataOf(chart: unknown): ChartData {
  if (!(chart instanceof EmulatedChart)) throw new Error('Sheets emulation: expected an EmbeddedChart from this emulator');
  return chart.data;
}

/** Writes a 2-D block of script values, as user-entered input, checking validation and size. */
function writeCells(
  context: Context,
  spreadsheet: SpreadsheetData,
  sheet: SheetData,
  row: number,
  column: number,
  values: unknown[][],
): void {
  const { rt } = context;
  const prepared = values.map((line, r) =>
    line.map((input, c) => {
      const cell = sheet.cell(row + r, column + c);
      if (typeof input === 'string' && input.length > CELL_CHARACTER_LIMIT) {
        throw rt.exception(`Your input contains more than the maximum of ${CELL_CHARACTER_LIMIT} characters in a single cell.`);
      }
      const stored = storeInput(input, cell?.numberFormat, spreadsheet.timeZone);
      const rule = cell?.validation;
      if (rule !== undefined && !rule.allowInvalid && !passesValidation(rule, stored.formula ?? stored.value)) {
        // NOTE: assumed: a script write that breaks a rejecting rule throws, as typing it would fail.
        throw rt.exception(
          `The data you entered in cell ${a1Notation(row + r, column + c, 1, 1)} violates the data validation rules set on this cell.`,
        );
      }
      return stored;
    }),
  );
  prepared.forEach((line, r) =>
    line.forEach((stored, c) => {
      const cell = sheet.ensure(row + r, column + c);
      cell.value = stored.value;
      if (stored.formula === undefined) delete cell.formula;
      else cell.formula = stored.formula;
      if (stored.display === undefined) delete cell.display;
      else cell.display = stored.display;
      if (stored.impliedFormat !== undefined && (cell.numberFormat === undefined || cell.numberFormat === 'General')) {
        cell.numberFormat = stored.impliedFormat;
      }
    }),
  );
  context.store.pendingWrites = true;
}

export class EmulatedRange
  implements
    Subset<
      RangeApi,
      | 'getValues'
      | 'setValues'
      | 'getValue'
      | 'setValue'
      | 'getDisplayValues'
      | 'getDisplayValue'
      | 'getFormulas'
      | 'getFormula'
      | 'setNumberFormat'
      | 'setNumberFormats'
      | 'getNumberFormat'
      | 'getNumberFormats'
      | 'setDataValidation'
      | 'getDataValidation'
      | 'clearDataValidations'
      | 'setFontWeight'
      | 'getFontWeight'
      | 'getRow'
      | 'getColumn'
      | 'getNumRows'
      | 'getNumColumns'
      | 'getLastRow'
      | 'getLastColumn'
      | 'getA1Notation'
      | 'getSheet'
      | 'clearContent'
      | 'clear'
      | 'createTextFinder'
    >
{
  constructor(
    private readonly context: Context,
    private readonly spreadsheet: SpreadsheetData,
    readonly sheetData: SheetData,
    private readonly row: number,
    private readonly column: number,
    private readonly numRows: number,
    private readonly numColumns: number,
  ) {}

  private get rt(): Runtime {
    return this.context.rt;
  }

  a1(): string {
    return a1Notation(this.row, this.column, this.numRows, this.numColumns);
  }

  private track<T>(name: string, action: () => T): T {
    return this.rt.track(name, () => {
      if (this.sheetData.deleted) throw this.rt.exception(`The sheet ${this.sheetData.name} has been deleted.`);
      return action();
    });
  }

  private read<T>(reader: (cell: Cell | undefined) => T): T[][] {
    this.context.store.pendingWrites = false;
    return Array.from({ length: this.numRows }, (_, r) =>
      Array.from({ length: this.numColumns }, (_, c) => reader(this.sheetData.cell(this.row + r, this.column + c))),
    );
  }

  private eachCell(update: (cell: Cell) => void): void {
    for (let r = 0; r < this.numRows; r++) {
      for (let c = 0; c < this.numColumns; c++) update(this.sheetData.ensure(this.row + r, this.column + c));
    }
  }

  /** Checks a 2-D argument's shape the way Sheets reports a mismatch. */
  private checkShape(values: unknown, method: string): unknown[][] {
    if (!Array.isArray(values) || values.some((line) => !Array.isArray(line))) {
      throw this.rt.exception(`The parameters (${Array.isArray(values) ? 'Object[]' : typeof values}) don't match the method signature for SpreadsheetApp.Range.${method}.`);
    }
    const rows = values as unknown[][];
    if (rows.length !== this.numRows) {
      throw this.rt.exception(
        `The number of rows in the data does not match the number of rows in the range. The data has ${rows.length} but the range has ${this.numRows}.`,
      );
    }
    for (const line of rows) {
      if (line.length !== this.numColumns) {
        throw this.rt.exception(
          `The number of columns in the data does not match the number of columns in the range. The data has ${line.length} but the range has ${this.numColumns}.`,
        );
      }
    }
    return rows;
  }

  getValues(): CellValue[][] {
    return this.track('Range.getValues', () => this.read((cell) => readCell(cell)));
  }

  setValues(values: unknown[][]): EmulatedRange {
    return this.track('Range.setValues', () => {
      const rows = this.checkShape(values, 'setValues');
      writeCells(this.context, this.spreadsheet, this.sheetData, this.row, this.column, rows);
      return this;
    });
  }

  getValue(): CellValue {
    return this.track('Range.getValue', () => {
      this.context.store.pendingWrites = false;
      return readCell(this.sheetData.cell(this.row, this.column));
    });
  }

  /** Sets every cell of the range to `value`. */
  setValue(value: unknown): EmulatedRange {
    return this.track('Range.setValue', () => {
      const rows = Array.from({ length: this.numRows }, () => Array.from({ length: this.numColumns }, () => value));
      writeCells(this.context, this.spreadsheet, this.sheetData, this.row, this.column, rows);
      return this;
    });
  }

  getDisplayValues(): string[][] {
    return this.track('Range.getDisplayValues', () => this.read((cell) => displayCell(cell, this.spreadsheet.timeZone)));
  }

  getDisplayValue(): string {
    return this.track('Range.getDisplayValue', () =>
      displayCell(this.sheetData.cell(this.row, this.column), this.spreadsheet.timeZone),
    );
  }

  getFormulas(): string[][] {
    return this.track('Range.getFormulas', () => this.read((cell) => cell?.formula ?? ''));
  }

  getFormula(): string {
    return this.track('Range.getFormula', () => this.sheetData.cell(this.row, this.column)?.formula ?? '');
  }

  setNumberFormat(numberFormat: string): EmulatedRange {
    return this.track('Range.setNumberFormat', () => {
      this.eachCell((cell) => {
        cell.numberFormat = String(numberFormat);
      });
      return this;
    });
  }

  setNumberFormats(numberFormats: string[][]): EmulatedRange {
    return this.track('Range.setNumberFormats', () => {
      const rows = this.checkShape(numberFormats, 'setNumberFormats');
      rows.forEach((line, r) =>
        line.forEach((format, c) => {
          this.sheetData.ensure(this.row + r, this.column + c).numberFormat = String(format);
        }),
      );
      return this;
    });
  }

  getNumberFormat(): string {
    return this.track('Range.getNumberFormat', () => this.sheetData.cell(this.row, this.column)?.numberFormat ?? 'General');
  }

  getNumberFormats(): string[][] {
    return this.track('Range.getNumberFormats', () => this.read((cell) => cell?.numberFormat ?? 'General'));
  }

  setDataValidation(rule: GoogleAppsScript.Spreadsheet.DataValidation | null): EmulatedRange {
    return this.track('Range.setDataValidation', () => {
      if (rule !== null && !(rule instanceof EmulatedDataValidation)) {
        throw new Error('Sheets emulation: expected a DataValidation from this emulator');
      }
      this.eachCell((cell) => {
        if (rule === null) delete cell.validation;
        else cell.validation = { ...rule.rule };
      });
      return this;
    });
  }

  getDataValidation(): EmulatedDataValidation | null {
    return this.track('Range.getDataValidation', () => {
      const rule = this.sheetData.cell(this.row, this.column)?.validation;
      return rule === undefined ? null : new EmulatedDataValidation(this.rt, { ...rule });
    });
  }

  clearDataValidations(): EmulatedRange {
    return this.track('Range.clearDataValidations', () => {
      this.eachCell((cell) => delete cell.validation);
      return this;
    });
  }

  setFontWeight(fontWeight: GoogleAppsScript.Spreadsheet.FontWeight | null): EmulatedRange {
    return this.track('Range.setFontWeight', () => {
      this.eachCell((cell) => {
        if (fontWeight === null) delete cell.fontWeight;
        else cell.fontWeight = String(fontWeight);
      });
      return this;
    });
  }

  getFontWeight(): GoogleAppsScript.Spreadsheet.FontWeight {
    return this.track(
      'Range.getFontWeight',
      () => (this.sheetData.cell(this.row, this.column)?.fontWeight ?? 'normal') as GoogleAppsScript.Spreadsheet.FontWeight,
    );
  }

  getRow(): number {
    return this.track('Range.getRow', () => this.row);
  }

  getColumn(): number {
    return this.track('Range.getColumn', () => this.column);
  }

  getNumRows(): number {
    return this.track('Range.getNumRows', () => this.numRows);
  }

  getNumColumns(): number {
    return this.track('Range.getNumColumns', () => this.numColumns);
  }

  getLastRow(): number {
    return this.track('Range.getLastRow', () => this.row + this.numRows - 1);
  }

  getLastColumn(): number {
    return this.track('Range.getLastColumn', () => this.column + this.numColumns - 1);
  }

  getA1Notation(): string {
    return this.track('Range.getA1Notation', () => this.a1());
  }

  getSheet(): EmulatedSheet {
    return this.track('Range.getSheet', () => new EmulatedSheet(this.context, this.spreadsheet, this.sheetData));
  }

  /** Clears values and formulas; formats and validation stay. */
  clearContent(): EmulatedRange {
    return this.track('Range.clearContent', () => {
      this.eachCell((cell) => {
        cell.value = '';
        delete cell.formula;
        delete cell.display;
      });
      this.context.store.pendingWrites = true;
      return this;
    });
  }

  clear(): EmulatedRange {
    return this.track('Range.clear', () => {
      this.eachCell((cell) => {
        for (const key of Object.keys(cell)) delete (cell as unknown as Record<string, unknown>)[key];
        cell.value = '';
      });
      this.context.store.pendingWrites = true;
      return this;
    });
  }

  createTextFinder(findText: string): EmulatedTextFinder {
    return this.track('Range.createTextFinder', () =>
      new EmulatedTextFinder(this.context, this.spreadsheet, this.sheetData, String(findText), () => ({
        row: this.row,
        column: this.column,
        numRows: this.numRows,
        numColumns: this.numColumns,
      })),
    );
  }
}

interface Area {
  row: number;
  column: number;
  numRows: number;
  numColumns: number;
}

export class EmulatedTextFinder
  implements
    Subset<
      TextFinderApi,
      | 'matchCase'
      | 'matchEntireCell'
      | 'useRegularExpression'
      | 'matchFormulaText'
      | 'ignoreDiacritics'
      | 'findNext'
      | 'findPrevious'
      | 'findAll'
      | 'getCurrentMatch'
    >
{
  private caseSensitive = false;
  private entireCell = false;
  private regularExpression = false;
  private formulaText = false;
  private withoutDiacritics = false;
  private current: { row: number; column: number } | undefined;

  constructor(
    private readonly context: Context,
    private readonly spreadsheet: SpreadsheetData,
    private readonly sheet: SheetData,
    private readonly text: string,
    /** The searched area, read at each search because rows may be added in between. */
    private readonly area: () => Area,
  ) {}

  private get rt(): Runtime {
    return this.context.rt;
  }

  matchCase(matchCase: boolean): EmulatedTextFinder {
    return this.rt.track('TextFinder.matchCase', () => {
      this.caseSensitive = Boolean(matchCase);
      return this;
    });
  }

  matchEntireCell(matchEntireCell: boolean): EmulatedTextFinder {
    return this.rt.track('TextFinder.matchEntireCell', () => {
      this.entireCell = Boolean(matchEntireCell);
      return this;
    });
  }

  useRegularExpression(useRegEx: boolean): EmulatedTextFinder {
    return this.rt.track('TextFinder.useRegularExpression', () => {
      this.regularExpression = Boolean(useRegEx);
      return this;
    });
  }

  matchFormulaText(matchFormulaText: boolean): EmulatedTextFinder {
    return this.rt.track('TextFinder.matchFormulaText', () => {
      this.formulaText = Boolean(matchFormulaText);
      return this;
    });
  }

  ignoreDiacritics(ignoreDiacritics: boolean): EmulatedTextFinder {
    return this.rt.track('TextFinder.ignoreDiacritics', () => {
      this.withoutDiacritics = Boolean(ignoreDiacritics);
      return this;
    });
  }

  findNext(): EmulatedRange | null {
    return this.rt.track('TextFinder.findNext', () => this.step(1));
  }

  findPrevious(): EmulatedRange | null {
    return this.rt.track('TextFinder.findPrevious', () => this.step(-1));
  }

  findAll(): EmulatedRange[] {
    return this.rt.track('TextFinder.findAll', () => this.matches().map((cell) => this.cellRange(cell.row, cell.column)));
  }

  getCurrentMatch(): EmulatedRange | null {
    return this.rt.track('TextFinder.getCurrentMatch', () =>
      this.current === undefined ? null : this.cellRange(this.current.row, this.current.column),
    );
  }

  private step(direction: 1 | -1): EmulatedRange | null {
    const found = this.matches();
    if (found.length === 0) return null;
    const order = (cell: { row: number; column: number }): number => cell.row * 1_000_000 + cell.column;
    const position = this.current === undefined ? undefined : order(this.current);
    let next: { row: number; column: number } | undefined;
    if (direction === 1) next = found.find((cell) => position === undefined || order(cell) > position) ?? found[0];
    else next = [...found].reverse().find((cell) => position === undefined || order(cell) < position) ?? found[found.length - 1];
    this.current = next;
    return next === undefined ? null : this.cellRange(next.row, next.column);
  }

  /** Matching cells in row-major order, compared on displayed text (or formula text). */
  private matches(): { row: number; column: number }[] {
    this.context.store.pendingWrites = false;
    const area = this.area();
    const fold = (value: string): string => {
      let out = this.withoutDiacritics ? value.normalize('NFD').replace(/\p{M}/gu, '') : value;
      if (!this.caseSensitive) out = out.toLowerCase();
      return out;
    };
    const needle = fold(this.text);
    const pattern = this.regularExpression
      ? new RegExp(this.entireCell ? `^(?:${this.text})$` : this.text, this.caseSensitive ? 'u' : 'iu')
      : undefined;
    const out: { row: number; column: number }[] = [];
    for (let row = area.row; row < area.row + area.numRows; row++) {
      for (let column = area.column; column < area.column + area.numColumns; column++) {
        const cell = this.sheet.cell(row, column);
        if (!hasContent(cell)) continue;
        const text =
          this.formulaText && cell?.formula !== undefined ? cell.formula : displayCell(cell, this.spreadsheet.timeZone);
        const hit =
          pattern !== undefined
            ? pattern.test(text)
            : this.entireCell
              ? fold(text) === needle
              : fold(text).includes(needle);
        if (hit) out.push({ row, column });
      }
    }
    return out;
  }

  private cellRange(row: number, column: number): EmulatedRange {
    return new EmulatedRange(this.context, this.spreadsheet, this.sheet, row, column, 1, 1);
  }
}

/** Creates the SpreadsheetApp global over a store. */
export function createSpreadsheetApp(
  rt: Runtime,
  store: SpreadsheetStore,
  options: SpreadsheetAppOptions = {},
): EmulatedSpreadsheetApp {
  return new EmulatedSpreadsheetApp({ rt, store }, options);
}
