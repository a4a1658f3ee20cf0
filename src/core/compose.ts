/**
 * Builds the messages plusdesk sends. Notifications go to agents with `[#N]` in the subject, the
 * new text only, a signed plus Reply-To, and threading headers that keep one ticket in one
 * Gmail thread. Relays go to the customer from the support address, threaded into their own
 * conversation, and never show a plus address.
 */
import { domainOf, formatAddress, normalizeEmail, plusAddress } from './address';
import { hashKey } from './hash';
import type { Signer } from './ports';
import type { Recipient } from './routing';
import { addCc } from './ticket';
import type { Address, Attachment, OutgoingMessage, Settings, Ticket } from './types';

/**
 * Encoded bytes that the attachments of one message may take. Gmail rejects messages over 25 MB.
 * Attachments travel in base64, a third larger than the files, so the budget counts that encoded
 * size and leaves 1 MB for headers and bodies. Attachments beyond it are left out, with a note in
 * notifications.
 */
export const ATTACHMENT_BUDGET = 24 * 1000 * 1000;
/**
 * Maximum characters of a ticket subject and of a display name written into a header. Text
 * without spaces cannot be folded, and RFC 5322 allows lines of at most 998 characters.
 */
const SUBJECT_LENGTH = 200;
const NAME_LENGTH = 100;
/** References carries the most recent ids only, as mail clients do. */
const REFERENCES_LIMIT = 20;

export type NotificationEvent = 'new-ticket' | 'follow-up' | 'agent-reply' | 'comment' | 'agent-message';

export interface ComposeContext {
  settings: Settings;
  signer: Signer;
}

/** Message-ID that every notification of a ticket refers to, so agents see one thread. */
export function ticketThreadRoot(ticket: number, settings: Settings): string {
  return `ticket-${ticket}.plusdesk@${domainOf(settings.supportAddress)}`;
}

export function outgoingMessageId(key: string, settings: Settings): string {
  return `pd.${key}@${domainOf(settings.supportAddress)}`;
}

/**
 * Key of an outgoing message: the same event to the same people always gets the same key.
 *
 * An event has at most one notification, keyed by the event alone, without its recipients or
 * the kind of event. A sidebar action between a run that died before saving and its retry can
 * change both: a new follower changes the recipients, and a closed ticket turns a follow-up
 * into a new ticket. A key that changed with them sent the first recipients a second copy.
 * NOTE: the retry then sends nothing, so a recipient added in between, or the new ticket's
 * number, is not notified.
 */
export function messageKey(kind: string, eventId: string, recipients: string[]): string {
  return hashKey(kind, eventId, ...[...recipients].map(normalizeEmail).sort());
}

/** Key of the one notification an event causes; recipients are left out so a retry matches. */
export function notificationKey(eventId: string): string {
  return messageKey('notification', eventId, []);
}

/** Key of the relay of an agent's reply to the customer and the people copied. */
export function relayKey(eventId: string, recipients: string[]): string {
  return messageKey('relay', eventId, recipients);
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function textToHtml(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, '<br>\n');
}

/** Size of `bytes` bytes in base64 with a CRLF after every 76 characters, as the MIME writer encodes. */
function encodedSize(bytes: number): number {
  const characters = Math.ceil(bytes / 3) * 4;
  return characters + Math.ceil(characters / 76) * 2;
}

/** Keeps attachments in order until the size budget is spent; reports what was left out. */
function withinBudget(attachments: Attachment[]): { kept: Attachment[]; dropped: string[] } {
  const kept: Attachment[] = [];
  const dropped: string[] = [];
  let total = 0;
  for (const attachment of attachments) {
    const size = encodedSize(attachment.content.length);
    if (total + size > ATTACHMENT_BUDGET) {
      dropped.push(attachment.filename || attachment.mimeType);
      continue;
    }
    total += size;
    kept.push(attachment);
  }
  return { kept, dropped };
}

/** Cuts header text to `length` characters, ending it with an ellipsis when cut. */
function shorten(text: string, length: number): string {
  const characters = [...text];
  return characters.length > length ? `${characters.slice(0, length - 1).join('')}…` : text;
}

function subjectOf(ticket: Ticket): string {
  return shorten(ticket.subject, SUBJECT_LENGTH);
}

const HEADLINES: Record<NotificationEvent, (author: string, customer: string) => string> = {
  'new-ticket': (author) => `New ticket from ${author}:`,
  'follow-up': (author) => `${author} wrote:`,
  'agent-reply': (author, customer) => `${author} replied to ${customer}:`,
  'agent-message': (author) => `${author} wrote in the customer's thread:`,
  comment: (author) => `Internal note from ${author} (the customer does not see it):`,
};

