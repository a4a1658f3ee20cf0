/**
 * `npm run preview`: serves the sidebar preview on 127.0.0.1. Without --out it runs the demo
 * into a temporary folder first and removes that folder on exit.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runDemo } from '../node/demo';
import { WORKBOOK_NAME } from '../node/local';
import { startPreview } from '../node/preview';

const USAGE = `Usage: npm run preview -- [--out DIR] [--port PORT]

  --out DIR    output folder of an earlier run: DIR/plusdesk.xlsx (plusdesk process --out DIR)
               or DIR/desk/plusdesk.xlsx (plusdesk demo --out DIR); without it the demo runs
               into a temporary folder
  --port PORT  TCP port on 127.0.0.1 (default 8787; 0 picks any free port)`;

class UsageError extends Error {}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new UsageError(`invalid --port "${value}": expected a whole number from 0 to 65535.`);
  }
  return port;
}

/** Returns the folder that contains plusdesk.xlsx: DIR itself or the `desk` folder of a demo run. */
function findDesk(out: string): string {
  for (const candidate of [out, join(out, 'desk')]) {
    if (existsSync(join(candidate, WORKBOOK_NAME))) return candidate;
  }
  throw new UsageError(`no ${WORKBOOK_NAME} in ${out} or ${join(out, 'desk')}: run "npm start" or "plusdesk process --out ${out}" first.`);
}

async function main(argv: string[]): Promise<number> {
  let values: { out?: string; port: string; help: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        port: { type: 'string', default: '8787' },
        help: { type: 'boolean', default: false },
      },
    }).values as typeof values;
  } catch (error) {
    console.error(`preview: ${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }

  let temporary = '';
  let desk: string;
  let port: number;
  try {
    port = parsePort(values.port);
    if (values.out === undefined) {
      temporary = await mkdtemp(join(tmpdir(), 'plusdesk-preview-'));
      console.log(`Running the demo into ${temporary} ...`);
      await runDemo(temporary);
      desk = join(temporary, 'desk');
    } else {
      desk = findDesk(resolve(values.out));
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`preview: ${error.message}\n\n${USAGE}`);
    return 1;
  }

  let server: Awaited<ReturnType<typeof startPreview>>;
  try {
    server = await startPreview({ dir: desk, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
    console.error(`preview: cannot listen on 127.0.0.1:${port} (${code}): pick another --port, or 0 for any free port.`);
    if (temporary !== '') await rm(temporary, { recursive: true, force: true });
    return 1;
  }
  console.log(`plusdesk sidebar preview on ${server.url}/ (workbook ${join(desk, WORKBOOK_NAME)}). Press Ctrl+C to stop.`);
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  console.log('Stopping the preview ...');
  await server.close();
  if (temporary !== '') await rm(temporary, { recursive: true, force: true });
  console.log('Stopped.');
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
