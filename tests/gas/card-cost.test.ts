/**
 * The Sheet calls of the add-on's contextual card, counted under the Apps Script emulator. The
 * Tickets tab is filled directly in the spreadsheet store, which is fast for 100,000 rows.
 * Opening the card of a notification must cost at most three Sheet calls, and the count must not
 * grow with the number of tickets.
 *
 * `measureCardCalls` is exported for the benchmark. The tests are registered only under vitest,
 * so a plain Node script can import this file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProject, PROJECTS } from '../../scripts/build';
import {
  agentToRow,
  MESSAGE_HEADERS,
  SETTINGS_HEADERS,
  settingsToRows,
  defaultSettings,
  TAB,
  TEAM_HEADERS,
  TICKET_HEADERS,
  ticketToRow,
  type Row,
} from '../../src/core/sheet';
import type { Ticket } from '../../src/core/types';
import { DEMO_TEAM } from '../../src/node/demo';
import { createAppsScript, type AppsScript } from './emulator';
import type { Cell } from './emulator/cells';
import { loadBundle, type LoadedBundle } from './load-bundle';

const SUPPORT = 'support@example.com';
const AGENT = 'bob@example.com';
const CUSTOMER = { name: 'Dana Reyes', email: 'dana@customer.example' };
const START = new Date('2026-03-02T09:00:00Z');
/** Service name prefixes that are Sheet calls: both Sheets APIs and their objects. */
const SHEET_PREFIXES = ['SpreadsheetApp.', 'Spreadsheet.', 'Sheet.', 'Range.', 'TextFinder.', 'Sheets.'];

/** Which message the agent opens. */
export type OpenedMail =
  /** plusdesk's notification of the ticket, with its X-Plusdesk-Ticket header. */
  | 'notification'
  /** The customer's own message, copied to the agent: found by its Message-ID. */
  | 'customer-copy'
  /** Ordinary mail that is no ticket: the card has to search the Sheet to be sure. */
  | 'other';

export interface CardCallCounts {
  ticketCount: number;
  opened: OpenedMail;
  /** Calls to SpreadsheetApp and its objects and to the Sheets advanced service. */
  sheetCalls: number;
  /** Every counted service call of the execution, CardService builders included. */
  allCalls: number;
  /** Counted calls by name. */
  byName: Record<string, number>;
  /** Emulated wall time of the execution, start-up included, by the emulator's latency table. */
  elapsedMs: number;
  /** The rendered card's header title. */
  title: string;
  /** Earlier tickets of the customer listed on the card. */
  earlierShown: number;
}

let addonCode: Promise<string> | undefined;

