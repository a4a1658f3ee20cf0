/**
 * The sidebar's actions: one dispatch table that the Gmail add-on and the local preview both
 * run. Each action changes one ticket through `SidebarStore.update`, re-reads the card data and
 * returns the updated card with the text of the agent's notification toast. The sidebar only
 * writes the ticket store; the processor sends any mail that an action queues.
 *
 * The pure helpers at the end turn a whole-desk snapshot into card data, so that every store
 * finds tickets and builds cards the same way.
 */
import { ActionError, applyAction, type TicketAction } from './actions';
import { findTicketTag, formatAddress, normalizeEmail, readPlusAddress } from './address';
import { errorCard, homeCard, notATicketCard, ticketCard } from './cards';
import { ASSIGNEE_INPUT, COMMENT_INPUT } from './cards';
import type { Card, CardOptions } from './cards';
import { andThen, attempt } from './maybe';
import type { CardData, DeskSnapshot, HomeData, MaybePromise, SidebarStore, Signer, TicketHint } from './ports';
import { visibleText } from './quote';
import { createTicket, noteRecent } from './ticket';
import { hashKey } from './hash';
import { TICKET_STATUSES } from './types';
import type { Agent, MessageRecord, ParsedMessage, Ticket, TicketStatus } from './types';

/** The message open in Gmail, which "Open as ticket" turns into a ticket. */
export interface OpenedMessage {
  message: ParsedMessage;
  /** Gmail thread id of the message, '' when the mailbox has no threads. */
  threadId: string;
}

export interface SidebarOptions extends CardOptions {
  opened?: OpenedMessage;
}

export interface ActionResponse {
  card: Card;
  /** Text of the notification toast; '' when the action only navigates. */
  toast: string;
}

/**
 * Runs the card action `name` for `agent` and returns the card to show next and the toast.
 * Rejected actions (an empty comment, an unknown ticket, an agent missing from the Team tab)
 * return the unchanged card and a toast with the next step for the agent. Errors of the store itself, such
 * as a failed write, are thrown for the runtime to log and report.
 */
export function handleAction(
  store: SidebarStore,
  name: string,
  parameters: Record<string, string>,
  formInputs: Record<string, string>,
  agent: string,
  now: Date,
  options: SidebarOptions = {},
): MaybePromise<ActionResponse> {
  switch (name) {
    case 'onShowHome':
      return andThen(homepage(store, agent, options), (card) => ({ card, toast: '' }));
    case 'onOpenAsTicket':
      return openAsTicket(store, agent, now, options);
    case 'onShowTicket':
      return showTicket(store, parameters.ticket ?? '', agent, options);
    case 'onToggleFollow':
    case 'onAssign':
    case 'onSetStatus':
    case 'onComment':
      return changeTicket(store, name, parameters, formInputs, agent, now, options);
    default:
      return {
        card: errorCard(`The sidebar has no action named "${name}". Reload Gmail to get the current add-on.`),
        toast: `Unknown action "${name}": reload Gmail and try again.`,
      };
  }
}

/** Builds the card for an opened message: its ticket's card, or the card that offers to open one. */
export function openCard(
  store: SidebarStore,
  hint: TicketHint,
  agent: string,
  options: SidebarOptions = {},
): MaybePromise<Card> {
  return andThen(store.findTicketNumber(hint), (number) =>
    andThen(number === null ? null : store.readCard(number), (data) => {
      if (data !== null) return ticketCard(data, agent, options);
      const from = options.opened?.message.from;
      return notATicketCard({ subject: hint.subject, from: from ? formatAddress(from) : '' }, agent);
    }),
  );
}

export function homepage(store: SidebarStore, agent: string, options: CardOptions = {}): MaybePromise<Card> {
  return andThen(store.readHome(normalizeEmail(agent)), (data) => homeCard(data, agent, options));
}

