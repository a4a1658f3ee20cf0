/**
 * The built processor bundle (dist/processor/Code.js) in the emulated Apps Script. It covers
 * setup() and the demo story through processInbox(), compared with the local runtime. It also
 * covers runs that are cut off, overlap, crash, lose their Gmail history or meet a message that
 * cannot be parsed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIGEST_INTERVAL_MS } from '../../src/core/budget';
import { MESSAGES_WINDOW } from '../../src/gas/sheet-store';
import { applyAction } from '../../src/core/actions';
import {
  agentToRow,
  MESSAGE_HEADERS,
  messageToRow,
  SETTINGS_HEADERS,
  TAB,
  TEAM_HEADERS,
  TICKET_HEADERS,
  TICKET_STATUSES_LIST,
} from '../../src/core/sheet';
import type { Ticket } from '../../src/core/types';
import { DEMO_SECRET, DEMO_SUPPORT, DEMO_TEAM, demoMessages, runDemo } from '../../src/node/demo';
import { listOutbox, type OutboxEntry } from '../../src/node/outbox';
import { readWorkbook } from '../../src/node/workbook';
import type { ParsedMailboxMessage } from './emulator';
import {
  appendMessage,
  appendRows,
  buildBundles,
  logEvents,
  roundTrips,
  processorProject,
  PROPERTY,
  rawMessage,
  readMessages,
  readTickets,
  sentMail,
  sheetIdOf,
  SUPPORT,
  tabRows,
  writeTicket,
  type ProcessorProject,
} from './support';

let code: string;

beforeAll(async () => {
  code = (await buildBundles()).processor;
});

const TEAM_ROWS = DEMO_TEAM.map(agentToRow);

/** Creates a processor project after setup(), with the demo team and a known secret. */
async function desk(options: Parameters<typeof processorProject>[1] = {}): Promise<ProcessorProject> {
  const project = processorProject(code, options);
  await project.setup();
  project.gas.properties.script.set(PROPERTY.secret, DEMO_SECRET);
  appendRows(project.gas, TAB.team, TEAM_ROWS);
  return project;
}

/** Creates a desk whose first customer mail made ticket #1. */
async function deskWithTicket(): Promise<ProcessorProject> {
  const project = await desk();
  await project.processInbox();
  project.gas.mailbox.deliver(customerMail(1));
  expect((await project.processInbox()).status).toBe('done');
  return project;
}

function customerMail(index: number, extra: Record<string, string> = {}, body = `Question number ${index}.`): string {
  return rawMessage(
    {
      From: `Customer ${index} <customer${index}@customer.example>`,
      To: SUPPORT,
      Subject: `Question ${index}`,
      Date: 'Mon, 02 Mar 2026 09:00:00 +0000',
      'Message-ID': `<q${index}@customer.example>`,
      ...extra,
    },
    body,
  );
}

/** Keys of the sent mail, which must all differ. */
function sentKeys(sent: ParsedMailboxMessage[]): string[] {
  return sent.map((message) => message.headers['x-plusdesk-key'] ?? '');
}

function inboundRows(project: ProcessorProject) {
  return readMessages(project.gas).filter((record) => record.key === '');
}

