import { describe, expect, it } from 'vitest';
import { readPlusAddress } from '../src/core/address';
import { composeNotification, composeRelay, ticketThreadRoot } from '../src/core/compose';
import { defaultSettings } from '../src/core/sheet';
import { readAuthResults, checkAgentSender } from '../src/core/trust';
import { detectAutoReply, detectBounce, isNoReplyAddress } from '../src/core/loops';
import { agents, SUPPORT, testSigner } from './support/memory';
import { parsed } from './support/parsed';
import { ticket } from './support/tickets';

const settings = defaultSettings(SUPPORT);
const context = { settings, signer: testSigner };
const current = ticket({ number: 12, subject: 'Shipment stuck', customerEmail: 'nora@customer.example', cc: ['ben@customer.example'], conversation: ['first@customer.example', 'pd.relay@example.com'], threadId: 'thread-12' });

type NotificationInput = Parameters<typeof composeNotification>[0];

/** Builds a follow-up notification on ticket 12, with `changes` applied to its input. */
function notification(changes: Partial<NotificationInput> = {}) {
  const input: NotificationInput = {
    event: 'follow-up',
    ticket: current,
    author: { name: 'Nora', email: 'nora@customer.example' },
    eventId: 'msg-3@customer.example',
    text: 'Any news?',
    attachments: [],
    inlineIds: [],
    recipients: [{ email: 'bob@example.com', reason: 'assignee' }],
    ...changes,
  };
  return composeNotification(input, context);
}

describe('notifications', () => {
  const note = notification();

  it('tags the subject with the ticket number', () => {
    expect(note.subject).toBe('[#12] Shipment stuck');
  });

  it('sets a signed reply address as Reply-To', () => {
    expect(readPlusAddress(note.replyTo[0]!.email, SUPPORT, testSigner)).toEqual({ status: 'valid', ticket: 12, purpose: 'reply' });
  });

  it('threads every notification under the ticket root', () => {
    expect(note.inReplyTo).toBe(ticketThreadRoot(12, settings));
    expect(note.references).toEqual([ticketThreadRoot(12, settings)]);
  });

  it('carries the ticket and key headers', () => {
    expect(note.headers['X-Plusdesk-Ticket']).toBe('12');
    expect(note.headers['X-Plusdesk-Key']).toBe(note.key);
    expect(note.messageId).toContain(note.key);
  });

  it('shows the comment address in the footer', () => {
    expect(note.text).toMatch(/support\+12-[a-z2-7]+@example\.com to add an internal note/);
  });

  it('offers the reply address on comments', () => {
    const comment = notification({
      event: 'comment',
      author: { name: 'Alice', email: 'alice@example.com' },
      eventId: 'note-1@example.com',
      text: 'Customs called.',
      recipients: [{ email: 'bob@example.com', reason: 'follower' }],
    });

    expect(readPlusAddress(comment.replyTo[0]!.email, SUPPORT, testSigner)).toMatchObject({ purpose: 'comment' });
    expect(comment.text).toContain('Reply to this email to add another internal note.');
    expect(comment.text).toMatch(/Write to support\+12-[a-z2-7]+@example\.com to answer .* instead\./);
    expect(comment.text).not.toContain('to add an internal note instead');
  });
});

describe('relays', () => {
  const relay = composeRelay(
    { ticket: current, agent: { name: 'Alice', email: 'alice@example.com' }, eventId: 'alice-1@example.com', text: 'Your parcel left customs.', attachments: [], extraCc: [] },
    context,
  );

  it('goes to the customer and the people copied', () => {
    expect(relay.to.map((a) => a.email)).toEqual(['nora@customer.example']);
    expect(relay.cc.map((a) => a.email)).toEqual(['ben@customer.example']);
  });

  it('comes from the support address with the agent name', () => {
    expect(relay.from).toEqual({ name: 'Alice (Support)', email: SUPPORT });
  });

  it('threads into the customer conversation', () => {
    expect(relay.inReplyTo).toBe('pd.relay@example.com');
    expect(relay.references).toEqual(['first@customer.example', 'pd.relay@example.com']);
    expect(relay.threadId).toBe('thread-12');
  });

  it('shows no plus address', () => {
    expect(JSON.stringify({ ...relay, attachments: [] })).not.toContain('support+');
  });
});

describe('loop signals', () => {
  it.each(['noreply@shop.example', 'no-reply@x.example', 'donotreply@x.example', 'mailer-daemon@x.example'])('treats %s as no-reply', (email) => {
    expect(isNoReplyAddress(email)).toBe(true);
  });

  it('keeps an ordinary address', () => {
    expect(isNoReplyAddress('nora@customer.example')).toBe(false);
  });

  it('reads a bounce report', () => {
    const bounce = detectBounce(parsed({ from: 'postmaster@mx.example', subject: 'Delivery Status Notification (Failure)', text: 'Final-Recipient: rfc822; gone@x.example\nStatus: 5.1.1\nMessage-ID: <pd.relay@example.com>' }));
    expect(bounce).toMatchObject({ recipient: 'gone@x.example', status: '5.1.1', returnedIds: ['pd.relay@example.com'] });
  });

  it('ignores Auto-Submitted: no', () => {
    expect(detectAutoReply(parsed({ headers: { 'Auto-Submitted': 'no' } }))).toBe('');
  });
});

describe('sender trust', () => {
  const team = new Map(agents('Alice').map((agent) => [agent.email, agent]));

  it('reads only the topmost Authentication-Results', () => {
    const message = parsed({ headers: { 'Authentication-Results': 'mx.google.com; dkim=pass header.i=@example.com; dmarc=pass header.from=example.com' } });
    expect(readAuthResults(message).map((check) => `${check.method}=${check.result}`)).toEqual(['dkim=pass', 'dmarc=pass']);
  });

  it('trusts an active agent with no failed checks', () => {
    expect(checkAgentSender(parsed({ from: 'alice@example.com' }), team, settings).trusted).toBe(true);
  });

  it('distrusts an inactive agent', () => {
    const inactive = new Map(agents('Alice').map((agent) => [agent.email, { ...agent, active: false }]));
    expect(checkAgentSender(parsed({ from: 'alice@example.com' }), inactive, settings).trusted).toBe(false);
  });

  it('distrusts a failed SPF for the agent domain', () => {
    const message = parsed({ from: 'alice@example.com', headers: { 'Authentication-Results': 'mx.google.com; spf=fail smtp.mailfrom=example.com' } });
    expect(checkAgentSender(message, team, settings)).toEqual({ trusted: false, reason: 'SPF fail for example.com' });
  });
});