function parseTicketNumber(value: string): number | null {
  if (!/^\s*#?\d{1,9}\s*$/.test(value)) return null;
  const number = Number(value.replace('#', ''));
  return number > 0 ? number : null;
}

function notFound(value: string): ActionResponse {
  const label = value === '' ? 'The ticket' : `Ticket #${value.replace('#', '')}`;
  return {
    card: errorCard(`${label} was not found in the Tickets tab. Open the message again to reload its card.`),
    toast: `${label} was not found: open the message again.`,
  };
}

function showTicket(
  store: SidebarStore,
  value: string,
  agent: string,
  options: CardOptions,
): MaybePromise<ActionResponse> {
  const number = parseTicketNumber(value);
  return andThen(number === null ? null : store.readCard(number), (data) => {
    if (data === null) return notFound(value);
    return { card: ticketCard(data, agent, options), toast: '' };
  });
}

function isActiveAgent(agent: string, team: Agent[]): boolean {
  const email = normalizeEmail(agent);
  return team.some((member) => member.active && normalizeEmail(member.email) === email);
}

/** Reads the action's request; throws ActionError when it cannot be applied to any ticket. */
function readAction(
  name: string,
  parameters: Record<string, string>,
  formInputs: Record<string, string>,
  team: Agent[],
): TicketAction {
  switch (name) {
    case 'onToggleFollow':
      return { type: 'toggle-follow' };
    case 'onAssign': {
      const assignee = normalizeEmail(parameters.assignee ?? formInputs[ASSIGNEE_INPUT] ?? '');
      if (assignee !== '' && !isActiveAgent(assignee, team)) {
        throw new ActionError(
          'UNKNOWN_AGENT',
          `${assignee} is not an active agent on the Team tab: pick a teammate from the list.`,
        );
      }
      return { type: 'assign', assignee };
    }
    case 'onSetStatus': {
      const status = (parameters.status ?? '').trim().toLowerCase();
      if (!(TICKET_STATUSES as readonly string[]).includes(status)) {
        throw new ActionError(
          'UNKNOWN_STATUS',
          `"${parameters.status ?? ''}" is not a ticket status: use ${TICKET_STATUSES.join(', ')}.`,
        );
      }
      return { type: 'status', status: status as TicketStatus };
    }
    default:
      return { type: 'comment', text: formInputs[COMMENT_INPUT] ?? '' };
  }
}

function changeTicket(
  store: SidebarStore,
  name: string,
  parameters: Record<string, string>,
  formInputs: Record<string, string>,
  agent: string,
  now: Date,
  options: CardOptions,
): MaybePromise<ActionResponse> {
  const value = parameters.ticket ?? '';
  const number = parseTicketNumber(value);
  return andThen(number === null ? null : store.readCard(number), (before) => {
    if (number === null || before === null) return notFound(value);
    const unchanged = (toast: string): ActionResponse => ({ card: ticketCard(before, agent, options), toast });
    if (!isActiveAgent(agent, before.team)) {
      return unchanged(`${agent} is not an active agent on the Team tab: ask a teammate to add you there.`);
    }
    let toast = '';
    const time = now.toISOString();
    const applied = attempt<ActionResponse | null>(
      () => {
        const action = readAction(name, parameters, formInputs, before.team);
        return andThen(
          store.update(number, (fresh) => {
            const result = applyAction(fresh, action, agent, time);
            toast = result.message;
            return { ticket: result.ticket, record: result.record };
          }),
          () => null,
        );
      },
      (error) => {
        if (!(error instanceof ActionError)) throw error;
        if (error.code === 'TICKET_NOT_FOUND') return notFound(String(number));
        return unchanged(error.message);
      },
    );
    return andThen(applied, (rejected) => {
      if (rejected !== null) return rejected;
      return andThen(store.readCard(number), (after) => {
        if (after === null) return notFound(String(number));
        return { card: ticketCard(after, agent, options), toast };
      });
    });
  });
}

function openAsTicket(
  store: SidebarStore,
  agent: string,
  now: Date,
  options: SidebarOptions,
): MaybePromise<ActionResponse> {
  const opened = options.opened;
  if (opened === undefined) {
    return andThen(homepage(store, agent, options), (card) => ({
      card,
      toast: 'Open the message in Gmail first, then click Open as ticket.',
    }));
  }
  const hint = hintFromMessage(opened.message, opened.threadId);
  const summary = {
    subject: opened.message.subject,
    from: opened.message.from ? formatAddress(opened.message.from) : '',
  };
  const existing = andThen(store.findTicketNumber(hint), (number) =>
    number === null ? null : store.readCard(number),
  );
  return andThen(existing, (existingData) => {
    if (existingData !== null) {
      return {
        card: ticketCard(existingData, agent, options),
        toast: `This message is already ticket #${existingData.ticket.number}.`,
      };
    }
    return andThen(store.readHome(normalizeEmail(agent)), (home) => {
      if (!isActiveAgent(agent, home.team)) {
        return {
          card: notATicketCard(summary, agent),
          toast: `${agent} is not an active agent on the Team tab: ask a teammate to add you there.`,
        };
      }
      if (customerOf(opened.message) === null) {
        return {
          card: notATicketCard(summary, agent),
          toast: 'This message has no sender address, so it cannot become a ticket.',
        };
      }
      const opening = store.openTicket(opened.message, opened.threadId, agent, now.toISOString());
      return andThen(opening, (number): MaybePromise<ActionResponse> => {
        if (number === null) {
          return {
            card: notATicketCard(summary, agent),
            toast: 'Queued: plusdesk opens this message as a ticket within a few minutes, and you will follow it.',
          };
        }
        return andThen(store.readCard(number), (data) => {
          if (data === null) return notFound(String(number));
          return { card: ticketCard(data, agent, options), toast: `Opened ticket #${number}; you follow it.` };
        });
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers for SidebarStore implementations

/** Builds the ticket hint of a parsed message, which `findTicketNumber` looks up. */
export function hintFromMessage(message: ParsedMessage, threadId: string): TicketHint {
  return {
    ticketHeader: message.headers['x-plusdesk-ticket']?.[0] ?? '',
    addresses: [...message.to, ...message.cc, ...message.replyTo].map((address) => address.email),
    subject: message.subject,
    threadId,
    messageIds: [message.messageId, ...message.inReplyTo, ...message.references].filter((id) => id !== ''),
  };
}

/**
 * Reads the ticket number of a plus address of the support address. With a signer the tag must
 * be valid. Without one (the add-on does not hold the processor's secret) the number alone is
 * taken, because it only selects which card is shown to an agent who can already read the Sheet.
 */
function plusAddressTicket(email: string, supportAddress: string, signer: Signer | null): number | null {
  if (signer !== null) {
    const result = readPlusAddress(email, supportAddress, signer);
    return result.status === 'valid' ? result.ticket : null;
  }
  const support = normalizeEmail(supportAddress);
  const at = support.lastIndexOf('@');
  if (at <= 0) return null;
  const address = normalizeEmail(email);
  const prefix = `${support.slice(0, at)}+`;
  const domain = support.slice(at);
  if (!address.startsWith(prefix) || !address.endsWith(domain)) return null;
  const match = /^(\d{1,9})-[a-z2-7]+$/.exec(address.slice(prefix.length, address.length - domain.length));
  return match === null ? null : Number(match[1]);
}

/**
 * Finds the ticket of an opened message, in this order: the X-Plusdesk-Ticket header, a plus
 * address in To, Cc or Reply-To, a known Message-ID, the support mailbox thread, and last a
 * `[#N]` subject tag. Only numbers of existing tickets count.
 */
export function findTicketNumberIn(snapshot: DeskSnapshot, hint: TicketHint, signer: Signer | null): number | null {
  const exists = new Set(snapshot.tickets.map((ticket) => ticket.number));
  const known = (number: number | null | undefined): number | null =>
    number !== null && number !== undefined && exists.has(number) ? number : null;

  const header = /^\s*(\d{1,9})\s*$/.exec(hint.ticketHeader);
  const byHeader = known(header === null ? null : Number(header[1]));
  if (byHeader !== null) return byHeader;

  for (const address of hint.addresses) {
    const byAddress = known(plusAddressTicket(address, snapshot.settings.supportAddress, signer));
    if (byAddress !== null) return byAddress;
  }

  const byMessageId = new Map<string, number>();
  for (const ticket of snapshot.tickets) {
    for (const id of ticket.conversation) byMessageId.set(id, ticket.number);
  }
  for (const record of snapshot.messages) {
    if (record.ticket !== null && record.messageId !== '') byMessageId.set(record.messageId, record.ticket);
  }
  for (const id of hint.messageIds) {
    const byId = known(byMessageId.get(id));
    if (byId !== null) return byId;
  }

  if (hint.threadId !== '') {
    const byThread = known(snapshot.tickets.find((ticket) => ticket.threadId === hint.threadId)?.number);
    if (byThread !== null) return byThread;
  }
  return known(findTicketTag(hint.subject));
}

/** Returns the card data of ticket `number`, or null when there is no such ticket. */
export function cardDataFrom(snapshot: DeskSnapshot, number: number): CardData | null {
  const ticket = snapshot.tickets.find((candidate) => candidate.number === number);
  if (ticket === undefined) return null;
  const customer = normalizeEmail(ticket.customer.email);
  const earlier = snapshot.tickets
    .filter(
      (other) =>
        other.number !== ticket.number &&
        (ticket.earlier.includes(other.number) ||
          (other.number < ticket.number && normalizeEmail(other.customer.email) === customer)),
    )
    .sort((a, b) => b.number - a.number)
    .map(({ number, status, subject, created }) => ({ number, status, subject, created }));
  return { ticket, earlier, team: snapshot.team };
}

function newestFirst(a: Ticket, b: Ticket): number {
  return b.updated.localeCompare(a.updated) || b.number - a.number;
}

/** Returns the homepage lists of `agent`. Closed tickets are left out of all three. */
export function homeDataFrom(snapshot: DeskSnapshot, agent: string): HomeData {
  const me = normalizeEmail(agent);
  const active = snapshot.tickets.filter((ticket) => ticket.status !== 'closed').sort(newestFirst);
  return {
    mine: active.filter((ticket) => ticket.assignee === me),
    following: active.filter((ticket) => ticket.followers.includes(me)),
    unassigned: active.filter((ticket) => ticket.assignee === ''),
    team: snapshot.team,
  };
}

export function customerOf(message: ParsedMessage): { name: string; email: string } | null {
  const customer = message.from ?? message.replyTo[0] ?? null;
  return customer === null || customer.email.trim() === '' ? null : customer;
}

/** Addresses copied on the message other than the customer, the support address and the team. */
function customerSideCopies(snapshot: DeskSnapshot, message: ParsedMessage, customerEmail: string): string[] {
  const support = normalizeEmail(snapshot.settings.supportAddress);
  const supportPlus = `${support.slice(0, support.lastIndexOf('@'))}+`;
  const team = new Set(snapshot.team.map((agent) => normalizeEmail(agent.email)));
  return [...message.to, ...message.cc]
    .map((address) => normalizeEmail(address.email))
    .filter(
      (email) =>
        email !== '' &&
        email !== customerEmail &&
        email !== support &&
        !email.startsWith(supportPlus) &&
        !team.has(email),
    );
}

const SUMMARY_LENGTH = 500;

function summarize(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > SUMMARY_LENGTH ? `${flat.slice(0, SUMMARY_LENGTH - 1)}…` : flat;
}

/**
 * Builds the ticket that "Open as ticket" creates from a message: its sender is the customer,
 * the agent who opened it follows it, and the team is not notified. The returned Messages row
 * records the message as processed, so the processor skips it as a duplicate when it arrives.
 */
export function ticketFromMessage(
  snapshot: DeskSnapshot,
  input: { message: ParsedMessage; threadId: string; agent: string; time: string },
): { ticket: Ticket; record: MessageRecord } {
  const { message, time } = input;
  const customer = customerOf(message);
  if (customer === null) throw new Error('The message has no sender address (From or Reply-To).');
  const customerEmail = normalizeEmail(customer.email);
  const number = snapshot.tickets.reduce((highest, ticket) => Math.max(highest, ticket.number), 0) + 1;
  // NOTE: a message without a Message-ID gets an id the processor does not compute, so if the
  // same message also reaches the support mailbox it becomes a second ticket.
  const messageId =
    message.messageId || `sidebar.${hashKey(customerEmail, message.date, message.subject, message.text)}@plusdesk.invalid`;

  const earlier = snapshot.tickets
    .filter((ticket) => normalizeEmail(ticket.customer.email) === customerEmail)
    .map((ticket) => ticket.number)
    .sort((a, b) => b - a);
  const summary = summarize(visibleText(message.text, message.html));

  const created = createTicket({
    number,
    subject: message.subject,
    customer,
    cc: customerSideCopies(snapshot, message, customerEmail),
    threadId: input.threadId,
    messageId,
    time,
    earlier,
  });

  const ticket = noteRecent(
    { ...created, followers: [normalizeEmail(input.agent)] },
    { time: message.date || time, kind: 'customer', author: customerEmail, summary },
  );
  return {
    ticket,
    record: {
      time,
      ticket: number,
      kind: 'customer',
      state: 'processed',
      author: customerEmail,
      messageId,
      sourceId: 'sidebar',
      key: '',
      reason: `opened as a ticket in the sidebar by ${normalizeEmail(input.agent)}`,
      summary,
    },
  };
}
