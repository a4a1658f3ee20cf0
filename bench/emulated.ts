/**
 * Runs a workload through a processor under the emulated Apps Script services, as the
 * one-minute trigger would over the simulated days: the messages of each minute are delivered,
 * then one run starts (none during an outage). Every service call of every run is counted by
 * name (with the Gmail `format` as a variant), with the cells each getValues call read.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProject, PROJECTS } from '../scripts/build';
import { messageKey } from '../src/core/compose';
import { PROPERTY } from '../src/gas/properties';
import { DIGEST_WAIT } from '../src/core/budget';
import { agentToRow, rowToMessage, TAB } from '../src/core/sheet';
import { createAppsScript, type AppsScript } from '../tests/gas/emulator';
import { addresses, headerValue } from '../tests/gas/emulator/message-headers';
import { loadBundle } from '../tests/gas/load-bundle';
import { BASELINE_LABEL, baselineProcessInbox, setupBaseline } from './baseline';
import { speedUpMailbox } from './emulator-speed';
import { SIZE_TERM_FREE_CELLS } from './latency';
import { isRoundTrip, sumWhere } from './model';
import type { Workload } from './workload';

export type ProcessorName = 'plusdesk' | 'baseline';

export interface EmulationOptions {
  processor: ProcessorName;
  /** Set the team group address in Settings (plusdesk only). */
  teamAddress: boolean;
  /** Process only the messages that arrive before this time (a slice of the workload). */
  until?: number;
  /** Code.js of the processor to load; built from the work tree when missing. */
  bundlePath?: string;
  /** Index the emulated mailbox (see emulator-speed.ts); true by default. */
  indexMailbox?: boolean;
  /** Called after each simulated day with the number of messages delivered so far. */
  onDay?: (day: number, delivered: number) => void;
}

/** One trigger run. */
export interface RunRecord {
  time: number;
  /** Messages the run handled (processed, skipped, held or quarantined). */
  messages: number;
  found: number;
  status: string;
  /** Reason the processor gave for stopping before the end of its mail; '' when it did not stop early. */
  reason: string;
  /** Calls by name; Gmail reads carry their format, e.g. `Gmail.Users.Messages.get:raw`. */
  calls: Record<string, number>;
  /** Cells beyond the free 1,000 in each read call (getValues, Sheets API gets), summed (for the size term). */
  extraCells: number;
  /** Requests inside UrlFetchApp calls by Gmail REST method (`messages.send`, `messages.get`), or `other`. */
  requests: Record<string, number>;
  cellsRead: number;
  /** Wall time of the run by the emulator's own latency table, ms. */
  emulatedMs: number;
}

/** A message sent by the processor, read back from the mailbox. */
export interface SentRecord {
  time: number;
  key: string;
  event: string;
  ticket: number;
  recipients: string[];
}

export interface DigestedRecord {
  /** Key of the notification that waited. */
  key: string;
  recipients: string[];
  /** True once a digest carried it. */
  sent: boolean;
}

export interface EmulationResult {
  processor: ProcessorName;
  teamAddress: boolean;
  delivered: number;
  busyRuns: RunRecord[];
  idle: {
    runs: number;
    calls: Record<string, number>;
    /** Idle runs by their number of counted calls. */
    callsPerRun: Record<number, number>;
    /** Idle runs by their number of calls that reach a service. */
    roundTripsPerRun: Record<number, number>;
  };
  /** Index of the busy run that handled each delivered message, by workload index. */
  handledIn: number[];
  /** Each star's index in `busyRuns` order: the first busy run at or after it was applied. */
  starAppliedBeforeRun: number[];
  sent: SentRecord[];
  /** Rows of the Sheet tabs at the end. */
  sheetRows: Record<string, number>;
  /** Notifications that waited for the hourly digest, from the Messages tab (plusdesk only). */
  digested: DigestedRecord[];
  /** System rows saying that notifications switched to the digest. */
  digestNotices: number;
  wallMs: number;
}

const MINUTE = 60_000;

let bundleCode: Promise<string> | undefined;

/**
 * Returns the processor bundle: the file at `path` when given (so that every job of one bench
 * run uses the same build), else a build made once per process in a temporary folder.
 */
