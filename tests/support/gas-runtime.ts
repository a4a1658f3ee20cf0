/**
 * The Apps Script runtime for the hostile-input table: the built processor bundle in the
 * emulator. Each run sets up a fresh project, writes the desk's state into its Sheet, delivers
 * the messages into the support mailbox and runs processInbox() once, as the trigger would.
 * Results are read back from the Sheet, the sent mail and the processor's log lines.
 */
import { defaultSettings, messageToRow, settingsToRows, TAB, ticketToRow, agentToRow } from '../../src/core/sheet';
import type { MessageRecord, Ticket } from '../../src/core/types';
import type { AppsScript } from '../gas/emulator';
import {
  appendRows,
  buildBundles,
  logEvents,
  processorProject,
  PROPERTY,
  readMessages,
  readTickets,
  sheetIdOf,
  type ProcessorProject,
} from '../gas/support';
import { agents, SUPPORT } from './memory';
import {
  CLOCK_START,
  readSent,
  TEST_SECRET,
  type Outcome,
  type RepeatResult,
  type RunResult,
  type Runtime,
  type SentMessage,
  type SheetCell,
} from './runtimes';

/** Gmail ids of the delivered messages, by the caller's source id, and back. */
interface Delivered {
  gmailIdOf: Map<string, string>;
  sourceIdOf: Map<string, string>;
}

/** Replaces the Settings tab's values with `settings`, as a person editing the tab would. */
function writeSettings(gas: AppsScript, settings: ReturnType<typeof defaultSettings>): void {
  const sheet = gas.spreadsheets.sheet(sheetIdOf(gas), TAB.settings);
  settingsToRows(settings).forEach((row, r) =>
    row.forEach((value, c) => {
      sheet.ensure(r + 2, c + 1).value = value;
    }),
  );
}

/** Outcomes of one processInbox run, from its log lines and the Messages rows it added. */
function outcomesOf(
  gas: AppsScript,
  delivered: Delivered,
  logFrom: number,
  rows: MessageRecord[],
): Outcome[] {
  const logged = new Map<string, Record<string, unknown>>();
  for (const event of logEvents(gas).slice(logFrom)) {
    if (event.event === 'message') logged.set(String(event.sourceId), event);
    if (event.event === 'message_quarantined') logged.set(String(event.sourceId), { ...event, outcome: 'quarantined' });
  }
  const outcomes: Outcome[] = [];
  for (const [sourceId, gmailId] of delivered.gmailIdOf) {
    const row = rows.find((record) => record.sourceId === gmailId && record.key === '');
    const event = logged.get(gmailId);
    if (row !== undefined) {
      outcomes.push({ sourceId, outcome: String(event?.outcome ?? 'unknown'), state: row.state, ticket: row.ticket, reason: row.reason });
    } else if (event?.outcome === 'quarantined') {
      // A message quarantined before is reported again without a new row.
      outcomes.push({ sourceId, outcome: 'quarantined', state: 'quarantined', ticket: null, reason: String(event.reason ?? '') });
    } else if (event !== undefined) {
      outcomes.push({ sourceId, outcome: String(event.outcome ?? 'unknown'), state: 'processed', ticket: (event.ticket as number | null) ?? null, reason: '' });
    } else {
      outcomes.push({ sourceId, outcome: 'duplicate', state: 'duplicate', ticket: null, reason: 'already processed' });
    }
  }
  return outcomes;
}

/** Reads the sent mail after the first `before` messages as it went out. */
async function sentSince(gas: AppsScript, before: number): Promise<SentMessage[]> {
  const kindOf = new Map(readMessages(gas).map((record) => [record.key, record.reason]));
  const sent: SentMessage[] = [];
  for (const message of (await gas.mailbox.sent()).slice(before)) {
    const key = message.headers['x-plusdesk-key'] ?? '';
    const ticket = Number.parseInt(message.headers['x-plusdesk-ticket'] ?? '0', 10);
    sent.push(await readSent(message.raw, kindOf.get(key) ?? 'unknown', ticket));
  }
  return sent;
}

