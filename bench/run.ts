/**
 * `npm run bench`: what processing costs in Apps Script service calls and quotas, for plusdesk
 * and for a straightforward baseline, on workloads of 1,000, 10,000 and 100,000 messages; and
 * the local runtime's speed and memory. Prints tables, writes bench/results.json and checks
 * the targets. `--quick` runs the 1,000 and 10,000 workloads only.
 *
 * Options: --quick, --out FILE (default bench/results.json), --no-index (emulate without the
 * mailbox indexes, slower, same counts).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpus, tmpdir, totalmem } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildProject, PROJECTS } from '../scripts/build';
import type { JobResult, JobSpec } from './job';
import { LATENCY } from './latency';
import { measureLocal, type LocalResult } from './local';
import { QUOTA } from './recipients';
import { countKinds, generateWorkload, MESSAGE_KINDS, MIX } from './workload';
import { formatTargets, evaluateTargets, type CardResult } from './targets';

const here = dirname(fileURLToPath(import.meta.url));
const execFileAsync = promisify(execFile);

export interface WorkloadSpec {
  name: string;
  messages: number;
  days: number;
  seed: number;
  /** Emulate only the first this many days (the whole workload would take too long). */
  emulatedDays?: number;
}

export const WORKLOADS: readonly WorkloadSpec[] = [
  { name: '1k', messages: 1_000, days: 3, seed: 1001 },
  { name: '10k', messages: 10_000, days: 7, seed: 10_001 },
  { name: '100k', messages: 100_000, days: 28, seed: 100_001, emulatedDays: 2 },
];

interface Options {
  quick: boolean;
  out: string;
  indexMailbox: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, out: join(here, 'results.json'), indexMailbox: true };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i]!;
    if (argument === '--quick') options.quick = true;
    else if (argument === '--no-index') options.indexMailbox = false;
    else if (argument === '--out') options.out = argv[++i] ?? options.out;
    else throw new Error(`Unknown option ${argument}: use --quick, --no-index or --out FILE`);
  }
  return options;
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function runJobProcess(spec: JobSpec, dir: string): Promise<JobResult> {
  const specFile = join(dir, `${spec.name}.spec.json`);
  const outFile = join(dir, `${spec.name}.result.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const started = performance.now();
  log(`start ${spec.name}`);
  const child = execFileAsync(process.execPath, ['--import', 'tsx', join(here, 'job.ts'), specFile, outFile], {
    maxBuffer: 64 * 1024 * 1024,
  });
  child.child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  await child;
  log(`done  ${spec.name} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return JSON.parse(readFileSync(outFile, 'utf8')) as JobResult;
}

/** Runs the jobs in order with at most `parallel` child processes at a time. */
async function runJobs(specs: JobSpec[], parallel: number, dir: string): Promise<Map<string, JobResult>> {
  const results = new Map<string, JobResult>();
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!;
      results.set(spec.name, await runJobProcess(spec, dir));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, specs.length) }, worker));
  return results;
}

async function measureCard(): Promise<CardResult> {
  // The card measurement lives with its test; importing it outside vitest registers no tests.
  const { measureCardCalls } = await import('../tests/gas/card-cost.test');
  const notification = await measureCardCalls(100_000, 'notification');
  const other = await measureCardCalls(100_000, 'other');
  return {
    tickets: 100_000,
    notificationSheetCalls: notification.sheetCalls,
    notificationByName: Object.fromEntries(
      Object.entries(notification.byName).filter(([name]) => /^(SpreadsheetApp|Spreadsheet|Sheet|Range|TextFinder|Sheets)\./.test(name)),
    ),
    notATicketSheetCalls: other.sheetCalls,
  };
}

// ---------------------------------------------------------------------------------------------
// Printing

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ');
  return [line(cells[0]!), widths.map((width) => '-'.repeat(width)).join('-|-'), ...cells.slice(1).map(line)].join('\n');
}

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'inf');
const whole = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'inf');
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

