/**
 * The support desk's data: tickets, agents, parsed mail and the messages plusdesk sends.
 * Everything here is plain data so that it crosses runtimes, the Sheet and card parameters.
 */

export type TicketStatus = 'open' | 'pending' | 'closed';
export const TICKET_STATUSES: readonly TicketStatus[] = ['open', 'pending', 'closed'];

/** A mailbox with an optional display name. `email` keeps the sender's spelling. */
export interface Address {
  name: string;
  email: string;
}

export interface Ticket {
  number: number;
  status: TicketStatus;
  subject: string;
  customer: Address;
  /** Other people on the customer's side who were copied and are copied on relays. */
  cc: string[];
  /** Agent email, or '' when unassigned. */
  assignee: string;
  /** Agent email of the last reply sent to the customer, or ''. */
  lastReplier: string;
  followers: string[];
  /** ISO 8601 timestamps. */
  created: string;
  updated: string;
  /** Thread of the support mailbox that holds the customer's conversation. */
  threadId: string;
  /**
   * Message-IDs (without angle brackets) of the customer conversation, oldest first: the
   * customer's messages and plusdesk's relays. Relays use them for In-Reply-To and References.
   */
  conversation: string[];
  /** The customer's tickets from before this one, newest first, for the sidebar card. */
  earlier: number[];
  /** The last few messages of the ticket, newest last, so a card needs no Messages scan. */
  recent: RecentMessage[];
}

export interface RecentMessage {
  time: string;
  kind: 'customer' | 'reply' | 'comment';
  /** Email of the author. */
  author: string;
  summary: string;
}

export interface Agent {
  email: string;
  name: string;
  active: boolean;
  /** Receives new-ticket notifications when no team group address is set. */
  notifyNew: boolean;
}

export interface Settings {
  supportAddress: string;
  supportName: string;
  /** One address that reaches the whole team, or '' to notify each agent. */
  teamAddress: string;
  signature: string;
  autoAcknowledge: boolean;
  /** Domains whose mail may lack DMARC/DKIM/SPF results and still be trusted. */
  trustedDomains: string[];
  /** When true, a reply or comment needs an explicit DMARC or DKIM pass. */
  requireAuthPass: boolean;
  /**
   * Recipients the support account may send to in 24 hours. Near it, notifications to agents
   * wait for an hourly digest, so that mail to customers still goes out.
   */
  dailyRecipientLimit: number;
}

export interface Attachment {
  filename: string;
  mimeType: string;
  /** Content-ID without angle brackets, when the part has one. */
  contentId: string;
  disposition: 'attachment' | 'inline';
  content: Uint8Array;
}

/** An inbound message after MIME parsing. Header names in `headers` are lower case. */
export interface ParsedMessage {
  /** Message-ID without angle brackets; '' when the message has none. */
  messageId: string;
  inReplyTo: string[];
  references: string[];
  from: Address | null;
  replyTo: Address[];
  to: Address[];
  cc: Address[];
  subject: string;
  /** ISO 8601, or '' when the Date header is missing or invalid. */
  date: string;
  headers: Record<string, string[]>;
  /** Plain text of the body: the text/plain part, or the HTML part rendered as text. */
  text: string;
  html: string;
  attachments: Attachment[];
  /** Content type of the top-level part, lower case, without parameters. */
  contentType: string;
  /** Things the parser worked around, for the log (unknown charset, broken part). */
  warnings: string[];
}

/** The kinds of rows in the Messages tab. */
export type MessageKind = 'customer' | 'reply' | 'comment' | 'notification' | 'system';

/** State of a row in the Messages tab. Outgoing rows are queued before they are sent. */
export type MessageState =
  | 'processed'
  | 'queued'
  | 'sent'
  | 'skipped'
  | 'held'
  | 'quarantined'
  | 'duplicate'
  /** A notification that waits for the next digest because the daily recipient limit is near. */
  | 'digest';

/** One row of the Messages tab: an inbound message, an outgoing message or a note. */
export interface MessageRecord {
  time: string;
  ticket: number | null;
  kind: MessageKind;
  state: MessageState;
  /** Email of the author (inbound) or the recipients joined by ', ' (outgoing). */
  author: string;
  /** Message-ID without angle brackets. */
  messageId: string;
  /** Mailbox-specific id: the Gmail message id or the local file name. */
  sourceId: string;
  /** Deterministic key of an outgoing message, '' for inbound rows. */
  key: string;
  /** Why the message was skipped, held or quarantined; the event for outgoing rows. */
  reason: string;
  summary: string;
}

export type OutgoingKind = 'notification' | 'relay' | 'acknowledgement' | 'alert';

/** A message plusdesk sends, before MIME encoding. */
export interface OutgoingMessage {
  kind: OutgoingKind;
  ticket: number;
  /** Deterministic key of ticket, event and recipients; also the local part of Message-ID. */
  key: string;
  messageId: string;
  from: Address;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  subject: string;
  text: string;
  html: string;
  inReplyTo: string;
  references: string[];
  /** Extra headers such as X-Plusdesk-Ticket and Auto-Submitted. */
  headers: Record<string, string>;
  attachments: Attachment[];
  /** Thread of the support mailbox to send into, '' for a new thread. */
  threadId: string;
  /** Why each recipient gets it, by lower-case email: "assignee", "follower", ... */
  reasons: Record<string, string>;
}
