/**
 * What an agent can do to a ticket from the sidebar: follow (the star), assign, change status,
 * post an internal comment. Each action is a change to one ticket row, applied to the freshest
 * row so that two agents acting at once keep both changes. Comments are queued in the Messages
 * tab; the processor sends their notifications.
 */
import { normalizeEmail } from './address';
import { hashKey } from './hash';
import { assign, noteRecent, setFollowing, setStatus, toggleFollower } from './ticket';
import type { MessageRecord, Ticket, TicketStatus } from './types';

export type TicketAction =
  | { type: 'toggle-follow' }
  | { type: 'follow'; follow: boolean }
  | { type: 'assign'; assignee: string }
  | { type: 'status'; status: TicketStatus }
  | { type: 'comment'; text: string };

export interface ActionResult {
  ticket: Ticket;
  /** A Messages row to append: the queued comment. */
  record: MessageRecord | null;
  /** Short text for the agent's toast. */
  message: string;
}

export class ActionError extends Error {
  constructor(
    readonly code: 'EMPTY_COMMENT' | 'UNKNOWN_AGENT' | 'UNKNOWN_STATUS' | 'TICKET_NOT_FOUND',
    message: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

/** Id of a sidebar comment: stable for the same agent, ticket, time and text. */
export function commentId(ticket: number, agent: string, time: string, text: string): string {
  return `comment.${hashKey(String(ticket), normalizeEmail(agent), time, text)}@plusdesk.invalid`;
}

export function applyAction(
  ticket: Ticket,
  action: TicketAction,
  agent: string,
  time: string,
): ActionResult {
  const me = normalizeEmail(agent);
  switch (action.type) {
    case 'toggle-follow': {
      const next = toggleFollower(ticket, me, time);
      const following = next.followers.includes(me);
      return {
        ticket: next,
        record: null,
        message: following
          ? `You follow #${ticket.number}: you get every new message.`
          : `You no longer follow #${ticket.number}.`,
      };
    }
    case 'follow':
      return {
        ticket: setFollowing(ticket, me, action.follow, time),
        record: null,
        message: action.follow ? `You follow #${ticket.number}.` : `You no longer follow #${ticket.number}.`,
      };
    case 'assign': {
      const assignee = normalizeEmail(action.assignee);
      return {
        ticket: assign(ticket, assignee, time),
        record: null,
        message:
          assignee === ''
            ? `#${ticket.number} is unassigned.`
            : `#${ticket.number} is assigned to ${assignee === me ? 'you' : assignee}.`,
      };
    }
    case 'status':
      return {
        ticket: setStatus(ticket, action.status, time),
        record: null,
        message: `#${ticket.number} is ${action.status}.`,
      };
    case 'comment': {
      const text = action.text.trim();
      if (text === '') throw new ActionError('EMPTY_COMMENT', 'The comment is empty: type a note first.');
      return {
        ticket: noteRecent({ ...ticket, updated: time }, { time, kind: 'comment', author: me, summary: text }),
        record: {
          time,
          ticket: ticket.number,
          kind: 'comment',
          state: 'queued',
          author: me,
          messageId: commentId(ticket.number, me, time, text),
          sourceId: 'sidebar',
          key: '',
          reason: 'posted in the sidebar',
          summary: text,
        },
        message: `Comment added to #${ticket.number}; the processor notifies followers and mentions.`,
      };
    }
  }
}

/** Request to open a ticket, made by an agent in the sidebar and carried out by the processor. */
export interface OpenRequest {
  subject: string;
  customerName: string;
  text: string;
  /** The agent who asked; they follow the new ticket. */
  agent: string;
}

/**
 * A queued Messages row asking the processor to open a ticket from a message an agent has open.
 * The request travels as JSON in the summary until the processor replaces it with the text.
 */
export function openRequestRecord(
  input: OpenRequest & { customerEmail: string; messageId: string; time: string },
): MessageRecord {
  const request: OpenRequest = {
    subject: input.subject,
    customerName: input.customerName,
    text: input.text,
    agent: normalizeEmail(input.agent),
  };
  return {
    time: input.time,
    ticket: null,
    kind: 'customer',
    state: 'queued',
    author: normalizeEmail(input.customerEmail),
    messageId: input.messageId,
    sourceId: 'sidebar',
    key: '',
    reason: `open as ticket, asked by ${request.agent}`,
    summary: JSON.stringify(request),
  };
}

/** Reads a queued open request; returns null for a row that is not one or was edited badly. */
export function readOpenRequest(record: MessageRecord): OpenRequest | null {
  if (record.kind !== 'customer' || record.state !== 'queued') return null;
  try {
    const data = JSON.parse(record.summary) as Partial<OpenRequest>;
    if (typeof data.agent !== 'string' || typeof data.subject !== 'string') return null;
    return {
      subject: data.subject,
      customerName: typeof data.customerName === 'string' ? data.customerName : '',
      text: typeof data.text === 'string' ? data.text : '',
      agent: data.agent,
    };
  } catch {
    return null;
  }
}
