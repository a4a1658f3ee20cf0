/**
 * Summaries of one emulated processor run over a workload: calls per message by service and
 * method, Sheet calls per run and their growth, idle-run cost and the modelled run time.
 */
import type { EmulationResult, RunRecord } from './emulated';
import {
  fitLine,
  isGmailCall,
  isRoundTrip,
  isSend,
  isSheetCall,
  modelRuns,
  runTimeMs,
  serviceOf,
  sumWhere,
  type BandModel,
} from './model';

export interface SheetRunStats {
  min: number;
  median: number;
  mean: number;
  max: number;
  /** Least-squares growth of Sheet calls per further message in a run. */
  perMessageSlope: number;
  /** Mean Sheet calls of the busy runs by the number of messages in them. */
  byRunSize: Record<string, { runs: number; mean: number }>;
}

export interface ProcessorSummary {
  processor: string;
  messages: number;
  busyRuns: number;
  idleRuns: number;
  /** Counted calls of the busy runs, by name. */
  callsByName: Record<string, number>;
  /** Busy-run calls per handled message, by name (only names with a count). */
  callsPerMessage: Record<string, number>;
  /** Busy-run calls per handled message, by service. */
  callsPerMessageByService: Record<string, number>;
  totals: {
    /** Every counted call, busy and idle runs. */
    allCalls: number;
    /** Calls that reach a service (no handle getters or in-process helpers), busy and idle runs. */
    roundTrips: number;
    busyRoundTrips: number;
  };
  /** Gmail reads and label changes (no sends) in busy runs per handled message. */
  gmailCallsPerMessage: number;
  /** Messages sent per handled message, whether through Gmail.Users.Messages.send or REST requests. */
  sendsPerMessage: number;
  /** Calls that carry sends per handled message (a UrlFetchApp.fetchAll carries many). */
  sendCallsPerMessage: number;
  /** Requests inside UrlFetchApp calls in busy runs, by Gmail REST method, per handled message. */
  restRequestsPerMessage: Record<string, number>;
  /** Largest day's UrlFetchApp requests; each request of a fetchAll counts against the daily quota. */
  urlFetchRequestsMaxPerDay: number;
  sheetCallsPerRun: SheetRunStats;
  /** Cells read by getValues per busy run over the last tenth of the runs (the Sheet at its largest). */
  cellsReadPerRunAtEnd: number;
  extraCellsPerRunAtEnd: number;
  idle: {
    runs: number;
    /** Idle runs by their number of counted calls. */
    callsPerRun: Record<string, number>;
    /** Idle runs by their number of round trips. */
    roundTripsPerRun: Record<string, number>;
    maxRoundTrips: number;
    callsByName: Record<string, number>;
  };
  model: BandModel[];
  largestRun: { messages: number; found: number; status: string; reason: string; modelledMs: number; emulatedMs: number };
  wallSeconds: number;
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function runSizeBucket(messages: number): string {
  if (messages <= 1) return '1';
  if (messages <= 3) return '2-3';
  if (messages <= 10) return '4-10';
  if (messages <= 50) return '11-50';
  return '51+';
}

function sheetStats(runs: RunRecord[]): SheetRunStats {
  const busy = runs.filter((run) => run.messages > 0);
  const counts = busy.map((run) => sumWhere(run.calls, isSheetCall));
  const buckets: Record<string, { runs: number; total: number }> = {};
  busy.forEach((run, i) => {
    const bucket = (buckets[runSizeBucket(run.messages)] ??= { runs: 0, total: 0 });
    bucket.runs++;
    bucket.total += counts[i]!;
  });
  const fit = fitLine(busy.map((run, i) => ({ x: run.messages, y: counts[i]! })));
  return {
    min: counts.length === 0 ? 0 : Math.min(...counts),
    median: median(counts),
    mean: counts.reduce((sum, count) => sum + count, 0) / Math.max(1, counts.length),
    max: counts.length === 0 ? 0 : Math.max(...counts),
    perMessageSlope: fit.slope,
    byRunSize: Object.fromEntries(
      ['1', '2-3', '4-10', '11-50', '51+']
        .filter((name) => buckets[name] !== undefined)
        .map((name) => [name, { runs: buckets[name]!.runs, mean: buckets[name]!.total / buckets[name]!.runs }]),
    ),
  };
}

export function summarize(result: EmulationResult): ProcessorSummary {
  const calls: Record<string, number> = {};
  for (const run of result.busyRuns) for (const [key, count] of Object.entries(run.calls)) calls[key] = (calls[key] ?? 0) + count;
  const messages = result.busyRuns.reduce((sum, run) => sum + run.messages, 0);
  const per = (count: number) => count / Math.max(1, messages);
  const requests: Record<string, number> = {};
  const requestsByDay = new Map<number, number>();
  for (const run of result.busyRuns) {
    for (const [method, count] of Object.entries(run.requests)) {
      requests[method] = (requests[method] ?? 0) + count;
      const day = Math.floor(run.time / 86_400_000);
      requestsByDay.set(day, (requestsByDay.get(day) ?? 0) + count);
    }
  }
  const directSends = sumWhere(calls, (key) => isSend(key) && !key.startsWith('UrlFetchApp.'));

  const byService: Record<string, number> = {};
  for (const [key, count] of Object.entries(calls)) byService[serviceOf(key)] = (byService[serviceOf(key)] ?? 0) + per(count);

  const tail = result.busyRuns.slice(Math.floor(result.busyRuns.length * 0.9));
  const cellsAtEnd = tail.reduce((sum, run) => sum + run.cellsRead, 0) / Math.max(1, tail.length);
  const extraAtEnd = tail.reduce((sum, run) => sum + run.extraCells, 0) / Math.max(1, tail.length);
  const largest = result.busyRuns.reduce<RunRecord | undefined>(
    (best, run) => (best === undefined || run.messages > best.messages ? run : best),
    undefined,
  );
  const idleTotal = sumWhere(result.idle.calls, () => true);

  return {
    processor: result.processor,
    messages,
    busyRuns: result.busyRuns.length,
    idleRuns: result.idle.runs,
    callsByName: calls,
    callsPerMessage: Object.fromEntries(Object.entries(calls).map(([key, count]) => [key, per(count)])),
    callsPerMessageByService: byService,
    totals: {
      allCalls: sumWhere(calls, () => true) + idleTotal,
      roundTrips: sumWhere(calls, isRoundTrip) + sumWhere(result.idle.calls, isRoundTrip),
      busyRoundTrips: sumWhere(calls, isRoundTrip),
    },
    gmailCallsPerMessage: per(sumWhere(calls, (key) => isGmailCall(key) && !isSend(key) && isRoundTrip(key))),
    sendsPerMessage: per(directSends + (requests['messages.send'] ?? 0)),
    sendCallsPerMessage: per(sumWhere(calls, isSend)),
    restRequestsPerMessage: Object.fromEntries(Object.entries(requests).map(([method, count]) => [method, per(count)])),
    urlFetchRequestsMaxPerDay: Math.max(0, ...requestsByDay.values()),
    sheetCallsPerRun: sheetStats(result.busyRuns),
    cellsReadPerRunAtEnd: cellsAtEnd,
    extraCellsPerRunAtEnd: extraAtEnd,
    idle: {
      runs: result.idle.runs,
      callsPerRun: Object.fromEntries(Object.entries(result.idle.callsPerRun).map(([key, runs]) => [key, runs])),
      roundTripsPerRun: Object.fromEntries(Object.entries(result.idle.roundTripsPerRun)),
      maxRoundTrips: Math.max(0, ...Object.keys(result.idle.roundTripsPerRun).map(Number)),
      callsByName: result.idle.calls,
    },
    model: modelRuns(result.busyRuns, extraAtEnd),
    largestRun: {
      messages: largest?.messages ?? 0,
      found: largest?.found ?? 0,
      status: largest?.status ?? '',
      reason: largest?.reason ?? '',
      modelledMs: largest === undefined ? 0 : runTimeMs(largest),
      emulatedMs: largest?.emulatedMs ?? 0,
    },
    wallSeconds: result.wallMs / 1000,
  };
}
