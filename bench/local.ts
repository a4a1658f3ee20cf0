/**
 * The local runtime under load: a workload written as an mbox file (as Google Takeout exports
 * it) to a temporary folder, then `runLocal` in a child process that reads it as a stream.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LocalChildResult, LocalJob } from './local-child';
import { mboxEntry, type Workload } from './workload';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** Writes the workload as one mbox file; returns its size in bytes. */
async function writeMbox(workload: Workload, path: string): Promise<number> {
  const stream = createWriteStream(path);
  let bytes = 0;
  for (const message of workload.messages) {
    const entry = mboxEntry(message);
    bytes += Buffer.byteLength(entry);
    if (!stream.write(entry)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
  return bytes;
}

export interface LocalResult extends LocalChildResult {
  mboxBytes: number;
  messagesPerSecond: number;
  msPerMessage: number;
  /** Runs measured; each time and memory figure is their median. */
  runs: number;
  /** Peak RSS of each run, bytes. */
  peakRssSamplesBytes: number[];
}

/**
 * Runs the local runtime over `workload` in a fresh child process `runs` times, each on a new
 * output folder. Peak memory depends on when V8 collects, which varies from run to run by 10
 * to 20 percent here, so each figure is the median of the runs.
 */
export async function measureLocal(workload: Workload, runs = 3): Promise<LocalResult> {
  const dir = mkdtempSync(join(tmpdir(), 'plusdesk-bench-local-'));
  try {
    const mbox = join(dir, 'support.mbox');
    const mboxBytes = await writeMbox(workload, mbox);
    const results: LocalChildResult[] = [];
    for (let index = 0; index < runs; index++) {
      const job: LocalJob = {
        mbox,
        out: join(dir, `desk-${index}`),
        supportAddress: workload.supportAddress,
        secret: workload.secret,
        team: workload.agents,
      };
      const jobFile = join(dir, 'job.json');
      writeFileSync(jobFile, JSON.stringify(job));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', join(here, 'local-child.ts'), jobFile], {
        maxBuffer: 16 * 1024 * 1024,
      });
      const lines = stdout.trim().split('\n');
      results.push(JSON.parse(lines[lines.length - 1]!) as LocalChildResult);
      rmSync(job.out, { recursive: true, force: true });
    }
    const middle = (pick: (result: LocalChildResult) => number) => median(results.map(pick));
    const peakRssBytes = middle((result) => result.peakRssBytes);
    const wallMs = middle((result) => result.wallMs);
    // The other fields come from the run with the median peak.
    const typical = results.find((result) => result.peakRssBytes === peakRssBytes)!;
    return {
      ...typical,
      wallMs,
      peakRssBytes,
      peakRssBeforeSaveBytes: middle((result) => result.peakRssBeforeSaveBytes),
      peakHeapBytes: middle((result) => result.peakHeapBytes),
      mboxBytes,
      messagesPerSecond: typical.messages / (wallMs / 1000),
      msPerMessage: wallMs / typical.messages,
      runs,
      peakRssSamplesBytes: results.map((result) => result.peakRssBytes),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Returns the middle value, one of `values` (the lower middle one when their count is even). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
}
