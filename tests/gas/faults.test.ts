/**
 * Fault injection on the built processor bundle. The run is cut off right after each of its
 * service calls in turn. The runs that follow must end with the same sent mail and the same
 * Sheet as a run that was never interrupted, so no message is sent twice or lost.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyAction, openRequestRecord } from '../../src/core/actions';
import { plusAddress } from '../../src/core/address';
import { agentToRow, TAB } from '../../src/core/sheet';
import { hmacSigner } from '../../src/node/secret';
import {
  appendMessage,
  appendRows,
  buildBundles,
  logEvents,
  processorProject,
  PROPERTY,
  rawMessage,
  readTickets,
  roundTrips,
  sentMail,
  SUPPORT,
  tabRows,
  writeTicket,
  type ProcessorProject,
} from './support';

const TEAM = [
  { email: 'alice@example.com', name: 'Alice Martin', active: true, notifyNew: true },
  { email: 'bob@example.com', name: 'Bob Chen', active: true, notifyNew: true },
  { email: 'carol@example.com', name: 'Carol Diaz', active: true, notifyNew: true },
];
const START = new Date('2026-03-02T12:00:00Z');
/** Runs after a crash until one reports 'done' or 'idle'; more would mean the desk is stuck. */
const MAX_RECOVERY_RUNS = 4;

interface FinalState {
  /** X-Plusdesk-Key and recipients of each sent message, in send order. */
  sent: string[];
  tickets: unknown[][];
  messages: unknown[][];
}

/** Ticket columns that hold times (Created, Updated) and the Recent messages JSON, which has times. */
const TICKET_TIME_COLUMNS = [9, 10];
const RECENT_COLUMN = 14;
const MESSAGE_TIME_COLUMN = 0;

function withoutTimes(row: unknown[], columns: number[]): unknown[] {
  return row.map((cell, index) => (columns.includes(index) ? '' : cell));
}

function recentWithoutTimes(cell: unknown): unknown {
  if (typeof cell !== 'string' || !cell.startsWith('[')) return cell;
  return (JSON.parse(cell) as { time?: string }[]).map(({ time: _time, ...rest }) => rest);
}

async function finalState(project: ProcessorProject): Promise<FinalState> {
  const sent = (await sentMail(project.gas)).map(
    (message) => `${message.headers['x-plusdesk-key'] ?? ''} to ${[...message.to, ...message.cc].join(', ')}`,
  );
  const tickets = tabRows(project.gas, TAB.tickets).map((row) => {
    const copy = withoutTimes(row, TICKET_TIME_COLUMNS);
    copy[RECENT_COLUMN] = recentWithoutTimes(copy[RECENT_COLUMN]);
    return copy;
  });
  const messages = tabRows(project.gas, TAB.messages).map((row) => withoutTimes(row, [MESSAGE_TIME_COLUMN]));
  return { sent, tickets, messages };
}

/** Creates a desk after setup() with the team and a first run that stored the history id. */
async function emptyDesk(code: string): Promise<ProcessorProject> {
  const project = processorProject(code, { start: START });
  await project.setup();
  appendRows(project.gas, TAB.team, TEAM.map(agentToRow));
  await project.processInbox();
  return project;
}

/**
 * Creates a desk after setup() with a team, and one earlier ticket (#1) that Bob follows and commented
 * on in the sidebar, with an open-as-ticket request queued by Alice (it becomes #2). The mailbox
 * contains two new tickets (#3, #4), a follow-up, an agent reply to #3 and a comment on #4.
 */
