/**
 * The `plusdesk` command: `process` runs the main job over local mailboxes, `demo` runs the
 * built-in demo story. Errors a user can fix print one line and exit with code 1.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { DemoFolderError, describeOutgoing, runDemo } from '../node/demo';
import { DeskBusyError, runLocal, type LocalReport } from '../node/local';
import { MailboxError } from '../node/mailbox';
import { readTeam, TeamError } from '../node/team';
import { WorkbookError } from '../node/workbook';
import { isPlainAddress } from '../core/address';
import { SettingsError } from '../core/process';

const USAGE = `Usage:
  plusdesk process <mailbox>... [--out DIR] [--team FILE|LIST] [--support ADDRESS] [--json]
  plusdesk demo [--out DIR] [--json]

  <mailbox>          a folder of .eml/.box files, an mbox file (Google Takeout) or a Maildir
  --out DIR          where plusdesk.xlsx, outbox/ and quarantine/ are written (default: ./plusdesk-out)
  --team FILE|LIST   agents: a CSV/JSON file, or "Alice <alice@example.com>, bob@example.com";
                     kept in the workbook's Team tab for later runs
  --support ADDRESS  the support mailbox's address, kept in the workbook (default: the workbook's, else support@example.com)
  --json             print one JSON report on stdout instead of the summary`;

/** Progress bars appear only for mailboxes larger than this. */
const PROGRESS_THRESHOLD = 300;

/**
 * Replaces control characters in text from mail with `?`, because they could move the cursor or
 * change colours on the terminal (an ESC in a subject).
 */
function printable(text: string): string {
  return text.replace(/[\x00-\x1F\x7F-\x9F]/g, '?');
}

function table(rows: string[][]): string {
  const cells = rows.map((row) => row.map(printable));
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd())
    .join('\n');
}

/** Tickets and skipped messages the summary lists, the newest of each; the workbook has them all. */
const SUMMARY_ROWS = 50;

/** Returns `count` with the noun, singular for one: "1 older ticket is", "2 older tickets are". */
function counted(count: number, singular: string, plural: string): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** Prints what a run did, then the desk's newest tickets; `heading` replaces the counts line. */
function printSummary(report: LocalReport, heading = ''): void {
  const lines: string[] = [];
  lines.push(
    heading ||
      `Processed ${report.processed} message(s), ${report.duplicates} already seen; ` +
        `sent ${report.sent}; skipped or held ${report.skipped.length}.`,
  );
  if (report.waitingForDigest > 0) {
    lines.push(
      `${report.waitingForDigest} notification(s) wait for the hourly digest: the daily recipient limit is nearly used (see the Messages tab and Settings).`,
    );
  }
  if (report.tickets.length > 0) {
    lines.push('');
    lines.push(
      table([
        ['Ticket', 'Status', 'Customer', 'Assignee', 'Msgs', 'Subject'],
        ...report.tickets.slice(-SUMMARY_ROWS).map((ticket) => [
          `#${ticket.number}`,
          ticket.status,
          ticket.customer.email,
          ticket.assignee || '-',
          String(ticket.messages),
          ticket.subject.length > 50 ? `${ticket.subject.slice(0, 49)}…` : ticket.subject,
        ]),
      ]),
    );
    const hidden = report.tickets.length - SUMMARY_ROWS;
    if (hidden > 0) lines.push(`(${counted(hidden, 'older ticket is', 'older tickets are')} in the workbook's Tickets tab)`);
  }
  if (report.skipped.length > 0) {
    lines.push('');
    lines.push(
      table([
        ['Skipped', 'State', 'Reason'],
        ...report.skipped.slice(-SUMMARY_ROWS).map((item) => [item.source, item.state, item.reason]),
      ]),
    );
    const hidden = report.skipped.length - SUMMARY_ROWS;
    if (hidden > 0) {
      lines.push(`(${counted(hidden, 'earlier skipped message is', 'earlier skipped messages are')} in the workbook's Messages tab, and in --json)`);
    }
  }
  lines.push('', `Workbook: ${report.workbook}`, `Outbox:   ${report.outbox}`);
  console.log(lines.join('\n'));
}

