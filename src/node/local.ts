/**
 * The local runtime's main job: read mailboxes from disk, run the core over them, keep the desk
 * in `DIR/plusdesk.xlsx`, write outgoing mail to `DIR/outbox/` and copy messages that could not
 * be processed to `DIR/quarantine/`.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Clock, InboundMail, Log } from '../core/ports';
import { Run, type MessageOutcome, type SentMessage } from '../core/process';
import type { Agent, OutgoingMessage, Ticket } from '../core/types';
import { openMailbox, type MailboxSource } from './mailbox';
import { OutboxMailer } from './outbox';
import { hmacSigner, loadSecret, SECRET_FILE } from './secret';
import { WorkbookStore } from './workbook';

export interface LocalRunOptions {
  mailboxes: string[];
  out: string;
  supportAddress?: string;
  team?: Agent[];
  /** Secret to store when DIR has none yet (the demo uses a fixed one). */
  secret?: string;
  clock?: Clock;
  log?: Log;
  onStart?: (total: number) => void;
  onProgress?: (done: number) => void;
  /** Called with a sentence a person should read, such as a lost signing secret. */
  onWarning?: (message: string) => void;
}

export interface LocalReport {
  workbook: string;
  outbox: string;
  tickets: TicketSummary[];
  outgoing: OutgoingSummary[];
  skipped: SkippedSummary[];
  processed: number;
  duplicates: number;
  /** Notifications waiting for the hourly digest because the daily recipient limit is near. */
  waitingForDigest: number;
}

export interface TicketSummary {
  number: number;
  status: Ticket['status'];
  customer: { name: string; email: string };
  subject: string;
  assignee: string;
  followers: string[];
  messageIds: string[];
}

export interface OutgoingSummary {
  kind: OutgoingMessage['kind'];
  /** Cause: new-ticket, follow-up, agent-reply, comment, held; or the kind. */
  event: string;
  /** Reason of each recipient, by email. */
  reasons: Record<string, string>;
  ticket: number;
  to: string[];
  cc: string[];
  replyTo: string[];
  subject: string;
  messageId: string;
  inReplyTo: string;
  references: string[];
}

export interface SkippedSummary {
  source: string;
  messageId: string;
  ticket: number | null;
  state: MessageOutcome['state'];
  reason: string;
}

export const WORKBOOK_NAME = 'plusdesk.xlsx';
const LOCK_NAME = '.plusdesk.lock';

/** Error of a run that cannot start because another run has locked the output folder. */
export class DeskBusyError extends Error {
  override name = 'DeskBusyError';
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the output folder for this process: two runs on one folder would each save the workbook
 * they loaded and lose the other's tickets. A lock left by a process that died is taken over.
 */
export function lockDesk(dir: string): () => void {
  const path = join(dir, LOCK_NAME);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isFinite(pid) && pid !== process.pid && isRunning(pid)) {
        throw new DeskBusyError(
          `Another plusdesk run (process ${pid}) is using ${dir}: wait for it to finish, or use another --out folder.`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new DeskBusyError(`Could not lock ${dir}: remove ${path} if no plusdesk run is using the folder.`);
}
const DEFAULT_SUPPORT = 'support@example.com';

const quietLog: Log = { info: () => undefined, error: () => undefined };

/**
 * Names each message by its mailbox's full path and its place in it, so that two mailboxes
 * holding files of the same name never pass for each other.
 */
function withPathIds(source: MailboxSource, root: string): MailboxSource {
  return {
    ...source,
    async *messages() {
      for await (const mail of source.messages()) yield { ...mail, sourceId: `${root}:${mail.sourceId}` };
    },
  };
}

/** Merges several date-ordered mailboxes into one date-ordered stream. */
async function* inDateOrder(sources: MailboxSource[]): AsyncGenerator<InboundMail> {
  const iterators = sources.map((source) => source.messages()[Symbol.asyncIterator]());
  const heads = await Promise.all(iterators.map((iterator) => iterator.next()));
  for (;;) {
    let pick = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.done) continue;
      if (pick < 0) {
        pick = i;
        continue;
      }
      const current = (heads[pick] as IteratorYieldResult<InboundMail>).value.date ?? '';
      if ((head.value.date ?? '') < current) pick = i;
    }
    if (pick < 0) return;
    yield (heads[pick] as IteratorYieldResult<InboundMail>).value;
    heads[pick] = await iterators[pick]!.next();
  }
}

