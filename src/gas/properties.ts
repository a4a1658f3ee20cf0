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
  /**
   * Number of chunks of a save that is not yet fully written to the Sheet, or '' when none; the
   * chunks are PLUSDESK_PENDING_SAVE_1, _2, ... (see sheet-store.ts).
   */
  pendingSave: 'PLUSDESK_PENDING_SAVE',
  /**
   * JSON `{ rows }`: the Messages tab's last row after the last run that read it. Each run
   * reads the row below it with the history, and a filled row means the sidebar queued work.
   */
  queueCheck: 'PLUSDESK_QUEUE_CHECK',
  /**
   * When the notifications waiting for the digest are due (epoch ms), or '' when none wait, so
   * that a run without new mail still sends the digest.
   */
  digestDue: 'PLUSDESK_DIGEST_DUE',
  /** The support address the project runs as, written by setup() so runs need no Session call. */
  support: 'PLUSDESK_SUPPORT_ADDRESS',
  /** JSON map of plusdesk label names to Gmail label ids, so runs need no label listing. */
  labels: 'PLUSDESK_LABEL_IDS',
} as const;

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** A property from a snapshot of all of them, or a clear error telling the user to run setup(). */
export function requireStored(stored: Record<string, string>, name: string): string {
  const value = stored[name];
  if (value === undefined || value === '') {
    throw new ConfigurationError(
      `Script property ${name} is missing: run setup() once from the Apps Script editor.`,
    );
  }
  return value;
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

/**
 * Reads the Messages tab's last row as the last run that read the Sheet stored it, or null when
 * it is missing or was edited by hand.
 */
export function readMessagesLastRow(stored: Record<string, string>): number | null {
  try {
    const value = JSON.parse(stored[PROPERTY.queueCheck] ?? '') as { rows?: unknown };
    return typeof value.rows === 'number' && Number.isInteger(value.rows) && value.rows >= 1 ? value.rows : null;
  } catch {
    return null;
  }
}
