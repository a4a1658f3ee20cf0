/**
 * Modelled wall time per Apps Script service call, for turning counted calls into run time.
 *
 * Figures come from the project's survey of published measurements (shared LATENCY.md,
 * sections 5.1 to 5.3). Kinds: M rests on a measured figure, D is derived from one by
 * arithmetic, E is an estimate with no direct measurement. Calls that only build a local handle
 * (getRange, getSheet, builder methods) are not in that survey; they are charged 1 ms as E.
 */

export type LatencyKind = 'M' | 'D' | 'E';

export interface LatencyEntry {
  ms: number;
  kind: LatencyKind;
  /** Source of the figure. */
  source: string;
}

/** A call the bench models, by the emulator's call name (`Service.method`, or `Class.*`). */
export const LATENCY: Readonly<Record<string, LatencyEntry>> = {
  // Gmail advanced service (LATENCY.md 5.2).
  'Gmail.Users.History.list': { ms: 200, kind: 'E', source: 'one small Gmail API round trip (simplegmail #15, ~225 ms per call outside Apps Script)' },
  'Gmail.Users.getProfile': { ms: 200, kind: 'E', source: 'as History.list: one small Gmail API round trip' },
  'Gmail.Users.Messages.list': { ms: 250, kind: 'E', source: 'one Gmail API round trip (simplegmail #15 ~225 ms/call)' },
  'Gmail.Users.Messages.get': { ms: 250, kind: 'D', source: 'format full: simplegmail #15, ~45 s / ~200 sequential full gets' },
  'Gmail.Users.Messages.get:full': { ms: 250, kind: 'D', source: 'simplegmail #15, ~45 s / ~200 sequential full gets' },
  'Gmail.Users.Messages.get:raw': { ms: 300, kind: 'E', source: 'full get plus the base64url raw body' },
  'Gmail.Users.Messages.get:metadata': { ms: 200, kind: 'E', source: 'one Gmail API round trip, smaller payload' },
  'Gmail.Users.Messages.get:minimal': { ms: 200, kind: 'E', source: 'as metadata' },
  'Gmail.Users.Threads.get': { ms: 200, kind: 'E', source: 'one thread read, as GmailThread.getMessages (~one messages.get/threads.get)' },
  'Gmail.Users.Messages.send': { ms: 800, kind: 'E', source: 'Small Outbox FAQ: ~1,200 ms for a 100 KB send; a small message assumed cheaper' },
  'Gmail.Users.Messages.modify': { ms: 150, kind: 'E', source: 'one mailbox write, as GmailThread.addLabel' },
  'Gmail.Users.Messages.batchModify': { ms: 300, kind: 'E', source: 'one Gmail API round trip for up to 1,000 ids' },
  'Gmail.Users.Labels.list': { ms: 200, kind: 'E', source: 'as History.list: one small Gmail API round trip' },
  'Gmail.Users.Labels.create': { ms: 200, kind: 'E', source: 'as History.list: one small Gmail API round trip' },
  // GmailApp (LATENCY.md 5.2).
  'GmailApp.sendEmail': { ms: 800, kind: 'E', source: 'Small Outbox FAQ: ~1,200 ms for a 100 KB send; a small message assumed cheaper' },
  'GmailApp.getMessageById': { ms: 200, kind: 'E', source: 'one message read (~one messages.get)' },
  'GmailMessage.getRawContent': { ms: 150, kind: 'E', source: 'a separate body fetch' },
  'GmailMessage.getHeader': { ms: 150, kind: 'E', source: 'a separate body fetch' },
  'GmailThread.getMessages': { ms: 200, kind: 'E', source: '~one messages.get/threads.get (simplegmail #15)' },
  // UrlFetchApp (LATENCY.md 5.3).
  'UrlFetchApp.fetch': { ms: 500, kind: 'M', source: 'PRE: ~590 ms per UrlFetch to a Google API (2020, one run)' },
  'UrlFetchApp.fetchAll': { ms: 600, kind: 'E', source: 'one request (500) plus ~100 ms: requests overlap (PRE, TAN-FA)' },
  'UrlFetchApp.fetch:gmail-send': { ms: 800, kind: 'E', source: 'one send, as Messages.send (Small Outbox FAQ)' },
  'UrlFetchApp.fetchAll:gmail-send': { ms: 900, kind: 'E', source: 'the slowest send (800, as Messages.send) plus ~100 ms: requests overlap' },
  'HTTPResponse.*': { ms: 0, kind: 'E', source: 'reads the fetched response locally' },
  // SpreadsheetApp (LATENCY.md 5.1).
  'SpreadsheetApp.openById': { ms: 150, kind: 'E', source: 'assumed metadata round trip like getLastRow' },
  'SpreadsheetApp.flush': { ms: 560, kind: 'D', source: 'MOG: 610 ms with flush minus <50 ms without, ~4,000 pending cells' },
  'Spreadsheet.getSheetByName': { ms: 150, kind: 'E', source: 'assumed metadata round trip like getLastRow' },
  'Spreadsheet.getSheets': { ms: 150, kind: 'E', source: 'assumed metadata round trip like getLastRow' },
  'Sheet.getLastRow': { ms: 160, kind: 'D', source: 'BUG: (160,377 - 780) ms / 1,000 calls' },
  'Sheet.getLastColumn': { ms: 160, kind: 'D', source: 'BUG: as getLastRow' },
  'Sheet.getMaxRows': { ms: 160, kind: 'D', source: 'BUG: as getLastRow' },
  'Sheet.getDataRange': { ms: 160, kind: 'D', source: 'BUG: a metadata look-up like getLastRow' },
  'Sheet.insertRowsAfter': { ms: 160, kind: 'E', source: 'no figure; a metadata write, charged like getLastRow' },
  'Sheet.appendRow': { ms: 200, kind: 'E', source: 'getLastRow (160) plus a committed one-row write (30)' },
  'Range.getValues': { ms: 300, kind: 'D', source: 'BUG: getValues+setValues of 1,000 cells = 905 ms; POE ~400 per call' },
  'Range.getValue': { ms: 300, kind: 'E', source: 'a read round trip (cache miss), as getValues' },
  'Range.setValues': { ms: 450, kind: 'D', source: 'BUG ~450 per bulk call; MOG 4,000-cell write + flush 610 ms' },
  'Range.setValue': { ms: 30, kind: 'D', source: 'MOG: ~12,000 ms / 400 flushed row writes' },
  'TextFinder.findNext': { ms: 300, kind: 'E', source: 'one read round trip; grows with sheet size (slope unknown)' },
  'TextFinder.findAll': { ms: 300, kind: 'E', source: 'one read round trip; grows with sheet size (slope unknown)' },
  // Sheets advanced service (LATENCY.md 5.1).
  'Sheets.Spreadsheets.Values.batchGet': { ms: 400, kind: 'E', source: 'one Google REST round trip (PRE ~590 ms, POE ~175 ms)' },
  'Sheets.Spreadsheets.Values.get': { ms: 400, kind: 'E', source: 'one Google REST round trip' },
  'Sheets.Spreadsheets.Values.batchUpdate': { ms: 400, kind: 'E', source: 'one Google REST round trip' },
  'Sheets.Spreadsheets.Values.update': { ms: 400, kind: 'E', source: 'one Google REST round trip' },
  'Sheets.Spreadsheets.Values.append': { ms: 400, kind: 'E', source: 'one Google REST round trip' },
  // Properties, cache, lock (LATENCY.md 5.3).
  'Properties.getProperty': { ms: 30, kind: 'M', source: 'ZIR: avg 30 ms (script), 34 ms (user)' },
  'Properties.getProperties': { ms: 30, kind: 'E', source: 'assumed one read like getProperty' },
  'Properties.setProperty': { ms: 60, kind: 'M', source: 'ZIR: avg 62 / 64 ms' },
  'Properties.setProperties': { ms: 60, kind: 'E', source: 'assumed one write like setProperty' },
  'Properties.deleteProperty': { ms: 60, kind: 'E', source: 'assumed one write like setProperty' },
  'Cache.get': { ms: 5, kind: 'M', source: 'ZIR: avg 3-4 ms' },
  'Cache.put': { ms: 60, kind: 'D', source: 'ZIR avg 93, POE put+get pair ~63' },
  'Lock.tryLock': { ms: 50, kind: 'E', source: 'no figure; like a properties write (covers releaseLock too)' },
  'Lock.waitLock': { ms: 50, kind: 'E', source: 'no figure; like a properties write (covers releaseLock too)' },
  'Lock.releaseLock': { ms: 0, kind: 'E', source: 'charged with tryLock' },
  // In-process services (LATENCY.md 5.3).
  'Utilities.*': { ms: 1, kind: 'E', source: 'in-process computation, no service round trip' },
  'Session.*': { ms: 1, kind: 'E', source: 'in-process, no service round trip' },
  'User.*': { ms: 1, kind: 'E', source: 'in-process, no service round trip' },
  'Logger.*': { ms: 0, kind: 'E', source: 'local log buffer' },
  'PropertiesService.*': { ms: 1, kind: 'E', source: 'returns a local handle' },
  'LockService.*': { ms: 1, kind: 'E', source: 'returns a local handle' },
  'Execution.start': { ms: 1000, kind: 'E', source: 'no published figure; placeholder charged once per run' },
};

