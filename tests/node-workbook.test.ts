import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeskChanges } from '../src/core/ports';
import {
  defaultSettings,
  MESSAGE_HEADERS,
  SETTINGS_HEADERS,
  TAB,
  TEAM_HEADERS,
  TICKET_HEADERS,
} from '../src/core/sheet';
import type { Agent, MessageRecord, Settings, Ticket } from '../src/core/types';
import { readWorkbook, WorkbookError, WorkbookStore, xlsxText } from '../src/node/workbook';

let root = '';
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'plusdesk-workbook-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshPath(): string {
  counter++;
  return join(root, `desk-${counter}`, 'plusdesk.xlsx');
}

const SUPPORT = 'support@example.com';

const team: Agent[] = [
  { email: 'alice@example.com', name: 'Alice', active: true, notifyNew: true },
  { email: 'bob@example.com', name: 'Bob', active: false, notifyNew: false },
];

function ticket(number: number, overrides: Partial<Ticket> = {}): Ticket {
  return {
    number,
    status: 'open',
    subject: `Printer ${number} is on fire`,
    customer: { name: 'Zoë Customer', email: 'zoe@example.org' },
    cc: ['boss@example.org'],
    assignee: 'alice@example.com',
    lastReplier: 'bob@example.com',
    followers: ['alice@example.com', 'bob@example.com'],
    created: '2025-01-02T03:04:05.000Z',
    updated: '2025-01-03T03:04:05.000Z',
    threadId: '18c2f0a1b2c3d4e5',
    conversation: [`c${number}@example.org`, `r${number}@plusdesk.example.com`],
    earlier: number > 1 ? [number - 1] : [],
    recent: [
      { time: '2025-01-02T03:04:05.000Z', kind: 'customer', author: 'zoe@example.org', summary: 'It is on fire.' },
      { time: '2025-01-03T03:04:05.000Z', kind: 'reply', author: 'bob@example.com', summary: 'Use the extinguisher.' },
    ],
    ...overrides,
  };
}

function record(index: number, overrides: Partial<MessageRecord> = {}): MessageRecord {
  return {
    time: `2025-01-02T03:04:${String(index % 60).padStart(2, '0')}.000Z`,
    ticket: 1,
    kind: 'customer',
    state: 'processed',
    author: 'zoe@example.org',
    messageId: `m${index}@example.org`,
    sourceId: `All mail.mbox#${index * 100}`,
    key: '',
    reason: '',
    summary: `Message number ${index}`,
    ...overrides,
  };
}

function changes(overrides: Partial<DeskChanges> = {}): DeskChanges {
  return { tickets: [], appended: [], updated: [], ...overrides };
}

const settings: Settings = {
  supportAddress: SUPPORT,
  supportName: 'Acme Support',
  teamAddress: 'team@example.com',
  signature: 'Acme Support\nhttps://example.com',
  autoAcknowledge: true,
  dailyRecipientLimit: 900,
  trustedDomains: ['example.com', 'example.net'],
  requireAuthPass: true,
};

async function openXlsx(path: string): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(path);
  return workbook;
}

describe('WorkbookStore load', () => {
  it('starts an empty desk when the file is missing', async () => {
    const path = freshPath();
    const store = new WorkbookStore({ path, supportAddress: SUPPORT, team });
    const snapshot = await store.load();

    expect(snapshot).toEqual({ tickets: [], messages: [], team, settings: defaultSettings(SUPPORT) });
    expect(existsSync(path)).toBe(false);
  });

  it('returns a copy the caller may change', async () => {
    const store = new WorkbookStore({ path: freshPath(), supportAddress: SUPPORT, team });
    const first = await store.load();
    first.team.pop();
    first.settings.supportName = 'changed';
    await store.save(changes());
    const second = await store.load();

    expect(second.team).toEqual(team);
    expect(second.settings.supportName).toBe('Support');
  });
});

