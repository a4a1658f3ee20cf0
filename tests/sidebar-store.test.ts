/**
 * WorkbookSidebarStore over the demo's plusdesk.xlsx: ticket lookup, card and homepage data,
 * writes that run together without losing each other, and queued comments that the local
 * processor then sends.
 */
import { cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionError, applyAction } from '../src/core/actions';
import { plusAddress } from '../src/core/address';
import type { TicketHint } from '../src/core/ports';
import { handleAction } from '../src/core/sidebar';
import { DEMO_SECRET, DEMO_SUPPORT, runDemo } from '../src/node/demo';
import { runLocal } from '../src/node/local';
import { listOutbox } from '../src/node/outbox';
import { hmacSigner } from '../src/node/secret';
import { WorkbookSidebarStore } from '../src/node/sidebar-store';
import { readWorkbook } from '../src/node/workbook';
import { parsed } from './support/parsed';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const CUSTOMER = 'dana@customer.example';
const NOW = new Date('2026-03-02T13:00:00.000Z');

let root = '';
/** The demo's output folder, copied for each test so that tests do not share writes. */
let template = '';
let copies = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'plusdesk-sidebar-store-'));
  await runDemo(join(root, 'demo'));
  template = join(root, 'demo', 'desk');
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

function freshDesk(): { dir: string; store: WorkbookSidebarStore } {
  const dir = join(root, `desk-${++copies}`);
  cpSync(template, dir, { recursive: true });
  return { dir, store: new WorkbookSidebarStore({ dir, supportAddress: DEMO_SUPPORT }) };
}

async function ticketOne(dir: string) {
  const snapshot = await readWorkbook(join(dir, 'plusdesk.xlsx'));
  return { ticket: snapshot.tickets.find((ticket) => ticket.number === 1)!, snapshot };
}

const noHint: TicketHint = { ticketHeader: '', addresses: [], subject: '', threadId: '', messageIds: [] };

describe('WorkbookSidebarStore lookup', () => {
  const signer = hmacSigner(DEMO_SECRET);

  it('finds a ticket by each hint', async () => {
    const { dir, store } = freshDesk();
    const { snapshot } = await ticketOne(dir);
    const notification = snapshot.messages.find((record) => record.kind === 'notification')!;
    const cases: [string, TicketHint][] = [
      ['header', { ...noHint, ticketHeader: '1' }],
      ['reply plus address', { ...noHint, addresses: [plusAddress(DEMO_SUPPORT, signer, 1, 'reply')] }],
      ['customer Message-ID', { ...noHint, messageIds: ['dana.0302.0900@customer.example'] }],
      ['notification Message-ID', { ...noHint, messageIds: [notification.messageId] }],
      ['subject tag', { ...noHint, subject: 'Re: [#1] CSV export fails' }],
    ];
    for (const [name, hint] of cases) {
      expect(await store.findTicketNumber(hint), name).toBe(1);
    }
  });

  it('finds nothing for unknown hints', async () => {
    const { store } = freshDesk();
    const cases: [string, TicketHint][] = [
      ['empty', noHint],
      ['unknown header', { ...noHint, ticketHeader: '42' }],
      ['forged plus tag', { ...noHint, addresses: ['support+1-abcdefgh@example.com'] }],
      ['unknown Message-ID', { ...noHint, messageIds: ['nobody@example.org'] }],
      ['tag of a missing ticket', { ...noHint, subject: 'Re: [#7] Hello' }],
    ];
    for (const [name, hint] of cases) {
      expect(await store.findTicketNumber(hint), name).toBeNull();
    }
  });

  it('reads the card and homepage data', async () => {
    const { store } = freshDesk();
    const card = await store.readCard(1);
    expect(card?.ticket.subject).toBe('CSV export fails with error 500');
    expect(card?.earlier).toEqual([]);
    expect(card?.team.map((agent) => agent.email)).toEqual([ALICE, BOB, CAROL]);
    expect(await store.readCard(2)).toBeNull();
    const home = await store.readHome(BOB);
    expect(home.mine).toEqual([]);
    expect(home.following.map((ticket) => ticket.number)).toEqual([1]);
    expect((await store.readHome(ALICE)).mine.map((ticket) => ticket.number)).toEqual([1]);
  });
});

