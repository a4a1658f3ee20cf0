/** Script property names the processor keeps, and typed access to them. */

export const PROPERTY = {
  /** Id of the ticket Sheet, written by setup(). */
  sheetId: 'PLUSDESK_SHEET_ID',
  /** HMAC secret of the plus tags; made once by setup() and never logged. */
  secret: 'PLUSDESK_SECRET',
  /** Gmail history id up to which the inbox was read. */
  historyId: 'PLUSDESK_HISTORY_ID',
  /** Keys of messages sent since the last save, so a rerun after a crash can look them up. */
  journal: 'PLUSDESK_SEND_JOURNAL',
} as const;

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

export function requireProperty(
  properties: GoogleAppsScript.Properties.Properties,
  name: string,
): string {
  const value = properties.getProperty(name);
  if (value === null || value === '') {
    throw new ConfigurationError(
      `Script property ${name} is missing: run setup() once from the Apps Script editor.`,
    );
  }
  return value;
}