describe('setup', () => {
  let project: ProcessorProject;
  let secret: string | null;
  let firstLog: Record<string, unknown>;

  beforeAll(async () => {
    project = processorProject(code);
    await project.setup();
    secret = project.gas.properties.script.get(PROPERTY.secret);
    firstLog = logEvents(project.gas).find((event) => event.event === 'setup')!;
    await project.setup();
  });

  it('creates one spreadsheet with the tabs', () => {
    const { gas } = project;
    expect(gas.spreadsheets.ids()).toEqual([sheetIdOf(gas)]);
    expect(gas.spreadsheets.sheetNames(sheetIdOf(gas))).toEqual(['Tickets', 'Messages', 'Team', 'Settings', 'Dashboard']);
  });

  it('writes headers and freezes them', () => {
    const { gas } = project;
    const headers: [string, readonly string[]][] = [
      [TAB.tickets, TICKET_HEADERS],
      [TAB.messages, MESSAGE_HEADERS],
      [TAB.team, TEAM_HEADERS],
      [TAB.settings, SETTINGS_HEADERS],
    ];
    for (const [tab, expected] of headers) {
      expect(gas.spreadsheets.values(sheetIdOf(gas), tab)[0]?.slice(0, expected.length), tab).toEqual([...expected]);
      expect(gas.spreadsheets.sheet(sheetIdOf(gas), tab).frozenRows, tab).toBe(1);
    }
    expect(gas.spreadsheets.sheet(sheetIdOf(gas), 'Dashboard').charts).toHaveLength(2);
  });

  it('validates the status column', () => {
    const sheet = project.gas.spreadsheets.sheet(sheetIdOf(project.gas), TAB.tickets);
    for (const row of [2, 500, 1000]) {
      const validation = sheet.cell(row, 2)?.validation;
      // requireValueInList(values, showDropdown) keeps both arguments.
      expect(validation?.values, `row ${row}`).toEqual([[...TICKET_STATUSES_LIST], true]);
      expect(validation?.allowInvalid, `row ${row}`).toBe(false);
    }
    expect(sheet.cell(2, 1)?.validation).toBeUndefined();
  });

  it('writes the settings once', () => {
    const rows = tabRows(project.gas, TAB.settings);
    expect(rows.map((row) => row[0])).toEqual([
      'Support address',
      'Support name',
      'Team group address',
      'Signature',
      'Auto-acknowledge new tickets',
      'Trusted domains without DMARC',
      'Require DMARC or DKIM pass',
      'Daily recipient limit',
    ]);
    expect(rows[0]?.[1]).toBe(SUPPORT);
  });

  it('creates the labels once', () => {
    const names = project.gas.mailbox
      .labels()
      .filter((label) => label.type === 'user')
      .map((label) => label.name)
      .sort();
    expect(names).toEqual(['plusdesk/error', 'plusdesk/held', 'plusdesk/processed', 'plusdesk/skipped']);
  });

  it('installs one trigger', () => {
    expect(project.gas.triggers.list().map(({ handler, eventType, everyMinutes }) => ({ handler, eventType, everyMinutes }))).toEqual([
      { handler: 'processInbox', eventType: 'CLOCK', everyMinutes: 1 },
    ]);
  });

  it('keeps the secret', () => {
    expect(secret).toMatch(/^[0-9a-f-]{72}$/);
    expect(project.gas.properties.script.get(PROPERTY.secret)).toBe(secret);
  });

  it('logs what each setup did', () => {
    const setups = logEvents(project.gas).filter((event) => event.event === 'setup');
    expect(setups).toHaveLength(2);
    expect(firstLog.actions).toContain('created Sheet "plusdesk tickets"');
    expect(firstLog.actions).toContain('stored a new signing secret');
    expect(firstLog.actions).toContain('installed a one-minute trigger for processInbox');
    expect(setups[1]?.actions).toBe('nothing to do');
    expect(setups[1]?.sheetUrl).toBe(firstLog.sheetUrl);
  });
});

/** An outgoing message as both runtimes can report it. */
interface Outgoing {
  kind: string;
  to: string[];
  cc: string[];
  replyTo: string[];
  subject: string;
  inReplyTo: string;
  references: string[];
  key: string;
}

function ids(value: string): string[] {
  return value
    .split(/\s+/)
    .map((id) => id.replace(/^<|>$/g, ''))
    .filter((id) => id !== '');
}

function fromOutbox(entry: OutboxEntry): Outgoing {
  const emails = (list: { email: string }[]) => list.map((address) => address.email.toLowerCase());
  return {
    kind: entry.kind,
    to: emails(entry.to),
    cc: emails(entry.cc),
    replyTo: emails(entry.replyTo),
    subject: entry.subject,
    inReplyTo: entry.inReplyTo,
    references: entry.references,
    key: entry.key,
  };
}

function fromGmail(message: ParsedMailboxMessage, kindOf: Map<string, string>): Outgoing {
  const key = message.headers['x-plusdesk-key'] ?? '';
  return {
    kind: kindOf.get(key) ?? 'unknown',
    to: message.to,
    cc: message.cc,
    replyTo: message.replyTo,
    subject: message.subject,
    inReplyTo: ids(message.inReplyTo)[0] ?? '',
    references: ids(message.references),
    key,
  };
}

