/**
 * The benchmark's targets, each checked against the measured numbers: PASS, FAIL, or not run.
 */
import type { JobResult } from './job';
import type { LocalResult } from './local';
import { EXECUTION_LIMIT_MS, sizeTermMs } from './model';
import { BANDS } from './latency';
import { DEFAULT_DAILY_RECIPIENT_LIMIT } from '../src/core/sheet';

export interface CardResult {
  tickets: number;
  notificationSheetCalls: number;
  notificationByName: Record<string, number>;
  notATicketSheetCalls: number;
}

export interface Target {
  name: string;
  /** null when the measurement was not run (for example under --quick). */
  pass: boolean | null;
  value: string;
}

export interface TargetInput {
  jobs: Map<string, JobResult>;
  local: Record<string, LocalResult>;
  card: CardResult;
  quick: boolean;
}

const whole = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'inf');
const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'inf');

/**
 * Messages per six-minute run when every Sheet read is `scale` times as large as at the end of
 * the workload (all of it charged to the size term, an upper estimate of the extra cells).
 */
function messagesAtScale(job: JobResult, scale: number): number[] {
  return job.summary.model.map((band, index) => {
    const size = sizeTermMs(job.summary.cellsReadPerRunAtEnd * scale, BANDS[index]!);
    const room = EXECUTION_LIMIT_MS - band.startMs - band.fixedMs - size;
    return band.perMessageMs <= 0 ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(room / band.perMessageMs));
  });
}

