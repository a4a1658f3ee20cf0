/**
 * Creates the ticket Sheet's tabs the way setup() leaves them: headers, frozen header rows,
 * validation, default settings and a small dashboard. Safe to run again: it only adds what is
 * missing.
 */
import {
  MESSAGE_HEADERS,
  SETTINGS_HEADERS,
  settingsToRows,
  TAB,
  TEAM_HEADERS,
  TICKET_HEADERS,
  TICKET_STATUSES_LIST,
  type Row,
} from '../core/sheet';
import { defaultSettings } from '../core/sheet';
import { guardRow, readRows } from './sheet-store';

type Sheet = GoogleAppsScript.Spreadsheet.Sheet;
type Spreadsheet = GoogleAppsScript.Spreadsheet.Spreadsheet;

export const DASHBOARD_TAB = 'Dashboard';

/** Rows below the header given validation rules: a new sheet has 1,000 rows in all. */
const VALIDATED_ROWS = 999;

function ensureTab(spreadsheet: Spreadsheet, name: string, headers: readonly string[], done: string[]): Sheet {
  let sheet = spreadsheet.getSheetByName(name);
  if (sheet === null) {
    sheet = spreadsheet.insertSheet(name);
    done.push(`created tab ${name}`);
  }
  const current = sheet.getRange(1, 1, 1, headers.length).getValues()[0] ?? [];
  if (headers.some((header, i) => current[i] !== header)) {
    sheet.getRange(1, 1, 1, headers.length).setValues([[...headers]]).setFontWeight('bold');
    done.push(`wrote headers of ${name}`);
  }
  if (sheet.getFrozenRows() !== 1) sheet.setFrozenRows(1);
  return sheet;
}

export function ensureLayout(spreadsheet: Spreadsheet, supportAddress: string): string[] {
  const done: string[] = [];
  const tickets = ensureTab(spreadsheet, TAB.tickets, TICKET_HEADERS, done);
  ensureTab(spreadsheet, TAB.messages, MESSAGE_HEADERS, done);
  const team = ensureTab(spreadsheet, TAB.team, TEAM_HEADERS, done);
  const settings = ensureTab(spreadsheet, TAB.settings, SETTINGS_HEADERS, done);

  const statusRule = SpreadsheetApp.newDataValidation()
    .requireValueInList([...TICKET_STATUSES_LIST], true)
    .setAllowInvalid(false)
    .build();
  tickets.getRange(2, 2, VALIDATED_ROWS, 1).setDataValidation(statusRule);
  const checkbox = SpreadsheetApp.newDataValidation().requireCheckbox().build();
  team.getRange(2, 3, VALIDATED_ROWS, 2).setDataValidation(checkbox);

  const present = new Set(readRows(settings, 2).map((row) => String(row[0]).trim().toLowerCase()));
  const missing = settingsToRows(defaultSettings(supportAddress)).filter(
    (row) => !present.has(String(row[0]).toLowerCase()),
  );
  if (missing.length > 0) {
    const start = settings.getLastRow() + 1;
    settings.getRange(start, 1, missing.length, 2).setValues(missing.map((row: Row) => guardRow(row)));
    done.push(`added ${missing.length} default setting(s)`);
  }

  ensureDashboard(spreadsheet, done);
  const blank = spreadsheet.getSheetByName('Sheet1');
  if (blank !== null && spreadsheet.getSheets().length > 1 && blank.getLastRow() === 0) {
    spreadsheet.deleteSheet(blank);
  }
  return done;
}

function ensureDashboard(spreadsheet: Spreadsheet, done: string[]): void {
  let dashboard = spreadsheet.getSheetByName(DASHBOARD_TAB);
  if (dashboard === null) {
    dashboard = spreadsheet.insertSheet(DASHBOARD_TAB);
    done.push(`created tab ${DASHBOARD_TAB}`);
  }
  if (dashboard.getCharts().length > 0) return;
  dashboard.getRange(1, 1, 1, 4).setValues([['Open tickets per agent', '', '', 'New tickets per day']]);
  dashboard
    .getRange(2, 1, 1, 1)
    .setValues([
      [
        `=QUERY(${TAB.tickets}!A2:G, "select G, count(A) where B = 'open' group by G label G 'Agent', count(A) 'Open'", 0)`,
      ],
    ]);
  dashboard
    .getRange(2, 4, 1, 1)
    .setValues([
      [
        `=QUERY({ARRAYFORMULA(LEFT(${TAB.tickets}!J2:J, 10)), ${TAB.tickets}!A2:A}, "select Col1, count(Col2) where Col2 is not null group by Col1 label Col1 'Day', count(Col2) 'New tickets'", 0)`,
      ],
    ]);
  dashboard.setFrozenRows(1);
  dashboard.insertChart(
    dashboard
      .newChart()
      .setChartType(Charts.ChartType.BAR)
      .addRange(dashboard.getRange('A2:B30'))
      .setPosition(2, 7, 0, 0)
      .setOption('title', 'Open tickets per agent')
      .build(),
  );
  dashboard.insertChart(
    dashboard
      .newChart()
      .setChartType(Charts.ChartType.COLUMN)
      .addRange(dashboard.getRange('D2:E120'))
      .setPosition(22, 7, 0, 0)
      .setOption('title', 'New tickets per day')
      .build(),
  );
  done.push('added dashboard charts');
}
