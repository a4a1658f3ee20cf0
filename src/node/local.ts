/**
 * The local runtime's main job: read mailboxes from disk, run the core over them, keep the desk
 * in `DIR/plusdesk.xlsx`, write outgoing mail to `DIR/outbox/` and copy messages that could not
 * be processed to `DIR/quarantine/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Clock, InboundMail, Log } from '../core/ports';
import { Run, type MessageOutcome } from '../core/process';
import type { Agent, OutgoingMessage, Ticket } from '../core/types';
import { openMailbox, type MailboxSource } from './mailbox';
import { OutboxMailer } from './outbox';
import { hmacSigner, loadSecret } from './secret';
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
}

export interface LocalReport {
  workbook: string;
  outbox: string;
  tickets: TicketSummary[];
  outgoing: OutgoingSummary[];
  skipped: SkippedSummary[];
  processed: number;
  duplicates: number;
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
  /** What caused it: new-ticket, follow-up, agent-reply, comment, held; or the kind. */
  event: string;
  /** Why each recipient gets it, by email. */
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
const DEFAULT_SUPPORT = 'support@example.com';

const quietLog: Log = { info: () => undefined, error: () => undefined };

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

function summarizeOutgoing(message: OutgoingMessage): OutgoingSummary {
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
  for (const path of options.mailboxes) sources.push(await openMailbox(path));
  options.onStart?.(sources.reduce((sum, source) => sum + source.count, 0));

  mkdirSync(options.out, { recursive: true });
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
  const signer = hmacSigner(loadSecret(options.out, options.secret));

  const run = await Run.start({ store, mailer, signer, clock, log });
  if (options.supportAddress !== undefined) run.state.settings.supportAddress = options.supportAddress;

  const skipped: SkippedSummary[] = [];
  const quarantine = join(options.out, 'quarantine');
  let processed = 0;
  let duplicates = 0;
  let stopReason = '';
  if (!(await run.handleQueued())) stopReason = 'a send failed';

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
  };
}
