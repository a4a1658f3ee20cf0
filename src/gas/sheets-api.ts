/** The Sheets advanced service, which both projects enable, and its atomic append. */
import { messageToRow, MESSAGE_HEADERS, TAB } from '../core/sheet';
import type { MessageRecord } from '../core/types';

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
