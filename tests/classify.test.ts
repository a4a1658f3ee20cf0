import { describe, expect, it } from 'vitest';
import { plusAddress } from '../src/core/address';
import { classify, type ClassifyContext } from '../src/core/classify';
import { Desk } from '../src/core/desk';
import { defaultSettings } from '../src/core/sheet';
import type { Ticket } from '../src/core/types';
import { agents, SUPPORT, testSigner } from './support/memory';
import { parsed } from './support/parsed';
import { ticket } from './support/tickets';

function context(tickets: Ticket[], settings = defaultSettings(SUPPORT)): ClassifyContext {
  const desk = new Desk({ tickets, messages: [], team: agents('Alice', 'Bob'), settings });
  return { settings, team: desk.teamByEmail, signer: testSigner, lookup: desk.lookup() };
}

const existing = ticket({
  number: 4,
  subject: 'Export fails',
  customerEmail: 'dana@customer.example',
  threadId: 'thread-4',
  conversation: ['first@customer.example', 'pd.relay@example.com'],
});
const replyAddress = plusAddress(SUPPORT, testSigner, 4, 'reply');
const commentAddress = plusAddress(SUPPORT, testSigner, 4, 'comment');
const to = (email: string) => [{ name: '', email }];

describe('joining a ticket', () => {
  it('starts a new ticket for unknown mail', () => {
    expect(classify(parsed(), '', context([existing])).kind).toBe('new-ticket');
  });

  it('follows In-Reply-To to a relay', () => {
    const message = parsed({ inReplyTo: ['pd.relay@example.com'], subject: 'other' });
    expect(classify(message, '', context([existing]))).toEqual({ kind: 'follow-up', ticket: 4, via: 'references' });
  });

  it('follows the Gmail thread', () => {
    expect(classify(parsed({ subject: 'x' }), 'thread-4', context([existing]))).toMatchObject({ ticket: 4, via: 'thread' });
  });

  it('follows a subject tag from the customer', () => {
    expect(classify(parsed({ subject: 'Re: [#4] whatever' }), '', context([existing]))).toMatchObject({ ticket: 4, via: 'subject tag' });
  });

  it('ignores a subject tag from a stranger', () => {
    const message = parsed({ subject: 'Re: [#4] whatever', from: 'eve@elsewhere.example' });
    expect(classify(message, '', context([existing])).kind).toBe('new-ticket');
  });

  it('joins the same customer by subject only while open', () => {
    const message = parsed({ subject: 'AW: Export fails' });
    expect(classify(message, '', context([existing]))).toMatchObject({ ticket: 4, via: 'subject' });
    expect(classify(message, '', context([{ ...existing, status: 'closed' }])).kind).toBe('new-ticket');
  });

  it('never merges another customer by subject', () => {
    const message = parsed({ subject: 'Re: Export fails', from: 'eve@elsewhere.example' });
    expect(classify(message, '', context([existing])).kind).toBe('new-ticket');
  });
});

