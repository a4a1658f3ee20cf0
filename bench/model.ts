/**
 * Turns counted calls into modelled run time with the latency table, and fits how a run's time
 * grows with the messages in it.
 */
import { BANDS, latencyOf, LOCAL_HANDLE, SIZE_TERM_MS_PER_CELL, type LatencyBand } from './latency';
import type { RunRecord } from './emulated';

/** Apps Script ends an execution after six minutes. */
export const EXECUTION_LIMIT_MS = 6 * 60 * 1000;

/** Splits a counted call key (`Gmail.Users.Messages.get:raw`) into name and variant. */
export function splitKey(key: string): { name: string; variant?: string } {
  const colon = key.indexOf(':');
  return colon < 0 ? { name: key } : { name: key.slice(0, colon), variant: key.slice(colon + 1) };
}

const IN_PROCESS = [
  'Utilities.',
  'Session.',
  'User.',
  'Logger.',
  'console.',
  'PropertiesService.',
  'LockService.',
  'CacheService.',
  'HTTPResponse.',
];

/**
 * Reports whether a call reaches a Google service. Handle getters (getScriptProperties,
 * getRange, createTextFinder), in-process helpers (Utilities, Session) and CardService builders
 * do not.
 */
export function isRoundTrip(key: string): boolean {
  const { name, variant } = splitKey(key);
  if (IN_PROCESS.some((prefix) => name.startsWith(prefix))) return false;
  return latencyOf(name, variant) !== LOCAL_HANDLE;
}

export const SHEET_PREFIXES = ['SpreadsheetApp.', 'Spreadsheet.', 'Sheet.', 'Range.', 'TextFinder.', 'Sheets.'];
export const GMAIL_PREFIXES = ['Gmail.', 'GmailApp.', 'GmailMessage.', 'GmailThread.', 'GmailLabel.', 'MailApp.'];
/** Gmail calls that send mail; they are counted apart from reads and label changes. */
export const SEND_CALLS = new Set(['Gmail.Users.Messages.send', 'GmailApp.sendEmail', 'MailApp.sendEmail', 'GmailThread.reply', 'GmailMessage.reply']);

export function isSheetCall(key: string): boolean {
  return SHEET_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** Reports whether a call is a Gmail call: a Gmail service, or UrlFetchApp to the Gmail REST API. */
export function isGmailCall(key: string): boolean {
  if (key.startsWith('UrlFetchApp.')) return key.endsWith(':gmail-read') || key.endsWith(':gmail-send');
  return GMAIL_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** Reports whether a call sends mail (for UrlFetchApp: carries at least one REST send). */
export function isSend(key: string): boolean {
  return SEND_CALLS.has(splitKey(key).name) || key.endsWith(':gmail-send');
}

export function serviceOf(key: string): string {
  if (isGmailCall(key)) return isSend(key) ? 'Gmail send' : 'Gmail';
  if (isSheetCall(key)) return 'Sheets';
  const name = splitKey(key).name;
  if (name.startsWith('Properties')) return 'Properties';
  if (name.startsWith('Lock')) return 'Lock';
  if (name.startsWith('UrlFetchApp') || name.startsWith('HTTPResponse')) return 'UrlFetch';
  if (name.startsWith('Cache')) return 'Cache';
  return 'in-process';
}

export function sumWhere(calls: Record<string, number>, keep: (key: string) => boolean): number {
  let total = 0;
  for (const [key, count] of Object.entries(calls)) if (keep(key)) total += count;
  return total;
}

/** Modelled time of a run's calls (without start-up and size term), ms. */
export function callTermMs(calls: Record<string, number>, band: LatencyBand): number {
  let total = 0;
  for (const [key, count] of Object.entries(calls)) {
    const { name, variant } = splitKey(key);
    total += count * band.scale(latencyOf(name, variant));
  }
  return total;
}

export function sizeTermMs(extraCells: number, band: LatencyBand): number {
  return extraCells * band.scale(SIZE_TERM_MS_PER_CELL);
}

export function startMs(band: LatencyBand): number {
  return band.scale(latencyOf('Execution.start'));
}

export interface LinearFit {
  intercept: number;
  slope: number;
  points: number;
}

/** Least-squares line y = intercept + slope * x. */
export function fitLine(points: { x: number; y: number }[]): LinearFit {
  const n = points.length;
  if (n === 0) return { intercept: 0, slope: 0, points: 0 };
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - meanX) ** 2;
    sxy += (p.x - meanX) * (p.y - meanY);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { intercept: meanY - slope * meanX, slope, points: n };
}

export interface BandModel {
  band: string;
  /** Per-run cost that does not depend on the messages in the run, ms (fitted intercept). */
  fixedMs: number;
  /** Cost of each further message in a run, ms (fitted slope). */
  perMessageMs: number;
  /** Size term of the Sheet reads at the end of the workload, per run, ms. */
  sizeTermMs: number;
  /** Start-up charged once per run, ms. */
  startMs: number;
  /** Messages one six-minute run can process: (360 s - start - fixed - size) / per message. */
  messagesPerSixMinuteRun: number;
}

/**
 * Fits the modelled call time of the busy runs against their message counts in every band, and
 * derives the messages a six-minute run can take with the Sheet as large as `extraCellsPerRun`
 * makes it.
 */
export function modelRuns(runs: RunRecord[], extraCellsPerRun: number): BandModel[] {
  const busy = runs.filter((run) => run.messages > 0);
  return BANDS.map((band) => {
    const fit = fitLine(busy.map((run) => ({ x: run.messages, y: callTermMs(run.calls, band) })));
    const size = sizeTermMs(extraCellsPerRun, band);
    const start = startMs(band);
    const room = EXECUTION_LIMIT_MS - start - fit.intercept - size;
    const messages = fit.slope <= 0 ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(room / fit.slope));
    return { band: band.name, fixedMs: fit.intercept, perMessageMs: fit.slope, sizeTermMs: size, startMs: start, messagesPerSixMinuteRun: messages };
  });
}

/** Modelled wall time of one run in the table band, start-up and size term included, ms. */
export function runTimeMs(run: RunRecord): number {
  const band = BANDS[0]!;
  return startMs(band) + callTermMs(run.calls, band) + sizeTermMs(run.extraCells, band);
}