async function initialState(code: string): Promise<ProcessorProject> {
  const project = await emptyDesk(code);
  const { gas } = project;

  const secret = gas.properties.script.get(PROPERTY.secret)!;
  const signer = hmacSigner(secret);
  const date = (minutes: number) => new Date(START.getTime() - (60 - minutes) * 60_000).toUTCString();
  gas.mailbox.deliver(
    rawMessage(
      { From: 'Frank Ito <frank@third.example>', To: SUPPORT, Subject: 'Password reset', Date: date(0), 'Message-ID': '<frank.1@third.example>' },
      'The reset link has expired.',
    ),
  );
  await project.processInbox();

  // Sidebar actions on #1, as the add-on writes them: Bob stars it and comments, Alice opens a
  // message of her own mailbox as a ticket.
  const time = gas.clock.date().toISOString();
  const starred = applyAction(readTickets(gas)[0]!, { type: 'toggle-follow' }, 'bob@example.com', time).ticket;
  const commented = applyAction(starred, { type: 'comment', text: '@carol the link lifetime is 1 hour' }, 'bob@example.com', time);
  writeTicket(gas, commented.ticket);
  appendMessage(gas, commented.record!);
  appendMessage(
    gas,
    openRequestRecord({
      subject: 'Refund for order 77',
      customerName: 'Gina Roy',
      customerEmail: 'gina@fourth.example',
      text: 'Please refund order 77.',
      agent: 'alice@example.com',
      messageId: 'gina.1@fourth.example',
      time,
    }),
  );

  gas.mailbox.deliver(
    rawMessage(
      { From: 'Dana Reyes <dana@customer.example>', To: SUPPORT, Subject: 'Export fails', Date: date(1), 'Message-ID': '<dana.1@customer.example>' },
      'The CSV export fails with error 500.',
    ),
  );
  gas.mailbox.deliver(
    rawMessage(
      { From: 'Erin Park <erin@other.example>', To: SUPPORT, Subject: 'Invoice copy', Date: date(2), 'Message-ID': '<erin.1@other.example>' },
      'Could you send me a copy of invoice 42?',
    ),
  );
  gas.mailbox.deliver(
    rawMessage(
      {
        From: 'Dana Reyes <dana@customer.example>',
        To: SUPPORT,
        Subject: 'Re: Export fails',
        Date: date(3),
        'Message-ID': '<dana.2@customer.example>',
        'In-Reply-To': '<dana.1@customer.example>',
        References: '<dana.1@customer.example>',
      },
      'It also fails for the PDF export.',
    ),
  );
  gas.mailbox.deliver(
    rawMessage(
      {
        From: 'Alice Martin <alice@example.com>',
        To: plusAddress(SUPPORT, signer, 3, 'reply'),
        Subject: 'Re: [#3] Export fails',
        Date: date(4),
        'Message-ID': '<alice.1@example.com>',
      },
      'Hi Dana, we deployed a fix. Please try again.\n\nAlice',
    ),
  );
  gas.mailbox.deliver(
    rawMessage(
      {
        From: 'Carol Diaz <carol@example.com>',
        To: plusAddress(SUPPORT, signer, 4, 'comment'),
        Subject: 'Re: [#4] Invoice copy',
        Date: date(5),
        'Message-ID': '<carol.1@example.com>',
      },
      '@bob can you find invoice 42?',
    ),
  );
  gas.calls.reset();
  return project;
}

/** Runs processInbox until a run ends 'done' or 'idle'; returns the statuses. */
async function runUntilSettled(project: ProcessorProject): Promise<string[]> {
  const statuses: string[] = [];
  for (let i = 0; i < MAX_RECOVERY_RUNS; i++) {
    const summary = await project.processInbox();
    statuses.push(summary.status);
    if (summary.status === 'idle') break;
  }
  return statuses;
}

let code: string;

beforeAll(async () => {
  code = (await buildBundles()).processor;
});

interface Sweep {
  /** Calls of the uninterrupted run. */
  callCount: number;
  /** Saves of the uninterrupted run, from its log. */
  saves: number;
  expected: FinalState;
  failures: string[];
  repairedSaves: number;
  sendLookups: number;
}

/**
 * Runs the desk that `initial` builds once without a crash, then once per service call of that
 * run with a crash right after the call, and compares what the recovery runs leave behind.
 * `points` picks the calls to crash after: a crash after a local getter leaves the same state
 * as a crash after the round trip before it.
 */
