/**
 * A long local run hands its rows to the workbook store every thousand messages and drops
 * them. Its workbook must equal the one that short runs, each saving once, write.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Desk } from '../src/core/desk';
import type { MessageRecord } from '../src/core/types';
import { defaultSettings } from '../src/core/sheet';
import { runLocal, WORKBOOK_NAME } from '../src/node/local';
import { listOutbox } from '../src/node/outbox';
import { readWorkbook, WorkbookStore } from '../src/node/workbook';
import { generateWorkload, mboxEntry, type Workload } from '../bench/workload';

const root = mkdtempSync(join(tmpdir(), 'plusdesk-staging-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SUPPORT = 'support@example.com';

/** Options of a local run over a bench workload, with a fixed clock. */
function runOptions(workload: Workload) {
  const clock = { now: () => new Date('2026-03-04T12:00:00.000Z') };
  return { supportAddress: workload.supportAddress, secret: workload.secret, team: workload.agents, clock };
}

function row(index: number, fields: Partial<MessageRecord> = {}): MessageRecord {
  return {
    time: `2026-03-02T09:${String(index % 60).padStart(2, '0')}:00.000Z`,
    ticket: 1,
    kind: 'customer',
    state: 'processed',
    author: 'dana@customer.example',
    messageId: `m${index}@customer.example`,
    sourceId: `s${index}`,
    key: '',
    reason: '',
    summary: `message ${index}`,
    ...fields,
  };
}

describe('Desk after a save', () => {
  it('drops saved rows, keeps read rows', () => {
    const desk = new Desk({ tickets: [], messages: [row(0)], team: [], settings: defaultSettings(SUPPORT) });
    desk.append(row(1));
    desk.append(row(2, { state: 'digest', kind: 'notification', key: 'k2', time: '2026-03-02T08:00:00.000Z' }));
    desk.markSaved();
    desk.append(row(3));

    expect(desk.recordCount).toBe(4);
    expect(desk.record(0)?.messageId).toBe('m0@customer.example');
    expect(desk.record(1)).toBeUndefined();
    expect(desk.record(2)).toBeUndefined();
    expect([...desk.records()].map((held) => held.index)).toEqual([0, 3]);
    expect(desk.changes().appended.map((record) => record.messageId)).toEqual(['m3@customer.example']);
    // Dropped rows still count as seen, and a dropped digest row still waits.
    expect(desk.hasSeen('m1@customer.example', '')).toBe(true);
    expect(desk.digestWaiting()).toEqual({ count: 1, oldest: Date.parse('2026-03-02T08:00:00.000Z') });
  });
});

describe('WorkbookStore staging', () => {
  it('writes staged rows at the next save', async () => {
    const path = join(root, 'staged.xlsx');
    const store = new WorkbookStore({ path, supportAddress: SUPPORT });
    await store.load();
    await store.stage({ tickets: [], appended: [row(0), row(1, { state: 'queued' })], updated: [] });
    await store.stage({ tickets: [], appended: [row(2)], updated: [{ index: 1, record: row(1, { state: 'sent' }) }] });

    await expect(readWorkbook(path)).rejects.toThrow(/Workbook not found/);

    await store.save({ tickets: [], appended: [row(3)], updated: [{ index: 2, record: row(2, { reason: 'changed' }) }] });
    const messages = (await readWorkbook(path)).messages;

    expect(messages.map((record) => record.messageId)).toEqual([0, 1, 2, 3].map((n) => `m${n}@customer.example`));
    expect(messages.map((record) => record.state)).toEqual(['processed', 'sent', 'processed', 'processed']);
    expect(messages[2]!.reason).toBe('changed');
  });

  it('moves rows past its memory limit to a file', async () => {
    const folder = join(root, 'spill');
    const path = join(folder, 'plusdesk.xlsx');
    const store = new WorkbookStore({ path, supportAddress: SUPPORT, rowMemoryBytes: 1 });
    await store.load();
    for (let batch = 0; batch < 5; batch++) {
      const rows = Array.from({ length: 250 }, (_, i) => row(batch * 250 + i));
      await store.stage({ tickets: [], appended: rows, updated: [] });
    }
    const temporary = readdirSync(folder).filter((name) => name.endsWith('.rows.tmp'));

    await store.save({ tickets: [], appended: [row(1250)], updated: [{ index: 3, record: row(3, { state: 'sent' }) }] });
    const messages = (await readWorkbook(path)).messages;

    expect(temporary).toHaveLength(1);
    expect(messages.map((record) => record.messageId)).toEqual(
      Array.from({ length: 1251 }, (_, i) => `m${i}@customer.example`),
    );
    expect(messages[3]!.state).toBe('sent');

    await store.close();
    expect(readdirSync(folder)).toEqual(['plusdesk.xlsx']);
  });
});