function ticketSummary(ticket: Ticket) {
  return {
    number: ticket.number,
    status: ticket.status,
    customer: ticket.customer,
    assignee: ticket.assignee,
    lastReplier: ticket.lastReplier,
    followers: ticket.followers,
    cc: ticket.cc,
  };
}

describe('demo story through processInbox', () => {
  let project: ProcessorProject;
  let local: { outbox: Outgoing[]; tickets: ReturnType<typeof ticketSummary>[] };
  let delivered: { id: string; file: string }[];
  let statuses: string[];
  let idleCalls: string[];
  let sentBeforeRerun: number;
  let localDir: string;

  beforeAll(async () => {
    localDir = mkdtempSync(join(tmpdir(), 'plusdesk-demo-gas-'));
    await runDemo(localDir);
    const snapshot = await readWorkbook(join(localDir, 'desk', 'plusdesk.xlsx'), DEMO_SUPPORT);
    local = {
      outbox: (await listOutbox(join(localDir, 'desk'))).map(fromOutbox),
      tickets: snapshot.tickets.map(ticketSummary),
    };

    project = await desk({ start: new Date('2026-03-02T08:59:00Z') });
    const { gas } = project;
    const { before, after } = demoMessages();
    delivered = [];
    statuses = [];
    const deliver = async (message: (typeof before)[number]) => {
      // Each message arrives at its Date, and the one-minute trigger runs after it.
      const date = Date.parse(message.headers.Date!);
      if (date > gas.clock.now()) gas.clock.advance(date - gas.clock.now());
      const { id } = gas.mailbox.deliver(rawMessage(message.headers, message.body));
      delivered.push({ id, file: message.file });
      statuses.push((await project.processInbox()).status);
    };
    for (const message of before) await deliver(message);

    // Bob clicks the star on ticket #1: the core action on the Sheet row, as the sidebar does.
    const ticket = readTickets(gas).find((candidate) => candidate.number === 1)!;
    writeTicket(gas, applyAction(ticket, { type: 'toggle-follow' }, 'bob@example.com', '2026-03-02T10:30:00.000Z').ticket);

    for (const message of after) await deliver(message);
    sentBeforeRerun = (await sentMail(gas)).length;
    gas.calls.reset();
    statuses.push((await project.processInbox()).status);
    idleCalls = gas.calls.list();
  });

  afterAll(() => rmSync(localDir, { recursive: true, force: true }));

  it('runs once per delivery', () => {
    expect(statuses).toEqual(['done', 'done', 'done', 'done', 'done', 'done', 'done', 'done', 'idle']);
  });

  it('sends what the local runtime sends', async () => {
    const kindOf = new Map(readMessages(project.gas).map((record) => [record.key, record.reason]));
    const sent = (await sentMail(project.gas)).map((message) => fromGmail(message, kindOf));
    expect(sent).toEqual(local.outbox);
    expect(sent.map((message) => message.kind)).toEqual([
      'notification',
      'relay',
      'notification',
      'notification',
      'notification',
      'relay',
      'notification',
    ]);
  });

  it('keeps the same tickets as the local runtime', () => {
    expect(readTickets(project.gas).map(ticketSummary)).toEqual(local.tickets);
    expect(local.tickets).toEqual([
      expect.objectContaining({ number: 1, status: 'pending', assignee: 'alice@example.com', followers: ['bob@example.com'] }),
    ]);
  });

  it('threads the second relay after the first one', async () => {
    const sent = await sentMail(project.gas);
    const relays = sent.filter((message) => message.to.includes('dana@customer.example'));
    expect(relays).toHaveLength(2);
    // Gmail gave the first relay its own Message-ID; the ticket still refers to plusdesk's.
    expect(ids(relays[1]!.references)).toContain(`pd.${relays[0]!.headers['x-plusdesk-key']}@example.com`);
    expect(ids(relays[0]!.raw.match(/^Message-ID: (.*)$/im)?.[1] ?? '')[0]).toMatch(/@mail\.gmail\.com$/);
  });

  it('labels and archives what it handled', () => {
    const skipped = new Set(['05-out-of-office.eml', '06-bounce.eml']);
    for (const { id, file } of delivered) {
      const labels = project.gas.mailbox.labelsOf(id);
      expect(labels, file).toContain(skipped.has(file) ? 'plusdesk/skipped' : 'plusdesk/processed');
      expect(labels, file).not.toContain('INBOX');
    }
  });

  it('records each inbound message once', () => {
    const rows = inboundRows(project);
    expect(rows.map((row) => row.sourceId).sort()).toEqual(delivered.map(({ id }) => id).sort());
    expect(rows.map((row) => row.state)).toEqual(['processed', 'processed', 'processed', 'processed', 'skipped', 'skipped', 'processed', 'processed']);
  });

  it('idle rerun costs two calls', async () => {
    expect((await sentMail(project.gas)).length).toBe(sentBeforeRerun);
    expect(roundTrips(idleCalls)).toEqual(['Properties.getProperties', 'UrlFetchApp.fetchAll']);
  });
});