async function crashEveryCall(
  initial: (code: string) => Promise<ProcessorProject>,
  points: (name: string) => boolean = () => true,
): Promise<Sweep> {
  const reference = await initial(code);
  expect((await reference.processInbox()).status).toBe('done');
  const callCount = reference.gas.calls.total();
  const callNames = reference.gas.calls.list();
  const saves = Number(logEvents(reference.gas).filter((event) => event.event === 'run').at(-1)?.saves ?? 0);
  expect(await runUntilSettled(reference)).toEqual(['idle']);
  const expected = await finalState(reference);

  const sweep: Sweep = { callCount, saves, expected, failures: [], repairedSaves: 0, sendLookups: 0 };
  let tried = 0;
  for (let k = 1; k <= callCount; k++) {
    if (!points(callNames[k - 1]!)) continue;
    tried++;
    const project = await initial(code);
    project.gas.calls.onCall = (name, count) => {
      if (count === k) throw new Error(`injected crash after call ${k} (${name})`);
    };
    await expect(project.processInbox()).rejects.toThrow(`injected crash after call ${k}`);
    project.gas.calls.onCall = undefined;
    // Keys in the send journal are sends the crashed run did not confirm; the rerun looks them up.
    if ((project.gas.properties.script.get(PROPERTY.journal) ?? '') !== '') sweep.sendLookups++;
    const logFrom = logEvents(project.gas).length;
    const statuses = await runUntilSettled(project);
    if (logEvents(project.gas).slice(logFrom).some((event) => event.event === 'pending_save_written')) sweep.repairedSaves++;
    const state = await finalState(project);
    const where = `crash after call ${k} (${callNames[k - 1]}), then runs ${statuses.join(', ')}`;
    try {
      expect(state.sent, `${where}: sent mail`).toEqual(expected.sent);
      expect(state.tickets, `${where}: Tickets rows`).toEqual(expected.tickets);
      expect(state.messages, `${where}: Messages rows`).toEqual(expected.messages);
      expect(statuses.at(-1), `${where}: last run`).toBe('idle');
    } catch (error) {
      sweep.failures.push(String(error).split('\n')[0]!);
    }
  }
  console.log(
    `crash points tried: ${tried} of ${callCount} calls; a pending save was written again after ${sweep.repairedSaves}, ` +
      `sends were left unconfirmed by ${sweep.sendLookups}`,
  );
  return sweep;
}

/** Messages whose rows fill more than one save, so the run saves in the middle and goes on. */
const LONG_RUN_TICKETS = 175;

/** Creates a desk after setup() with LONG_RUN_TICKETS new tickets with long texts in its mailbox. */
async function longRunState(code: string): Promise<ProcessorProject> {
  const project = await emptyDesk(code);
  const { gas } = project;
  const body = 'The nightly export stops halfway and the file is empty. '.repeat(40);
  for (let i = 1; i <= LONG_RUN_TICKETS; i++) {
    gas.mailbox.deliver(
      rawMessage(
        { From: `customer${i}@shop.example`, To: SUPPORT, Subject: `Export ${i}`, Date: START.toUTCString(), 'Message-ID': `<export${i}@shop.example>` },
        `${i}: ${body}`,
      ),
    );
  }
  gas.calls.reset();
  return project;
}

describe('processor under crashes', () => {
  it('recovers after every call', async () => {
    const sweep = await crashEveryCall(initialState);
    expect(sweep.expected.sent).toHaveLength(new Set(sweep.expected.sent).size);
    expect(sweep.expected.tickets).toHaveLength(4);
    expect(sweep.callCount).toBeGreaterThan(20);
    expect(sweep.failures).toEqual([]);
    expect(sweep.repairedSaves).toBeGreaterThan(0);
    expect(sweep.sendLookups).toBeGreaterThan(0);
  });

  it('recovers in a two-save run', async () => {
    const sweep = await crashEveryCall(longRunState, (name) => roundTrips([name]).length > 0);
    expect(sweep.saves).toBe(2);
    expect(sweep.expected.tickets).toHaveLength(LONG_RUN_TICKETS);
    expect(sweep.expected.sent).toHaveLength(LONG_RUN_TICKETS);
    expect(sweep.failures).toEqual([]);
    expect(sweep.repairedSaves).toBeGreaterThan(1);
    // About 40 crash points, each with a run of LONG_RUN_TICKETS messages and its recovery.
  }, 300_000);
});
