/**
 * The demo story end to end on the local runtime: the exact recipients, Reply-To and threading
 * headers of every message it sends, read back from the .eml files of the outbox.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { plusAddress } from '../src/core/address';
import { readWorkbook } from '../src/node/workbook';
import { DEMO_SECRET, DEMO_SUPPORT, runDemo, type DemoResult } from '../src/node/demo';
import { hmacSigner } from '../src/node/secret';
import { listOutbox, type OutboxEntry } from '../src/node/outbox';

const signer = hmacSigner(DEMO_SECRET);
const replyTo = plusAddress(DEMO_SUPPORT, signer, 1, 'reply');
const commentTo = plusAddress(DEMO_SUPPORT, signer, 1, 'comment');
const root = 'ticket-1.plusdesk@example.com';
const emails = (list: { email: string }[]) => list.map((address) => address.email.toLowerCase());

let demo: DemoResult;
let outbox: OutboxEntry[];

beforeAll(async () => {
  demo = await runDemo(mkdtempSync(join(tmpdir(), 'plusdesk-demo-')));
  outbox = await listOutbox(join(demo.dir, 'desk'));
});

describe('demo story', () => {
  it('sends seven messages in order', () => {
    expect(outbox.map((entry) => [entry.kind, emails(entry.to)])).toEqual([
      ['notification', ['alice@example.com', 'bob@example.com', 'carol@example.com']],
      ['relay', ['dana@customer.example']],
      ['notification', ['alice@example.com']],
      ['notification', ['bob@example.com']],
      ['notification', ['alice@example.com', 'bob@example.com']],
      ['relay', ['dana@customer.example']],
      ['notification', ['bob@example.com']],
    ]);
  });

  it('threads every notification of the ticket together', () => {
    for (const entry of outbox.filter((item) => item.kind === 'notification')) {
      expect(entry.subject).toBe('[#1] CSV export fails with error 500');
      expect(entry.inReplyTo).toBe(root);
      expect(entry.references).toEqual([root]);
      expect(entry.headers['x-plusdesk-ticket']).toEqual(['1']);
    }
  });

  it('sets the reply address on notifications and the comment address on comments', () => {
    const replyTos = outbox
      .filter((item) => item.kind === 'notification')
      .map((entry) => emails(entry.replyTo));
    expect(replyTos).toEqual([[replyTo], [replyTo], [commentTo], [replyTo], [replyTo]]);
  });

  it('notifies the whole team of the new ticket', () => {
    expect(outbox[0]!.text).toContain('New ticket from Dana Reyes <dana@customer.example>:');
    expect(outbox[0]!.text).toContain('fails with "error 500"');
  });

  it('relays Alice answer into the customer thread without plus addresses', () => {
    const relay = outbox[1]!;
    expect(relay.from).toEqual({ name: 'Alice Martin (Support)', email: 'support@example.com' });
    expect(emails(relay.cc)).toEqual(['mario@customer.example']);
    expect(relay.replyTo).toEqual([]);
    expect(relay.subject).toBe('Re: CSV export fails with error 500 [#1]');
    expect(relay.inReplyTo).toBe('dana.0302.0900@customer.example');
    expect(relay.references).toEqual(['dana.0302.0900@customer.example']);
    expect(relay.text).toContain('We found the cause and deployed a fix');
    expect(relay.text).not.toContain('New ticket from');
    expect(relay.text).not.toContain('wrote:');
    const raw = JSON.stringify(relay.headers);
    expect(raw).not.toContain('support+');
  });

  it('lets the follow-up thread to the relay by its deterministic Message-ID', () => {
    const followUp = outbox[2]!;
    expect(followUp.text).toContain('the dates in the file are empty');
    expect(followUp.text).not.toContain('please try the export again');
    const second = outbox[5]!;
    expect(second.references).toContain(outbox[1]!.messageId);
    expect(second.inReplyTo).toBe('dana.0302.1200@customer.example');
  });

  it('tells only Bob of Carol comment, never the customer', () => {
    const comment = outbox[3]!;
    expect(comment.text).toContain('Internal note from Carol Diaz');
    expect(comment.text).toContain('@bob the empty dates');
    expect(outbox.every((entry) => !(entry.kind === 'relay' && entry.text.includes('@bob')))).toBe(true);
  });

  it('notifies nobody of the out-of-office reply and the bounce', () => {
    const skipped = demo.stages[1]!.report.skipped.map((item) => item.reason);
    expect(skipped).toHaveLength(2);
    expect(skipped[0]).toContain('auto-reply');
    expect(skipped[1]).toContain('delivery failure for old.desk@customer.example 5.1.1');
  });

  it('sends nothing when the mailbox is processed again', () => {
    expect(demo.stages[2]!.report.outgoing).toEqual([]);
    expect(demo.stages[2]!.report.processed).toBe(0);
  });

  it('leaves the ticket pending with Alice and Bob following', async () => {
    const snapshot = await readWorkbook(join(demo.dir, 'desk', 'plusdesk.xlsx'));
    expect(snapshot.tickets).toHaveLength(1);
    const ticket = snapshot.tickets[0]!;
    expect(ticket.status).toBe('pending');
    expect(ticket.assignee).toBe('alice@example.com');
    expect(ticket.lastReplier).toBe('alice@example.com');
    expect(ticket.followers).toEqual(['bob@example.com']);
    expect(snapshot.messages.filter((record) => record.kind === 'customer')).toHaveLength(3);
  });
});

describe('local runtime on a shared output folder', () => {
  it('keeps files of the same name in two mailboxes apart', async () => {
    const { runLocal } = await import('../src/node/local');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const root = mkdtempSync(join(tmpdir(), 'plusdesk-names-'));
    const write = (folder: string, subject: string, id: string) => {
      mkdirSync(join(root, folder), { recursive: true });
      writeFileSync(
        join(root, folder, '1.eml'),
        `From: a@customer.example\r\nTo: support@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${id}>\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n\r\nHello\r\n`,
      );
    };
    write('day1', 'First question', 'q1@customer.example');
    write('day2', 'Second question', 'q2@customer.example');
    const out = join(root, 'desk');
    await runLocal({ mailboxes: [join(root, 'day1')], out });
    const second = await runLocal({ mailboxes: [join(root, 'day2')], out });
    expect(second.tickets.map((ticket) => ticket.subject)).toEqual(['First question', 'Second question']);
  });

  it('refuses a second run while the folder is locked', async () => {
    const { DeskBusyError, lockDesk } = await import('../src/node/local');
    const dir = mkdtempSync(join(tmpdir(), 'plusdesk-lock-'));
    const unlock = lockDesk(dir);
    const { writeFileSync } = await import('node:fs');
    // A live process other than this one holds the lock: the parent of the test process.
    writeFileSync(join(dir, '.plusdesk.lock'), String(process.ppid));
    expect(() => lockDesk(dir)).toThrow(DeskBusyError);
    unlock();
    expect(() => lockDesk(dir)()).not.toThrow();
  });
});