describe('time budget', () => {
  const TICKETS = 60;
  let project: ProcessorProject;
  let summaries: { status: string; found: number; handled: number; reason: string }[];

  beforeAll(async () => {
    // Each parallel batch of reads or sends takes 60 s, so a batch of 25 messages takes two
    // minutes and the 4.5-minute budget ends the first run after two batches.
    project = await desk({ latency: { 'UrlFetchApp.fetchAll': 60_000 } });
    await project.processInbox();
    for (let i = 1; i <= TICKETS; i++) project.gas.mailbox.deliver(customerMail(i));
    summaries = [];
    for (let run = 0; run < 5; run++) {
      const summary = await project.processInbox();
      summaries.push(summary);
      if (summary.status === 'idle') break;
    }
  });

  it('stops the first run cleanly', () => {
    const first = summaries[0]!;
    expect(first.status).toBe('partial');
    expect(first.reason).toBe('time budget used up; the next run continues');
    expect(first.handled).toBeGreaterThan(5);
    expect(first.handled).toBeLessThan(TICKETS);
  });

  it('lists only the rest in the next run', () => {
    expect(summaries[1]!.found).toBe(TICKETS - summaries[0]!.handled);
  });

  it('finishes in later runs', () => {
    expect(summaries.at(-1)!.status).toBe('idle');
    expect(summaries.filter((summary) => summary.status === 'partial').length).toBeGreaterThanOrEqual(1);
    expect(summaries.reduce((total, summary) => total + summary.handled, 0)).toBe(TICKETS);
  });

  it('processes every message once', async () => {
    expect(readTickets(project.gas).map((ticket) => ticket.number)).toEqual(Array.from({ length: TICKETS }, (_, i) => i + 1));
    const rows = inboundRows(project);
    expect(rows).toHaveLength(TICKETS);
    expect(new Set(rows.map((row) => row.sourceId)).size).toBe(TICKETS);
    const keys = sentKeys(await sentMail(project.gas));
    expect(keys).toHaveLength(TICKETS);
    expect(new Set(keys).size).toBe(TICKETS);
  });
});

describe('save size budget', () => {
  it('saves and goes on when full', async () => {
    const TICKETS = 200;
    const project = processorProject(code);
    await project.setup();
    const { gas } = project;
    await project.processInbox();
    const body = 'The export fails again. '.repeat(40);
    for (let i = 1; i <= TICKETS; i++) gas.mailbox.deliver(customerMail(i, {}, `${i} ${body}`));

    gas.calls.reset();
    const first = await project.processInbox();
    expect(first).toMatchObject({ status: 'done', found: TICKETS, handled: TICKETS });
    expect(gas.calls.count('Sheets.Spreadsheets.Values.append')).toBeGreaterThan(1);
    expect(logEvents(gas).some((event) => event.event === 'save_unguarded')).toBe(false);
    expect(gas.properties.script.get(PROPERTY.pendingSave)).toBe('');
    expect(readTickets(gas).map((ticket) => ticket.number)).toEqual(Array.from({ length: TICKETS }, (_, i) => i + 1));
    expect(inboundRows(project)).toHaveLength(TICKETS);
    expect((await project.processInbox()).status).toBe('idle');
  });
});

