/**
 * The runtimes that hostile-input tests run the same mail through. Each one takes raw messages
 * and the desk's state before the run, runs plusdesk once, and returns what happened in one
 * shape: an outcome per message, the messages sent (as encoded on the wire, then parsed), the
 * tickets, the Messages rows and the cells of the Sheet layout.
 *
 * Add a runtime by pushing one more object onto `runtimes`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import PostalMime from 'postal-mime';
import type { Address as PostalAddress } from 'postal-mime';
import { toMime } from '../../src/core/mime-writer';
import type { Log, LogFields } from '../../src/core/ports';
import { processMail, type MessageOutcome } from '../../src/core/process';
import { defaultSettings, messageToRow, TAB, ticketToRow } from '../../src/core/sheet';
import type { Agent, MessageRecord, OutgoingMessage, Settings, Ticket } from '../../src/core/types';
import { runLocal, WORKBOOK_NAME } from '../../src/node/local';
import { listOutbox } from '../../src/node/outbox';
import { readWorkbook, writeWorkbook } from '../../src/node/workbook';
import { ManualClock, MemoryMailer, MemoryStore, silentLog, SUPPORT, testSigner } from './memory';

/** Secret of every runtime's signer, the one `testSigner` uses, so tests can build valid plus addresses. */
export const TEST_SECRET = 'test-secret';

export interface InputMessage {
  raw: string | Uint8Array;
  /** Id the caller uses for the message; outcomes report it back. */
  sourceId: string;
}

/** The desk before the run. Missing parts take the defaults of an empty desk. */
export interface RunSetup {
  tickets?: Ticket[];
  team?: Agent[];
  settings?: Partial<Settings>;
  messages?: MessageRecord[];
}

export interface Outcome {
  sourceId: string;
  /** The classification (new-ticket, follow-up, ...), or duplicate, quarantined, failed. */
  outcome: string;
  state: MessageRecord['state'] | 'duplicate';
  ticket: number | null;
  reason: string;
}

/** A sent message as it went out: recipients and headers read back from its encoded form. */
export interface SentMessage {
  kind: string;
  ticket: number;
  key: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  text: string;
  /** Every header by lower-case name, unfolded, not decoded. */
  headers: Record<string, string[]>;
  /** The encoded message. */
  raw: string;
  attachments: { filename: string; size: number }[];
}

/** One cell of the store's tabs: what the Sheet or workbook holds, and whether it is a formula. */
export interface SheetCell {
  tab: string;
  /** Row number counted from 1, which is the header row. */
  row: number;
  column: number;
  value: unknown;
  formula: boolean;
}

export interface RunResult {
  outcomes: Outcome[];
  sent: SentMessage[];
  tickets: Ticket[];
  messages: MessageRecord[];
  cells: SheetCell[];
  /** The second run over the same mailbox and desk, when `repeat` was asked for. */
  again?: RepeatResult;
}

export interface RepeatResult {
  outcomes: Outcome[];
  /** Messages the second run sent. */
  sent: SentMessage[];
  /** Messages the second run composed, sent or found already sent. */
  planned: number;
  /** Messages rows the second run added. */
  rows: MessageRecord[];
}

export interface RunOptions {
  /** Runs plusdesk a second time over the same mailbox and desk, as the next trigger would. */
  repeat?: boolean;
}

export interface Runtime {
  name: string;
  run(messages: InputMessage[], setup?: RunSetup, options?: RunOptions): Promise<RunResult>;
}

export const CLOCK_START = Date.parse('2026-03-02T12:00:00Z');

function settingsOf(setup: RunSetup): Settings {
  return { ...defaultSettings(SUPPORT), ...setup.settings };
}

// ---------------------------------------------------------------------------------------------
// Reading sent mail back

function addresses(list: PostalAddress[] | undefined): string[] {
  const result: string[] = [];
  for (const address of list ?? []) {
    if (address.group !== undefined) {
      for (const member of address.group) result.push(member.address.toLowerCase());
    } else {
      result.push(address.address.toLowerCase());
    }
  }
  return result;
}

