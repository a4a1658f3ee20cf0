/** The Sheets advanced service, which both projects enable, its atomic append, and one REST read. */
import { messageToRow, MESSAGE_HEADERS, TAB } from '../core/sheet';
import type { MessageRecord } from '../core/types';
import { restRequest, type FetchRequest } from './rest';

const MESSAGES_LAST_COLUMN = String.fromCharCode(64 + MESSAGE_HEADERS.length);

export function sheetsApi(): GoogleAppsScript.Sheets {
  if (typeof Sheets === 'undefined' || Sheets === undefined) {
    throw new Error(
      'The Sheets advanced service is not enabled: add it under Services in the Apps Script editor, or push the manifest again.',
    );
  }
  return Sheets;
}

/**
 * Appends rows to the Messages tab in one call. The API finds the end of the table and writes
 * there atomically, so rows the processor and the add-on append at the same time never overwrite
 * each other. RAW input stores text as given: a summary starting with "=" never becomes a formula.
 */
export function appendMessages(spreadsheetId: string, records: MessageRecord[]): void {
  if (records.length === 0) return;
  sheetsApi().Spreadsheets!.Values!.append(
    { values: records.map(messageToRow) },
    spreadsheetId,
    `${TAB.messages}!A:${MESSAGES_LAST_COLUMN}`,
    { valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS' },
  );
}

const SHEETS_REST = 'https://sheets.googleapis.com/v4/spreadsheets';

/**
 * Builds a REST request that reads column A of the Messages tab from row `lastRow` down, for a
 * caller that runs it with other requests in one UrlFetchApp.fetchAll. The range starts at a row
 * that exists, because the API rejects a range below the sheet's grid, and Values.append makes the
 * grid end at the last row.
 */
export function messagesAfterRequest(token: string, spreadsheetId: string, lastRow: number): FetchRequest {
  const range = encodeURIComponent(`${TAB.messages}!A${lastRow}:A`);
  return restRequest(token, `${SHEETS_REST}/${encodeURIComponent(spreadsheetId)}/values/${range}?valueRenderOption=UNFORMATTED_VALUE`);
}

/**
 * Reads the response of messagesAfterRequest: true when a row below `lastRow` has a value. A
 * failed read counts as such a row, so that a full run reads the Sheet and reports what is wrong
 * with it, and stores the last row again.
 */
export function readMessagesAfter(response: GoogleAppsScript.URL_Fetch.HTTPResponse): boolean {
  if (response.getResponseCode() !== 200) {
    console.warn(
      JSON.stringify({ event: 'queue_check_failed', status: response.getResponseCode(), body: response.getContentText().slice(0, 300) }),
    );
    return true;
  }
  const body = JSON.parse(response.getContentText()) as { values?: unknown[][] };
  return (body.values ?? []).slice(1).some((row) => row.some((cell) => cell !== ''));
}