describe('overlapping runs', () => {
  it('second run is busy and changes nothing', async () => {
    const project = await desk();
    const { gas } = project;
    await project.processInbox();
    for (let i = 1; i <= 3; i++) gas.mailbox.deliver(customerMail(i));

    // Run A holds the script lock, as a run still processing does.
    const runA = gas.beginExecution('processInbox A');
    expect(await runA.run(() => gas.globals.LockService.getScriptLock().tryLock(0))).toBe(true);
    const properties = gas.properties.script.toObject();
    const tickets = tabRows(gas, TAB.tickets);
    const messages = tabRows(gas, TAB.messages);

    const runB = await project.processInbox();
    expect(runB).toEqual({ status: 'busy', found: 3, handled: 0, sent: 0, reason: 'another run holds the lock' });
    expect(gas.properties.script.toObject()).toEqual(properties);
    expect(tabRows(gas, TAB.tickets)).toEqual(tickets);
    expect(tabRows(gas, TAB.messages)).toEqual(messages);
    expect(await sentMail(gas)).toEqual([]);

    runA.end();
    expect((await project.processInbox()).status).toBe('done');
    expect((await project.processInbox()).status).toBe('idle');
    expect(readTickets(gas)).toHaveLength(3);
    expect(sentKeys(await sentMail(gas))).toHaveLength(3);
  });
});