export function evaluateTargets(input: TargetInput): Target[] {
  const { jobs, local, card } = input;
  const ten = jobs.get('10k-plusdesk')!;
  const tenBaseline = jobs.get('10k-baseline')!;
  const teamRun = jobs.get('1k-plusdesk-team-address')!;
  const oneK = jobs.get('1k-plusdesk')!;
  const s = ten.summary;
  const targets: Target[] = [];

  targets.push({
    name: 'Gmail calls per inbound message (reads and labels) <= 2, plus the sends',
    pass: s.gmailCallsPerMessage <= 2,
    value: `${fixed(s.gmailCallsPerMessage)} per message, plus ${fixed(s.sendsPerMessage)} sends in ${fixed(s.sendCallsPerMessage)} calls per message; REST requests per message ${Object.entries(s.restRequestsPerMessage)
      .map(([method, count]) => `${method} ${fixed(count)}`)
      .join(', ') || 'none'} (10k)`,
  });

  const sheet = s.sheetCallsPerRun;
  const buckets = Object.entries(sheet.byRunSize)
    .map(([size, bucket]) => `${size} msgs: ${fixed(bucket.mean, 1)}`)
    .join(', ');
  targets.push({
    name: 'Sheet calls per run do not grow with the messages in the run',
    pass: sheet.perMessageSlope < 0.1,
    value: `slope ${fixed(sheet.perMessageSlope, 3)} calls per extra message; mean by run size ${buckets}; cells read per run at the end ${whole(s.cellsReadPerRunAtEnd)} (10k)`,
  });

  const bands = s.model.map((band) => whole(band.messagesPerSixMinuteRun));
  const at100k = messagesAtScale(ten, 10).map(whole);
  // A run that stopped early for a reason other than time cannot take more, whatever the model allows.
  const largest = s.largestRun;
  const capped = largest.status === 'partial' && !/time/i.test(largest.reason) && largest.messages < 1000;
  targets.push({
    name: '>= 1,000 messages in one modelled six-minute run',
    pass: s.model[0]!.messagesPerSixMinuteRun >= 1000 && !capped,
    value: `${bands[0]} by time (x0.5 ${bands[1]}, x2 ${bands[2]}, E x2 ${bands[3]}) at the 10k Sheet; ${at100k[0]} (x0.5 ${at100k[1]}, x2 ${at100k[2]}) with a 100k Sheet's read size (extrapolated); but the largest emulated run (a backlog of ${largest.found}) handled ${largest.messages} msgs in ${whole(largest.modelledMs / 1000)} s modelled, ${largest.status}${largest.reason === '' ? '' : `: "${largest.reason}"`}`,
  });

  const idle = s.idle;
  const distribution = Object.entries(idle.roundTripsPerRun)
    .map(([trips, runs]) => `${trips} trips: ${runs} runs`)
    .join(', ');
  const counted = Object.entries(idle.callsPerRun)
    .map(([calls, runs]) => `${calls}: ${runs}`)
    .join(', ');
  targets.push({
    name: 'An idle run costs <= 2 service calls',
    pass: idle.maxRoundTrips <= 2,
    value: `max ${idle.maxRoundTrips} round trips (${distribution}); counted calls incl. handles ${counted} (10k)`,
  });

  targets.push({
    name: 'Ticket card opens in <= 3 Sheet calls at 100,000 tickets',
    pass: card.notificationSheetCalls <= 3,
    value: `${card.notificationSheetCalls} Sheet calls`,
  });

  const newTicket = teamRun.newTicket;
  targets.push({
    name: 'New-ticket notifications cost one recipient with a team group address',
    pass: newTicket.notifications > 0 && newTicket.singleRecipient === newTicket.notifications,
    value: `${newTicket.singleRecipient} of ${newTicket.notifications} to one recipient (largest ${newTicket.maxRecipients}); without: ${oneK.newTicket.maxRecipients} recipients each (1k, measured)`,
  });

  const ratio = tenBaseline.summary.totals.roundTrips / Math.max(1, s.totals.roundTrips);
  const ratioAll = tenBaseline.summary.totals.allCalls / Math.max(1, s.totals.allCalls);
  const busyRatio = tenBaseline.summary.totals.busyRoundTrips / Math.max(1, s.totals.busyRoundTrips);
  targets.push({
    name: '>= 10x fewer service calls than the baseline',
    pass: ratio >= 10,
    value: `baseline/plusdesk ${fixed(ratio)}x round trips (${whole(tenBaseline.summary.totals.roundTrips)} / ${whole(s.totals.roundTrips)}); ${fixed(busyRatio)}x in busy runs; ${fixed(ratioAll)}x all counted calls (10k)`,
  });

  const withDigest = Math.min(...ten.agents.map((agent) => agent.reduction));
  const routed = ten.agents.map((agent) => agent.routedReduction);
  // Every agent gets every new-ticket notification, so the routing table can save at most the rest.
  const ceiling = Math.min(...ten.agents.map((agent) => 1 - agent.newTicketPerDay / agent.copiedPerDay));
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  targets.push({
    name: 'Each agent gets >= 80% fewer emails than everyone-copied and misses none',
    pass: Math.min(...routed) >= 0.8 && ten.misses.missesByRoutingTable === 0,
    value: `without the digest ${percent(Math.min(...routed))}-${percent(Math.max(...routed))}, at most ${percent(ceiling)} while each new ticket notifies the whole team; with the digest ${percent(withDigest)}; missed by the routing table ${ten.misses.missesByRoutingTable} of ${ten.misses.checked} messages, ${ten.misses.inDigest} agent-messages came in a digest; counting assignees and last repliers of replies and comments too, ${ten.misses.misses} missed (${Object.entries(ten.misses.missesByKind)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ') || 'none'}) (10k)`,
  });

  const quota = DEFAULT_DAILY_RECIPIENT_LIMIT;
  const largestDay = ten.recipients.asSent.maxTotal;
  const digest = ten.digest;
  targets.push({
    name: 'Near the daily recipient quota, notifications switch to a digest that the Sheet records',
    pass: largestDay <= quota && (digest.waited === 0 || digest.notices > 0),
    value: `largest day ${whole(largestDay)} recipients of ${whole(quota)}; ${whole(digest.waited)} notifications waited (${whole(digest.carried)} sent in ${whole(digest.digestsSent)} digests), ${digest.notices} notice${digest.notices === 1 ? '' : 's'} in the Messages tab (10k, no team address)`,
  });

  const small = local['10k'];
  const large = local['100k'];
  if (small === undefined || large === undefined) {
    targets.push({ name: 'Local runtime at 100k within 1.5x of 10k (time per message, peak memory)', pass: null, value: 'not run (--quick)' });
  } else {
    const timeRatio = large.msPerMessage / small.msPerMessage;
    const memoryRatio = large.peakRssBytes / small.peakRssBytes;
    const beforeSaveRatio = large.peakRssBeforeSaveBytes / small.peakRssBeforeSaveBytes;
    targets.push({
      name: 'Local runtime at 100k within 1.5x of 10k (time per message, peak memory)',
      pass: timeRatio <= 1.5 && memoryRatio <= 1.5,
      value:
        `ms/msg ${fixed(small.msPerMessage, 3)} -> ${fixed(large.msPerMessage, 3)} (${fixed(timeRatio)}x); ` +
        `peak RSS ${megabytes(small.peakRssBytes)} -> ${megabytes(large.peakRssBytes)} MB (${fixed(memoryRatio)}x); ` +
        `before the final save ${megabytes(small.peakRssBeforeSaveBytes)} -> ${megabytes(large.peakRssBeforeSaveBytes)} MB ` +
        `(${fixed(beforeSaveRatio)}x); medians of ${small.runs} and ${large.runs} runs`,
    });
  }

  return targets;
}

function megabytes(bytes: number): string {
  return whole(bytes / 2 ** 20);
}

export function formatTargets(targets: Target[]): string {
  const lines = targets.map((target) => {
    let mark = 'NOT RUN';
    if (target.pass === true) mark = 'PASS';
    if (target.pass === false) mark = 'FAIL';
    return `${mark.padEnd(7)} ${target.name}: ${target.value}`;
  });
  const passed = targets.filter((target) => target.pass === true).length;
  const failed = targets.filter((target) => target.pass === false).length;
  const skipped = targets.filter((target) => target.pass === null).length;
  return ['Targets', ...lines, `Targets met: ${passed} of ${targets.length} (${failed} failed, ${skipped} not run)`].join('\n');
}
