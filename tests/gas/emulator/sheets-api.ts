/**
 * The `Sheets` advanced service (Sheets API v4, `spreadsheets.values`) over the emulated
 * spreadsheet store, so a project that reads and writes through the API and one that uses
 * SpreadsheetApp see the same cells. It covers get, batchGet, update, append and batchUpdate
 * with their value render and input options, and responds as the REST API does:
 *
 * - Reads return the requested range with its sheet name, and `values` without trailing empty
 *   cells or trailing empty rows. `values` is left out when the range is empty.
 * - RAW input stores values as given (text is never a formula), USER_ENTERED parses each value
 *   as if typed into the cell, and null leaves a cell unchanged.
 * - append finds the table in the range, writes below its last row and adds rows to the sheet
 *   when it needs them. Each call runs to completion before any other call, as one API request.
 *
 * Every call is counted as `Sheets.Spreadsheets.Values.<method>` and charged the latency in
 * SHEETS_API_LATENCY_MS unless the project's latency option overrides it.
 */
import { a1Notation, CELL_CHARACTER_LIMIT, displayCell, parseA1, readCell, storeInput, type Cell, type StoredInput } from './cells';
import { isDate, type Runtime } from './runtime';
import type { SheetData, SpreadsheetData, SpreadsheetStore } from './sheet-store';
import { zonedParts } from './time-zone';

type ValueRange = GoogleAppsScript.Sheets.Schema.ValueRange;
type UpdateValuesResponse = GoogleAppsScript.Sheets.Schema.UpdateValuesResponse;
type ValuesCollection = GoogleAppsScript.Sheets.Collection.Spreadsheets.ValuesCollection;

/** The part of the `Sheets` advanced service the emulator provides. */
export interface EmulatedSheets
  extends Pick<GoogleAppsScript.Sheets, 'newValueRange' | 'newBatchUpdateValuesRequest'> {
  Spreadsheets: {
    Values: Pick<ValuesCollection, 'get' | 'batchGet' | 'update' | 'append' | 'batchUpdate'>;
  };
}

/**
 * Modelled wall time per call, in ms. Every figure is an estimate: one Google REST round trip
 * from Apps Script, with no published measurement of the Sheets API itself. It does not grow
 * with the number of cells read or written.
 */
export const SHEETS_API_LATENCY_MS: Readonly<Record<string, number>> = {
  'Sheets.Spreadsheets.Values.get': 400,
  'Sheets.Spreadsheets.Values.batchGet': 400,
  'Sheets.Spreadsheets.Values.update': 400,
  'Sheets.Spreadsheets.Values.append': 400,
  'Sheets.Spreadsheets.Values.batchUpdate': 400,
};

/** A Sheets API error before it is shaped as the advanced service throws it. */
class SheetsApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

function badRequest(message: string): SheetsApiError {
  return new SheetsApiError(400, message, 'badRequest');
}

/** Reads a property of an options object from the script (any realm). */
function option(args: unknown, name: string): unknown {
  if (args === null || typeof args !== 'object') return undefined;
  return (args as Record<string, unknown>)[name];
}

const VALUE_RENDER_OPTIONS = ['FORMATTED_VALUE', 'UNFORMATTED_VALUE', 'FORMULA'] as const;
const DATE_TIME_RENDER_OPTIONS = ['SERIAL_NUMBER', 'FORMATTED_STRING'] as const;
const VALUE_INPUT_OPTIONS = ['RAW', 'USER_ENTERED'] as const;
const INSERT_DATA_OPTIONS = ['OVERWRITE', 'INSERT_ROWS'] as const;
const DIMENSIONS = ['ROWS', 'COLUMNS'] as const;

type ValueRenderOption = (typeof VALUE_RENDER_OPTIONS)[number];
type DateTimeRenderOption = (typeof DATE_TIME_RENDER_OPTIONS)[number];
type ValueInputOption = (typeof VALUE_INPUT_OPTIONS)[number];
type Dimension = (typeof DIMENSIONS)[number];

/** Reads an enum option; `fallback` when it is absent, a 400 error when it is not a member. */
function enumOption<T extends string>(
  value: unknown,
  members: readonly T[],
  field: string,
  fallback: T,
  unspecified?: string,
): T {
  if (value === undefined || value === null || value === '' || value === unspecified) return fallback;
  const text = String(value);
  if (!(members as readonly string[]).includes(text)) {
    throw badRequest(`Invalid value at '${field}': "${text}"`);
  }
  return text as T;
}