describe('a run that dies', () => {
  /** Three new tickets and a follow-up: four notifications. */
  async function mailbox(): Promise<ProcessorProject> {
    const project = await desk();
    await project.processInbox();
    for (let i = 1; i <= 3; i++) project.gas.mailbox.deliver(customerMail(i));
    project.gas.mailbox.deliver(
      customerMail(1, { Subject: 'Re: Question 1', 'Message-ID': '<q1.again@customer.example>', 'In-Reply-To': '<q1@customer.example>' }, 'Any news?'),
    );
    return project;
  }

  async function checkExactlyOnce(project: ProcessorProject): Promise<void> {
    const sent = await sentMail(project.gas);
    const keys = sentKeys(sent);
    expect(new Set(keys).size, 'distinct keys').toBe(keys.length);
    expect(keys).toHaveLength(4);
    const rows = readMessages(project.gas);
    const inbound = rows.filter((row) => row.key === '');
    expect(inbound).toHaveLength(4);
    expect(new Set(inbound.map((row) => row.sourceId)).size).toBe(4);
    const outgoing = rows.filter((row) => row.key !== '');
    expect(outgoing.map((row) => row.key).sort()).toEqual([...keys].sort());
    expect(readTickets(project.gas).map((ticket) => ticket.number)).toEqual([1, 2, 3]);
  }

  /** Runs the processor with a crash right after it sent the batch's mail. */
  async function crashAfterSends(project: ProcessorProject): Promise<void> {
    let fetches = 0;
    // The first fetchAll polls, the second reads the batch, the third sends its mail.
    project.gas.calls.onCall = (name) => {
      if (name === 'UrlFetchApp.fetchAll' && ++fetches === 3) throw new Error('injected crash after the sends');
    };
    await expect(project.processInbox()).rejects.toThrow('injected crash after the sends');
    project.gas.calls.onCall = undefined;
  }

  it('crash after a send loses and repeats nothing', async () => {
    const project = await mailbox();
    await crashAfterSends(project);
    expect(sentKeys(await sentMail(project.gas)).length).toBeGreaterThan(0);
    expect(readTickets(project.gas)).toEqual([]);
    expect(project.gas.properties.script.get(PROPERTY.journal)).not.toBeNull();

    expect((await project.processInbox()).status).toBe('done');
    expect((await project.processInbox()).status).toBe('idle');
    await checkExactlyOnce(project);
    expect(project.gas.properties.script.get(PROPERTY.journal) ?? '').toBe('');
  });

  it('forgets sends of deleted mail', async () => {
    const project = await mailbox();
    await crashAfterSends(project);
    // Someone deletes the customer's follow-up before the next run.
    const followUp = project.gas.mailbox.threads()[0]!.messageIds[1]!;
    project.gas.mailbox.remove(followUp);

    expect((await project.processInbox()).status).toBe('done');
    expect(project.gas.properties.script.get(PROPERTY.journal) ?? '').toBe('');
    expect((await project.processInbox()).status).toBe('idle');
  });

  it('failed send is retried by the next run', async () => {
    const project = await mailbox();
    let fetches = 0;
    project.gas.calls.beforeCall = (name) => {
      if (name === 'UrlFetchApp.fetchAll' && ++fetches === 3) throw new Error('Service invoked too many times: urlfetch');
    };
    const first = await project.processInbox();
    project.gas.calls.beforeCall = undefined;
    expect(first.status).toBe('partial');
    expect(first.reason).toBe('a send failed; the next run retries');
    // The batch whose mail failed is not saved: its messages stay unlabelled for the next run.
    expect(readTickets(project.gas)).toEqual([]);
    const third = project.gas.mailbox.threads()[2]!.messageIds[0]!;
    expect(project.gas.mailbox.labelsOf(third)).toEqual(['INBOX', 'UNREAD']);

    expect((await project.processInbox()).status).toBe('done');
    expect((await project.processInbox()).status).toBe('idle');
    await checkExactlyOnce(project);
  });

  it('crash after labelling skips the labelled mail', async () => {
    const project = await mailbox();
    project.gas.calls.onCall = (name) => {
      if (name === 'Gmail.Users.Messages.batchModify') throw new Error('injected crash after labelling');
    };
    await expect(project.processInbox()).rejects.toThrow('injected crash after labelling');
    project.gas.calls.onCall = undefined;
    project.gas.calls.reset();

    expect(await project.processInbox()).toMatchObject({ status: 'done', found: 4, handled: 4, sent: 0 });
    // The history id was not stored, so the rerun lists the same mail and skips it by its label.
    expect(project.gas.calls.count('Gmail.Users.Messages.batchModify')).toBe(0);
    expect(project.gas.calls.count('Gmail.Users.Messages.send')).toBe(0);
    expect((await project.processInbox()).status).toBe('idle');
    await checkExactlyOnce(project);
  });

  it('crash in the middle of a save is repaired', async () => {
    const project = await mailbox();
    project.gas.calls.onCall = (name) => {
      if (name === 'Sheets.Spreadsheets.Values.append') throw new Error('injected crash after the Messages append');
    };
    await expect(project.processInbox()).rejects.toThrow('injected crash after the Messages append');
    project.gas.calls.onCall = undefined;
    expect(readMessages(project.gas).length).toBeGreaterThan(0);
    expect(readTickets(project.gas)).toEqual([]);
    expect(project.gas.properties.script.get(PROPERTY.pendingSave)).toBe('1');

    expect((await project.processInbox()).status).toBe('done');
    expect(logEvents(project.gas).some((event) => event.event === 'pending_save_written')).toBe(true);
    expect(project.gas.properties.script.get(PROPERTY.pendingSave)).toBe('');
    await checkExactlyOnce(project);
  });
});

describe('queued sidebar work', () => {
  it('is read inside a full grid', async () => {
    const project = await deskWithTicket();
    const { gas } = project;
    // Values.append inserts the rows it writes, so past the first grid a tab ends at its last row.
    const messages = gas.spreadsheets.sheet(sheetIdOf(gas), TAB.messages);
    messages.maxRows = messages.lastRow();

    expect((await project.processInbox()).status).toBe('idle');
    expect(logEvents(gas).some((event) => event.event === 'queue_check_failed')).toBe(false);
  });

  it('goes out in the next run', async () => {
    const project = await deskWithTicket();
    const { gas } = project;
    const sentBefore = (await sentMail(gas)).length;

    gas.calls.reset();
    expect((await project.processInbox()).status).toBe('idle');
    expect(roundTrips(gas.calls.list())).toEqual(['Properties.getProperties', 'UrlFetchApp.fetchAll']);

    // Bob comments in the sidebar: the ticket row and a queued Messages row.
    const time = gas.clock.date().toISOString();
    const comment = applyAction(readTickets(gas)[0]!, { type: 'comment', text: '@carol can you check?' }, 'bob@example.com', time);
    writeTicket(gas, comment.ticket);
    appendMessage(gas, comment.record!);

    expect((await project.processInbox()).status).toBe('done');
    const sent = (await sentMail(gas)).slice(sentBefore);
    expect(sent.map((message) => message.to)).toEqual([['carol@example.com']]);
    expect(readMessages(gas).find((record) => record.kind === 'comment')?.state).toBe('processed');

    gas.calls.reset();
    expect((await project.processInbox()).status).toBe('idle');
    expect(roundTrips(gas.calls.list())).toEqual(['Properties.getProperties', 'UrlFetchApp.fetchAll']);
  });

  it('reports an unreadable Sheet', async () => {
    const project = await desk();
    const { gas } = project;
    await project.processInbox();
    gas.properties.script.set(PROPERTY.sheetId, 'no-such-sheet');
    await expect(project.processInbox()).rejects.toThrow();
    expect(logEvents(gas).some((event) => event.event === 'queue_check_failed')).toBe(true);
  });
});