describe('WorkbookStore save', () => {
  it('round-trips tickets, messages, team and settings', async () => {
    const path = freshPath();
    const first = new WorkbookStore({ path, supportAddress: SUPPORT, team });
    await first.load();
    const tickets = [ticket(1), ticket(2, { status: 'closed', assignee: '', followers: [], cc: [] })];
    const appended = [
      record(0),
      record(1, { kind: 'notification', state: 'sent', key: 'n1-abc', ticket: 1, reason: 'new ticket' }),
      record(2, { kind: 'system', state: 'quarantined', ticket: null, reason: 'cannot parse' }),
    ];
    await first.save(changes({ tickets, appended }));

    const second = new WorkbookStore({ path, supportAddress: 'other@example.com' });
    const snapshot = await second.load();

    expect(snapshot.tickets).toEqual(tickets);
    expect(snapshot.messages).toEqual(appended);
    expect(snapshot.team).toEqual(team);
    expect(snapshot.settings).toEqual(defaultSettings(SUPPORT));
  });

  it('reads back what was saved after several saves', async () => {
    const path = freshPath();
    const store = new WorkbookStore({ path, supportAddress: SUPPORT, team });
    await store.load();
    await store.save(changes({ tickets: [ticket(1)], appended: [record(0), record(1)] }));
    await store.save(
      changes({
        tickets: [ticket(1, { status: 'pending' }), ticket(2)],
        appended: [record(2, { state: 'queued', key: 'k2' })],
        updated: [
          { index: 0, record: record(0, { state: 'duplicate' }) },
          { index: 2, record: record(2, { state: 'sent', key: 'k2' }) },
        ],
      }),
    );
    const expected = await store.load();
    const reloaded = await readWorkbook(path);

    expect(reloaded).toEqual(expected);
    expect(reloaded.tickets.map((item) => [item.number, item.status])).toEqual([
      [1, 'pending'],
      [2, 'open'],
    ]);
    expect(reloaded.messages.map((item) => item.state)).toEqual(['duplicate', 'processed', 'sent']);
  });

  it('updates a row appended in the same save', async () => {
    const store = new WorkbookStore({ path: freshPath(), supportAddress: SUPPORT });
    await store.load();
    await store.save(
      changes({
        appended: [record(0, { state: 'queued' })],
        updated: [{ index: 0, record: record(0, { state: 'sent' }) }],
      }),
    );

    expect((await store.load()).messages.map((item) => item.state)).toEqual(['sent']);
  });

  it('rejects an update of a row that does not exist', async () => {
    const path = freshPath();
    const store = new WorkbookStore({ path, supportAddress: SUPPORT });
    await store.load();
    const save = store.save(changes({ updated: [{ index: 3, record: record(3) }] }));

    await expect(save).rejects.toThrow(WorkbookError);
    await expect(save).rejects.toThrow(/Cannot update Messages row 3/);
    expect(existsSync(path)).toBe(false);
  });

  it('saves without an explicit load', async () => {
    const path = freshPath();
    const store = new WorkbookStore({ path, supportAddress: SUPPORT, team });
    await store.save(changes({ tickets: [ticket(7)] }));

    expect((await readWorkbook(path)).tickets.map((item) => item.number)).toEqual([7]);
  });

  it('replaces the Team tab when a team is given', async () => {
    const path = freshPath();
    await new WorkbookStore({ path, supportAddress: SUPPORT, team }).save(changes());
    const newTeam: Agent[] = [{ email: 'carol@example.com', name: 'Carol', active: true, notifyNew: false }];
    const store = new WorkbookStore({ path, supportAddress: SUPPORT, team: newTeam });

    expect((await store.load()).team).toEqual(newTeam);
    await store.save(changes());
    expect((await readWorkbook(path)).team).toEqual(newTeam);
  });

  it('keeps settings edited in the workbook', async () => {
    const path = freshPath();
    const store = new WorkbookStore({ path, supportAddress: SUPPORT });
    await store.load();
    await store.save(changes());
    const workbook = await openXlsx(path);
    const sheet = workbook.getWorksheet(TAB.settings)!;
    sheet.eachRow((row) => {
      const name = row.getCell(1).text;
      const edited: Record<string, string | boolean> = {
        'Support name': settings.supportName,
        'Team group address': settings.teamAddress,
        Signature: settings.signature,
        'Auto-acknowledge new tickets': true,
        'Trusted domains without DMARC': 'example.com, example.net',
        'Require DMARC or DKIM pass': 'yes',
        'Daily recipient limit': '900',
      };
      if (name in edited) row.getCell(2).value = edited[name]!;
    });
    await workbook.xlsx.writeFile(path);

    expect((await new WorkbookStore({ path, supportAddress: SUPPORT }).load()).settings).toEqual(settings);
  });

  it('creates a missing folder', async () => {
    const path = join(root, 'missing', 'nested', 'folder', 'plusdesk.xlsx');
    await new WorkbookStore({ path, supportAddress: SUPPORT }).save(changes());

    expect(existsSync(path)).toBe(true);
  });

  it('leaves no temporary file behind', async () => {
    const path = freshPath();
    const store = new WorkbookStore({ path, supportAddress: SUPPORT });
    await store.save(changes({ appended: [record(0)] }));
    await store.save(changes({ appended: [record(1)] }));

    expect(await readdir(join(path, '..'))).toEqual(['plusdesk.xlsx']);
  });

  it('writes saves started together one after another', async () => {
    const path = freshPath();
    const store = new WorkbookStore({ path, supportAddress: SUPPORT });
    await store.load();
    await Promise.all([
      store.save(changes({ appended: [record(0)] })),
      store.save(changes({ appended: [record(1)] })),
      store.save(changes({ appended: [record(2)] })),
    ]);

    expect((await readWorkbook(path)).messages.map((item) => item.messageId)).toEqual([
      'm0@example.org',
      'm1@example.org',
      'm2@example.org',
    ]);
  });
});