describe('a long local run', () => {
  it('matches the workbook of short runs', async () => {
    const workload = generateWorkload({ messages: 2600, days: 2, seed: 11 });
    const entries = workload.messages.map(mboxEntry);
    const common = runOptions(workload);

    // One mbox in one run: the run stages twice.
    const long = join(root, 'long');
    writeFileSync(join(root, 'all.mbox'), entries.join(''));
    const longReport = await runLocal({ ...common, mailboxes: [join(root, 'all.mbox')], out: long });

    // The same mail in runs shorter than a staging interval, each saving once.
    const short = join(root, 'short');
    for (let start = 0, part = 0; start < entries.length; start += 900, part++) {
      const file = join(root, `part-${part}.mbox`);
      writeFileSync(file, entries.slice(start, start + 900).join(''));
      await runLocal({ ...common, mailboxes: [file], out: short });
    }

    const longDesk = await readWorkbook(join(long, WORKBOOK_NAME));
    const shortDesk = await readWorkbook(join(short, WORKBOOK_NAME));
    // Mailbox ids name the file and the place in it, which differ between the two.
    const withoutSource = (records: MessageRecord[]) => records.map((record) => ({ ...record, sourceId: '' }));

    expect(longReport.processed).toBe(2600);
    expect(longDesk.tickets.length).toBeGreaterThan(100);
    expect(longDesk.tickets).toEqual(shortDesk.tickets);
    expect(withoutSource(longDesk.messages)).toEqual(withoutSource(shortDesk.messages));
    expect(longReport.tickets.map((ticket) => ticket.number)).toEqual(longDesk.tickets.map((ticket) => ticket.number));
    expect(longReport.outgoing.length).toBe(longDesk.messages.filter((record) => record.key !== '' && record.state === 'sent').length);
  }, 120_000);
});

describe('a local run without details', () => {
  it('counts what it does not list', async () => {
    const workload = generateWorkload({ messages: 200, days: 1, seed: 13 });
    const common = runOptions(workload);
    const mbox = join(root, 'details.mbox');
    writeFileSync(mbox, workload.messages.map(mboxEntry).join(''));

    const full = await runLocal({ ...common, mailboxes: [mbox], out: join(root, 'details-full') });
    const brief = await runLocal({ ...common, mailboxes: [mbox], out: join(root, 'details-brief'), details: false });

    expect(full.sent).toBeGreaterThan(0);
    expect(full.sent).toBe(full.outgoing.length);
    expect(brief.sent).toBe(full.sent);
    expect(brief.outgoing).toEqual([]);
    for (const ticket of full.tickets) {
      expect(ticket.messages, `messages of #${ticket.number}`).toBeGreaterThan(0);
      expect(ticket.messages, `messages of #${ticket.number}`).toBeLessThan(ticket.messageIds.length);
    }
    expect(brief.tickets.map((ticket) => ticket.messages)).toEqual(full.tickets.map((ticket) => ticket.messages));
    expect(brief.tickets.filter((ticket) => ticket.messageIds.length > 0)).toEqual([]);
  });
});

describe('a local run that dies before its save', () => {
  it('leaves no mail behind', async () => {
    const workload = generateWorkload({ messages: 40, days: 1, seed: 12 });
    const common = runOptions(workload);
    const out = join(root, 'dies');
    const later = join(root, 'later.mbox');
    writeFileSync(later, workload.messages.slice(1).map(mboxEntry).join(''));
    const dying = runLocal({
      ...common,
      mailboxes: [later],
      out,
      onProgress: (done) => {
        if (done === 30) throw new Error('killed');
      },
    });

    await expect(dying).rejects.toThrow('killed');
    expect(await listOutbox(out)).toEqual([]);
    const saved = await readWorkbook(join(out, WORKBOOK_NAME));
    expect(saved.tickets).toEqual([]);
    expect(saved.team).toEqual(workload.agents);

    // What a run stopped in the middle of writing leaves behind.
    writeFileSync(join(out, `.${WORKBOOK_NAME}.4242.1767225600000.tmp`), 'half a workbook');
    writeFileSync(join(out, 'outbox', '.unsaved', '.0099-notification-1-k.eml.tmp'), 'half a message');

    // The next run also reads a mailbox with an earlier message, which takes ticket 1.
    const early = join(root, 'early.mbox');
    writeFileSync(early, mboxEntry(workload.messages[0]!));
    await runLocal({ ...common, team: undefined, mailboxes: [later, early], out });
    const desk = await readWorkbook(join(out, WORKBOOK_NAME));
    const outbox = await listOutbox(out);
    const ticketOf = new Map(desk.tickets.map((ticket) => [ticket.number, ticket.customer.email]));

    expect(outbox.length).toBe(desk.messages.filter((record) => record.key !== '' && record.state === 'sent').length);
    for (const entry of outbox.filter((item) => item.kind === 'notification')) {
      expect(entry.subject).toContain(`[#${entry.ticket}]`);
      expect(ticketOf.has(entry.ticket)).toBe(true);
    }
    expect(existsSync(join(out, 'outbox', '.unsaved'))).toBe(false);
    expect(readdirSync(out).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