describe('a long Messages tab', () => {
  it('is read from its latest rows', async () => {
    const project = await deskWithTicket();
    const { gas } = project;
    // Older log rows than one run reads, as a desk in use for months has.
    const filler = messageToRow({ ...readMessages(gas)[0]!, kind: 'system', state: 'skipped', key: '', sourceId: 'old', reason: 'old row' });
    appendRows(gas, TAB.messages, Array.from({ length: MESSAGES_WINDOW + 50 }, () => filler));
    expect((await project.processInbox()).status).toBe('done');

    const time = gas.clock.date().toISOString();
    const comment = applyAction(readTickets(gas)[0]!, { type: 'comment', text: '@carol can you check?' }, 'bob@example.com', time);
    writeTicket(gas, comment.ticket);
    appendMessage(gas, comment.record!);
    const ranges: string[] = [];
    const api = gas.globals.Sheets.Spreadsheets.Values;
    const batchGet = api.batchGet.bind(api);
    api.batchGet = ((id: string, args: { ranges?: string[] } = {}) => {
      ranges.push(...(args.ranges ?? []));
      return batchGet(id, args);
    }) as typeof api.batchGet;
    const lastRow = (JSON.parse(gas.properties.script.get(PROPERTY.queueCheck)!) as { rows: number }).rows;
    expect((await project.processInbox()).status).toBe('done');

    const firstRows = ranges.flatMap((range) => /^Messages!A(\d+):/.exec(range)?.[1] ?? []).map(Number);
    expect(firstRows).toEqual([lastRow - MESSAGES_WINDOW + 1]);
    const rows = readMessages(gas);
    const queued = rows.findIndex((record) => record.kind === 'comment');
    expect(queued).toBeGreaterThan(MESSAGES_WINDOW);
    expect(rows[queued]!.state).toBe('processed');
    expect(rows.filter((record) => record.reason === 'old row')).toHaveLength(MESSAGES_WINDOW + 50);
    expect((await sentMail(gas)).at(-1)!.to).toEqual(['carol@example.com']);
  });
});

describe('hourly digest', () => {
  it('wakes an idle run when due', async () => {
    const project = await desk();
    const { gas } = project;
    appendRows(gas, TAB.settings, [['Daily recipient limit', 3]]);
    await project.processInbox();
    gas.mailbox.deliver(customerMail(1));
    gas.mailbox.deliver(customerMail(2));
    expect((await project.processInbox()).status).toBe('done');
    expect(sentKeys(await sentMail(gas))).toEqual([]);
    const waiting = readMessages(gas).filter((row) => row.state === 'digest');
    expect(waiting).toHaveLength(2);
    const due = Date.parse(waiting[0]!.time) + DIGEST_INTERVAL_MS;
    expect(gas.properties.script.get(PROPERTY.digestDue)).toBe(String(due));

    gas.clock.advance(due - 60_000 - gas.clock.now());
    expect((await project.processInbox()).status).toBe('idle');
    gas.clock.advance(60_000);
    expect((await project.processInbox()).status).toBe('done');
    const digests = await sentMail(gas);
    expect(digests.map((message) => message.subject)).toEqual(
      DEMO_TEAM.filter((agent) => agent.active && agent.notifyNew).map(() => 'plusdesk digest: 2 updates on 2 tickets'),
    );
    expect(readMessages(gas).filter((row) => row.state === 'digest')).toEqual([]);
    expect(gas.properties.script.get(PROPERTY.digestDue)).toBe('');
    expect((await project.processInbox()).status).toBe('idle');
  });
});