describe('WorkbookSidebarStore writes', () => {
  it('keeps two concurrent follows', async () => {
    const { dir, store } = freshDesk();
    // The demo story has Bob following #1 already; he stops first so both follows are new.
    await handleAction(store, 'onToggleFollow', { ticket: '1' }, {}, BOB, NOW);
    expect((await ticketOne(dir)).ticket.followers).toEqual([]);

    const [bob, carol] = await Promise.all([
      handleAction(store, 'onToggleFollow', { ticket: '1' }, {}, BOB, NOW),
      handleAction(store, 'onToggleFollow', { ticket: '1' }, {}, CAROL, NOW),
    ]);
    expect(bob.toast).toBe('You follow #1: you get every new message.');
    expect(carol.toast).toBe('You follow #1: you get every new message.');
    expect([...(await ticketOne(dir)).ticket.followers].sort()).toEqual([BOB, CAROL]);
  });

  it('keeps a concurrent comment and assign', async () => {
    const { dir, store } = freshDesk();
    const [comment, assign] = await Promise.all([
      handleAction(store, 'onComment', { ticket: '1' }, { comment: 'Checking the export job now.' }, CAROL, NOW),
      handleAction(store, 'onAssign', { ticket: '1' }, { assignee: CAROL }, BOB, NOW),
    ]);
    expect(comment.toast).toBe('Comment added to #1; the processor notifies followers and mentions.');
    expect(assign.toast).toBe(`#1 is assigned to ${CAROL}.`);
    const { ticket, snapshot } = await ticketOne(dir);
    expect(ticket.assignee).toBe(CAROL);
    expect(ticket.recent.at(-1)).toMatchObject({ kind: 'comment', author: CAROL, summary: 'Checking the export job now.' });
    const queued = snapshot.messages.filter((record) => record.state === 'queued');
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ kind: 'comment', ticket: 1, author: CAROL });
  });

  it('applies each change to the freshest row', async () => {
    const { dir, store } = freshDesk();
    const seen: string[][] = [];
    await Promise.all(
      [ALICE, CAROL].map((agent) =>
        store.update(1, (fresh) => {
          seen.push([...fresh.followers]);
          const result = applyAction(fresh, { type: 'follow', follow: true }, agent, NOW.toISOString());
          return { ticket: result.ticket, record: result.record };
        }),
      ),
    );
    expect(seen).toEqual([[BOB], [BOB, ALICE]]);
    expect((await ticketOne(dir)).ticket.followers).toEqual([BOB, ALICE, CAROL]);
  });

  it('writes nothing when a change fails', async () => {
    const { dir, store } = freshDesk();
    const path = join(dir, 'plusdesk.xlsx');
    const before = readFileSync(path);
    const modified = statSync(path).mtimeMs;
    await expect(
      store.update(1, (fresh) => {
        const result = applyAction(fresh, { type: 'comment', text: ' ' }, BOB, NOW.toISOString());
        return { ticket: result.ticket, record: result.record };
      }),
    ).rejects.toBeInstanceOf(ActionError);
    expect(statSync(path).mtimeMs).toBe(modified);
    expect(readFileSync(path).equals(before)).toBe(true);
    // A failed write does not block the ones after it.
    await store.update(1, (fresh) => ({ ticket: { ...fresh, status: 'closed' }, record: null }));
    expect((await ticketOne(dir)).ticket.status).toBe('closed');
  });

  it('rejects a missing ticket', async () => {
    const { store } = freshDesk();
    const error = await store.update(9, (fresh) => ({ ticket: fresh, record: null })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ActionError);
    expect((error as ActionError).code).toBe('TICKET_NOT_FOUND');
  });

  it('opens a message as a ticket', async () => {
    const { dir, store } = freshDesk();
    const message = parsed({
      messageId: 'dana.0303.0815@customer.example',
      from: CUSTOMER,
      to: [{ name: '', email: ALICE }],
      cc: [{ name: '', email: 'mario@customer.example' }],
      subject: 'Invoice for February is missing',
      text: 'Could you send the invoice again?',
    });
    const number = await store.openTicket(message, '', ALICE, NOW.toISOString());
    expect(number).toBe(2);
    const card = await store.readCard(2);
    expect(card?.ticket.customer.email).toBe(CUSTOMER);
    expect(card?.ticket.cc).toEqual(['mario@customer.example']);
    expect(card?.ticket.followers).toEqual([ALICE]);
    expect(card?.earlier.map((earlier) => [earlier.number, earlier.status])).toEqual([[1, 'pending']]);
    expect(await store.findTicketNumber({ ...noHint, messageIds: [message.messageId] })).toBe(2);

    // The same message reaching the support mailbox later is a duplicate, not a third ticket.
    const mailbox = join(root, `mailbox-${copies}`);
    mkdirSync(mailbox, { recursive: true });
    writeFileSync(
      join(mailbox, 'invoice.eml'),
      [
        'From: Dana Reyes <dana@customer.example>',
        'To: support@example.com',
        'Subject: Invoice for February is missing',
        'Date: Tue, 03 Mar 2026 08:15:00 +0000',
        'Message-ID: <dana.0303.0815@customer.example>',
        '',
        'Could you send the invoice again?',
        '',
      ].join('\r\n'),
    );
    const report = await runLocal({ mailboxes: [mailbox], out: dir, supportAddress: DEMO_SUPPORT });
    expect(report.duplicates).toBe(1);
    expect(report.outgoing).toEqual([]);
    expect(report.tickets.map((ticket) => ticket.number)).toEqual([1, 2]);
  });
});

describe('queued sidebar comment', () => {
  it('notifies the mentioned agent, never the customer', async () => {
    const { dir, store } = freshDesk();
    const outboxBefore = (await listOutbox(dir)).length;
    const result = await handleAction(
      store,
      'onComment',
      { ticket: '1' },
      { comment: '@carol can you check the export logs?' },
      BOB,
      NOW,
    );
    expect(result.toast).toBe('Comment added to #1; the processor notifies followers and mentions.');

    const empty = join(root, `empty-${copies}`);
    mkdirSync(empty, { recursive: true });
    const report = await runLocal({ mailboxes: [empty], out: dir, supportAddress: DEMO_SUPPORT });
    expect(report.outgoing).toHaveLength(1);
    expect(report.outgoing[0]!.kind).toBe('notification');
    // Bob follows #1 but wrote the comment, so only Carol, who is mentioned, is notified.
    expect(report.outgoing[0]!.to).toEqual([CAROL]);

    const sent = (await listOutbox(dir)).slice(outboxBefore);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['x-plusdesk-ticket']).toEqual(['1']);
    expect(sent[0]!.text).toContain('can you check the export logs?');
    const recipients = sent.flatMap((entry) => [...entry.to, ...entry.cc].map((address) => address.email));
    expect(recipients).toEqual([CAROL]);
    expect(recipients).not.toContain(CUSTOMER);

    const { snapshot } = await ticketOne(dir);
    const comment = snapshot.messages.find((record) => record.kind === 'comment' && record.author === BOB);
    expect(comment?.state).toBe('processed');

    const rerun = await runLocal({ mailboxes: [empty], out: dir, supportAddress: DEMO_SUPPORT });
    expect(rerun.outgoing).toEqual([]);
  });
});
