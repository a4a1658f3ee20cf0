/**
 * The built-in demo: a shared inbox's story, written as real .eml files and processed in
 * stages by the local runtime, with Bob's star clicked in the sidebar between two stages.
 *
 * A customer writes and the whole team is notified; Alice answers through the notification and
 * the customer gets her answer in the original thread; the customer's follow-up reaches only
 * Alice; Bob stars the ticket and from then on sees every message; Carol posts an internal
 * comment mentioning Bob; an out-of-office reply and a bounce notify nobody.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyAction } from '../core/actions';
import { plusAddress } from '../core/address';
import { notificationKey, outgoingMessageId, relayKey } from '../core/compose';
import { defaultSettings } from '../core/sheet';
import type { Agent } from '../core/types';
import { runLocal, type LocalReport, type OutgoingSummary } from './local';
import { hmacSigner } from './secret';
import { WorkbookStore } from './workbook';

export const DEMO_SECRET = 'plusdesk-demo-secret-not-for-production';
export const DEMO_SUPPORT = 'support@example.com';
export const DEMO_TEAM: Agent[] = [
  { email: 'alice@example.com', name: 'Alice Martin', active: true, notifyNew: true },
  { email: 'bob@example.com', name: 'Bob Chen', active: true, notifyNew: true },
  { email: 'carol@example.com', name: 'Carol Diaz', active: true, notifyNew: true },
];
const CUSTOMER = { name: 'Dana Reyes', email: 'dana@customer.example' };
const COLLEAGUE = 'mario@customer.example';

export interface DemoMessage {
  file: string;
  headers: Record<string, string>;
  body: string;
}

/** Writes a demo message as RFC 5322 text with CRLF line ends. */
export function eml(message: Pick<DemoMessage, 'headers' | 'body'>): string {
  const lines = Object.entries({
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Transfer-Encoding': '8bit',
    ...message.headers,
  }).map(([name, value]) => `${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${message.body.replace(/\r?\n/g, '\r\n')}\r\n`;
}

/** The demo's messages in two stages: before Bob clicks the star, and after. */
export function demoMessages(): { before: DemoMessage[]; after: DemoMessage[] } {
  const settings = defaultSettings(DEMO_SUPPORT);
  const signer = hmacSigner(DEMO_SECRET);
  const replyTo = plusAddress(DEMO_SUPPORT, signer, 1, 'reply');
  const commentTo = plusAddress(DEMO_SUPPORT, signer, 1, 'comment');

  const first = 'dana.0302.0900@customer.example';
  const newTicketNote = outgoingMessageId(notificationKey(first), settings);
  const aliceReply = 'alice.0302.0920@example.com';
  const relay = outgoingMessageId(relayKey(aliceReply, [CUSTOMER.email, COLLEAGUE]), settings);
  const followUp = 'dana.0302.1005@customer.example';
  const aliceSecond = 'alice.0302.1215@example.com';

  const customer = `${CUSTOMER.name} <${CUSTOMER.email}>`;
  const before: DemoMessage[] = [
    {
      file: '01-customer-writes.eml',
      headers: {
        From: customer,
        To: 'Example Support <support@example.com>',
        Subject: 'CSV export fails with error 500',
        Date: 'Mon, 02 Mar 2026 09:00:00 +0000',
        'Message-ID': `<${first}>`,
      },
      body: 'Hello,\n\nsince this morning the CSV export of our orders fails with "error 500".\nCan you help?\n\nDana',
    },
    {
      file: '02-alice-answers.eml',
      headers: {
        From: 'Alice Martin <alice@example.com>',
        To: `"Dana Reyes (#1)" <${replyTo}>`,
        Cc: COLLEAGUE,
        Subject: 'Re: [#1] CSV export fails with error 500',
        Date: 'Mon, 02 Mar 2026 09:20:00 +0000',
        'Message-ID': `<${aliceReply}>`,
        'In-Reply-To': `<${newTicketNote}>`,
        References: `<${newTicketNote}>`,
      },
      body: [
        'Hi Dana,',
        '',
        'sorry about that. We found the cause and deployed a fix; please try the export again.',
        'I copied Mario, who asked about the same thing.',
        '',
        'Alice',
        '',
        'On Mon, 2 Mar 2026 at 09:00, Dana Reyes via Support <support@example.com> wrote:',
        '> New ticket from Dana Reyes <dana@customer.example>:',
        '>',
        '> since this morning the CSV export of our orders fails with "error 500".',
      ].join('\n'),
    },
    {
      file: '03-customer-follows-up.eml',
      headers: {
        From: customer,
        To: 'Example Support <support@example.com>',
        Cc: COLLEAGUE,
        Subject: 'Re: CSV export fails with error 500 [#1]',
        Date: 'Mon, 02 Mar 2026 10:05:00 +0000',
        'Message-ID': `<${followUp}>`,
        'In-Reply-To': `<${relay}>`,
        References: `<${first}> <${relay}>`,
      },
      body: [
        'Thanks Alice, the export runs now, but the dates in the file are empty.',
        '',
        'Dana',
        '',
        'On Mon, 2 Mar 2026 at 09:20, Alice Martin (Support) <support@example.com> wrote:',
        '> sorry about that. We found the cause and deployed a fix; please try the export again.',
      ].join('\n'),
    },
  ];
  const after: DemoMessage[] = [
    {
      file: '04-carol-comments.eml',
      headers: {
        From: 'Carol Diaz <carol@example.com>',
        To: commentTo,
        Subject: 'Re: [#1] CSV export fails with error 500',
        Date: 'Mon, 02 Mar 2026 11:00:00 +0000',
        'Message-ID': '<carol.0302.1100@example.com>',
      },
      body: '@bob the empty dates look like the time-zone bug from last week. Can you check the export job logs?\n\nCarol',
    },
    {
      file: '05-out-of-office.eml',
      headers: {
        From: `Mario Rossi <${COLLEAGUE}>`,
        To: 'support@example.com',
        Subject: 'Automatic reply: Re: CSV export fails with error 500 [#1]',
        Date: 'Mon, 02 Mar 2026 11:30:00 +0000',
        'Message-ID': '<oof.0302.1130@customer.example>',
        'In-Reply-To': `<${relay}>`,
        'Auto-Submitted': 'auto-replied',
      },
      body: 'I am out of the office until 9 March and will answer after my return.\n\nMario',
    },
    {
      file: '06-bounce.eml',
      headers: {
        From: 'Mail Delivery System <MAILER-DAEMON@mx.customer.example>',
        To: 'support@example.com',
        'Return-Path': '<>',
        Subject: 'Undelivered Mail Returned to Sender',
        Date: 'Mon, 02 Mar 2026 11:45:00 +0000',
        'Message-ID': '<dsn.0302.1145@mx.customer.example>',
        'Content-Type': 'multipart/report; report-type=delivery-status; boundary="dsn"',
      },
      body: [
        '--dsn',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        'Your message could not be delivered to one or more recipients.',
        '',
        '--dsn',
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; mx.customer.example',
        '',
        'Final-Recipient: rfc822; old.desk@customer.example',
        'Action: failed',
        'Status: 5.1.1',
        '',
        '--dsn',
        'Content-Type: text/rfc822-headers',
        '',
        'From: Alice Martin (Support) <support@example.com>',
        'Subject: Re: CSV export fails with error 500 [#1]',
        `Message-ID: <${relay}>`,
        '',
        '--dsn--',
      ].join('\n'),
    },
    {
      file: '07-customer-thanks.eml',
      headers: {
        From: customer,
        To: 'Example Support <support@example.com>',
        Subject: 'Re: CSV export fails with error 500 [#1]',
        Date: 'Mon, 02 Mar 2026 12:00:00 +0000',
        'Message-ID': '<dana.0302.1200@customer.example>',
        'In-Reply-To': `<${followUp}>`,
        References: `<${first}> <${relay}> <${followUp}>`,
      },
      body: 'One more thing: could the export also include the order status?\n\nDana',
    },
    {
      file: '08-alice-answers-again.eml',
      headers: {
        From: 'Alice Martin <alice@example.com>',
        To: replyTo,
        Subject: 'Re: [#1] CSV export fails with error 500',
        Date: 'Mon, 02 Mar 2026 12:15:00 +0000',
        'Message-ID': `<${aliceSecond}>`,
      },
      body: 'Hi Dana,\n\nthe dates are fixed, and the order status is now a column of the export.\n\nAlice',
    },
  ];
  return { before, after };
}

export interface DemoResult {
  dir: string;
  mailbox: string;
  stages: { title: string; report: LocalReport }[];
}

/** Error of a demo that would have to delete a folder it did not make. */
export class DemoFolderError extends Error {
  override name = 'DemoFolderError';
}

/** Entries of a demo folder; the demo empties a folder with nothing else in it. */
const DEMO_ENTRIES = new Set(['demo-mailbox', 'desk']);

/** Runs the demo into `dir` (emptied first) and returns what each stage sent. */
export async function runDemo(dir: string): Promise<DemoResult> {
  const foreign = existsSync(dir) ? readdirSync(dir).filter((name) => !DEMO_ENTRIES.has(name)) : [];
  if (foreign.length > 0) {
    throw new DemoFolderError(
      `${dir} contains ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}, which the demo did not write, and the demo empties its folder first: choose a new --out folder.`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  const mailbox = join(dir, 'demo-mailbox');
  mkdirSync(mailbox, { recursive: true });
  const { before, after } = demoMessages();
  const out = join(dir, 'desk');
  const common = { mailboxes: [mailbox], out, supportAddress: DEMO_SUPPORT, secret: DEMO_SECRET };

  for (const message of before) writeFileSync(join(mailbox, message.file), eml(message));
  const first = await runLocal({ ...common, team: DEMO_TEAM });

  // Bob clicks the star on ticket #1 in the sidebar: the same action the add-on runs.
  const store = new WorkbookStore({ path: first.workbook, supportAddress: DEMO_SUPPORT });
  const snapshot = await store.load();
  const ticket = snapshot.tickets.find((candidate) => candidate.number === 1);
  if (ticket === undefined) throw new Error('The demo expected ticket #1 after the first stage.');
  const starred = applyAction(ticket, { type: 'toggle-follow' }, 'bob@example.com', '2026-03-02T10:30:00.000Z');
  await store.save({ tickets: [starred.ticket], appended: [], updated: [] });

  for (const message of after) writeFileSync(join(mailbox, message.file), eml(message));
  const second = await runLocal(common);
  const rerun = await runLocal(common);
  return {
    dir,
    mailbox,
    stages: [
      { title: 'Dana writes, Alice answers, Dana follows up', report: first },
      { title: 'Bob stars #1; Carol comments; out-of-office, bounce; Dana and Alice write again', report: second },
      { title: 'The same mailbox again', report: rerun },
    ],
  };
}

export function describeOutgoing(message: OutgoingSummary): string {
  const recipients = message.to
    .map((email) => {
      const reason = message.reasons[email.toLowerCase()];
      return reason === undefined || reason === 'customer' ? email : `${email} (${reason})`;
    })
    .join(', ');
  const cc = message.cc.length > 0 ? `, cc ${message.cc.join(', ')}` : '';
  const replyTo = message.replyTo.length > 0 ? `\n      Reply-To ${message.replyTo.join(', ')}` : '';
  const what = message.kind === 'notification' ? `${message.event} notification` : message.kind;
  return `#${message.ticket} ${what} to ${recipients}${cc}${replyTo}`;
}
