/**
 * The straightforward processor the benchmark compares plusdesk with: the everyone-is-copied
 * workflow written the way a first Apps Script usually is. Every run searches the inbox for
 * unlabelled mail and reads each thread and each message on its own. Per message it appends one
 * Log row, finds the ticket row with a TextFinder and updates it cell by cell. It then forwards
 * the message to every agent but its author with one send, and labels it with one call.
 *
 * It runs in Node against the same emulated services as the plusdesk bundle, so its calls are
 * counted and timed by the same emulator.
 */
import type { AppsScriptGlobals } from '../tests/gas/emulator';

export const BASELINE_LABEL = 'baseline/processed';
const SHEET_PROPERTY = 'BASELINE_SHEET_ID';
const LOG_TAB = 'Log';
const TICKETS_TAB = 'Tickets';
/** Same budget as plusdesk: start no new message after 4.5 of the 6 minutes. */
const RUN_BUDGET_MS = 4.5 * 60 * 1000;

export interface BaselineOptions {
  supportAddress: string;
  agents: string[];
  /** The emulated clock, epoch ms. */
  now: () => number;
}

export interface BaselineRunSummary {
  status: 'idle' | 'done' | 'partial';
  found: number;
  handled: number;
  sent: number;
}

/** Creates the baseline's Sheet (Log and Tickets tabs) and label; run once before the workload. */
export function setupBaseline(g: AppsScriptGlobals): void {
  const spreadsheet = g.SpreadsheetApp.create('baseline helpdesk');
  spreadsheet.insertSheet(LOG_TAB).appendRow(['Time', 'Thread', 'From', 'Subject', 'Summary']);
  spreadsheet.insertSheet(TICKETS_TAB).appendRow(['Thread', 'Subject', 'Status', 'Customer', 'Updated', 'Last from']);
  g.PropertiesService.getScriptProperties().setProperty(SHEET_PROPERTY, spreadsheet.getId());
  g.Gmail.Users.Labels.create({ name: BASELINE_LABEL }, 'me');
}

function header(text: string, name: string): string {
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(text);
  return match === null ? '' : match[1]!.replace(/\r?\n[ \t]+/g, ' ').trim();
}

function emailOf(from: string): string {
  const angle = /<([^>]+)>/.exec(from);
  return (angle?.[1] ?? from).trim().toLowerCase();
}

function decodeRaw(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  let text = '';
  for (const byte of raw as number[]) text += String.fromCharCode(byte & 0xff);
  return text;
}

/** Runs the baseline trigger once over the unlabelled inbox mail. */
export function baselineProcessInbox(g: AppsScriptGlobals, options: BaselineOptions): BaselineRunSummary {
  const started = options.now();
  const properties = g.PropertiesService.getScriptProperties();
  const sheetId = properties.getProperty(SHEET_PROPERTY)!;

  const found: { id: string; threadId: string }[] = [];
  let pageToken: string | undefined;
  do {
    const page = g.Gmail.Users.Messages.list('me', {
      q: `in:inbox -label:${BASELINE_LABEL}`,
      maxResults: 100,
      ...(pageToken === undefined ? {} : { pageToken }),
    });
    for (const message of page.messages ?? []) found.push({ id: message.id!, threadId: message.threadId! });
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken !== undefined);
  if (found.length === 0) return { status: 'idle', found: 0, handled: 0, sent: 0 };

  const labelId = (g.Gmail.Users.Labels.list('me').labels ?? []).find((label) => label.name === BASELINE_LABEL)!.id!;
  const spreadsheet = g.SpreadsheetApp.openById(sheetId);
  const log = spreadsheet.getSheetByName(LOG_TAB)!;
  const tickets = spreadsheet.getSheetByName(TICKETS_TAB)!;

  // Oldest first, grouped by thread as GmailApp.search returns threads.
  const byThread = new Map<string, string[]>();
  for (const message of found.reverse()) {
    const ids = byThread.get(message.threadId) ?? [];
    ids.push(message.id);
    byThread.set(message.threadId, ids);
  }

  let handled = 0;
  let sent = 0;
  let status: BaselineRunSummary['status'] = 'done';
  threads: for (const [threadId, ids] of byThread) {
    g.Gmail.Users.Threads.get('me', threadId, { format: 'metadata', metadataHeaders: ['From', 'Subject', 'Date'] });
    for (const id of ids) {
      if (options.now() - started >= RUN_BUDGET_MS) {
        status = 'partial';
        break threads;
      }
      const message = g.Gmail.Users.Messages.get('me', id, { format: 'raw' });
      const text = decodeRaw(message.raw);
      const from = header(text, 'From');
      const subject = header(text, 'Subject');
      const body = text.split(/\r?\n\r?\n/)[1] ?? '';
      const time = new Date(options.now()).toISOString();

      log.appendRow([time, threadId, from, subject, body.slice(0, 200)]);
      const cell = tickets.createTextFinder(threadId).matchEntireCell(true).findNext();
      if (cell === null) {
        tickets.appendRow([threadId, subject, 'open', from, time, from]);
      } else {
        const row = cell.getRow();
        tickets.getRange(row, 3).setValue('open');
        tickets.getRange(row, 5).setValue(time);
        tickets.getRange(row, 6).setValue(from);
      }

      const author = emailOf(from);
      const recipients = options.agents.filter((agent) => agent !== author);
      const forward = [
        `From: ${options.supportAddress}`,
        `To: ${recipients.join(', ')}`,
        `Subject: Fwd: ${subject}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        '',
        `From: ${from}`,
        '',
        body,
      ].join('\r\n');
      g.Gmail.Users.Messages.send({ raw: g.Utilities.base64EncodeWebSafe(forward) }, 'me');
      sent++;
      g.Gmail.Users.Messages.modify({ addLabelIds: [labelId], removeLabelIds: ['INBOX'] }, 'me', id);
      handled++;
    }
  }
  return { status, found: found.length, handled, sent };
}