function jsonReport(report: LocalReport): object {
  return {
    workbook: report.workbook,
    outbox: report.outbox,
    processed: report.processed,
    alreadySeen: report.duplicates,
    tickets: report.tickets,
    outgoing: report.outgoing.map((message) => ({
      kind: message.kind,
      event: message.event,
      ticket: message.ticket,
      to: message.to,
      cc: message.cc,
      replyTo: message.replyTo,
      subject: message.subject,
      messageId: message.messageId,
      inReplyTo: message.inReplyTo,
      references: message.references,
    })),
    skipped: report.skipped,
    waitingForDigest: report.waitingForDigest,
  };
}

async function processCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string', default: 'plusdesk-out' },
      team: { type: 'string' },
      support: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError('process needs at least one mailbox path.');
  if (existsSync(values.out) && !statSync(values.out).isDirectory()) {
    throw new UsageError(`--out "${values.out}" is a file, not a folder: give the folder for plusdesk.xlsx.`);
  }
  let bar: SingleBar | null = null;
  const options: Parameters<typeof runLocal>[0] = {
    mailboxes: positionals.map((path) => resolve(path)),
    out: resolve(values.out),
    onStart: (total) => {
      if (values.json || total <= PROGRESS_THRESHOLD || !process.stderr.isTTY) return;
      bar = new SingleBar({ stream: process.stderr, clearOnComplete: true }, Presets.shades_classic);
      bar.start(total, 0);
    },
    onProgress: (done) => (bar as SingleBar | null)?.update(done),
    onWarning: (message) => console.error(`plusdesk: warning: ${message}`),
    details: values.json,
  };
  if (values.team !== undefined) options.team = readTeam(values.team);
  if (values.support !== undefined) {
    if (!isPlainAddress(values.support)) throw new UsageError(`--support "${values.support}" is not an email address.`);
    options.supportAddress = values.support;
  }
  const report = await runLocal(options);
  (bar as SingleBar | null)?.stop();
  if (values.json) console.log(JSON.stringify(jsonReport(report), null, 2));
  else printSummary(report);
}

async function demoCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string', default: 'plusdesk-demo' },
      json: { type: 'boolean', default: false },
    },
  });
  const result = await runDemo(resolve(values.out));
  if (values.json) {
    console.log(
      JSON.stringify(
        result.stages.map((stage) => ({ title: stage.title, ...jsonReport(stage.report) })),
        null,
        2,
      ),
    );
    return;
  }
  console.log(`plusdesk demo: a shared support inbox, support@example.com, team Alice, Bob, Carol.\n`);
  result.stages.forEach((stage, index) => {
    console.log(`Stage ${index + 1}: ${stage.title}`);
    if (stage.report.outgoing.length === 0) console.log('  nothing sent');
    for (const message of stage.report.outgoing) console.log(`  ${describeOutgoing(message)}`);
    for (const item of stage.report.skipped) {
      console.log(`  no one notified: ${item.source.slice(item.source.lastIndexOf(':') + 1)} (${item.reason})`);
    }
    console.log('');
  });
  // The last stage saw every message before, so its tickets are the desk as the demo leaves it.
  printSummary(result.stages[result.stages.length - 1]!.report, 'The desk after the demo:');
  console.log(`Mailbox:  ${result.mailbox}`);
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'process') await processCommand(rest);
    else if (command === 'demo') await demoCommand(rest);
    else if (command === undefined || command === '--help' || command === 'help') {
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    } else throw new UsageError(`unknown command "${command}".`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`plusdesk: ${error.message}\n\n${USAGE}`);
      return 1;
    }
    if (
      error instanceof MailboxError ||
      error instanceof DemoFolderError ||
      error instanceof TeamError ||
      error instanceof DeskBusyError ||
      error instanceof SettingsError ||
      error instanceof WorkbookError
    ) {
      console.error(`plusdesk: ${error.message}`);
      return 1;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code?.startsWith('ERR_PARSE_ARGS') === true || code === 'EACCES' || code === 'ENOTDIR' || code === 'EEXIST') {
      console.error(`plusdesk: ${(error as Error).message}`);
      return 1;
    }
    if (error instanceof SyntaxError) {
      console.error(`plusdesk: ${error.message}: check the JSON of the --team file.`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
