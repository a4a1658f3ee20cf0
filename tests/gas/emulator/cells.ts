/**
 * Cell semantics of the emulated Google Sheets: how a written value is stored (formula, text
 * after a leading apostrophe, auto-typed numbers, booleans and dates, plain-text format), what
 * getValues and getDisplayValues read back, and A1 notation.
 */
import { isDate } from './runtime';
import { formatPattern, fromZoned } from './time-zone';

export type CellValue = string | number | boolean | Date;

export interface ValidationRule {
  criteria: string;
  values: unknown[];
  /** True shows a warning for invalid input; false rejects it. */
  allowInvalid: boolean;
  helpText: string | null;
}

export interface Cell {
  /** The stored value, or '' when the cell is empty or contains a formula. */
  value: CellValue | '';
  /** The formula text, starting with '=', when the cell contains one. */
  formula?: string;
  /** Text Sheets shows for an auto-typed entry, such as '1,000' or '50%'. */
  display?: string;
  numberFormat?: string;
  validation?: ValidationRule;
  fontWeight?: string;
}

/** Google Sheets stores at most 50,000 characters in a cell. */
export const CELL_CHARACTER_LIMIT = 50_000;

const DATE_FORMAT = 'M/d/yyyy';
const DATE_TIME_FORMAT = 'M/d/yyyy H:mm:ss';
const TIME_FORMAT = 'H:mm:ss';

/** What a written value becomes, as Sheets stores user-entered input. */
export interface StoredInput {
  value: CellValue | '';
  formula?: string;
  display?: string;
  /** A number format Sheets applies on its own (to dates it recognized). */
  impliedFormat?: string;
}

/** Converts a value given to setValue/setValues/appendRow; `numberFormat` is the cell's format. */
export function storeInput(input: unknown, numberFormat: string | undefined, timeZone: string): StoredInput {
  if (input === null || input === undefined) return { value: '' };
  if (typeof input === 'boolean' || typeof input === 'number') return { value: input };
  if (isDate(input)) return { value: new Date(input.getTime()), impliedFormat: DATE_TIME_FORMAT };
  const text = typeof input === 'string' ? input : String(input);
  if (text.startsWith("'")) return { value: text.slice(1) };
  // NOTE: a plain-text ('@') format is assumed not to stop formula parsing; Sheets may differ.
  if (text.startsWith('=') && text.length > 1) return { value: '', formula: text };
  if (numberFormat === '@' || text === '') return { value: text };
  return autoType(text, timeZone) ?? { value: text };
}

function autoType(text: string, timeZone: string): StoredInput | undefined {
  const trimmed = text.trim();
  if (/^(true|false)$/i.test(trimmed)) return { value: trimmed.toLowerCase() === 'true' };
  const number = /^([+-])?(\$)?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?(%)?$/.exec(trimmed);
  if (number !== null && !(number[2] !== undefined && number[5] !== undefined)) {
    const magnitude = Number(`${number[3]!.replace(/,/g, '')}e${number[4] ?? '0'}`);
    const signed = number[1] === '-' ? -magnitude : magnitude;
    const value = number[5] === undefined ? signed : signed / 100;
    if (Number.isFinite(value)) return { value, display: trimmed };
  }
  return autoDate(trimmed, timeZone);
}

function validDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function autoDate(text: string, timeZone: string): StoredInput | undefined {
  const time = '(?:\\s+(\\d{1,2}):(\\d{2})(?::(\\d{2}))?)?';
  const ymd = new RegExp(`^(\\d{4})[-/](\\d{1,2})[-/](\\d{1,2})${time}$`).exec(text);
  const mdy = new RegExp(`^(\\d{1,2})/(\\d{1,2})/(\\d{4})${time}$`).exec(text);
  const match = ymd ?? mdy;
  if (match !== null) {
    const year = Number(ymd ? match[1] : match[3]);
    const month = Number(ymd ? match[2] : match[1]);
    const day = Number(ymd ? match[3] : match[2]);
    const hour = Number(match[4] ?? 0);
    const minute = Number(match[5] ?? 0);
    const second = Number(match[6] ?? 0);
    if (!validDay(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
    const ms = fromZoned(timeZone, year, month, day, hour, minute, second);
    return { value: new Date(ms), impliedFormat: match[4] === undefined ? DATE_FORMAT : DATE_TIME_FORMAT };
  }
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (clock !== null) {
    const hour = Number(clock[1]);
    const minute = Number(clock[2]);
    const second = Number(clock[3] ?? 0);
    if (hour > 23 || minute > 59 || second > 59) return undefined;
    // A time alone is a date-time on Sheets' day zero, 30 December 1899.
    return { value: new Date(fromZoned(timeZone, 1899, 12, 30, hour, minute, second)), impliedFormat: TIME_FORMAT };
  }
  return undefined;
}

/** What getValues returns for a cell. */
export function readCell(cell: Cell | undefined): CellValue {
  if (cell === undefined) return '';
  if (cell.formula !== undefined) return evaluateFormula(cell.formula);
  const value = cell.value;
  return isDate(value) ? new Date(value.getTime()) : value;
}

/** What getDisplayValues returns for a cell. */
export function displayCell(cell: Cell | undefined, timeZone: string): string {
  if (cell === undefined) return '';
  if (cell.formula === undefined && cell.display !== undefined) return cell.display;
  const value = readCell(cell);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') return String(value);
  if (isDate(value)) return formatPattern(value.getTime(), timeZone, cell.numberFormat?.match(/^[Mdy/.\s:Hhms-]+$/) ? cell.numberFormat : DATE_TIME_FORMAT);
  return value;
}

/**
 * Computes a formula's result. Simple arithmetic on numbers is evaluated and anything else
 * reads as '#NAME?', so a formula never reads back as its own text.
 */
export function evaluateFormula(formula: string): CellValue {
  const expression = formula.slice(1);
  if (!/^[\d\s+\-*/().]+$/.test(expression)) return '#NAME?';
  try {
    const result = new Arithmetic(expression).evaluate();
    return Number.isFinite(result) ? result : '#DIV/0!';
  } catch {
    return '#ERROR!';
  }
}

/** A recursive-descent evaluator for + - * / and parentheses on decimal numbers. */
class Arithmetic {
  private index = 0;

  constructor(private readonly text: string) {}

  evaluate(): number {
    const value = this.sum();
    this.skip();
    if (this.index !== this.text.length) throw new Error('unexpected text');
    return value;
  }

  private skip(): void {
    while (this.text[this.index] === ' ') this.index++;
  }

  private sum(): number {
    let value = this.product();
    for (;;) {
      this.skip();
      const operator = this.text[this.index];
      if (operator !== '+' && operator !== '-') return value;
      this.index++;
      const right = this.product();
      value = operator === '+' ? value + right : value - right;
    }
  }

  private product(): number {
    let value = this.unary();
    for (;;) {
      this.skip();
      const operator = this.text[this.index];
      if (operator !== '*' && operator !== '/') return value;
      this.index++;
      const right = this.unary();
      value = operator === '*' ? value * right : value / right;
    }
  }

  private unary(): number {
    this.skip();
    const sign = this.text[this.index];
    if (sign === '+' || sign === '-') {
      this.index++;
      const value = this.unary();
      return sign === '-' ? -value : value;
    }
    if (sign === '(') {
      this.index++;
      const value = this.sum();
      this.skip();
      if (this.text[this.index] !== ')') throw new Error('missing )');
      this.index++;
      return value;
    }
    const match = /^\d+(?:\.\d*)?|^\.\d+/.exec(this.text.slice(this.index));
    if (match === null) throw new Error('number expected');
    this.index += match[0].length;
    return Number(match[0]);
  }
}

/** Reports whether a cell contains a value or a formula. */
export function hasContent(cell: Cell | undefined): boolean {
  return cell !== undefined && (cell.formula !== undefined || cell.value !== '');
}

export function columnLetters(column: number): string {
  let letters = '';
  for (let rest = column; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    letters = String.fromCharCode(65 + ((rest - 1) % 26)) + letters;
  }
  return letters;
}

function columnNumber(letters: string): number {
  let number = 0;
  for (const letter of letters.toUpperCase()) number = number * 26 + (letter.charCodeAt(0) - 64);
  return number;
}

export function a1Notation(row: number, column: number, numRows: number, numColumns: number): string {
  const start = `${columnLetters(column)}${row}`;
  if (numRows === 1 && numColumns === 1) return start;
  return `${start}:${columnLetters(column + numColumns - 1)}${row + numRows - 1}`;
}

export interface A1Range {
  sheetName?: string;
  row: number;
  column: number;
  numRows: number;
  numColumns: number;
}

/**
 * Reads A1 notation (`B2`, `A1:C3`, `A:C`, `2:5`, `A2:C`, with an optional `Sheet!` or
 * `'Sheet name'!` prefix); open ends reach the sheet's last row or column. Returns undefined for
 * text that is not A1 notation.
 */
export function parseA1(text: string, maxRows: number, maxColumns: number): A1Range | undefined {
  let reference = text.trim();
  let sheetName: string | undefined;
  const bang = reference.lastIndexOf('!');
  if (bang >= 0) {
    sheetName = reference.slice(0, bang).replace(/^'(.*)'$/, '$1').replace(/''/g, "'");
    reference = reference.slice(bang + 1);
  }
  const [first = '', second] = reference.split(':');
  const point = (part: string): { column?: number; row?: number } | undefined => {
    const match = /^\$?([A-Za-z]*)\$?(\d*)$/.exec(part);
    if (match === null || (match[1] === '' && match[2] === '')) return undefined;
    const out: { column?: number; row?: number } = {};
    if (match[1] !== '') out.column = columnNumber(match[1]!);
    if (match[2] !== '') out.row = Number(match[2]);
    return out;
  };
  const start = point(first);
  const end = second === undefined ? start : point(second);
  if (start === undefined || end === undefined) return undefined;
  if (second === undefined && (start.row === undefined || start.column === undefined)) return undefined;
  const row = start.row ?? 1;
  const column = start.column ?? 1;
  const lastRow = end.row ?? maxRows;
  const lastColumn = end.column ?? maxColumns;
  if (row < 1 || column < 1 || lastRow < row || lastColumn < column) return undefined;
  const range: A1Range = { row, column, numRows: lastRow - row + 1, numColumns: lastColumn - column + 1 };
  if (sheetName !== undefined) range.sheetName = sheetName;
  return range;
}