function summarizeOutgoing(message: SentMessage): OutgoingSummary {
  return {
    kind: message.kind,
    event: message.headers['X-Plusdesk-Event'] ?? message.kind,
    reasons: message.reasons,
    ticket: message.ticket,
    to: message.to.map((address) => address.email),
    cc: message.cc.map((address) => address.email),
    replyTo: message.replyTo.map((address) => address.email),
    subject: message.subject,
    messageId: message.messageId,
    inReplyTo: message.inReplyTo,
    references: message.references,
  };
}

function safeFileName(sourceId: string): string {
  return basename(sourceId).replace(/[^\w.@+-]+/g, '_').slice(-120) || 'message';
}

export async function runLocal(options: LocalRunOptions): Promise<LocalReport> {
  const sources: MailboxSource[] = [];
  for (const path of options.mailboxes) sources.push(withPathIds(await openMailbox(path), resolve(path)));
  options.onStart?.(sources.reduce((sum, source) => sum + source.count, 0));

  mkdirSync(options.out, { recursive: true });
  const unlock = lockDesk(options.out);
  try {
    return await runLocked(options, sources);
  } finally {
    unlock();
  }
}

async function runLocked(options: LocalRunOptions, sources: MailboxSource[]): Promise<LocalReport> {
  const clock = options.clock ?? { now: () => new Date() };
  const log = options.log ?? quietLog;
  const workbook = join(options.out, WORKBOOK_NAME);
  const storeOptions: ConstructorParameters<typeof WorkbookStore>[0] = {
    path: workbook,
    supportAddress: options.supportAddress ?? DEFAULT_SUPPORT,
  };
  if (options.team !== undefined) storeOptions.team = options.team;
  const store = new WorkbookStore(storeOptions);
  const mailer = new OutboxMailer({ dir: options.out, clock });
  if (existsSync(workbook) && !existsSync(join(options.out, SECRET_FILE))) {
    options.onWarning?.(
      `${join(options.out, SECRET_FILE)} is missing, so a new signing secret is made: reply and comment ` +
        'addresses in earlier notifications stop working. Restore the file from a backup to keep them.',
    );
  }
  const signer = hmacSigner(loadSecret(options.out, options.secret));

  const run = await Run.start({ store, mailer, signer, clock, log });
  if (options.supportAddress !== undefined) run.state.settings.supportAddress = options.supportAddress;

  const skipped: SkippedSummary[] = [];
  const quarantine = join(options.out, 'quarantine');
  let processed = 0;
  let duplicates = 0;
  let stopReason = '';
  if (!(await run.handleWaiting())) stopReason = 'a send failed';

  let done = 0;
  for await (const mail of stopReason === '' ? inDateOrder(sources) : []) {
    const before = run.outcomeCount;
    const goOn = await run.handle(mail);
    for (const outcome of run.outcomesSince(before)) {
      if (outcome.state === 'duplicate') duplicates++;
      else processed++;
      if (outcome.state === 'processed') continue;
      if (outcome.state !== 'duplicate') {
        skipped.push({
          source: outcome.sourceId,
          messageId: outcome.messageId,
          ticket: outcome.ticket,
          state: outcome.state,
          reason: outcome.reason,
        });
      }
      if (outcome.state === 'quarantined') {
        mkdirSync(quarantine, { recursive: true });
        const target = join(quarantine, safeFileName(mail.sourceId));
        writeFileSync(target, mail.raw);
      }
    }
    done++;
    options.onProgress?.(done);
    if (!goOn) {
      stopReason = 'a send failed';
      break;
    }
  }
  const report = await run.finish(stopReason);

  const messageIds = new Map<number, string[]>();
  for (const record of run.state.records) {
    if (record.ticket === null || record.messageId === '') continue;
    if (record.state !== 'processed' && record.state !== 'sent') continue;
    const list = messageIds.get(record.ticket) ?? [];
    list.push(record.messageId);
    messageIds.set(record.ticket, list);
  }
  return {
    workbook,
    outbox: join(options.out, 'outbox'),
    tickets: report.tickets.map((ticket) => ({
      number: ticket.number,
      status: ticket.status,
      customer: { name: ticket.customer.name, email: ticket.customer.email },
      subject: ticket.subject,
      assignee: ticket.assignee,
      followers: ticket.followers,
      messageIds: messageIds.get(ticket.number) ?? [],
    })),
    outgoing: report.sent.map(summarizeOutgoing),
    skipped,
    processed,
    duplicates,
    waitingForDigest: run.state.records.filter((record) => record.state === 'digest').length,
  };
}