/** Builds the add-on bundle once per process. */
function addonBundleCode(): Promise<string> {
  addonCode ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plusdesk-card-cost-'));
    try {
      return await buildProject(PROJECTS[1]!, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  return addonCode;
}

function cells(row: Row): Cell[] {
  return row.map((value) => ({ value }));
}

function isoMinutes(minutes: number): string {
  return new Date(START.getTime() + minutes * 60_000).toISOString();
}

/** Builds ticket `number` of a desk with `count` tickets. The last one is Dana's third. */
function syntheticTicket(number: number, count: number): Ticket {
  const dana = [count - 2, Math.max(1, Math.floor(count / 2))];
  const ours = number === count || dana.includes(number);
  const customer = ours ? CUSTOMER : { name: `Customer ${number}`, email: `customer${number}@example.net` };
  const created = isoMinutes(number);
  return {
    number,
    status: number % 3 === 0 ? 'closed' : 'open',
    subject: ours && number === count ? 'CSV export fails with error 500' : `Question number ${number}`,
    customer,
    cc: [],
    assignee: number % 4 === 0 ? '' : DEMO_TEAM[number % DEMO_TEAM.length]!.email,
    lastReplier: '',
    followers: number % 5 === 0 ? [AGENT] : [],
    created,
    updated: created,
    threadId: (0x19c0000000000000n + BigInt(number)).toString(16),
    conversation: [`customer.${number}@example.net`, `pd.${number}@example.com`],
    earlier: number === count ? dana.filter((earlier) => earlier !== number).sort((a, b) => b - a) : [],
    recent: [{ time: created, kind: 'customer', author: customer.email, summary: `Message of ticket ${number}.` }],
  };
}

/** Creates the ticket Sheet with `ticketCount` tickets straight in the store and returns its id. */
function fillSheet(gas: AppsScript, ticketCount: number): string {
  const data = gas.spreadsheets.create('plusdesk tickets');
  const tickets = data.sheets[0]!;
  tickets.name = TAB.tickets;
  tickets.rows = [cells([...TICKET_HEADERS])];
  for (let number = 1; number <= ticketCount; number++) {
    tickets.rows.push(cells(ticketToRow(syntheticTicket(number, ticketCount))));
  }
  tickets.maxRows = Math.max(tickets.maxRows, tickets.rows.length);
  const messages = data.addSheet(TAB.messages);
  messages.rows = [cells([...MESSAGE_HEADERS])];
  const team = data.addSheet(TAB.team);
  team.rows = [cells([...TEAM_HEADERS]), ...DEMO_TEAM.map((agent) => cells(agentToRow(agent)))];
  const settings = data.addSheet(TAB.settings);
  settings.rows = [cells([...SETTINGS_HEADERS]), ...settingsToRows(defaultSettings(SUPPORT)).map(cells)];
  return data.id;
}

function crlf(headers: Record<string, string>, body: string): string {
  const head = Object.entries({ 'MIME-Version': '1.0', 'Content-Type': 'text/plain; charset=utf-8', ...headers })
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  return `${head}\r\n\r\n${body}\r\n`;
}

function deliverOpened(gas: AppsScript, opened: OpenedMail, ticketCount: number): string {
  if (opened === 'notification') {
    return gas.mailbox.deliver(
      crlf(
        {
          From: `Dana Reyes via Support <${SUPPORT}>`,
          To: AGENT,
          'Reply-To': `"Dana Reyes (#${ticketCount})" <support+${ticketCount}-reply-k7fq2m@example.com>`,
          Subject: `[#${ticketCount}] CSV export fails with error 500`,
          Date: 'Mon, 02 Mar 2026 09:00:00 +0000',
          'Message-ID': `<pd.notification.${ticketCount}@example.com>`,
          'X-Plusdesk-Ticket': String(ticketCount),
        },
        'New ticket from Dana Reyes.',
      ),
    ).id;
  }
  if (opened === 'customer-copy') {
    return gas.mailbox.deliver(
      crlf(
        {
          From: `${CUSTOMER.name} <${CUSTOMER.email}>`,
          To: SUPPORT,
          Cc: AGENT,
          Subject: 'CSV export fails with error 500',
          Date: 'Mon, 02 Mar 2026 09:00:00 +0000',
          'Message-ID': `<customer.${ticketCount}@example.net>`,
        },
        'The CSV export fails.',
      ),
    ).id;
  }
  return gas.mailbox.deliver(
    crlf(
      {
        From: 'Team Lunch <lunch@example.com>',
        To: AGENT,
        Subject: 'Friday lunch',
        Date: 'Mon, 02 Mar 2026 09:00:00 +0000',
        'Message-ID': '<lunch.0302@example.com>',
        References: '<lunch.0227@example.com> <lunch.0301@example.com>',
      },
      'Pizza again?',
    ),
  ).id;
}

/**
 * Opens a message in the add-on on a Sheet of `ticketCount` tickets (at least 3) and returns the
 * calls of that one onGmailMessage execution.
 */
export async function measureCardCalls(ticketCount: number, opened: OpenedMail = 'notification'): Promise<CardCallCounts> {
  if (!Number.isInteger(ticketCount) || ticketCount < 3) {
    throw new RangeError(`measureCardCalls needs at least 3 tickets, got ${ticketCount}`);
  }
  const gas = createAppsScript({ user: AGENT, start: START, addOn: true, gmailAccess: 'current-message' });
  const bundle: LoadedBundle = loadBundle(await addonBundleCode(), gas.globals, { filename: 'addon/Code.js' });
  gas.properties.script.set('PLUSDESK_SHEET_ID', fillSheet(gas, ticketCount));
  const messageId = deliverOpened(gas, opened, ticketCount);
  const issued = gas.addonEvent({ messageId });
  const event = {
    commonEventObject: issued.commonEventObject,
    gmail: issued.gmail,
  };

  gas.calls.reset();
  const before = gas.clock.now();
  const card = await gas.execution('onGmailMessage', () => bundle.call('onGmailMessage', event), { limitMs: 30_000 });
  const elapsedMs = gas.clock.now() - before;
  const names = gas.calls.list();
  const rendered = JSON.parse(JSON.stringify(card)) as {
    header?: { title?: string };
    sections?: { widgets: { decoratedText?: { topLabel?: string } }[] }[];
  };
  const labels = (rendered.sections ?? []).flatMap((section) => section.widgets.map((widget) => widget.decoratedText?.topLabel ?? ''));
  return {
    ticketCount,
    opened,
    sheetCalls: names.filter((name) => SHEET_PREFIXES.some((prefix) => name.startsWith(prefix))).length,
    allCalls: names.length,
    byName: gas.calls.byName(),
    elapsedMs,
    title: rendered.header?.title ?? '',
    earlierShown: labels.filter((label) => label.startsWith('Earlier ticket #')).length,
  };
}

function sheetCallNames(counts: CardCallCounts): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts.byName).filter(([name]) => SHEET_PREFIXES.some((prefix) => name.startsWith(prefix))),
  );
}