function printWorkloads(specs: readonly WorkloadSpec[]): Record<string, unknown> {
  const rows: (string | number)[][] = [];
  const info: Record<string, unknown> = {};
  for (const spec of specs) {
    const workload = generateWorkload({ messages: spec.messages, days: spec.days, seed: spec.seed });
    const kinds = countKinds(workload);
    info[spec.name] = {
      messages: spec.messages,
      days: spec.days,
      seed: spec.seed,
      tickets: workload.tickets,
      customers: workload.customers,
      agents: workload.agents.length,
      stars: workload.stars.length,
      messagesPerDay: spec.messages / spec.days,
      mix: kinds,
      emulatedDays: spec.emulatedDays ?? spec.days,
      emulatedMessages: workload.messages.filter((message) => message.time < workload.start + (spec.emulatedDays ?? spec.days) * 86_400_000).length,
    };
    rows.push([
      spec.name,
      spec.days,
      whole(spec.messages / spec.days),
      workload.tickets,
      workload.customers,
      ...MESSAGE_KINDS.map((kind) => percent(kinds[kind] / spec.messages)),
      workload.stars.length,
    ]);
  }
  console.log('\nWorkloads (8 agents, seeded; mix after cutting at the message count)');
  console.log(table(['workload', 'days', 'msgs/day', 'tickets', 'customers', ...MESSAGE_KINDS, 'stars'], rows));
  return info;
}

function emulationLabel(spec: WorkloadSpec, result: JobResult): string {
  return spec.emulatedDays === undefined ? spec.name : `${spec.name} slice: days 1-${spec.emulatedDays}, ${result.delivered} msgs`;
}

function printEmulation(specs: readonly WorkloadSpec[], jobs: Map<string, JobResult>): void {
  const rows: (string | number)[][] = [];
  for (const spec of specs) {
    for (const processor of ['plusdesk', 'baseline']) {
      const result = jobs.get(`${spec.name}-${processor}`);
      if (result === undefined) continue;
      const s = result.summary;
      const table0 = s.model[0]!;
      const range = s.model.map((band) => whole(band.messagesPerSixMinuteRun));
      rows.push([
        emulationLabel(spec, result),
        processor,
        s.messages,
        s.busyRuns,
        s.idleRuns,
        fixed(s.gmailCallsPerMessage),
        `${fixed(s.sendsPerMessage)} in ${fixed(s.sendCallsPerMessage)}`,
        `${fixed(s.sheetCallsPerRun.median, 0)} / ${s.sheetCallsPerRun.max} / ${fixed(s.sheetCallsPerRun.perMessageSlope)}`,
        fixed(s.totals.busyRoundTrips / Math.max(1, s.messages)),
        whole(s.totals.roundTrips),
        whole(s.totals.allCalls),
        `${whole(table0.fixedMs)} + ${whole(table0.perMessageMs)}/msg`,
        `${range[0]} [${range[1]}, ${range[2]}, Ex2 ${range[3]}]`,
      ]);
    }
  }
  console.log('\nEmulated Apps Script runs: one run per minute, calls per handled message (busy runs)');
  console.log(
    table(
      [
        'workload',
        'processor',
        'msgs',
        'busy runs',
        'idle runs',
        'Gmail/msg',
        'sends/msg in calls/msg',
        'Sheet/run med/max/slope',
        'trips/msg',
        'round trips',
        'all calls',
        'modelled ms/run',
        'msgs per 6-min run [x0.5, x2, Ex2]',
      ],
      rows,
    ),
  );
}

function printCallsByMethod(name: string, jobs: Map<string, JobResult>): void {
  const plusdesk = jobs.get(`${name}-plusdesk`);
  const baseline = jobs.get(`${name}-baseline`);
  if (plusdesk === undefined || baseline === undefined) return;
  const names = [...new Set([...Object.keys(plusdesk.summary.callsPerMessage), ...Object.keys(baseline.summary.callsPerMessage)])];
  names.sort((a, b) => (plusdesk.summary.callsPerMessage[b] ?? 0) + (baseline.summary.callsPerMessage[b] ?? 0) - (plusdesk.summary.callsPerMessage[a] ?? 0) - (baseline.summary.callsPerMessage[a] ?? 0));
  console.log(`\nCalls per handled message by method, ${name} workload (busy runs)`);
  console.log(
    table(
      ['call', 'plusdesk', 'baseline'],
      [
        ...names.map((call) => [call, fixed(plusdesk.summary.callsPerMessage[call] ?? 0, 3), fixed(baseline.summary.callsPerMessage[call] ?? 0, 3)]),
        ...Object.entries(plusdesk.summary.restRequestsPerMessage).map(([method, count]) => [
          `(request in UrlFetchApp) ${method}`,
          fixed(count, 3),
          fixed(baseline.summary.restRequestsPerMessage[method] ?? 0, 3),
        ]),
      ],
    ),
  );
  const services = [...new Set([...Object.keys(plusdesk.summary.callsPerMessageByService), ...Object.keys(baseline.summary.callsPerMessageByService)])].sort();
  console.log(`\nCalls per handled message by service, ${name} workload`);
  console.log(
    table(
      ['service', 'plusdesk', 'baseline'],
      services.map((service) => [
        service,
        fixed(plusdesk.summary.callsPerMessageByService[service] ?? 0, 3),
        fixed(baseline.summary.callsPerMessageByService[service] ?? 0, 3),
      ]),
    ),
  );
}