const REASON_TEXT: Record<Recipient['reason'], string> = {
  team: 'on the team',
  'team address': 'the whole team',
  'last replier': 'replied last',
  assignee: 'assignee',
  follower: 'follows the ticket',
  mentioned: 'mentioned',
};

/** Builds the footer line naming each recipient's reason, true for every recipient of a shared message. */
function recipientLine(recipients: Recipient[]): string {
  if (recipients.length === 1) return `Sent to you: ${REASON_TEXT[recipients[0]!.reason]}.`;
  return `Sent to ${recipients.map((r) => `${r.email} (${REASON_TEXT[r.reason]})`).join(', ')}.`;
}

export interface NotificationInput {
  event: NotificationEvent;
  ticket: Ticket;
  author: Address;
  /** Id of what happened: the inbound Message-ID, or the id of a comment row. */
  eventId: string;
  text: string;
  attachments: Attachment[];
  /** Content-IDs the original HTML referred to, so inline images still show. */
  inlineIds: string[];
  recipients: Recipient[];
}

export function composeNotification(
  input: NotificationInput,
  context: ComposeContext,
): OutgoingMessage {
  const { ticket, settings } = { ticket: input.ticket, settings: context.settings };
  const emails = input.recipients.map((recipient) => recipient.email);
  const key = notificationKey(input.eventId);
  const replyAddress = plusAddress(settings.supportAddress, context.signer, ticket.number, 'reply');
  const commentAddress = plusAddress(
    settings.supportAddress,
    context.signer,
    ticket.number,
    'comment',
  );
  // Replying to an internal note continues the internal discussion, never reaches the customer.
  const replyTo = input.event === 'comment' ? commentAddress : replyAddress;
  const customerName = shorten(ticket.customer.name || ticket.customer.email, NAME_LENGTH);
  const authorName = shorten(input.author.name || input.author.email, NAME_LENGTH);
  const { kept, dropped } = withinBudget(input.attachments);

  const headline = HEADLINES[input.event](
    input.event === 'new-ticket' || input.event === 'follow-up'
      ? formatAddress(input.author)
      : authorName,
    customerName,
  );
  const status = [
    `Ticket #${ticket.number}`,
    ticket.status,
    ticket.assignee === '' ? 'unassigned' : `assigned to ${ticket.assignee}`,
  ].join(' · ');
  // Replying uses the Reply-To address, so the footer offers the other address beside it.
  const howToAnswer =
    input.event === 'comment'
      ? [`Reply to this email to add another internal note.`, `Write to ${replyAddress} to answer ${customerName} instead.`]
      : [`Reply to this email to answer ${customerName}.`, `Write to ${commentAddress} to add an internal note instead.`];
  const footer = [
    '--',
    status,
    ...howToAnswer,
    recipientLine(input.recipients),
  ];
  if (dropped.length > 0) {
    footer.push(`Left out as too large to forward (open it in the support mailbox): ${dropped.join(', ')}`);
  }
  const body = input.text.trim() === '' ? '(no text)' : input.text.trim();
  const text = [headline, '', body, '', ...footer].join('\n');
  const images = input.inlineIds
    .filter((id) => kept.some((attachment) => attachment.contentId === id))
    .map((id) => `<p><img src="cid:${escapeHtml(id)}" alt=""></p>`)
    .join('\n');
  const html = [
    `<p><b>${escapeHtml(headline)}</b></p>`,
    `<div>${textToHtml(body)}</div>`,
    images,
    `<hr><p style="color:#5f6368;font-size:12px">${footer.slice(1).map(escapeHtml).join('<br>\n')}</p>`,
  ]
    .filter((part) => part !== '')
    .join('\n');
  const root = ticketThreadRoot(ticket.number, settings);

  return {
    kind: 'notification',
    ticket: ticket.number,
    key,
    messageId: outgoingMessageId(key, settings),
    from: { name: `${authorName} via ${settings.supportName}`, email: settings.supportAddress },
    to: emails.map((email) => ({ name: '', email })),
    cc: [],
    replyTo: [{ name: `${customerName} (#${ticket.number})`, email: replyTo }],
    subject: `[#${ticket.number}] ${subjectOf(ticket)}`,
    text,
    html,
    inReplyTo: root,
    references: [root],
    headers: {
      'X-Plusdesk-Ticket': String(ticket.number),
      'X-Plusdesk-Key': key,
      'X-Plusdesk-Event': input.event,
      'Auto-Submitted': 'auto-generated',
    },
    attachments: kept,
    threadId: '',
    reasons: Object.fromEntries(input.recipients.map((r) => [r.email, r.reason])),
  };
}