describe('agent mail to plus addresses', () => {
  it('treats mail to the reply address as a reply', () => {
    const message = parsed({ from: 'alice@example.com', to: to(replyAddress) });
    expect(classify(message, '', context([existing]))).toMatchObject({ kind: 'agent-reply', ticket: 4 });
  });

  it('treats mail to the comment address as a comment', () => {
    const message = parsed({ from: 'bob@example.com', to: to(commentAddress) });
    expect(classify(message, '', context([existing]))).toMatchObject({ kind: 'comment', ticket: 4 });
  });

  it('holds mail from someone outside the team', () => {
    const message = parsed({ from: 'eve@elsewhere.example', to: to(replyAddress) });
    expect(classify(message, '', context([existing]))).toMatchObject({ kind: 'held', ticket: 4 });
  });

  it('holds an agent address that failed DMARC', () => {
    const message = parsed({
      from: 'alice@example.com',
      to: to(replyAddress),
      headers: { 'Authentication-Results': 'mx.google.com; dkim=none; spf=softfail smtp.mailfrom=example.com; dmarc=fail (p=NONE) header.from=example.com' },
    });
    const result = classify(message, '', context([existing]));
    expect(result).toMatchObject({ kind: 'held', ticket: 4 });
  });

  it('holds an agent without a pass when a pass is required', () => {
    const settings = { ...defaultSettings(SUPPORT), requireAuthPass: true };
    const message = parsed({ from: 'alice@example.com', to: to(replyAddress) });
    expect(classify(message, '', context([existing], settings)).kind).toBe('held');
    const signed = parsed({
      from: 'alice@example.com',
      to: to(replyAddress),
      headers: { 'Authentication-Results': 'mx.google.com; dkim=pass header.i=@example.com; spf=pass; dmarc=pass header.from=example.com' },
    });
    expect(classify(signed, '', context([existing], settings)).kind).toBe('agent-reply');
  });

  it('turns a forged tag into a new ticket', () => {
    const message = parsed({ from: 'alice@example.com', to: to('support+4-aaaaaaaa@example.com'), inReplyTo: ['pd.relay@example.com'] });
    expect(classify(message, '', context([existing]))).toMatchObject({ kind: 'new-ticket' });
  });
});

describe('mail that must not start a conversation', () => {
  it('skips our own notifications', () => {
    const message = parsed({ headers: { 'X-Plusdesk-Ticket': '4' } });
    expect(classify(message, '', context([existing]))).toEqual({ kind: 'own-message', ticket: 4 });
  });

  it('skips agent replies to digests', () => {
    const subject = 'Re: plusdesk digest: 3 updates on 2 tickets';
    const answer = parsed({ from: 'alice@example.com', subject, inReplyTo: ['pd.digest1@example.com'] });
    const fresh = parsed({ from: 'alice@example.com', subject: 'Plusdesk digest: customer asks about it' });
    const customer = parsed({ from: 'dana@customer.example', subject, inReplyTo: ['pd.digest1@example.com'] });
    expect(classify(answer, '', context([existing]))).toEqual({ kind: 'digest-reply' });
    expect(classify(fresh, '', context([existing])).kind).toBe('new-ticket');
    expect(classify(customer, '', context([existing])).kind).toBe('new-ticket');
  });

  it.each([
    [{ 'Auto-Submitted': 'auto-replied' }, 'Help'],
    [{ 'X-Autoreply': 'yes' }, 'Help'],
    [{}, 'Out of Office: Help'],
    [{}, 'Automatische Antwort: Help'],
    [{}, 'Abwesenheitsnotiz: Help'],
  ])('recognises auto-replies %#', (headers, subject) => {
    expect(classify(parsed({ headers, subject }), '', context([existing])).kind).toBe('auto-reply');
  });

  it('keeps Auto-Submitted: no as a normal message', () => {
    expect(classify(parsed({ headers: { 'Auto-Submitted': 'no' } }), '', context([])).kind).toBe('new-ticket');
  });

  it.each([
    [{ Precedence: 'bulk' }],
    [{ 'List-Id': '<news.vendor.example>' }],
    [{ Precedence: 'list' }],
  ])('skips bulk mail %#', (headers) => {
    expect(classify(parsed({ headers }), '', context([])).kind).toBe('bulk');
  });

  it('accepts the team group delivering into the mailbox', () => {
    const message = parsed({ headers: { 'List-Id': '<help.example.com>', Precedence: 'list' } });
    expect(classify(message, '', context([])).kind).toBe('new-ticket');
  });

  it('recognises a bounce from MAILER-DAEMON', () => {
    const message = parsed({ from: 'MAILER-DAEMON@mx.example.net', subject: 'Undelivered Mail', text: 'Final-Recipient: rfc822; x@y.example\nStatus: 5.1.1\nMessage-ID: <pd.relay@example.com>' });
    expect(classify(message, '', context([existing]))).toMatchObject({ kind: 'bounce', ticket: 4, status: '5.1.1', recipient: 'x@y.example' });
  });
});