// Under a plain Node import (the benchmark) vitest's describe throws, so the tests stay out.
if (process.env.VITEST !== undefined) {
  describe('ticket card cost', () => {
    it('opens a ticket card in at most 3 Sheet calls', async () => {
      const counts = await measureCardCalls(1_000);
      expect(counts.title).toBe('#1000 CSV export fails with error 500');
      expect(counts.earlierShown).toBe(2);
      expect(sheetCallNames(counts)).toEqual({ 'Sheets.Spreadsheets.Values.batchGet': 2 });
      expect(counts.sheetCalls).toBeLessThanOrEqual(3);
    });

    it('keeps the card cost flat up to 100,000 tickets', async () => {
      const small = await measureCardCalls(1_000);
      const large = await measureCardCalls(100_000);
      expect(large.title).toBe('#100000 CSV export fails with error 500');
      expect(large.earlierShown).toBe(2);
      expect(large.sheetCalls).toBe(small.sheetCalls);
      expect(large.allCalls).toBe(small.allCalls);
      expect(large.elapsedMs).toBe(small.elapsedMs);
    });

    it('keeps the not-a-ticket card cost flat', async () => {
      const small = await measureCardCalls(1_000, 'other');
      const large = await measureCardCalls(100_000, 'other');
      expect(small.title).toBe('Not a ticket');
      expect(sheetCallNames(small)).toEqual({
        'SpreadsheetApp.openById': 1,
        'Spreadsheet.getSheetByName': 1,
        'Sheet.getRange': 1,
        'Range.createTextFinder': 1,
        'TextFinder.useRegularExpression': 1,
        'TextFinder.findAll': 1,
      });
      expect(large.sheetCalls).toBe(small.sheetCalls);
    });

    it('finds a copied customer message by its Message-ID', async () => {
      const small = await measureCardCalls(1_000, 'customer-copy');
      const large = await measureCardCalls(100_000, 'customer-copy');
      expect(small.title).toBe('#1000 CSV export fails with error 500');
      expect(large.title).toBe('#100000 CSV export fails with error 500');
      expect(small.byName['Sheets.Spreadsheets.Values.batchGet']).toBe(3);
      expect(large.sheetCalls).toBe(small.sheetCalls);
    });
  });
}