/** Parses an encoded outgoing message the way a receiving mail server would read it. */
export async function readSent(raw: string, kind: string, ticket: number): Promise<SentMessage> {
  const email = await PostalMime.parse(raw);
  const headers: Record<string, string[]> = {};
  for (const header of email.headers) (headers[header.key] ??= []).push(header.value);
  return {
    kind,
    ticket,
    key: headers['x-plusdesk-key']?.[0] ?? '',
    from: addresses(email.from === undefined ? [] : [email.from])[0] ?? '',
    to: addresses(email.to),
    cc: addresses(email.cc),
    bcc: addresses(email.bcc),
    replyTo: addresses(email.replyTo),
    subject: email.subject ?? '',
    text: email.text ?? '',
    headers,
    raw,
    attachments: email.attachments.map((attachment) => ({
      filename: attachment.filename ?? '',
      size: typeof attachment.content === 'string' ? attachment.content.length : attachment.content.byteLength,
    })),
  };
}

function layoutCells(tickets: Ticket[], messages: MessageRecord[]): SheetCell[] {
  const cells: SheetCell[] = [];
  const add = (tab: string, rows: unknown[][]): void => {
    rows.forEach((row, index) =>
      row.forEach((value, column) => cells.push({ tab, row: index + 2, column: column + 1, value, formula: false })),
    );
  };
  add(TAB.tickets, tickets.map(ticketToRow));
  add(TAB.messages, messages.map(messageToRow));
  return cells;
}

// ---------------------------------------------------------------------------------------------
// core: processMail over the in-memory ports

/**
 * The core alone: one `processMail` call over in-memory ports. Sent messages are encoded with
 * `toMime`, as every adapter does before sending, and parsed back. Its cells are the rows the
 * Sheet layout makes of the tickets and Messages rows.
 */
export const coreRuntime: Runtime = {
  name: 'core',
  async run(messages, setup = {}, options = {}) {
    const store = new MemoryStore({
      tickets: structuredClone(setup.tickets ?? []),
      messages: structuredClone(setup.messages ?? []),
      ...(setup.team === undefined ? {} : { team: structuredClone(setup.team) }),
      settings: settingsOf(setup),
    });
    const mailer = new MemoryMailer();
    const clock = new ManualClock(CLOCK_START);
    const deps = { store, mailer, signer: testSigner, clock, log: silentLog };
    const mail = messages.map((message) => ({ sourceId: message.sourceId, threadId: '', raw: message.raw }));
    const report = await processMail(deps, mail);
    const sent: SentMessage[] = [];
    for (const message of mailer.sent) sent.push(await encodeAndRead(message, clock.now()));
    const result: RunResult = {
      outcomes: report.outcomes.map(toOutcome),
      sent,
      tickets: structuredClone(store.snapshot.tickets),
      messages: structuredClone(store.snapshot.messages),
      cells: layoutCells(store.snapshot.tickets, store.snapshot.messages),
    };
    if (options.repeat) {
      const before = mailer.sent.length;
      const rowsBefore = store.snapshot.messages.length;
      const second = await processMail(deps, mail);
      const resent: SentMessage[] = [];
      for (const message of mailer.sent.slice(before)) resent.push(await encodeAndRead(message, clock.now()));
      result.again = {
        outcomes: second.outcomes.map(toOutcome),
        sent: resent,
        planned: second.sent.length,
        rows: store.snapshot.messages.slice(rowsBefore),
      };
    }
    return result;
  },
};

function toOutcome(outcome: MessageOutcome): Outcome {
  return {
    sourceId: outcome.sourceId,
    outcome: outcome.outcome,
    state: outcome.state,
    ticket: outcome.ticket,
    reason: outcome.reason,
  };
}

async function encodeAndRead(message: OutgoingMessage, date: Date): Promise<SentMessage> {
  return readSent(toMime(message, date), message.kind, message.ticket);
}

// ---------------------------------------------------------------------------------------------
// local: runLocal over a folder of .eml files

/** The file name in a local source id, which is `<mailbox path>:<file>`. */
function fileOf(sourceId: string): string {
  return sourceId.slice(sourceId.lastIndexOf(':') + 1);
}

/** Keeps the `message` and `message_quarantined` log events of a run by file name. */
class OutcomeLog implements Log {
  readonly bySource = new Map<string, LogFields>();

  info(event: string, fields?: LogFields): void {
    if (event === 'message' && fields !== undefined) this.bySource.set(fileOf(String(fields.sourceId)), fields);
  }

  error(event: string, fields?: LogFields): void {
    if (event === 'message_quarantined' && fields !== undefined) {
      this.bySource.set(fileOf(String(fields.sourceId)), { ...fields, outcome: 'quarantined' });
    }
  }
}

