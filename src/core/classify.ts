/**
 * Decides what an inbound message is and which ticket it joins. Joining follows a fixed order:
 * a valid plus tag, In-Reply-To/References naming a known message, the Gmail thread, a `[#N]`
 * subject tag, and last the same customer's open ticket with the same subject. A subject alone
 * never joins two customers' mail.
 */
import { domainOf, findPlusAddress, findTicketTag, normalizeEmail, subjectKey } from './address';
import { DIGEST_SUBJECT } from './compose';
import { detectAutoReply, detectBounce, detectBulk } from './loops';
import type { Signer } from './ports';
import { checkAgentSender } from './trust';
import type { Agent, ParsedMessage, Settings, Ticket } from './types';

export interface TicketLookup {
  ticket(number: number): Ticket | undefined;
  /** Ticket that a known Message-ID (inbound, relay or notification) belongs to. */
  byMessageId(messageId: string): number | undefined;
  byThread(threadId: string): number | undefined;
  /** The customer's open or pending ticket whose subject key matches, newest first. */
  openBySubject(customerEmail: string, subjectKey: string): number | undefined;
}

export interface ClassifyContext {
  settings: Settings;
  team: Map<string, Agent>;
  signer: Signer;
  lookup: TicketLookup;
}

export type JoinReason = 'references' | 'thread' | 'subject tag' | 'subject';

export type Classification =
  | { kind: 'new-ticket'; note: string }
  | { kind: 'follow-up'; ticket: number; via: JoinReason }
  | { kind: 'agent-reply'; ticket: number; agent: Agent }
  | { kind: 'comment'; ticket: number; agent: Agent }
  | { kind: 'agent-message'; ticket: number; agent: Agent; via: JoinReason }
  | { kind: 'held'; ticket: number; reason: string }
  | { kind: 'auto-reply'; ticket: number | null; signal: string }
  | { kind: 'bounce'; ticket: number | null; signal: string; recipient: string; status: string }
  | { kind: 'own-message'; ticket: number | null }
  | { kind: 'digest-reply' }
  | { kind: 'bulk'; signal: string };

function recipients(message: ParsedMessage) {
  const delivered = (message.headers['delivered-to'] ?? []).map((email) => ({
    name: '',
    email: email.trim(),
  }));
  return [...message.to, ...message.cc, ...delivered];
}

function knownTicket(message: ParsedMessage, lookup: TicketLookup): number | undefined {
  const ids = [...message.inReplyTo, ...[...message.references].reverse()];
  for (const id of ids) {
    const ticket = lookup.byMessageId(id);
    if (ticket !== undefined) return ticket;
  }
  return undefined;
}

function joinTicket(
  message: ParsedMessage,
  threadId: string,
  sender: string,
  lookup: TicketLookup,
): { ticket: number; via: JoinReason } | null {
  const byReference = knownTicket(message, lookup);
  if (byReference !== undefined) return { ticket: byReference, via: 'references' };

  const byThread = threadId === '' ? undefined : lookup.byThread(threadId);
  if (byThread !== undefined) return { ticket: byThread, via: 'thread' };

  const tagged = findTicketTag(message.subject);
  const taggedTicket = tagged === null ? undefined : lookup.ticket(tagged);
  if (taggedTicket !== undefined && isCustomerSide(taggedTicket, sender)) {
    return { ticket: taggedTicket.number, via: 'subject tag' };
  }

  const key = subjectKey(message.subject);
  const bySubject = key === '' ? undefined : lookup.openBySubject(sender, key);
  if (bySubject !== undefined) return { ticket: bySubject, via: 'subject' };
  return null;
}

/** The customer, someone copied on the ticket, or a colleague from the customer's domain. */
function isCustomerSide(ticket: Ticket, sender: string): boolean {
  const customer = normalizeEmail(ticket.customer.email);
  if (sender === customer || ticket.cc.includes(sender)) return true;
  return domainOf(sender) !== '' && domainOf(sender) === domainOf(customer);
}

export function classify(
  message: ParsedMessage,
  threadId: string,
  context: ClassifyContext,
): Classification {
  const { settings, lookup } = context;
  const sender = message.from === null ? '' : normalizeEmail(message.from.email);
  const ownTicket = message.headers['x-plusdesk-ticket']?.[0];
  if (ownTicket !== undefined || message.headers['x-plusdesk-key'] !== undefined) {
    const number = Number.parseInt(ownTicket ?? '', 10);
    return { kind: 'own-message', ticket: Number.isFinite(number) ? number : null };
  }

  const bounce = detectBounce(message);
  if (bounce !== null) {
    const ticket = bounce.returnedIds.map((id) => lookup.byMessageId(id)).find((n) => n !== undefined);
    return {
      kind: 'bounce',
      ticket: ticket ?? knownTicket(message, lookup) ?? null,
      signal: bounce.signal,
      recipient: bounce.recipient,
      status: bounce.status,
    };
  }

  const autoReply = detectAutoReply(message);
  if (autoReply !== '') {
    const joined = joinTicket(message, threadId, sender, lookup);
    return { kind: 'auto-reply', ticket: joined?.ticket ?? null, signal: autoReply };
  }

  const bulk = detectBulk(message, settings.supportAddress);
  if (bulk !== '') return { kind: 'bulk', signal: bulk };

  const plus = findPlusAddress(recipients(message), settings.supportAddress, context.signer);
  if (plus.status === 'valid' && lookup.ticket(plus.ticket) !== undefined) {
    const trust = checkAgentSender(message, context.team, settings);
    if (!trust.trusted) return { kind: 'held', ticket: plus.ticket, reason: trust.reason };
    return plus.purpose === 'comment'
      ? { kind: 'comment', ticket: plus.ticket, agent: trust.agent }
      : { kind: 'agent-reply', ticket: plus.ticket, agent: trust.agent };
  }
  if (plus.status !== 'none') {
    // A forged, edited or stale tag grants nothing: the message starts a ticket of its own.
    const reason = plus.status === 'invalid' ? plus.reason : `ticket ${plus.ticket} does not exist`;
    return { kind: 'new-ticket', note: reason };
  }

  const joined = joinTicket(message, threadId, sender, lookup);
  const agent = context.team.get(sender);
  if (joined === null) {
    // A digest comes from the support address and belongs to no ticket, so an agent's reply to
    // it would otherwise open one. A reply cites the digest, and new mail cites nothing.
    const answers = message.inReplyTo.length > 0 || message.references.length > 0;
    if (agent !== undefined && answers && subjectKey(message.subject).startsWith(DIGEST_SUBJECT)) {
      return { kind: 'digest-reply' };
    }
    return { kind: 'new-ticket', note: '' };
  }
  if (agent !== undefined && agent.active) {
    return { kind: 'agent-message', ticket: joined.ticket, agent, via: joined.via };
  }
  return { kind: 'follow-up', ticket: joined.ticket, via: joined.via };
}