describe('WorkbookStore cells', () => {
  const tricky = [
    '=HYPERLINK("http://evil.example","click")',
    '+1 555 0100',
    '-5',
    '@SUM(A1:A2)',
    '\t=1+1',
    'line one\r\nline two\nline three',
    'control \u0001\u0007\u001b characters',
    'literal _x0041_ and _x005F_ escapes',
    'touching _x0041__x005F_x0042_ escapes',
    'DEL \u007f, U+FFFE \ufffe and U+FFFF \uffff',
    '  spaces at the ends  ',
    '00123',
    'true',
    'Zoë 山田 😀',
  ];

  async function saveSubjects(path: string): Promise<void> {
    const store = new WorkbookStore({ path, supportAddress: SUPPORT, team });
    await store.save(
      changes({
        tickets: tricky.map((subject, index) => ticket(index + 1, { subject })),
        appended: tricky.map((summary, index) => record(index, { summary, reason: summary })),
      }),
    );
  }

  it('round-trips text a spreadsheet might misread', async () => {
    const path = freshPath();
    await saveSubjects(path);
    const snapshot = await readWorkbook(path);

    expect(snapshot.tickets.map((item) => item.subject)).toEqual(tricky);
    expect(snapshot.messages.map((item) => item.summary)).toEqual(tricky);
    expect(snapshot.messages.map((item) => item.reason)).toEqual(tricky);
  });

  it('stores formula-looking text as string cells', async () => {
    const path = freshPath();
    await saveSubjects(path);
    const sheet = (await openXlsx(path)).getWorksheet(TAB.tickets)!;
    const subjectColumn = TICKET_HEADERS.indexOf('Subject') + 1;

    for (let index = 0; index < tricky.length; index++) {
      const cell = sheet.getRow(index + 2).getCell(subjectColumn);

      expect(cell.type).toBe(ExcelJS.ValueType.RichText);
      expect(cell.formula).toBeUndefined();
      expect(cell.text).toBe(tricky[index]);
    }
  });

  it('stores numbers and booleans with their own types', async () => {
    const path = freshPath();
    await new WorkbookStore({ path, supportAddress: SUPPORT, team }).save(
      changes({ tickets: [ticket(12)], appended: [record(0, { ticket: 12 })] }),
    );
    const workbook = await openXlsx(path);
    const tickets = workbook.getWorksheet(TAB.tickets)!;
    const messages = workbook.getWorksheet(TAB.messages)!;
    const teamSheet = workbook.getWorksheet(TAB.team)!;

    expect(tickets.getCell('A2').type).toBe(ExcelJS.ValueType.Number);
    expect(tickets.getCell('A2').value).toBe(12);
    expect(messages.getCell('B2').value).toBe(12);
    expect(teamSheet.getCell('C2').type).toBe(ExcelJS.ValueType.Boolean);
    expect(teamSheet.getCell('C3').value).toBe(false);
    expect(teamSheet.getCell('D2').value).toBe(true);
  });

  it('leaves the Ticket cell empty for a row without a ticket', async () => {
    const path = freshPath();
    await new WorkbookStore({ path, supportAddress: SUPPORT }).save(
      changes({ appended: [record(0, { ticket: null })] }),
    );
    const messages = (await openXlsx(path)).getWorksheet(TAB.messages)!;

    expect(messages.getCell('B2').type).toBe(ExcelJS.ValueType.Null);
    expect((await readWorkbook(path)).messages[0]?.ticket).toBeNull();
  });

  it('cuts text to the Excel cell limit', async () => {
    const path = freshPath();
    const long = 'a'.repeat(40_000);
    await new WorkbookStore({ path, supportAddress: SUPPORT }).save(
      changes({ appended: [record(0, { summary: long })] }),
    );
    const summary = (await readWorkbook(path)).messages[0]?.summary ?? '';

    expect(summary.length).toBe(32_767);
    expect(summary.endsWith(' [cut: full text in Gmail]')).toBe(true);
  });

  it('escapes only what the xlsx format cannot hold', () => {
    expect(xlsxText('plain text')).toBe('plain text');
    expect(xlsxText('a\rb')).toBe('a_x000D_b');
    expect(xlsxText('_x0041_')).toBe('_x005F_x0041_');
    expect(xlsxText('_x0041__x0042_')).toBe('_x005F_x0041__x005F_x0042_');
    expect(xlsxText('\uffff\u007f')).toBe('_xFFFF__x007F_');
    expect(xlsxText('tab\tand\nnewline')).toBe('tab\tand\nnewline');
  });
});