export interface RelayInput {
  ticket: Ticket;
  agent: Address;
  eventId: string;
  text: string;
  attachments: Attachment[];
  /** People outside the team that the agent copied, added to the customer's Cc. */
  extraCc: string[];
}

/** Builds the agent's reply to the customer, sent from the support address in the customer's own thread. */
export function composeRelay(input: RelayInput, context: ComposeContext): OutgoingMessage {
  const { ticket } = input;
  const { settings } = context;
  const customer = normalizeEmail(ticket.customer.email);
  const cc = addCc(ticket.cc, input.extraCc, customer).filter(
    (email) => email !== normalizeEmail(settings.supportAddress),
  );
  const key = relayKey(input.eventId, [customer, ...cc]);
  const signature = settings.signature.trim();
  const text = signature === '' ? input.text.trim() : `${input.text.trim()}\n\n${signature}`;
  const { kept } = withinBudget(input.attachments);
  const references = ticket.conversation.slice(-REFERENCES_LIMIT);
  return {
    kind: 'relay',
    ticket: ticket.number,
    key,
    messageId: outgoingMessageId(key, settings),
    from: {
      name: `${shorten(input.agent.name || input.agent.email.split('@')[0]!, NAME_LENGTH)} (${settings.supportName})`,
      email: settings.supportAddress,
    },
    to: [{ name: shorten(ticket.customer.name, NAME_LENGTH), email: ticket.customer.email }],
    cc: cc.map((email) => ({ name: '', email })),
    replyTo: [],
    subject: `Re: ${subjectOf(ticket)} [#${ticket.number}]`,
    text,
    html: '',
    inReplyTo: references[references.length - 1] ?? '',
    references,
    headers: { 'X-Plusdesk-Ticket': String(ticket.number), 'X-Plusdesk-Key': key },
    attachments: kept,
    threadId: ticket.threadId,
    reasons: { [customer]: 'customer' },
  };
}

/** Builds the optional automatic acknowledgement of a new ticket, sent to the customer once. */
export function composeAcknowledgement(
  ticket: Ticket,
  eventId: string,
  context: ComposeContext,
): OutgoingMessage {
  const { settings } = context;
  const customer = normalizeEmail(ticket.customer.email);
  const key = messageKey('acknowledgement', eventId, [customer]);
  const lines = [
    `Hello${ticket.customer.name === '' ? '' : ` ${ticket.customer.name}`},`,
    '',
    `we received your message and opened ticket #${ticket.number}: "${ticket.subject}".`,
    'A person from our team will answer you here. To add details, reply to this email.',
  ];
  if (settings.signature.trim() !== '') lines.push('', settings.signature.trim());
  const references = ticket.conversation.slice(-REFERENCES_LIMIT);
  return {
    kind: 'acknowledgement',
    ticket: ticket.number,
    key,
    messageId: outgoingMessageId(key, settings),
    from: { name: settings.supportName, email: settings.supportAddress },
    to: [{ name: shorten(ticket.customer.name, NAME_LENGTH), email: ticket.customer.email }],
    cc: [],
    replyTo: [],
    subject: `Re: ${subjectOf(ticket)} [#${ticket.number}]`,
    text: lines.join('\n'),
    html: '',
    inReplyTo: references[references.length - 1] ?? '',
    references,
    headers: {
      'X-Plusdesk-Ticket': String(ticket.number),
      'X-Plusdesk-Key': key,
      'Auto-Submitted': 'auto-replied',
    },
    attachments: [],
    threadId: ticket.threadId,
    reasons: { [customer]: 'customer' },
  };
}