/** Lists every cell of the Tickets and Messages tabs below the header, marking formula cells. */
function sheetCells(gas: AppsScript): SheetCell[] {
  const id = sheetIdOf(gas);
  const cells: SheetCell[] = [];
  for (const tab of [TAB.tickets, TAB.messages]) {
    const values = gas.spreadsheets.values(id, tab);
    const formulas = gas.spreadsheets.formulas(id, tab);
    values.forEach((row, r) => {
      if (r === 0) return;
      row.forEach((value, c) => {
        if (value === '' && formulas[r]?.[c] === '') return;
        cells.push({ tab, row: r + 1, column: c + 1, value, formula: (formulas[r]?.[c] ?? '') !== '' });
      });
    });
  }
  return cells;
}

function withSourceIds(records: MessageRecord[], delivered: Delivered): MessageRecord[] {
  return records.map((record) => ({ ...record, sourceId: delivered.sourceIdOf.get(record.sourceId) ?? record.sourceId }));
}

/**
 * Makes the delivered messages look unprocessed to Gmail again: plusdesk's labels removed, back
 * in the inbox, and the stored history id gone, so the next run finds them all by search. Only
 * the Sheet can then tell that they were handled.
 */
function forgetMailboxState(project: ProcessorProject, delivered: Delivered): void {
  const { gas } = project;
  const own = gas.mailbox
    .labels()
    .filter((label) => label.name.startsWith('plusdesk/'))
    .map((label) => label.id);
  for (const id of delivered.gmailIdOf.values()) gas.mailbox.modify(id, ['INBOX'], own);
  gas.properties.script.delete(PROPERTY.historyId);
}

export const gasRuntime: Runtime = {
  name: 'apps-script',
  async run(messages, setup = {}, options = {}) {
    const project = processorProject((await buildBundles()).processor, { start: new Date(CLOCK_START) });
    const { gas } = project;
    await project.setup();
    gas.properties.script.set(PROPERTY.secret, TEST_SECRET);
    appendRows(gas, TAB.team, (setup.team ?? agents('Alice', 'Bob', 'Carol')).map(agentToRow));
    writeSettings(gas, { ...defaultSettings(SUPPORT), ...setup.settings });
    appendRows(gas, TAB.tickets, (setup.tickets ?? []).map((ticket: Ticket) => ticketToRow(ticket)));
    appendRows(gas, TAB.messages, (setup.messages ?? []).map(messageToRow));
    const rowsBefore = readMessages(gas).length;

    const delivered: Delivered = { gmailIdOf: new Map(), sourceIdOf: new Map() };
    for (const message of messages) {
      const { id } = gas.mailbox.deliver(message.raw);
      delivered.gmailIdOf.set(message.sourceId, id);
      delivered.sourceIdOf.set(id, message.sourceId);
    }

    let logFrom = logEvents(gas).length;
    await project.processInbox();
    const rows = readMessages(gas);
    const result: RunResult = {
      outcomes: outcomesOf(gas, delivered, logFrom, rows.slice(rowsBefore)),
      sent: await sentSince(gas, 0),
      tickets: readTickets(gas),
      messages: withSourceIds(rows, delivered),
      cells: sheetCells(gas),
    };

    if (options.repeat) {
      forgetMailboxState(project, delivered);
      const sentBefore = (await gas.mailbox.sent()).length;
      logFrom = logEvents(gas).length;
      const summary = await project.processInbox();
      const after = readMessages(gas);
      const added = after.slice(rows.length);
      const again: RepeatResult = {
        outcomes: outcomesOf(gas, delivered, logFrom, added),
        sent: await sentSince(gas, sentBefore),
        planned: summary.sent,
        rows: withSourceIds(added, delivered),
      };
      result.again = again;
    }
    return result;
  },
};