/** A cell block of one sheet, 1-based. */
interface GridArea {
  sheet: SheetData;
  row: number;
  column: number;
  numRows: number;
  numColumns: number;
}

/** Sheet names are quoted in A1 notation unless they are letters, digits and underscores. */
function quoteSheetName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

function rangeText(area: GridArea): string {
  return `${quoteSheetName(area.sheet.name)}!${a1Notation(area.row, area.column, area.numRows, area.numColumns)}`;
}

function gridLimitError(area: GridArea): SheetsApiError {
  return badRequest(
    `Range (${rangeText(area)}) exceeds grid limits. Max rows: ${area.sheet.maxRows}, max columns: ${area.sheet.maxColumns}`,
  );
}

/**
 * Resolves an A1 range (`Tickets!A5:O5`, `Team!A2:D`, `Messages!A:J`, `'My tab'!B2`, a sheet
 * name alone, or A1 notation without a sheet for the first sheet). Open ends reach the sheet's
 * last row or column. The result may reach outside the grid; callers check that.
 */
function resolveRange(spreadsheet: SpreadsheetData, text: unknown): GridArea {
  const range = typeof text === 'string' ? text.trim() : '';
  const unparsable = (): SheetsApiError => badRequest(`Unable to parse range: ${String(text)}`);
  if (range === '') throw unparsable();
  const bang = range.lastIndexOf('!');
  let sheet: SheetData | undefined;
  if (bang < 0) {
    const named = spreadsheet.sheetNamed(range.replace(/^'(.*)'$/, '$1').replace(/''/g, "'"));
    if (named !== undefined) {
      return { sheet: named, row: 1, column: 1, numRows: named.maxRows, numColumns: named.maxColumns };
    }
    sheet = spreadsheet.sheets[0];
  } else {
    const name = range.slice(0, bang).replace(/^'(.*)'$/, '$1').replace(/''/g, "'");
    sheet = spreadsheet.sheetNamed(name);
  }
  if (sheet === undefined) throw unparsable();
  const parsed = parseA1(bang < 0 ? range : range.slice(bang + 1), sheet.maxRows, sheet.maxColumns);
  if (parsed === undefined) throw unparsable();
  return { sheet, row: parsed.row, column: parsed.column, numRows: parsed.numRows, numColumns: parsed.numColumns };
}

/**
 * Limits a read to the grid. A range that starts outside the grid is an error, as the API
 * returns for a cell past the last row.
 */
// NOTE: a read that starts inside the grid and ends past it is assumed to be cut to the grid.
// Only a read that starts outside the grid is known to fail.
function clampToGrid(area: GridArea): GridArea {
  const { sheet } = area;
  if (area.row > sheet.maxRows || area.column > sheet.maxColumns) throw gridLimitError(area);
  return {
    ...area,
    numRows: Math.min(area.numRows, sheet.maxRows - area.row + 1),
    numColumns: Math.min(area.numColumns, sheet.maxColumns - area.column + 1),
  };
}

/** Days since 30 December 1899 in the spreadsheet's time zone, as Sheets stores date-times. */
function serialNumber(date: Date, timeZone: string): number {
  const ms = date.getTime();
  const local = ms + zonedParts(ms, timeZone).offsetMinutes * 60_000;
  return local / 86_400_000 + 25_569;
}

interface RenderOptions {
  value: ValueRenderOption;
  dateTime: DateTimeRenderOption;
}

/** A cell as the API returns it; '' for an empty cell. */
function renderCell(cell: Cell | undefined, options: RenderOptions, timeZone: string): string | number | boolean {
  if (cell === undefined) return '';
  if (options.value === 'FORMATTED_VALUE') return displayCell(cell, timeZone);
  if (options.value === 'FORMULA' && cell.formula !== undefined) return cell.formula;
  const value = readCell(cell);
  if (!isDate(value)) return value;
  return options.dateTime === 'FORMATTED_STRING' ? displayCell(cell, timeZone) : serialNumber(value, timeZone);
}

/** Drops trailing '' cells of each line and trailing empty lines. */
function trimTrailing(lines: (string | number | boolean)[][]): (string | number | boolean)[][] {
  const trimmed = lines.map((line) => {
    let end = line.length;
    while (end > 0 && line[end - 1] === '') end--;
    return line.slice(0, end);
  });
  let count = trimmed.length;
  while (count > 0 && trimmed[count - 1]!.length === 0) count--;
  return trimmed.slice(0, count);
}

