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
}

export async function measureLocal(workload: Workload): Promise<LocalResult> {
  const dir = mkdtempSync(join(tmpdir(), 'plusdesk-bench-local-'));
  try {
    const mbox = join(dir, 'support.mbox');
    const mboxBytes = await writeMbox(workload, mbox);
    const job: LocalJob = {
      mbox,
      out: join(dir, 'desk'),
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
    const result = JSON.parse(lines[lines.length - 1]!) as LocalChildResult;
    return {
      ...result,
      mboxBytes,
      messagesPerSecond: result.messages / (result.wallMs / 1000),
      msPerMessage: result.wallMs / result.messages,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
