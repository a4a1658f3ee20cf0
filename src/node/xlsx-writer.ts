/**
 * Writes an .xlsx file (ECMA-376 SpreadsheetML) row by row through fflate's streaming zip.
 *
 * plusdesk writes its workbook here instead of with exceljs's streaming writer. That writer
 * passes 64 KiB buffers through archiver's and zlib's asynchronous streams, and most of them
 * outlive the young generation, so V8 frees them only in full collections. A save of 194,000
 * rows that way kept about 70 MB of dead buffers at a time (measured, Node 20). Here each
 * buffer is compressed and written at once, so it dies young. exceljs still reads the workbook.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Zip, ZipDeflate } from 'fflate';
import { fitCell, type Cell, type Row } from '../core/sheet';

/** One worksheet: a bold header row, frozen, then the rows. */
export interface SheetContent {
  name: string;
  header: readonly string[];
  /** Column widths in characters, one for each header. */
  widths: readonly number[];
  rows: Iterable<Row>;
}

/** Maximum characters in an Excel cell (Microsoft KB 211878). Google Sheets allows 50,000. */
const EXCEL_CELL_LIMIT = 32_767;

/** Characters of XML gathered before they are compressed: small, so the buffers die young. */
const CHARS_PER_PUSH = 64 * 1024;

/**
 * Rows written between two turns of the event loop. V8 finishes its incremental marking in
 * tasks of the event loop, so a save that never yields grows the heap until a full stop.
 */
const ROWS_PER_YIELD = 1000;

const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELATIONSHIPS_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PACKAGE_RELATIONSHIPS_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const SHEET_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml';

/** Style index of the header cells in styles.xml: a bold font. */
const BOLD_STYLE = 1;

const STYLES =
  `<styleSheet xmlns="${MAIN_NS}">` +
  '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>' +
  '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>' +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
  '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
  '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
  '</styleSheet>';

/**
 * Writes `sheets` as an .xlsx file at `path`, replacing it. Rows are taken from each sheet's
 * iterable one at a time, so a sheet of any length is never in memory whole.
 */
export async function writeXlsx(path: string, sheets: readonly SheetContent[]): Promise<void> {
  const fd = openSync(path, 'w');
  try {
    const zip = new Zip((error, chunk) => {
      if (error !== null) throw error;
      writeSync(fd, chunk);
    });
    const part = (name: string, xml: string) => {
      const file = new ZipDeflate(name, { level: 6 });
      zip.add(file);
      file.push(encode(XML_DECLARATION + xml), true);
    };
    const sheetNames = sheets.map((_, index) => `worksheets/sheet${index + 1}.xml`);
    part(
      '[Content_Types].xml',
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
        sheetNames.map((name) => `<Override PartName="/xl/${name}" ContentType="${SHEET_TYPE}"/>`).join('') +
        '</Types>',
    );
    part(
      '_rels/.rels',
      `<Relationships xmlns="${PACKAGE_RELATIONSHIPS_NS}">` +
        `<Relationship Id="rId1" Type="${RELATIONSHIPS_NS}/officeDocument" Target="xl/workbook.xml"/>` +
        '</Relationships>',
    );
    part(
      'xl/workbook.xml',
      `<workbook xmlns="${MAIN_NS}" xmlns:r="${RELATIONSHIPS_NS}"><bookViews><workbookView/></bookViews><sheets>` +
        sheets.map((sheet, index) => `<sheet name="${escapeXml(sheet.name)}" sheetId="${index + 1}" r:id="rId${index + 1}"/>`).join('') +
        '</sheets></workbook>',
    );
    part(
      'xl/_rels/workbook.xml.rels',
      `<Relationships xmlns="${PACKAGE_RELATIONSHIPS_NS}">` +
        sheetNames.map((name, index) => `<Relationship Id="rId${index + 1}" Type="${RELATIONSHIPS_NS}/worksheet" Target="${name}"/>`).join('') +
        `<Relationship Id="rId${sheets.length + 1}" Type="${RELATIONSHIPS_NS}/styles" Target="styles.xml"/>` +
        '</Relationships>',
    );
    part('xl/styles.xml', STYLES);
    for (const [index, sheet] of sheets.entries()) await writeSheet(zip, `xl/${sheetNames[index]}`, sheet);
    zip.end();
  } finally {
    closeSync(fd);
  }
}

