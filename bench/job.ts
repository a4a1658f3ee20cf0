/**
 * One emulation job of the benchmark in its own process, so that two jobs use the machine's two
 * cores: generate the workload, run it through a processor under the emulator and summarize.
 * Usage: tsx bench/job.ts SPEC.json OUT.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { summarize, type ProcessorSummary } from './analyze';
import { emulate, type ProcessorName } from './emulated';
import {
  agentLoad,
  checkMisses,
  newTicketRecipients,
  recipientsPerDay,
  type AgentLoad,
  type DailyRecipients,
  type MissReport,
} from './recipients';
import { generateWorkload } from './workload';

export interface JobSpec {
  name: string;
  messages: number;
  days: number;
  seed: number;
  processor: ProcessorName;
  teamAddress: boolean;
  /** Only the first this many days of the workload (a slice). */
  sliceDays?: number;
  indexMailbox: boolean;
  /** Code.js of the processor, built once by the bench run. */
  bundlePath?: string;
}

export interface JobResult {
  spec: JobSpec;
  /** Messages delivered (the slice's when the spec has one). */
  delivered: number;
  summary: ProcessorSummary;
  recipients: {
    asSent: DailyRecipients;
  };
  newTicket: ReturnType<typeof newTicketRecipients>;
  agents: AgentLoad[];
  misses: MissReport;
  digest: { waited: number; carried: number; digestsSent: number; notices: number };
}

const DAY = 24 * 60 * 60 * 1000;

export async function runJob(spec: JobSpec): Promise<JobResult> {
  const workload = generateWorkload({ messages: spec.messages, days: spec.days, seed: spec.seed });
  const options = {
    processor: spec.processor,
    teamAddress: spec.teamAddress,
    indexMailbox: spec.indexMailbox,
    onDay: (day: number, delivered: number) =>
      process.stderr.write(`  ${spec.name}: day ${day}, ${delivered} messages delivered\n`),
    ...(spec.sliceDays === undefined ? {} : { until: workload.start + spec.sliceDays * DAY }),
    ...(spec.bundlePath === undefined ? {} : { bundlePath: spec.bundlePath }),
  };
  const result = await emulate(workload, options);
  return {
    spec,
    delivered: result.delivered,
    summary: summarize(result),
    recipients: {
      asSent: recipientsPerDay(workload, result.sent),
    },
    newTicket: newTicketRecipients(result.sent),
    agents: agentLoad(workload, result),
    digest: {
      waited: result.digested.length,
      carried: result.digested.filter((item) => item.sent).length,
      digestsSent: result.sent.filter((message) => message.event === 'digest').length,
      notices: result.digestNotices,
    },
    misses: spec.processor === 'plusdesk'
      ? checkMisses(workload, result)
      : { checked: 0, misses: 0, missesByKind: {}, missesByRoutingTable: 0, inDigest: 0, examples: [] },
  };
}

if (process.argv[1]?.endsWith('job.ts') && process.argv[2] !== undefined && process.argv[3] !== undefined) {
  const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as JobSpec;
  const result = await runJob(spec);
  writeFileSync(process.argv[3], JSON.stringify(result));
}