describe('WorkbookStore layout', () => {
  it('writes the four tabs with their headers, bold and frozen', async () => {
    const path = freshPath();
    await new WorkbookStore({ path, supportAddress: SUPPORT, team }).save(
      changes({ tickets: [ticket(1)], appended: [record(0)] }),
    );
    const workbook = await openXlsx(path);
    const layouts: [string, readonly string[]][] = [
      [TAB.tickets, TICKET_HEADERS],
      [TAB.messages, MESSAGE_HEADERS],
      [TAB.team, TEAM_HEADERS],
      [TAB.settings, SETTINGS_HEADERS],
    ];

    expect(workbook.worksheets.map((sheet) => sheet.name)).toEqual(layouts.map(([name]) => name));
    for (const [name, headers] of layouts) {
      const sheet = workbook.getWorksheet(name)!;
      const header = sheet.getRow(1);

      expect(headers.map((_, index) => header.getCell(index + 1).text)).toEqual([...headers]);
      expect(header.getCell(1).font?.bold).toBe(true);
      expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      for (let column = 1; column <= headers.length; column++) {
        const width = sheet.getColumn(column).width ?? 0;

        expect(width).toBeGreaterThanOrEqual(8);
        expect(width).toBeLessThanOrEqual(60);
      }
    }
  });

  it('reads columns by header after they were moved', async () => {
    const path = freshPath();
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet(TAB.team);
    sheet.addRow(['Name', 'Notified of new tickets', 'Email', 'Active', 'Notes']);
    sheet.addRow(['Alice', 'no', 'Alice@Example.com', 'yes', 'on leave in May']);
    await mkdir(join(path, '..'), { recursive: true });
    await workbook.xlsx.writeFile(path);
    const snapshot = await readWorkbook(path, SUPPORT);

    expect(snapshot.team).toEqual([
      { email: 'alice@example.com', name: 'Alice', active: true, notifyNew: false },
    ]);
    expect(snapshot.tickets).toEqual([]);
    expect(snapshot.settings).toEqual(defaultSettings(SUPPORT));
  });

  it('reads dates, rich text and formulas typed into the workbook', async () => {
    const path = freshPath();
    await mkdir(join(path, '..'), { recursive: true });
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet(TAB.tickets);
    sheet.addRow([...TICKET_HEADERS]);
    sheet.addRow([
      { formula: '2+3', result: 5 },
      'open',
      { richText: [{ text: 'Rich ' }, { font: { bold: true }, text: 'subject' }] },
      'Zoë',
      'zoe@example.org',
      '',
      '',
      '',
      '',
      new Date('2025-01-02T03:04:05.000Z'),
      '2025-01-03T00:00:00.000Z',
      '',
      '',
    ]);
    await workbook.xlsx.writeFile(path);
    const [read] = (await readWorkbook(path)).tickets;

    expect(read?.number).toBe(5);
    expect(read?.subject).toBe('Rich subject');
    expect(read?.created).toBe('2025-01-02T03:04:05.000Z');
  });
});

describe('readWorkbook errors', () => {
  it('rejects a missing file', async () => {
    await expect(readWorkbook(join(root, 'none.xlsx'))).rejects.toThrow(/Workbook not found: .*none\.xlsx/);
  });

  it('rejects a file that is not a workbook', async () => {
    const path = join(root, 'text.xlsx');
    await writeFile(path, 'not a zip file');

    await expect(readWorkbook(path)).rejects.toThrow(WorkbookError);
    await expect(readWorkbook(path)).rejects.toThrow(/Cannot read workbook .*text\.xlsx/);
  });

  it('rejects a workbook without plusdesk tabs', async () => {
    const path = join(root, 'other.xlsx');
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Budget').addRow(['Item', 'Cost']);
    await workbook.xlsx.writeFile(path);

    await expect(readWorkbook(path)).rejects.toThrow(/is not a plusdesk workbook/);
  });
});