function readArea(
  spreadsheet: SpreadsheetData,
  area: GridArea,
  options: RenderOptions,
  dimension: Dimension,
): (string | number | boolean)[][] {
  const { sheet } = area;
  // Rows past the last stored row are empty, so a long open-ended range costs only its data.
  const lastStored = Math.min(area.row + area.numRows - 1, sheet.rows.length);
  const rows: (string | number | boolean)[][] = [];
  for (let row = area.row; row <= lastStored; row++) {
    const line: (string | number | boolean)[] = [];
    for (let column = area.column; column < area.column + area.numColumns; column++) {
      line.push(renderCell(sheet.cell(row, column), options, spreadsheet.timeZone));
    }
    rows.push(line);
  }
  if (dimension === 'ROWS') return trimTrailing(rows);
  const columns = Array.from({ length: area.numColumns }, (_, c) => rows.map((line) => line[c] ?? ''));
  return trimTrailing(columns);
}

function valueRangeOf(
  spreadsheet: SpreadsheetData,
  text: unknown,
  options: RenderOptions,
  dimension: Dimension,
): ValueRange {
  const area = clampToGrid(resolveRange(spreadsheet, text));
  const values = readArea(spreadsheet, area, options, dimension);
  const result: ValueRange = { range: rangeText(area), majorDimension: dimension };
  if (values.length > 0) result.values = values;
  return result;
}

function readOptions(args: unknown): { render: RenderOptions; dimension: Dimension } {
  return {
    render: {
      value: enumOption(option(args, 'valueRenderOption'), VALUE_RENDER_OPTIONS, 'value_render_option', 'FORMATTED_VALUE'),
      dateTime: enumOption(
        option(args, 'dateTimeRenderOption'),
        DATE_TIME_RENDER_OPTIONS,
        'date_time_render_option',
        'SERIAL_NUMBER',
      ),
    },
    dimension: enumOption(option(args, 'majorDimension'), DIMENSIONS, 'major_dimension', 'ROWS', 'DIMENSION_UNSPECIFIED'),
  };
}

/** One cell write: null leaves the cell as it is. */
type CellWrite = StoredInput | null;

/** A block of cell writes at a position, checked and ready to apply. */
interface PreparedWrite {
  area: GridArea;
  cells: CellWrite[][];
}

function inputOption(args: unknown): ValueInputOption {
  const value = option(args, 'valueInputOption');
  if (value === undefined || value === null || value === '' || value === 'INPUT_VALUE_OPTION_UNSPECIFIED') {
    throw badRequest("'valueInputOption' is required but not specified");
  }
  return enumOption(value, VALUE_INPUT_OPTIONS, 'value_input_option', 'RAW');
}

/** Converts one value of a request as the value input option specifies. */
function storeValue(
  input: unknown,
  option: ValueInputOption,
  cell: Cell | undefined,
  timeZone: string,
  position: string,
): CellWrite {
  if (input === null || input === undefined) return null;
  // The advanced service sends the request as JSON, where a Date becomes its ISO text.
  const value = isDate(input) ? input.toISOString() : input;
  if (typeof value === 'object') throw badRequest(`Invalid values${position}: a value must be a string, number or boolean`);
  if (typeof value === 'string' && value.length > CELL_CHARACTER_LIMIT) {
    throw badRequest(`Your input contains more than the maximum of ${CELL_CHARACTER_LIMIT} characters in a single cell.`);
  }
  if (option === 'USER_ENTERED') return storeInput(value, cell?.numberFormat, timeZone);
  if (typeof value === 'number' || typeof value === 'boolean') return { value };
  return { value: String(value) };
}

/** Reads the 2-D `values` of a ValueRange in row order. */
function requestRows(resource: unknown, field: string): unknown[][] {
  const values = option(resource, 'values');
  if (values === undefined || values === null) return [];
  if (!Array.isArray(values) || values.some((line) => !Array.isArray(line))) {
    throw badRequest(`Invalid ${field}values: expected a list of lists of values`);
  }
  const lines = values as unknown[][];
  const dimension = enumOption(option(resource, 'majorDimension'), DIMENSIONS, `${field}major_dimension`, 'ROWS', 'DIMENSION_UNSPECIFIED');
  if (dimension === 'ROWS') return lines;
  const height = Math.max(0, ...lines.map((line) => line.length));
  return Array.from({ length: height }, (_, r) => lines.map((line) => line[r]));
}