async function writeSheet(zip: Zip, name: string, sheet: SheetContent): Promise<void> {
  const file = new ZipDeflate(name, { level: 6 });
  zip.add(file);
  let pending: string[] = [];
  let length = 0;
  const write = (xml: string) => {
    pending.push(xml);
    length += xml.length;
    if (length < CHARS_PER_PUSH) return;
    file.push(encode(pending.join('')));
    pending = [];
    length = 0;
  };

  const columns = sheet.widths
    .map((width, index) => `<col min="${index + 1}" max="${index + 1}" width="${width}" customWidth="1"/>`)
    .join('');
  write(
    XML_DECLARATION +
      `<worksheet xmlns="${MAIN_NS}" xmlns:r="${RELATIONSHIPS_NS}">` +
      '<sheetViews><sheetView workbookViewId="0">' +
      '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' +
      '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>' +
      '</sheetView></sheetViews>' +
      '<sheetFormatPr defaultRowHeight="15"/>' +
      (columns === '' ? '' : `<cols>${columns}</cols>`) +
      '<sheetData>',
  );
  write(rowXml(1, sheet.header, BOLD_STYLE));
  let number = 1;
  for (const row of sheet.rows) {
    write(rowXml(++number, row));
    if (number % ROWS_PER_YIELD === 0) await yieldToEventLoop();
  }
  file.push(encode(pending.join('') + '</sheetData></worksheet>'), true);
}

function rowXml(number: number, cells: readonly Cell[], style?: number): string {
  let xml = `<row r="${number}">`;
  const styled = style === undefined ? '' : ` s="${style}"`;
  cells.forEach((cell, index) => {
    const ref = `${columnName(index)}${number}`;
    if (typeof cell === 'number') {
      // A number a cell cannot hold (NaN, Infinity) is kept as its text.
      xml += Number.isFinite(cell) ? `<c r="${ref}"${styled}><v>${cell}</v></c>` : textCell(ref, styled, String(cell));
    } else if (typeof cell === 'boolean') {
      xml += `<c r="${ref}"${styled} t="b"><v>${cell ? 1 : 0}</v></c>`;
    } else if (cell !== '') {
      xml += textCell(ref, styled, cell);
    }
  });
  return `${xml}</row>`;
}

/**
 * Returns a text cell as an inline string of one rich-text run. exceljs (4.4.0) decodes
 * `_xHHHH_` escapes in a run's text but not in a plain inline string.
 */
function textCell(ref: string, styled: string, text: string): string {
  return `<c r="${ref}"${styled} t="inlineStr"><is><r><t xml:space="preserve">${escapeXml(xlsxText(text))}</t></r></is></c>`;
}

/** Column letters of a zero-based index: A, B, ..., Z, AA, AB, ... */
function columnName(index: number): string {
  let name = '';
  for (let rest = index + 1; rest > 0; rest = Math.floor((rest - 1) / 26)) {
    name = String.fromCharCode(65 + ((rest - 1) % 26)) + name;
  }
  return name;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (character) => XML_ENTITIES[character]!);
}

function encode(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/**
 * Prepares text for an xlsx cell. It is cut to Excel's cell limit. Characters that XML 1.0
 * cannot contain (C0 controls, U+FFFE, U+FFFF), DEL, which exceljs drops, and CR, which XML
 * reads as LF, become `_xHHHH_` escapes. The `_` of a literal `_xHHHH_` becomes `_x005F_`, the
 * escape ECMA-376 defines for it, also when two such literals touch.
 */
export function xlsxText(text: string): string {
  return fitCell(text, EXCEL_CELL_LIMIT)
    .replace(/_(?=x[0-9A-Fa-f]{4}_)/g, '_x005F_')
    .replace(
      /[\x00-\x08\x0B-\x1F\x7F\uFFFE\uFFFF]/g,
      (character) => `_x${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`,
    );
}