/** Charged to calls that only build or read a local handle, and to names the table lacks. */
export const LOCAL_HANDLE: LatencyEntry = { ms: 1, kind: 'E', source: 'builds or reads a local handle; no round trip assumed' };
export const UNLISTED: LatencyEntry = { ms: 100, kind: 'E', source: 'not in the table: the emulator default for unknown calls' };

/** Classes whose other methods only build or read local handles. */
const LOCAL_CLASSES = new Set([
  'Spreadsheet',
  'Sheet',
  'Range',
  'TextFinder',
  'GmailMessage',
  'GmailThread',
  'GmailLabel',
  'SpreadsheetApp',
  'CacheService',
  'ScriptApp',
  'Blob',
]);

/**
 * Read cells beyond this many in one getValues call cost extra (LATENCY.md 5.1 size term). The
 * bench charges Sheets API values.get and batchGet reads the same way, an estimate of its own.
 */
export const SIZE_TERM_FREE_CELLS = 1000;
export const SIZE_TERM_MS_PER_CELL: LatencyEntry = {
  ms: 0.05,
  kind: 'E',
  source: 'size term of getValues beyond 1,000 cells',
};

/** Looks a call up: `name:variant`, then `name`, then `Class.*`, then local handles. */
export function latencyOf(name: string, variant?: string): LatencyEntry {
  if (variant !== undefined) {
    const specific = LATENCY[`${name}:${variant}`];
    if (specific !== undefined) return specific;
  }
  const exact = LATENCY[name];
  if (exact !== undefined) return exact;
  const dot = name.lastIndexOf('.');
  const owner = dot > 0 ? name.slice(0, dot) : name;
  const wildcard = LATENCY[`${owner}.*`];
  if (wildcard !== undefined) return wildcard;
  if (LOCAL_CLASSES.has(owner)) return LOCAL_HANDLE;
  return UNLISTED;
}

/** A way to scale the table, for showing modelled time as a range. */
export interface LatencyBand {
  name: string;
  scale: (entry: LatencyEntry) => number;
}

export const BANDS: readonly LatencyBand[] = [
  { name: 'table', scale: (entry) => entry.ms },
  { name: 'x0.5', scale: (entry) => entry.ms * 0.5 },
  { name: 'x2', scale: (entry) => entry.ms * 2 },
  { name: 'E x2', scale: (entry) => (entry.kind === 'E' ? entry.ms * 2 : entry.ms) },
];