/**
 * Checks a write of `rows` into `target` and converts its values: the data must fit in the
 * requested range and in the grid.
 */
function prepareWrite(
  spreadsheet: SpreadsheetData,
  target: GridArea,
  rows: unknown[][],
  input: ValueInputOption,
  field: string,
): PreparedWrite {
  const width = Math.max(0, ...rows.map((line) => line.length));
  if (rows.length > target.numRows) {
    throw badRequest(
      `Requested writing within range [${rangeText(target)}], but tried writing to row [${target.row + rows.length - 1}]`,
    );
  }
  if (width > target.numColumns) {
    const column = a1Notation(1, target.column + width - 1, 1, 1).replace(/\d+$/, '');
    throw badRequest(`Requested writing within range [${rangeText(target)}], but tried writing to column [${column}]`);
  }
  const area: GridArea = { ...target, numRows: Math.max(rows.length, 1), numColumns: Math.max(width, 1) };
  if (area.row + rows.length - 1 > area.sheet.maxRows || area.column + width - 1 > area.sheet.maxColumns) {
    throw gridLimitError(area);
  }
  const cells = rows.map((line, r) =>
    line.map((value, c) =>
      storeValue(
        value,
        input,
        area.sheet.cell(area.row + r, area.column + c),
        spreadsheet.timeZone,
        `${field}[${r}][${c}]`,
      ),
    ),
  );
  return { area, cells };
}

