/**
 * Ticket life cycle: creation from a customer's first message, the changes each event makes,
 * and the sidebar's actions (follow, assign, change status).
 */
import { isDeliverable, normalizeEmail, ticketSubject } from './address';
import { CONVERSATION_LIMIT, RECENT_LIMIT, RECENT_SUMMARY_LENGTH } from './sheet';
import type { Address, RecentMessage, Ticket, TicketStatus } from './types';

export function createTicket(input: {
  number: number;
  subject: string;
  customer: Address;
  cc: string[];
  threadId: string;
  messageId: string;
  time: string;
  earlier?: number[];
}): Ticket {
  return {
    number: input.number,
    status: 'open',
    subject: ticketSubject(input.subject),
    customer: { name: input.customer.name, email: normalizeEmail(input.customer.email) },
    cc: addCc([], input.cc, input.customer.email),
    assignee: '',
    lastReplier: '',
    followers: [],
    created: input.time,
    updated: input.time,
    threadId: input.threadId,
    conversation: input.messageId === '' ? [] : [input.messageId],
    earlier: input.earlier ?? [],
    recent: [],
  };
}

/** Adds a message to the ticket's recent list, keeping the newest few. */
export function noteRecent(ticket: Ticket, message: RecentMessage): Ticket {
  const summary =
    message.summary.length > RECENT_SUMMARY_LENGTH
      ? `${message.summary.slice(0, RECENT_SUMMARY_LENGTH - 1)}…`
      : message.summary;
  return { ...ticket, recent: [...ticket.recent, { ...message, summary }].slice(-RECENT_LIMIT) };
}

function uniqueEmails(emails: string[]): string[] {
  return [...new Set(emails.map(normalizeEmail).filter((email) => email !== ''))];
}

/**
 * Most people a ticket copies besides the customer, so that a relay, which goes to the customer
 * and every one of them, has at most 50 recipients.
 */
export const CC_LIMIT = 49;

/**
 * Adds the people one message copied to a ticket's Cc list, leaving out the customer and
 * addresses that cannot receive mail. When they would take the list past CC_LIMIT, none of them
 * is added: a message copied to that many people is a mass mailing, and replies on the ticket
 * must not reach its recipients.
 */
export function addCc(current: string[], added: string[], customer: string): string[] {
  const exclude = normalizeEmail(customer);
  const kept = uniqueEmails(current)
    .filter((email) => email !== exclude && isDeliverable(email))
    .slice(0, CC_LIMIT);
  const fresh = uniqueEmails(added).filter((email) => email !== exclude && isDeliverable(email) && !kept.includes(email));
  return kept.length + fresh.length > CC_LIMIT ? kept : [...kept, ...fresh];
}

function addToConversation(conversation: string[], messageId: string): string[] {
  if (messageId === '' || conversation.includes(messageId)) return conversation;
  return [...conversation, messageId].slice(-CONVERSATION_LIMIT);
}

/** Records a customer's new message: a pending or closed ticket opens again. */
export function recordCustomerMessage(
  ticket: Ticket,
  input: { messageId: string; cc: string[]; threadId: string; time: string },
): Ticket {
  return {
    ...ticket,
    status: 'open',
    cc: addCc(ticket.cc, input.cc, ticket.customer.email),
    threadId: ticket.threadId === '' ? input.threadId : ticket.threadId,
    updated: input.time,
    conversation: addToConversation(ticket.conversation, input.messageId),
  };
}

/**
 * Records an agent's reply to the customer. The agent becomes the last replier (and the assignee
 * if there was none), and the ticket waits on the customer.
 */
export function recordAgentReply(
  ticket: Ticket,
  input: { agent: string; relayMessageId: string; cc: string[]; time: string },
): Ticket {
  const agent = normalizeEmail(input.agent);
  return {
    ...ticket,
    status: ticket.status === 'closed' ? 'closed' : 'pending',
    assignee: ticket.assignee === '' ? agent : ticket.assignee,
    lastReplier: agent,
    cc: addCc(ticket.cc, input.cc, ticket.customer.email),
    updated: input.time,
    conversation: addToConversation(ticket.conversation, input.relayMessageId),
  };
}

export function touch(ticket: Ticket, time: string): Ticket {
  return { ...ticket, updated: time };
}

/** Starring: adds the agent as a follower, or removes them when they already follow. */
export function toggleFollower(ticket: Ticket, agent: string, time: string): Ticket {
  const email = normalizeEmail(agent);
  const following = ticket.followers.includes(email);
  return {
    ...ticket,
    followers: following
      ? ticket.followers.filter((follower) => follower !== email)
      : [...ticket.followers, email],
    updated: time,
  };
}

export function setFollowing(ticket: Ticket, agent: string, follow: boolean, time: string): Ticket {
  const following = ticket.followers.includes(normalizeEmail(agent));
  return following === follow ? ticket : toggleFollower(ticket, agent, time);
}

export function assign(ticket: Ticket, agent: string, time: string): Ticket {
  return { ...ticket, assignee: normalizeEmail(agent), updated: time };
}

export function setStatus(ticket: Ticket, status: TicketStatus, time: string): Ticket {
  return { ...ticket, status, updated: time };
}

function union<T>(values: T[], added: T[], removed: T[]): T[] {
  const result = values.filter((value) => !removed.includes(value));
  for (const value of added) if (!result.includes(value)) result.push(value);
  return result;
}

/**
 * Three-way merge of one ticket: `mine` is `base` with this writer's changes, `fresh` is the row
 * as it is now, perhaps changed by someone else since `base` was read. Fields this writer did not
 * touch keep the fresh value; list fields merge by the items this writer added and removed, so a
 * follow or a Cc from someone else is never erased.
 */
export function mergeTicket(base: Ticket | undefined, mine: Ticket, fresh: Ticket | null): Ticket {
  if (base === undefined || fresh === null) return mine;
  const merged: Ticket = { ...fresh };
  const lists = ['followers', 'cc', 'conversation', 'earlier'] as const;
  for (const field of Object.keys(mine) as (keyof Ticket)[]) {
    if ((lists as readonly string[]).includes(field) || field === 'recent') continue;
    if (JSON.stringify(mine[field]) !== JSON.stringify(base[field])) {
      (merged as unknown as Record<string, unknown>)[field] = mine[field];
    }
  }
  for (const field of ['followers', 'cc', 'conversation'] as const) {
    const added = mine[field].filter((value) => !base[field].includes(value));
    const removed = base[field].filter((value) => !mine[field].includes(value));
    merged[field] = union(fresh[field], added, removed);
  }
  const earlierAdded = mine.earlier.filter((value) => !base.earlier.includes(value));
  merged.earlier = union(fresh.earlier, earlierAdded, []);
  const freshRecent = fresh.recent.map((item) => JSON.stringify(item));
  const added = mine.recent.filter((item) => !base.recent.some((old) => JSON.stringify(old) === JSON.stringify(item)));
  merged.recent = [
    ...fresh.recent,
    ...added.filter((item) => !freshRecent.includes(JSON.stringify(item))),
  ]
    .sort((a, b) => a.time.localeCompare(b.time))
    .slice(-RECENT_LIMIT);
  if (merged.conversation.length > CONVERSATION_LIMIT) {
    merged.conversation = merged.conversation.slice(-CONVERSATION_LIMIT);
  }
  return merged;
}