/** Reads every cell of the workbook's Tickets and Messages tabs as exceljs returns it. */
async function workbookCells(path: string): Promise<SheetCell[]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path);
  const cells: SheetCell[] = [];
  for (const tab of [TAB.tickets, TAB.messages]) {
    const worksheet = workbook.getWorksheet(tab);
    worksheet?.eachRow((row, rowNumber) => {
      if (rowNumber === 1) return;
      row.eachCell((cell, column) => {
        cells.push({
          tab,
          row: rowNumber,
          column,
          // Text is written as one rich-text run; its value is the text.
          value: cell.type === ExcelJS.ValueType.RichText ? cell.text : cell.value,
          formula: cell.type === ExcelJS.ValueType.Formula || cell.formula !== undefined,
        });
      });
    });
  }
  return cells;
}

/**
 * The Node runtime: the messages are written as numbered .eml files into a mailbox folder, the
 * desk as a workbook, and `runLocal` processes them into an outbox. Results are read back from
 * the workbook and the outbox files. The mailbox is read in Date header order, so callers date
 * their messages in the order they must be processed (equal dates keep file order).
 */
export const localRuntime: Runtime = {
  name: 'local',
  async run(messages, setup = {}, options = {}) {
    const root = mkdtempSync(join(tmpdir(), 'plusdesk-hostile-'));
    try {
      const inbox = join(root, 'inbox');
      const out = join(root, 'desk');
      mkdirSync(inbox);
      const sourceOf = new Map<string, string>();
      messages.forEach((message, index) => {
        const file = `${String(index + 1).padStart(4, '0')}.eml`;
        sourceOf.set(file, message.sourceId);
        writeFileSync(join(inbox, file), message.raw);
      });
      const workbook = join(out, WORKBOOK_NAME);
      const before = {
        tickets: structuredClone(setup.tickets ?? []),
        messages: structuredClone(setup.messages ?? []),
        team: structuredClone(setup.team ?? new MemoryStore().snapshot.team),
        settings: settingsOf(setup),
      };
      await writeWorkbook(workbook, before);

      const first = await runLocalOnce(inbox, out, sourceOf, before.messages.length);
      const after = await readWorkbook(workbook, SUPPORT);
      const result: RunResult = {
        outcomes: first.outcomes,
        sent: first.sent,
        tickets: after.tickets,
        messages: after.messages.map((record) => ({ ...record, sourceId: sourceOf.get(fileOf(record.sourceId)) ?? record.sourceId })),
        cells: await workbookCells(workbook),
      };
      if (options.repeat) {
        const second = await runLocalOnce(inbox, out, sourceOf, after.messages.length, first.sent.length);
        result.again = second;
      }
      return result;
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
};

/**
 * Runs `runLocal` once and reads back the outcome of each message file (from the log and the
 * Messages rows after the first `rowsBefore`) and the outbox files after the first `sentBefore`.
 */
async function runLocalOnce(
  inbox: string,
  out: string,
  sourceOf: Map<string, string>,
  rowsBefore: number,
  sentBefore = 0,
): Promise<RepeatResult> {
  const log = new OutcomeLog();
  const report = await runLocal({ mailboxes: [inbox], out, secret: TEST_SECRET, clock: new ManualClock(CLOCK_START), log });
  const rows = (await readWorkbook(join(out, WORKBOOK_NAME), SUPPORT)).messages.slice(rowsBefore);
  const outcomes: Outcome[] = [];
  for (const [file, sourceId] of sourceOf) {
    const row = rows.find((record) => fileOf(record.sourceId) === file && record.key === '');
    const logged = log.bySource.get(file);
    if (row !== undefined) {
      outcomes.push({ sourceId, outcome: String(logged?.outcome ?? 'unknown'), state: row.state, ticket: row.ticket, reason: row.reason });
    } else if (logged?.outcome === 'quarantined') {
      // A message quarantined before is reported again without a new row.
      outcomes.push({ sourceId, outcome: 'quarantined', state: 'quarantined', ticket: null, reason: String(logged.reason ?? '') });
    } else {
      outcomes.push({ sourceId, outcome: 'duplicate', state: 'duplicate', ticket: null, reason: 'already processed' });
    }
  }
  const sent: SentMessage[] = [];
  for (const entry of (await listOutbox(out)).slice(sentBefore)) {
    sent.push(await readSent(readFileSync(entry.path, 'utf8'), entry.kind, entry.ticket));
  }
  return { outcomes, sent, planned: report.outgoing.length, rows };
}

/** Every runtime the hostile-input table runs on. */
export const runtimes: Runtime[] = [coreRuntime, localRuntime];