function printPeople(specs: readonly WorkloadSpec[], jobs: Map<string, JobResult>): void {
  const rows: (string | number)[][] = [];
  for (const spec of specs) {
    const plusdesk = jobs.get(`${spec.name}-plusdesk`);
    const baseline = jobs.get(`${spec.name}-baseline`);
    const teamRun = jobs.get(`${spec.name}-plusdesk-team-address`);
    if (plusdesk === undefined) continue;
    const reductions = plusdesk.agents.map((agent) => agent.reduction);
    const perAgent = plusdesk.agents.map((agent) => agent.plusdeskPerDay);
    const copied = plusdesk.agents.map((agent) => agent.copiedPerDay);
    rows.push([
      emulationLabel(spec, plusdesk),
      `${whole(plusdesk.recipients.asSent.maxInternal)} / ${whole(plusdesk.recipients.asSent.maxExternal)}`,
      teamRun === undefined ? '-' : `${whole(teamRun.recipients.asSent.maxInternal)} / ${whole(teamRun.recipients.asSent.maxExternal)}`,
      baseline === undefined ? '-' : `${whole(baseline.recipients.asSent.maxInternal)} / ${whole(baseline.recipients.asSent.maxExternal)}`,
      `${whole(Math.min(...perAgent))}-${whole(Math.max(...perAgent))}`,
      `${whole(Math.min(...copied))}-${whole(Math.max(...copied))}`,
      `${percent(Math.min(...reductions))}`,
      `${percent(Math.min(...plusdesk.agents.map((agent) => agent.routedReduction)))}`,
      `${plusdesk.digest.waited} (${plusdesk.digest.digestsSent} digests)`,
      `${plusdesk.misses.misses} of ${plusdesk.misses.checked} (${plusdesk.misses.missesByRoutingTable} by routing table)`,
      whole(plusdesk.summary.urlFetchRequestsMaxPerDay),
    ]);
  }
  console.log(`\nRecipients per day (largest day; quota ${QUOTA.internal} internal / ${QUOTA.external} external) and emails per agent per day`);
  console.log(
    table(
      [
        'workload',
        'plusdesk int/ext',
        'with team address',
        'baseline int/ext',
        'plusdesk per agent',
        'everyone copied',
        'min reduction',
        'without digest',
        'waited for digest',
        'missed (agent, message)',
        'UrlFetch requests (quota 100,000)',
      ],
      rows,
    ),
  );
}

function printLocal(local: Record<string, LocalResult>): void {
  const rows = Object.entries(local).map(([name, result]) => [
    name,
    result.messages,
    fixed(result.wallMs / 1000, 1),
    whole(result.messagesPerSecond),
    fixed(result.msPerMessage, 3),
    whole(result.peakRssBytes / 2 ** 20),
    result.peakRssSamplesBytes.map((bytes) => whole(bytes / 2 ** 20)).join(' '),
    whole(result.peakRssBeforeSaveBytes / 2 ** 20),
    whole(result.peakHeapBytes / 2 ** 20),
    fixed(result.mboxBytes / 2 ** 20, 1),
  ]);
  console.log('\nLocal runtime: runLocal over one mbox file read as a stream (child process; medians of the runs)');
  const headers = [
    'workload',
    'msgs',
    'seconds',
    'msgs/s',
    'ms/msg',
    'peak RSS MB',
    'peak RSS of each run MB',
    'RSS before save MB',
    'peak heap MB',
    'mbox MB',
  ];
  console.log(table(headers, rows));
}

