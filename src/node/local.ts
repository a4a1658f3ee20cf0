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
import { removeStoppedSaves, WorkbookStore } from './workbook';

export interface LocalRunOptions {
  mailboxes: string[];
  out: string;
  /** Support address that replaces the workbook's; later runs keep it. */
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
  /**
   * Lists every outgoing message and each ticket's Message-IDs in the report (default true).
   * Those lists grow with the mailbox, so the command's printed summary goes without them.
   */
  details?: boolean;
}

export interface LocalReport {
  workbook: string;
  outbox: string;
  tickets: TicketSummary[];
  /** Messages sent (written to the outbox) by this run. */
  sent: number;
  /** Every message sent, in order. Empty when the run was asked for no details. */
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
  /** Messages the ticket received from customers and agents, comments included, but not plusdesk's own mail. */
  messages: number;
  /** Message-IDs of those messages and of plusdesk's mail. Empty when the run was asked for no details. */
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

/**
 * Messages handled between two stagings. The run hands its rows to the workbook store, which
 * keeps them compressed (past 4 MB in a temporary file) until the one save at the end, so a
 * long run keeps few rows as objects. The store keeps tickets as JSON bytes, but for the 1,000
 * used last (ticket-shelf.ts).
 * NOTE: memory still grows with the mailbox, by about 1 KB of JSON and a customer-index entry
 * per ticket and 11 to 32 bytes per fingerprint. After 100,000 bench messages, the live heap
 * was 36 MB and the array buffers 52 MB, against 25 MB and 13 MB after 10,000.
 */
const STAGE_EVERY = 1000;

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
  try {
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
  } finally {
    // A run that stops early closes the mailbox files now, not when they are garbage collected.
    await Promise.all(iterators.map((iterator) => iterator.return?.()));
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
  if (options.supportAddress !== undefined) storeOptions.support = options.supportAddress;
  const store = new WorkbookStore(storeOptions);
  const mailer = new OutboxMailer({ dir: options.out, clock });
  if (existsSync(workbook) && !existsSync(join(options.out, SECRET_FILE))) {
    options.onWarning?.(
      `${join(options.out, SECRET_FILE)} is missing, so a new signing secret is made: reply and comment ` +
        'addresses in earlier notifications stop working. Restore the file from a backup to keep them.',
    );
  }
  const signer = hmacSigner(loadSecret(options.out, options.secret));
  try {
    return await runDesk(options, sources, { store, mailer, signer, clock, log, workbook });
  } finally {
    await store.close();
  }
}

interface DeskParts {
  store: WorkbookStore;
  mailer: OutboxMailer;
  signer: ReturnType<typeof hmacSigner>;
  clock: Clock;
  log: Log;
  workbook: string;
}

async function runDesk(options: LocalRunOptions, sources: MailboxSource[], parts: DeskParts): Promise<LocalReport> {
  const { store, mailer, signer, clock, log, workbook } = parts;
  // No save of the workbook is running, because this run has the lock.
  removeStoppedSaves(workbook);
  const isNew = !existsSync(workbook);
  const run = await Run.start({ store, mailer, signer, clock, log });
  if (run.state.team.every((agent) => !agent.active)) {
    options.onWarning?.(
      `the Team tab of ${workbook} has no active agent, so no one is notified: give the agents with --team.`,
    );
  }
  const recorded = (key: string) => run.state.hasOutgoing(key);
  await mailer.settle(recorded);
  // A new desk's team and settings are saved at once, so a first run that is stopped early
  // still leaves the team for runs without --team.
  if (isNew) await run.save();

  // The report is gathered as the run goes, and the run is drained after each message, so that
  // no list of a large mailbox is kept twice. Message-IDs per ticket come from the rows already
  // in the workbook, then from this run's messages.
  const details = options.details ?? true;
  const messageCounts = new Map<number, number>();
  const messageIds = new Map<number, string[]>();
  const addMessageId = (ticket: number | null, messageId: string, inbound: boolean) => {
    if (ticket === null || messageId === '') return;
    if (inbound) messageCounts.set(ticket, (messageCounts.get(ticket) ?? 0) + 1);
    if (!details) return;
    const list = messageIds.get(ticket) ?? [];
    list.push(messageId);
    messageIds.set(ticket, list);
  };
  for (const { record } of run.state.records()) {
    if (record.state === 'processed' || record.state === 'sent') {
      addMessageId(record.ticket, record.messageId, record.key === '');
    }
  }
  const outgoing: OutgoingSummary[] = [];
  const skipped: SkippedSummary[] = [];
  const quarantine = join(options.out, 'quarantine');
  let sent = 0;
  let processed = 0;
  let duplicates = 0;
  const collect = (mail: InboundMail | null) => {
    const drained = run.drain();
    for (const outcome of drained.outcomes) {
      if (outcome.state === 'processed' && outcome.outcome !== 'failed') {
        addMessageId(outcome.ticket, outcome.messageId, true);
      }
      // Work queued in the sidebar is reported by the sidebar, not as mailbox messages.
      if (mail === null) continue;
      // A message that fails again after an earlier run quarantined it counts as seen, and its
      // file is already kept.
      if (outcome.seenBefore) {
        duplicates++;
        continue;
      }
      processed++;
      if (outcome.state === 'processed') continue;
      skipped.push({
        source: outcome.sourceId,
        messageId: outcome.messageId,
        ticket: outcome.ticket,
        state: outcome.state,
        reason: outcome.reason,
      });
      if (outcome.state === 'quarantined') {
        mkdirSync(quarantine, { recursive: true });
        writeFileSync(join(quarantine, safeFileName(mail.sourceId)), mail.raw);
      }
    }
    // Sent mail after the message that caused it, in the order of the Messages tab.
    for (const message of drained.sent) {
      sent++;
      if (details) outgoing.push(summarizeOutgoing(message));
      addMessageId(message.ticket, message.messageId, false);
    }
  };

  // A failed send stops the run; the next run sends what waits.
  const sendFailed = !(await run.handleWaiting());
  collect(null);

  let done = 0;
  for await (const mail of sendFailed ? [] : inDateOrder(sources)) {
    const goOn = await run.handle(mail);
    collect(mail);
    done++;
    options.onProgress?.(done);
    if (!goOn) break;
    if (done % STAGE_EVERY === 0) await run.stage();
  }
  // Saved without run.finish(), whose report would build every ticket at once.
  await run.save();
  await mailer.settle(recorded);
  collect(null);

  const tickets: TicketSummary[] = [];
  for (const ticket of run.state.tickets.values()) {
    tickets.push({
      number: ticket.number,
      status: ticket.status,
      customer: { name: ticket.customer.name, email: ticket.customer.email },
      subject: ticket.subject,
      assignee: ticket.assignee,
      followers: ticket.followers,
      messages: messageCounts.get(ticket.number) ?? 0,
      messageIds: messageIds.get(ticket.number) ?? [],
    });
  }
  tickets.sort((a, b) => a.number - b.number);

  return {
    workbook,
    outbox: join(options.out, 'outbox'),
    tickets,
    sent,
    outgoing,
    skipped,
    processed,
    duplicates,
    waitingForDigest: run.state.digestWaiting().count,
  };
}
