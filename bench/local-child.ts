/**
 * One local-runtime measurement in its own process, so that its peak memory is its own:
 * `runLocal` over an mbox file, with the process RSS and V8 heap sampled while it runs.
 * Usage: tsx bench/local-child.ts JOB.json; prints one JSON line with the result.
 */
import { readFileSync } from 'node:fs';
import { runLocal } from '../src/node/local';
import type { Agent } from '../src/core/types';

export interface LocalJob {
  mbox: string;
  out: string;
  supportAddress: string;
  secret: string;
  team: Agent[];
}

export interface LocalChildResult {
  messages: number;
  processed: number;
  outgoing: number;
  /** Wall time of runLocal, ms. */
  wallMs: number;
  /** Peak resident set size of the process, bytes (getrusage maxrss). */
  peakRssBytes: number;
  /** Largest sampled V8 heap in use, bytes. */
  peakHeapBytes: number;
  /** Largest sampled RSS until the last message was handled, before the final save, bytes. */
  peakRssBeforeSaveBytes: number;
  /** Heap in use after each tenth of the messages, bytes. */
  heapByProgress: number[];
}

const SAMPLE_INTERVAL_MS = 25;

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LocalJob;
  let peakHeap = 0;
  let peakRssBeforeSave = 0;
  let saving = false;
  const sample = () => {
    const { heapUsed, rss } = process.memoryUsage();
    if (heapUsed > peakHeap) peakHeap = heapUsed;
    if (!saving && rss > peakRssBeforeSave) peakRssBeforeSave = rss;
    return heapUsed;
  };
  const timer = setInterval(sample, SAMPLE_INTERVAL_MS);
  timer.unref();
  let total = 0;
  const heapByProgress: number[] = [];
  const started = performance.now();
  const report = await runLocal({
    mailboxes: [job.mbox],
    out: job.out,
    supportAddress: job.supportAddress,
    secret: job.secret,
    team: job.team,
    details: false,
    onStart: (count) => {
      total = count;
    },
    onProgress: (done) => {
      // Promise continuations alone never let the timer run, so sample here as well.
      if (done % 250 === 0) sample();
      if (total > 0 && done % Math.max(1, Math.floor(total / 10)) === 0) heapByProgress.push(sample());
      // What follows the last message is the final save.
      if (done === total) saving = true;
    },
  });
  const wallMs = performance.now() - started;
  sample();
  clearInterval(timer);
  const result: LocalChildResult = {
    messages: total,
    processed: report.processed,
    outgoing: report.sent,
    wallMs,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    peakHeapBytes: peakHeap,
    peakRssBeforeSaveBytes: peakRssBeforeSave,
    heapByProgress,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