describe('expired history', () => {
  it('falls back to search and processes each message once', async () => {
    const project = await deskWithTicket();
    const { gas } = project;
    gas.mailbox.deliver(customerMail(2));
    gas.mailbox.deliver(customerMail(3));
    gas.mailbox.expireHistory();

    const summary = await project.processInbox();
    expect(summary).toMatchObject({ status: 'done', found: 2, handled: 2, sent: 2 });
    expect(logEvents(gas).filter((event) => event.event === 'run').at(-1)).toMatchObject({ source: 'search' });
    expect(gas.logs.messages('warn').some((line) => line.includes('history_expired'))).toBe(true);
    expect((await project.processInbox()).status).toBe('idle');
    expect(readTickets(gas).map((ticket) => ticket.number)).toEqual([1, 2, 3]);
    expect(inboundRows(project)).toHaveLength(3);
    const keys = sentKeys(await sentMail(gas));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
  });
});

describe('message that cannot be parsed', () => {
  it('is quarantined and the run goes on', async () => {
    const project = await desk();
    const { gas } = project;
    await project.processInbox();
    const broken = gas.mailbox.deliver(
      `From: someone@customer.example\r\nTo: ${SUPPORT}\r\nSubject: broken\r\n\r\nbinary\u0000data\r\n`,
    );
    const good = gas.mailbox.deliver(customerMail(1));

    expect(await project.processInbox()).toMatchObject({ status: 'done', found: 2, handled: 2, sent: 1 });
    expect(gas.mailbox.labelsOf(broken.id)).toEqual(expect.arrayContaining(['INBOX', 'plusdesk/error']));
    expect(gas.mailbox.labelsOf(good.id)).toContain('plusdesk/processed');
    const row = readMessages(gas).find((record) => record.sourceId === broken.id);
    expect(row).toMatchObject({ kind: 'system', state: 'quarantined', ticket: null });
    expect(row?.reason).toContain('NUL byte');
    expect(readTickets(gas)).toHaveLength(1);

    expect((await project.processInbox()).status).toBe('idle');
    expect(readMessages(gas).filter((record) => record.sourceId === broken.id)).toHaveLength(1);
  });
});

describe('message without a Date header', () => {
  it('is dated when Gmail received it', async () => {
    const project = await desk();
    const { gas } = project;
    await project.processInbox();
    const received = new Date(gas.clock.now() - 2 * 60 * 60 * 1000);
    gas.mailbox.deliver(
      `From: someone@customer.example\r\nTo: ${SUPPORT}\r\nSubject: undated\r\nMessage-ID: <undated@customer.example>\r\n\r\nHello\r\n`,
      { date: received },
    );

    expect(await project.processInbox()).toMatchObject({ status: 'done', handled: 1 });
    expect(readTickets(gas)[0]?.created).toBe(received.toISOString());
  });
});

describe('Sheet cells', () => {
  it('keeps number- and date-like text as text', async () => {
    const project = await desk();
    const { gas } = project;
    await project.processInbox();
    gas.mailbox.deliver(
      rawMessage(
        {
          From: '"1,000" <numbers@customer.example>',
          To: SUPPORT,
          Subject: '2026-03-02',
          Date: 'Mon, 02 Mar 2026 09:00:00 +0000',
          'Message-ID': '<00123@customer.example>',
        },
        'TRUE',
      ),
    );
    expect((await project.processInbox()).status).toBe('done');
    const [ticket] = readTickets(gas);
    expect(ticket?.subject).toBe('2026-03-02');
    expect(ticket?.customer.name).toBe('1,000');
    const inbound = inboundRows(project)[0]!;
    expect(inbound.summary).toBe('TRUE');
    expect(typeof tabRows(gas, TAB.tickets)[0]?.[2]).toBe('string');
  });
});