/** Tells the team once that a reply or comment was held instead of acted on. */
export function composeHeldAlert(
  input: { ticket: Ticket; sender: string; reason: string; eventId: string; recipients: Recipient[] },
  context: ComposeContext,
): OutgoingMessage {
  const { settings } = context;
  const emails = input.recipients.map((recipient) => recipient.email);
  const key = messageKey('alert:held', input.eventId, []);
  const root = ticketThreadRoot(input.ticket.number, settings);
  return {
    kind: 'alert',
    ticket: input.ticket.number,
    key,
    messageId: outgoingMessageId(key, settings),
    from: { name: `plusdesk (${settings.supportName})`, email: settings.supportAddress },
    to: emails.map((email) => ({ name: '', email })),
    cc: [],
    replyTo: [],
    subject: `[#${input.ticket.number}] ${subjectOf(input.ticket)}`,
    text: [
      `A message from ${input.sender || 'an unknown sender'} to a reply or comment address of ticket #${input.ticket.number} was held: ${input.reason}.`,
      'Nothing was sent to the customer. The message is labelled plusdesk/held in the support mailbox;',
      'if it is genuine, forward its text from your own account to the reply address again.',
      'More held messages for this ticket in the next 24 hours are only listed in the Messages tab.',
    ].join('\n'),
    html: '',
    inReplyTo: root,
    references: [root],
    headers: {
      'X-Plusdesk-Ticket': String(input.ticket.number),
      'X-Plusdesk-Key': key,
      'X-Plusdesk-Event': 'held',
      'Auto-Submitted': 'auto-generated',
    },
    attachments: [],
    threadId: '',
    reasons: Object.fromEntries(input.recipients.map((r) => [r.email, r.reason])),
  };
}

/** One notification that waited for the digest. */
export interface DigestItem {
  ticket: Ticket;
  /** Time of the event, ISO 8601. */
  time: string;
  /** The notification's headline and the start of its text. */
  summary: string;
  /** Key the notification would have had. */
  key: string;
}

/** Start of a digest's subject, in lower case as subjectKey returns it. */
export const DIGEST_SUBJECT = 'plusdesk digest:';

/** Key of a digest: its recipient and the notifications in it, so that a retry matches. */
export function digestKey(recipient: string, items: DigestItem[]): string {
  return messageKey('digest', recipient, items.map((item) => item.key));
}

/**
 * Builds one recipient's digest of the notifications that waited while the daily recipient
 * limit was near: each ticket with its updates and the addresses that reply to the customer or
 * add an internal note.
 */
export function composeDigest(
  input: { recipient: string; items: DigestItem[]; limit: number },
  context: ComposeContext,
): OutgoingMessage {
  const { settings } = context;
  const key = digestKey(input.recipient, input.items);
  const byTicket = new Map<number, DigestItem[]>();
  for (const item of [...input.items].sort((a, b) => a.time.localeCompare(b.time))) {
    const list = byTicket.get(item.ticket.number) ?? [];
    list.push(item);
    byTicket.set(item.ticket.number, list);
  }
  const count = `${input.items.length} update${input.items.length === 1 ? '' : 's'} on ${byTicket.size} ticket${byTicket.size === 1 ? '' : 's'}`;
  const sections = [...byTicket.values()].map((items) => {
    const ticket = items[0]!.ticket;
    const reply = plusAddress(settings.supportAddress, context.signer, ticket.number, 'reply');
    const comment = plusAddress(settings.supportAddress, context.signer, ticket.number, 'comment');
    const state = [ticket.status, ticket.assignee === '' ? 'unassigned' : `assigned to ${ticket.assignee}`].join(', ');
    return [
      `[#${ticket.number}] ${subjectOf(ticket)} (${state})`,
      ...items.map((item) => `  ${item.time.slice(0, 16).replace('T', ' ')} UTC  ${item.summary}`),
      `  Answer the customer: ${reply}`,
      `  Add an internal note: ${comment}`,
    ].join('\n');
  });
  const intro = [
    `plusdesk digest: ${count}. Replies to this email reach no one: use the addresses below.`,
    `The support mailbox has nearly used its ${input.limit.toLocaleString('en-US')} recipients a day, so notifications are`,
    'sent as one digest an hour and mail to customers still goes out. The Messages tab lists each one.',
  ];
  const text = [...intro, '', sections.join('\n\n')].join('\n');
  return {
    kind: 'notification',
    ticket: 0,
    key,
    messageId: outgoingMessageId(key, settings),
    from: { name: `plusdesk (${settings.supportName})`, email: settings.supportAddress },
    to: [{ name: '', email: input.recipient }],
    cc: [],
    replyTo: [],
    subject: `${DIGEST_SUBJECT} ${count}`,
    text,
    html: '',
    inReplyTo: '',
    references: [],
    headers: { 'X-Plusdesk-Key': key, 'X-Plusdesk-Event': 'digest', 'Auto-Submitted': 'auto-generated' },
    attachments: [],
    threadId: '',
    reasons: { [input.recipient]: 'digest' },
  };
}