export function processorBundle(path?: string): Promise<string> {
  if (path !== undefined) return Promise.resolve(readFileSync(path, 'utf8'));
  bundleCode ??= (async () => {
    const out = mkdtempSync(join(tmpdir(), 'plusdesk-bench-build-'));
    try {
      return await buildProject(PROJECTS.find((project) => project.name === 'processor')!, out);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  })();
  return bundleCode;
}

type FetchRequest = string | { url: string; method?: string };

/** The Gmail REST method of a request URL, such as `messages.send`; `other` for any other URL. */
export function restMethod(request: FetchRequest): string {
  const url = typeof request === 'string' ? request : request.url;
  const match = /\/gmail\/v1\/users\/[^/]+\/(\w+)(?:\/([^/?]+))?(?:\/(\w+))?/.exec(url);
  if (match === null) return 'other';
  const [, collection, second, third] = match;
  if (third !== undefined) return `${collection}.${third}`;
  if (second === undefined) return `${collection}.list`;
  return ['send', 'batchModify', 'import', 'insert'].includes(second!) ? `${collection}.${second}` : `${collection}.get`;
}

/**
 * Returns the variant a UrlFetchApp call is counted under: `gmail-send` when it carries sends,
 * `gmail-read` for other Gmail REST requests, `other` otherwise.
 */
function fetchVariant(methods: string[]): string {
  if (methods.some((method) => method === 'messages.send')) return 'gmail-send';
  if (methods.length > 0 && methods.every((method) => method !== 'other')) return 'gmail-read';
  return 'other';
}

/** Cells in a returned grid: rows of values, each possibly shorter than the widest. */
function gridCells(rows: unknown): number {
  if (!Array.isArray(rows)) return 0;
  let cells = 0;
  for (const row of rows) cells += Array.isArray(row) ? row.length : 0;
  return cells;
}

/** Cells a read call returned: Range.getValues, or the Sheets API's values.get and batchGet. */
function cellsOf(name: string, result: unknown): number {
  if (name === 'Range.getValues' || name === 'Range.getDisplayValues') return gridCells(result);
  if (result === null || typeof result !== 'object') return 0;
  if (name === 'Sheets.Spreadsheets.Values.get') return gridCells((result as { values?: unknown }).values);
  if (name === 'Sheets.Spreadsheets.Values.batchGet') {
    const ranges = (result as { valueRanges?: { values?: unknown }[] }).valueRanges ?? [];
    return ranges.reduce((sum, range) => sum + gridCells(range.values), 0);
  }
  return 0;
}

/** Counts every call with its variant, the cells read calls return and the requests of UrlFetchApp calls. */
class CallCounter {
  calls: Record<string, number> = {};
  cellsRead = 0;
  extraCells = 0;
  requests: Record<string, number> = {};
  private fetchVariant: string | undefined;

  constructor(gas: AppsScript) {
    const urlFetch = gas.globals.UrlFetchApp;
    const fetchAll = urlFetch.fetchAll.bind(urlFetch);
    const fetchOne = urlFetch.fetch.bind(urlFetch);
    const noteRequests = (requests: FetchRequest[]) => {
      const methods = requests.map(restMethod);
      for (const method of methods) this.requests[method] = (this.requests[method] ?? 0) + 1;
      this.fetchVariant = fetchVariant(methods);
    };
    urlFetch.fetchAll = ((requests: FetchRequest[]) => {
      noteRequests(requests);
      try {
        return fetchAll(requests as Parameters<typeof fetchAll>[0]);
      } finally {
        this.fetchVariant = undefined;
      }
    }) as typeof urlFetch.fetchAll;
    urlFetch.fetch = ((url: string, params?: { method?: string }) => {
      noteRequests([{ url, ...(params?.method === undefined ? {} : { method: params.method }) }]);
      try {
        return fetchOne(url, params as Parameters<typeof fetchOne>[1]);
      } finally {
        this.fetchVariant = undefined;
      }
    }) as typeof urlFetch.fetch;

    const runtime = gas.runtime;
    const track = runtime.track.bind(runtime);
    runtime.track = ((name: string, action: () => unknown, options: { variant?: string; latencyMs?: number } = {}) => {
      const variant = name.startsWith('UrlFetchApp.fetch') ? this.fetchVariant : options.variant;
      const key = variant === undefined ? name : `${name}:${variant}`;
      this.calls[key] = (this.calls[key] ?? 0) + 1;
      const result = track(name, action, options);
      const cells = cellsOf(name, result);
      this.cellsRead += cells;
      this.extraCells += Math.max(0, cells - SIZE_TERM_FREE_CELLS);
      return result;
    }) as typeof runtime.track;
  }

  /** Returns the counts since the last call and starts new ones. */
  take(): { calls: Record<string, number>; cellsRead: number; extraCells: number; requests: Record<string, number> } {
    const taken = { calls: this.calls, cellsRead: this.cellsRead, extraCells: this.extraCells, requests: this.requests };
    this.calls = {};
    this.cellsRead = 0;
    this.extraCells = 0;
    this.requests = {};
    return taken;
  }
}

function totalCalls(calls: Record<string, number>): number {
  let total = 0;
  for (const count of Object.values(calls)) total += count;
  return total;
}

function addCalls(into: Record<string, number>, calls: Record<string, number>): void {
  for (const [name, count] of Object.entries(calls)) into[name] = (into[name] ?? 0) + count;
}

/** Writes the Team tab and, when asked, the team group address, as an admin would after setup(). */
function configureDesk(gas: AppsScript, workload: Workload, teamAddress: boolean): void {
  const sheetId = gas.properties.script.get(PROPERTY.sheetId)!;
  const spreadsheet = gas.globals.SpreadsheetApp.openById(sheetId);
  const team = spreadsheet.getSheetByName(TAB.team)!;
  team.getRange(2, 1, workload.agents.length, 4).setValues(workload.agents.map(agentToRow));
  if (teamAddress) {
    const settings = spreadsheet.getSheetByName(TAB.settings)!;
    const rows = settings.getRange(2, 1, settings.getLastRow() - 1, 2).getValues();
    const index = rows.findIndex((row) => String(row[0]) === 'Team group address');
    if (index < 0) throw new Error('The Settings tab has no "Team group address" row after setup()');
    settings.getRange(index + 2, 2).setValue(workload.teamAddress);
  }
}

/** Adds an agent to a ticket's Followers cell, as the sidebar's star button does. */
class Stars {
  private rowOf = new Map<number, number>();
  private scanned = 1;

  constructor(
    private readonly gas: AppsScript,
    private readonly sheetId: string,
  ) {}

  apply(ticket: number, agent: string): boolean {
    const sheet = this.gas.spreadsheets.sheet(this.sheetId, TAB.tickets);
    const last = sheet.lastRow();
    for (; this.scanned < last; this.scanned++) {
      const number = sheet.cell(this.scanned + 1, 1)?.value;
      if (typeof number === 'number') this.rowOf.set(number, this.scanned + 1);
    }
    const row = this.rowOf.get(ticket);
    if (row === undefined) return false;
    const cell = sheet.ensure(row, 9);
    const current = String(cell.value ?? '').trim();
    if (!current.split(/[\s,]+/).includes(agent)) cell.value = current === '' ? agent : `${current}, ${agent}`;
    return true;
  }
}

/** Reads every message the processor sent back from the mailbox. */
function collectSent(gas: AppsScript): SentRecord[] {
  const sent: SentRecord[] = [];
  for (const message of gas.mailbox.newestFirst()) {
    if (!message.labelIds.has('SENT')) continue;
    const recipients = ['To', 'Cc', 'Bcc'].flatMap((name) => addresses(headerValue(message.headers, name)));
    sent.push({
      time: message.internalDate,
      key: headerValue(message.headers, 'X-Plusdesk-Key') ?? '',
      event: headerValue(message.headers, 'X-Plusdesk-Event') ?? '',
      ticket: Number(headerValue(message.headers, 'X-Plusdesk-Ticket') ?? 0),
      recipients: recipients.map((address) => address.toLowerCase()),
    });
  }
  return sent.reverse();
}

/** Returns the key plusdesk gives the notification of an inbound message. */
export function notificationKey(messageId: string): string {
  return messageKey('notification', messageId, []);
}

export async function emulate(workload: Workload, options: EmulationOptions): Promise<EmulationResult> {
  const wallStart = performance.now();
  const gas = createAppsScript({ user: workload.supportAddress, start: new Date(workload.start - 60 * MINUTE) });
  if (options.indexMailbox ?? true) speedUpMailbox(gas.mailbox);
  const agents = workload.agents.map((agent) => agent.email);
  const ownLabel = options.processor === 'plusdesk' ? 'plusdesk/' : BASELINE_LABEL;

  let runProcessor: () => Promise<{ status: string; found: number; handled: number; reason?: string }>;
  let sheetId: string;
  if (options.processor === 'plusdesk') {
    const bundle = loadBundle(await processorBundle(options.bundlePath), gas.globals, { filename: 'processor/Code.js' });
    await gas.execution('setup', () => bundle.call('setup'));
    gas.properties.script.set(PROPERTY.secret, workload.secret);
    configureDesk(gas, workload, options.teamAddress);
    // The first run finds no history id and stores the current one.
    await gas.execution('processInbox', () => bundle.call('processInbox'));
    sheetId = gas.properties.script.get(PROPERTY.sheetId)!;
    runProcessor = async () =>
      (await gas.execution('processInbox', () => bundle.call('processInbox'))) as {
        status: string;
        found: number;
        handled: number;
      };
  } else {
    await gas.execution('setup', () => setupBaseline(gas.globals));
    sheetId = gas.properties.script.get('BASELINE_SHEET_ID')!;
    const baselineOptions = { supportAddress: workload.supportAddress, agents, now: () => gas.clock.now() };
    runProcessor = () => gas.execution('processInbox', () => baselineProcessInbox(gas.globals, baselineOptions));
  }
  const counter = new CallCounter(gas);
  counter.take();
  const stars = new Stars(gas, sheetId);

  const until = options.until ?? Number.POSITIVE_INFINITY;
  const messages = workload.messages.filter((message) => message.time < until);
  const last = messages[messages.length - 1]?.time ?? workload.start;
  // Past the last message, runs go on long enough to send the notifications waiting for a digest.
  const end = Math.floor(last / MINUTE) * MINUTE + 90 * MINUTE;

  const busyRuns: RunRecord[] = [];
  const idle: EmulationResult['idle'] = { runs: 0, calls: {}, callsPerRun: {}, roundTripsPerRun: {} };
  const handledIn: number[] = new Array<number>(messages.length).fill(-1);
  const starAppliedBeforeRun: number[] = new Array<number>(workload.stars.length).fill(-1);
  const pending: { index: number; id: string }[] = [];
  const pendingStars: number[] = [];
  let nextMessage = 0;
  let nextStar = 0;
  let day = 0;

  for (let minute = Math.floor(workload.start / MINUTE) * MINUTE; minute < end; minute += MINUTE) {
    const minuteEnd = minute + MINUTE;
    while (nextMessage < messages.length && messages[nextMessage]!.time < minuteEnd) {
      const message = messages[nextMessage]!;
      if (gas.clock.now() < message.time) gas.clock.advance(message.time - gas.clock.now());
      const { id } = gas.mailbox.deliver(message.raw);
      pending.push({ index: message.index, id });
      nextMessage++;
    }
    while (nextStar < workload.stars.length && workload.stars[nextStar]!.time < minuteEnd) {
      pendingStars.push(nextStar++);
    }
    if (workload.outages.some((outage) => minuteEnd > outage.start && minuteEnd <= outage.end)) continue;
    if (gas.clock.now() < minuteEnd) gas.clock.advance(minuteEnd - gas.clock.now());

    // Stars of tickets the processor has already written take effect before this run.
    for (let i = pendingStars.length - 1; i >= 0; i--) {
      const star = workload.stars[pendingStars[i]!]!;
      if (stars.apply(star.ticket, star.agent)) {
        starAppliedBeforeRun[pendingStars[i]!] = busyRuns.length;
        pendingStars.splice(i, 1);
      }
    }

    const before = gas.clock.now();
    const summary = await runProcessor();
    const runCalls = counter.take();
    if (summary.status === 'idle') {
      idle.runs++;
      addCalls(idle.calls, runCalls.calls);
      const total = totalCalls(runCalls.calls);
      idle.callsPerRun[total] = (idle.callsPerRun[total] ?? 0) + 1;
      const trips = sumWhere(runCalls.calls, isRoundTrip);
      idle.roundTripsPerRun[trips] = (idle.roundTripsPerRun[trips] ?? 0) + 1;
    } else {
      busyRuns.push({
        time: before,
        messages: summary.handled,
        found: summary.found,
        status: summary.status,
        reason: summary.reason ?? (summary.status === 'partial' ? 'time budget used up' : ''),
        calls: runCalls.calls,
        extraCells: runCalls.extraCells,
        requests: runCalls.requests,
        cellsRead: runCalls.cellsRead,
        emulatedMs: gas.clock.now() - before,
      });
      for (let i = pending.length - 1; i >= 0; i--) {
        const item = pending[i]!;
        if (gas.mailbox.labelsOf(item.id).some((label) => label.startsWith(ownLabel))) {
          handledIn[item.index] = busyRuns.length - 1;
          pending.splice(i, 1);
        }
      }
    }
    if (minuteEnd - workload.start >= (day + 1) * 24 * 60 * MINUTE) options.onDay?.(++day, nextMessage);
  }

  const digested: DigestedRecord[] = [];
  let digestNotices = 0;
  if (options.processor === 'plusdesk') {
    for (const row of gas.spreadsheets.values(sheetId, TAB.messages).slice(1)) {
      const record = rowToMessage(row.map((cell) => (cell instanceof Date ? cell.toISOString() : cell)));
      if (record.kind === 'system' && record.reason.startsWith('Notifications to agents now wait')) digestNotices++;
      if (record.kind !== 'notification' || !record.reason.includes(DIGEST_WAIT)) continue;
      const recipients = record.author.split(',').map((email) => email.trim().toLowerCase()).filter((email) => email !== '');
      digested.push({ key: record.key, recipients, sent: record.state === 'sent' });
    }
  }

  const sheetRows: Record<string, number> = {};
  const names = gas.spreadsheets.sheetNames(sheetId);
  for (const name of names) sheetRows[name] = Math.max(0, gas.spreadsheets.sheet(sheetId, name).lastRow() - 1);

  return {
    processor: options.processor,
    teamAddress: options.teamAddress,
    delivered: messages.length,
    busyRuns,
    idle,
    handledIn,
    starAppliedBeforeRun,
    sent: collectSent(gas),
    sheetRows,
    digested,
    digestNotices,
    wallMs: performance.now() - wallStart,
  };
}
