/**
 * Helpers for the tests that run the built Apps Script bundles in the emulator. They build the
 * bundles once per test file and create an emulated processor project. They run the bundle's
 * functions as executions and read back the Sheet and the sent mail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProject, PROJECTS } from '../../scripts/build';
import { messageToRow, rowToMessage, rowToTicket, TAB, ticketToRow, type Row } from '../../src/core/sheet';
import type { MessageRecord, Ticket } from '../../src/core/types';
import { createAppsScript, type AppsScript, type AppsScriptOptions, type ParsedMailboxMessage } from './emulator';
import { loadBundle, type LoadedBundle } from './load-bundle';

export const SUPPORT = 'support@example.com';
/** Script property names the processor uses (kept in src/gas/properties.ts). */
export { PROPERTY } from '../../src/gas/properties';

export interface Bundles {
  /** Code.js of the processor project. */
  processor: string;
  /** Code.js of the add-on project. */
  addon: string;
  /** Folder the build wrote, with processor/ and addon/ each holding Code.js and appsscript.json. */
  dir: string;
}

let built: Promise<Bundles> | undefined;

/**
 * Builds both bundles into a temporary folder, once per test file (vitest gives each test file
 * its own module instance). The folder is removed when the process exits.
 */
export function buildBundles(): Promise<Bundles> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plusdesk-bundle-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const code: Record<string, string> = {};
    for (const project of PROJECTS) code[project.name] = await buildProject(project, dir);
    return { processor: code.processor!, addon: code.addon!, dir };
  })();
  return built;
}

/** An emulated processor project with the bundle loaded into it. */
export interface ProcessorProject {
  gas: AppsScript;
  bundle: LoadedBundle;
  /** Runs a top-level function of the bundle as one execution (locks released at its end). */
  run<T = unknown>(functionName: string): Promise<T>;
  /** Runs setup() and returns the id of the ticket Sheet it made. */
  setup(): Promise<string>;
  /** Runs processInbox() as the trigger would. */
  processInbox(): Promise<InboxRunSummary>;
}

/** What processInbox returns (src/gas/processor.ts). */
export interface InboxRunSummary {
  status: 'idle' | 'busy' | 'done' | 'partial';
  found: number;
  handled: number;
  sent: number;
  reason: string;
}

export function processorProject(code: string, options: Partial<AppsScriptOptions> = {}): ProcessorProject {
  const gas = createAppsScript({ user: SUPPORT, ...options });
  return attachBundle(gas, code);
}

/** Loads the processor bundle into an existing emulated project. */
export function attachBundle(gas: AppsScript, code: string): ProcessorProject {
  const bundle = loadBundle(code, gas.globals, { filename: 'processor/Code.js' });
  const run = <T>(functionName: string): Promise<T> =>
    gas.execution(functionName, () => bundle.call(functionName)) as Promise<T>;
  return {
    gas,
    bundle,
    run,
    async setup() {
      await run('setup');
      return sheetIdOf(gas);
    },
    processInbox: () => run<InboxRunSummary>('processInbox'),
  };
}

export function sheetIdOf(gas: AppsScript): string {
  const id = gas.properties.script.get('PLUSDESK_SHEET_ID');
  if (id === null) throw new Error('PLUSDESK_SHEET_ID is not set: run setup() first');
  return id;
}

/** Data rows of a tab (below the header), as getValues returns them, without counting calls. */
export function tabRows(gas: AppsScript, tab: string): Row[] {
  const values = gas.spreadsheets.values(sheetIdOf(gas), tab);
  return values.slice(1).map((row) => row.map((cell) => (cell instanceof Date ? cell.toISOString() : cell)));
}

export function readTickets(gas: AppsScript): Ticket[] {
  return tabRows(gas, TAB.tickets)
    .map(rowToTicket)
    .filter((ticket): ticket is Ticket => ticket !== null)
    .sort((a, b) => a.number - b.number);
}

export function readMessages(gas: AppsScript): MessageRecord[] {
  return tabRows(gas, TAB.messages)
    .filter((row) => row.some((cell) => cell !== ''))
    .map(rowToMessage);
}

/**
 * Writes rows below the existing ones of a tab, as a person would type them in or paste them,
 * which adds grid rows when they do not fit.
 */
export function appendRows(gas: AppsScript, tab: string, rows: Row[]): void {
  const sheet = gas.spreadsheets.sheet(sheetIdOf(gas), tab);
  const start = sheet.lastRow() + 1;
  sheet.maxRows = Math.max(sheet.maxRows, start + rows.length - 1);
  rows.forEach((row, r) =>
    row.forEach((value, c) => {
      sheet.ensure(start + r, c + 1).value = value;
    }),
  );
}

/** Writes a ticket over its row on the Tickets tab, as the sidebar does with RAW input. */
export function writeTicket(gas: AppsScript, ticket: Ticket): void {
  const sheet = gas.spreadsheets.sheet(sheetIdOf(gas), TAB.tickets);
  for (let row = 2; row <= sheet.lastRow(); row++) {
    if (sheet.cell(row, 1)?.value === ticket.number) {
      ticketToRow(ticket).forEach((value, c) => {
        sheet.ensure(row, c + 1).value = value;
      });
      return;
    }
  }
  throw new Error(`No row for ticket #${ticket.number} on the Tickets tab`);
}

/** Appends a Messages row, as the sidebar does when it queues a comment. */
export function appendMessage(gas: AppsScript, record: MessageRecord): void {
  appendRows(gas, TAB.messages, [messageToRow(record)]);
}

/** Returns the processor's structured console lines (JSON objects with an `event` field), in order. */
export function logEvents(gas: AppsScript): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const entry of gas.logs.entries) {
    if (entry.source !== 'console' || !entry.message.startsWith('{')) continue;
    try {
      events.push(JSON.parse(entry.message) as Record<string, unknown>);
    } catch {
      // A console line that is not one JSON object is not a structured event.
    }
  }
  return events;
}

/** Sent mail of the support account, oldest first. */
export function sentMail(gas: AppsScript): Promise<ParsedMailboxMessage[]> {
  return gas.mailbox.sent();
}

/** Builds a raw message with CRLF line ends from header fields and a body. */
export function rawMessage(headers: Record<string, string>, body: string): string {
  const lines = Object.entries({
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Transfer-Encoding': '8bit',
    ...headers,
  }).map(([name, value]) => `${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}\r\n`;
}

/**
 * Keeps the service calls that reach a server: handle getters, the OAuth token, response getters
 * and in-process helpers are left out.
 */
export function roundTrips(calls: string[]): string[] {
  return calls.filter(
    (name) => !/^(PropertiesService\.|LockService\.getScriptLock$|ScriptApp\.getOAuthToken$|HTTPResponse\.|Utilities\.|Session\.)/.test(name),
  );
}