/** The commit the bench ran on and the src files that differed from it, read with git. */
function sourceState(): { commit: string; changedSources: string[] } {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: join(here, '..'), encoding: 'utf8' }).trim();
    } catch {
      // Outside a git checkout the results simply carry no commit.
      return '';
    }
  };
  const changed = git('status', '--porcelain', '--', 'src', 'scripts');
  return { commit: git('rev-parse', 'HEAD'), changedSources: changed === '' ? [] : changed.split('\n') };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const specs = options.quick ? WORKLOADS.filter((spec) => spec.messages <= 10_000) : WORKLOADS;
  const workloadInfo = printWorkloads(specs);

  const dir = mkdtempSync(join(tmpdir(), 'plusdesk-bench-jobs-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  // One build of each bundle for the whole bench run, from the work tree as it is now.
  const bundlePath = join(dir, 'processor', 'Code.js');
  await buildProject(PROJECTS.find((project) => project.name === 'processor')!, dir);
  log('start card (add-on bundle, 100,000 tickets)');
  const card = await measureCard();

  const jobSpecs: JobSpec[] = [];
  const add = (spec: WorkloadSpec, processor: 'plusdesk' | 'baseline', teamAddress: boolean) =>
    jobSpecs.push({
      name: `${spec.name}-${processor}${teamAddress ? '-team-address' : ''}`,
      messages: spec.messages,
      days: spec.days,
      seed: spec.seed,
      processor,
      teamAddress,
      indexMailbox: options.indexMailbox,
      bundlePath,
      ...(spec.emulatedDays === undefined ? {} : { sliceDays: spec.emulatedDays }),
    });
  // The slowest job first, so the two workers finish close together.
  const big = specs.filter((spec) => spec.messages >= 10_000);
  for (const spec of big) add(spec, 'plusdesk', false);
  for (const spec of big) add(spec, 'baseline', false);
  const small = specs.find((spec) => spec.messages === 1_000)!;
  add(small, 'plusdesk', false);
  add(small, 'plusdesk', true);
  add(small, 'baseline', false);
  const jobs = await runJobs(jobSpecs, Math.max(1, Math.min(2, cpus().length)), dir);

  // Alone on the machine, so that its speed is not shared with an emulation job.
  const local: Record<string, LocalResult> = {};
  for (const spec of specs.filter((candidate) => candidate.messages >= 10_000)) {
    log(`start local-${spec.name}`);
    local[spec.name] = await measureLocal(generateWorkload({ messages: spec.messages, days: spec.days, seed: spec.seed }));
  }

  printEmulation(specs, jobs);
  printCallsByMethod('10k', jobs);
  printPeople(specs, jobs);
  printLocal(local);
  console.log(
    `\nTicket card at ${card.tickets.toLocaleString('en-US')} tickets: ${card.notificationSheetCalls} Sheet calls (${Object.entries(card.notificationByName)
      .map(([name, count]) => `${name} x${count}`)
      .join(', ')}); a message that is no ticket: ${card.notATicketSheetCalls}`,
  );

  const targets = evaluateTargets({ jobs, local, card, quick: options.quick });
  console.log(`\n${formatTargets(targets)}`);

  const ten = jobs.get('10k-plusdesk')!;
  const tenBaseline = jobs.get('10k-baseline')!;
  const results = {
    generatedAt: new Date().toISOString(),
    source: sourceState(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryBytes: totalmem(), node: process.version },
    quick: options.quick,
    mix: MIX,
    latencyTable: LATENCY,
    workloads: workloadInfo,
    gmailCallsPerMessage: ten.summary.gmailCallsPerMessage,
    sheetCallsPerRun: ten.summary.sheetCallsPerRun,
    messagesPerSixMinuteRun: ten.summary.model[0]!.messagesPerSixMinuteRun,
    messagesPerSixMinuteRunBands: Object.fromEntries(ten.summary.model.map((band) => [band.band, band.messagesPerSixMinuteRun])),
    cardSheetCallsAt100k: card.notificationSheetCalls,
    baselineRatio: ten.summary.totals.roundTrips / tenBaseline.summary.totals.roundTrips,
    baselineRatioAllCalls: ten.summary.totals.allCalls / tenBaseline.summary.totals.allCalls,
    emulation: Object.fromEntries([...jobs.entries()]),
    card,
    local,
    targets,
    benchSeconds: (performance.now() - started) / 1000,
  };
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${options.out} after ${results.benchSeconds.toFixed(0)} s`);
}

await main();