// NOTE: data validation rules are not checked: whether the API rejects a value that breaks a
// rejecting rule is unverified. The SpreadsheetApp emulation does reject it.
function applyWrite(write: PreparedWrite): void {
  const { sheet, row, column } = write.area;
  write.cells.forEach((line, r) =>
    line.forEach((stored, c) => {
      if (stored === null) return;
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
}

function updateResponse(spreadsheetId: string, write: PreparedWrite): UpdateValuesResponse {
  const rows = write.cells.length;
  const columns = Math.max(0, ...write.cells.map((line) => line.length));
  const response: UpdateValuesResponse = { spreadsheetId };
  if (rows === 0 || columns === 0) return response;
  return {
    spreadsheetId,
    updatedRange: rangeText({ ...write.area, numRows: rows, numColumns: columns }),
    updatedRows: rows,
    updatedColumns: columns,
    updatedCells: write.cells.reduce((total, line) => total + line.filter((cell) => cell !== null).length, 0),
  };
}

/** Checks that the range in a request body, when given, is the range of the call. */
function checkBodyRange(spreadsheet: SpreadsheetData, resource: unknown, target: GridArea, requested: string): void {
  const bodyRange = option(resource, 'range');
  if (bodyRange === undefined || bodyRange === null || bodyRange === '') return;
  const body = resolveRange(spreadsheet, bodyRange);
  const same =
    body.sheet === target.sheet &&
    body.row === target.row &&
    body.column === target.column &&
    body.numRows === target.numRows &&
    body.numColumns === target.numColumns;
  if (!same) {
    throw badRequest(
      `Invalid ValueRange: the range in the body (${String(bodyRange)}) does not match the requested range (${requested})`,
    );
  }
}

function rowHasContent(sheet: SheetData, row: number, first: number, last: number): boolean {
  const line = sheet.rows[row - 1];
  if (line === undefined) return false;
  for (let column = first; column <= Math.min(last, line.length); column++) {
    const cell = line[column - 1];
    if (cell !== undefined && (cell.formula !== undefined || cell.value !== '')) return true;
  }
  return false;
}

/**
 * Finds the table append writes below: the first row with data inside the range and the rows
 * with data right below it, which may run past the range's last row. Returns null for a range
 * without data.
 */
// NOTE: Google documents table detection only loosely; this takes the first block of
// consecutive non-empty rows in the range's columns.
function findTable(area: GridArea): GridArea | null {
  const { sheet } = area;
  const firstColumn = area.column;
  const lastColumn = area.column + area.numColumns - 1;
  const lastRow = Math.min(area.row + area.numRows - 1, sheet.rows.length);
  let start = -1;
  for (let row = area.row; row <= lastRow; row++) {
    if (rowHasContent(sheet, row, firstColumn, lastColumn)) {
      start = row;
      break;
    }
  }
  if (start < 0) return null;
  let end = start;
  while (rowHasContent(sheet, end + 1, firstColumn, lastColumn)) end++;
  let left = lastColumn;
  let right = firstColumn;
  for (let row = start; row <= end; row++) {
    for (let column = firstColumn; column <= lastColumn; column++) {
      const cell = sheet.cell(row, column);
      if (cell !== undefined && (cell.formula !== undefined || cell.value !== '')) {
        left = Math.min(left, column);
        right = Math.max(right, column);
      }
    }
  }
  return { sheet, row: start, column: left, numRows: end - start + 1, numColumns: right - left + 1 };
}

function append(
  spreadsheetId: string,
  spreadsheet: SpreadsheetData,
  resource: unknown,
  range: unknown,
  args: unknown,
): GoogleAppsScript.Sheets.Schema.AppendValuesResponse {
  const input = inputOption(args);
  const insert = enumOption(option(args, 'insertDataOption'), INSERT_DATA_OPTIONS, 'insert_data_option', 'OVERWRITE');
  const requested = resolveRange(spreadsheet, range);
  checkBodyRange(spreadsheet, resource, requested, String(range));
  const target = clampToGrid(requested);
  const rows = requestRows(resource, '');
  const table = findTable(target);
  const row = table === null ? target.row : table.row + table.numRows;
  const column = table === null ? target.column : table.column;
  const { sheet } = target;
  const width = Math.max(0, ...rows.map((line) => line.length));
  const writeArea: GridArea = { sheet, row, column, numRows: Math.max(rows.length, 1), numColumns: Math.max(width, 1) };
  if (column + width - 1 > sheet.maxColumns) throw gridLimitError(writeArea);

  // Converted before the sheet changes, so a rejected request leaves it as it was. An inserted
  // row starts without number formats; OVERWRITE keeps the formats of the cells it writes.
  const cells = rows.map((line, r) =>
    line.map((value, c) => {
      const cell = insert === 'INSERT_ROWS' ? undefined : sheet.cell(row + r, column + c);
      return storeValue(value, input, cell, spreadsheet.timeZone, `[${r}][${c}]`);
    }),
  );
  if (rows.length > 0) {
    if (insert === 'INSERT_ROWS') {
      if (row <= sheet.rows.length) {
        sheet.rows.splice(row - 1, 0, ...Array.from({ length: rows.length }, () => [] as Cell[]));
      }
      sheet.maxRows += rows.length;
    } else {
      sheet.maxRows = Math.max(sheet.maxRows, row + rows.length - 1);
    }
  }
  const prepared: PreparedWrite = { area: writeArea, cells };
  applyWrite(prepared);
  const response: GoogleAppsScript.Sheets.Schema.AppendValuesResponse = {
    spreadsheetId,
    updates: updateResponse(spreadsheetId, prepared),
  };
  if (table !== null) response.tableRange = rangeText(table);
  return response;
}

function batchUpdate(
  spreadsheetId: string,
  spreadsheet: SpreadsheetData,
  resource: unknown,
): GoogleAppsScript.Sheets.Schema.BatchUpdateValuesResponse {
  const input = inputOption(resource);
  const data = option(resource, 'data');
  if (data !== undefined && data !== null && !Array.isArray(data)) throw badRequest('Invalid data: expected a list of ValueRanges');
  const entries = (data ?? []) as unknown[];
  // Every range is checked before any is written: the request succeeds or fails as a whole.
  const writes = entries.map((entry, index) => {
    const target = resolveRange(spreadsheet, option(entry, 'range'));
    return prepareWrite(spreadsheet, target, requestRows(entry, `data[${index}].`), input, `data[${index}].values`);
  });
  for (const write of writes) applyWrite(write);
  const responses = writes.map((write) => updateResponse(spreadsheetId, write));
  const sheets = new Set(writes.filter((write) => write.cells.length > 0).map((write) => write.area.sheet));
  return {
    spreadsheetId,
    totalUpdatedRows: responses.reduce((total, item) => total + (item.updatedRows ?? 0), 0),
    totalUpdatedColumns: responses.reduce((total, item) => total + (item.updatedColumns ?? 0), 0),
    totalUpdatedCells: responses.reduce((total, item) => total + (item.updatedCells ?? 0), 0),
    totalUpdatedSheets: sheets.size,
    responses,
  };
}

/** The result of one Sheets REST call, as the emulated UrlFetchApp returns it. */
export interface SheetsRestResult {
  code: number;
  body: unknown;
}

/**
 * Serves `GET /v4/spreadsheets/{id}/values/{range}` of the Sheets REST API for the emulated
 * UrlFetchApp, from the same cells as the advanced service. Other methods return 404.
 */
export function sheetsRest(store: SpreadsheetStore, method: string, path: string[], query: URLSearchParams): SheetsRestResult {
  const [id = '', collection, range] = path;
  try {
    if (method !== 'get' || collection !== 'values' || range === undefined || path.length !== 3) {
      throw new SheetsApiError(404, `Method ${method.toUpperCase()} /v4/spreadsheets/${path.join('/')} is not emulated.`, 'notFound');
    }
    const spreadsheet = store.get(id);
    if (spreadsheet === undefined) throw new SheetsApiError(404, 'Requested entity was not found.', 'notFound');
    const options = Object.fromEntries(query.entries());
    const { render, dimension } = readOptions(options);
    return { code: 200, body: valueRangeOf(spreadsheet, range, render, dimension) };
  } catch (error) {
    if (!(error instanceof SheetsApiError)) throw error;
    const status = error.code === 404 ? 'NOT_FOUND' : 'INVALID_ARGUMENT';
    return { code: error.code, body: { error: { code: error.code, message: error.message, status } } };
  }
}

/** Builds the `Sheets` global: every values method counts as `Sheets.Spreadsheets.Values.<method>`. */
export function createSheetsService(rt: Runtime, store: SpreadsheetStore): EmulatedSheets {
  const call = <T>(method: string, spreadsheetId: unknown, action: (spreadsheet: SpreadsheetData, id: string) => T): T => {
    const name = `Sheets.Spreadsheets.Values.${method}`;
    const overridden = name in rt.latency || 'Sheets.Spreadsheets.Values.*' in rt.latency;
    return rt.track(
      name,
      () => {
        try {
          const id = String(spreadsheetId);
          const spreadsheet = store.get(id);
          if (spreadsheet === undefined) throw new SheetsApiError(404, 'Requested entity was not found.', 'notFound');
          return action(spreadsheet, id);
        } catch (error) {
          if (error instanceof SheetsApiError) {
            throw rt.jsonError(`sheets.spreadsheets.values.${method}`, error.code, error.message, error.reason);
          }
          throw error;
        }
      },
      overridden ? {} : { latencyMs: SHEETS_API_LATENCY_MS[name] ?? rt.latencyOf(name) },
    );
  };

  return {
    newValueRange: () => ({}),
    newBatchUpdateValuesRequest: () => ({}),
    Spreadsheets: {
      Values: {
        get: (spreadsheetId: string, range: string, optionalArgs?: object) =>
          call('get', spreadsheetId, (spreadsheet) => {
            const { render, dimension } = readOptions(optionalArgs);
            return valueRangeOf(spreadsheet, range, render, dimension);
          }),
        batchGet: (spreadsheetId: string, optionalArgs?: object) =>
          call('batchGet', spreadsheetId, (spreadsheet, id) => {
            const { render, dimension } = readOptions(optionalArgs);
            const ranges = option(optionalArgs, 'ranges');
            const list = ranges === undefined || ranges === null ? [] : Array.isArray(ranges) ? ranges : [ranges];
            const response: GoogleAppsScript.Sheets.Schema.BatchGetValuesResponse = { spreadsheetId: id };
            if (list.length > 0) response.valueRanges = list.map((range) => valueRangeOf(spreadsheet, range, render, dimension));
            return response;
          }),
        update: (resource: ValueRange, spreadsheetId: string, range: string, optionalArgs?: object) =>
          call('update', spreadsheetId, (spreadsheet, id) => {
            const input = inputOption(optionalArgs);
            const target = resolveRange(spreadsheet, range);
            checkBodyRange(spreadsheet, resource, target, String(range));
            const write = prepareWrite(spreadsheet, target, requestRows(resource, ''), input, 'values');
            applyWrite(write);
            return updateResponse(id, write);
          }),
        append: (resource: ValueRange, spreadsheetId: string, range: string, optionalArgs?: object) =>
          call('append', spreadsheetId, (spreadsheet, id) => append(id, spreadsheet, resource, range, optionalArgs)),
        batchUpdate: (resource: GoogleAppsScript.Sheets.Schema.BatchUpdateValuesRequest, spreadsheetId: string) =>
          call('batchUpdate', spreadsheetId, (spreadsheet, id) => batchUpdate(id, spreadsheet, resource)),
      },
    },
  };
}
