/** The contextual card of one ticket: who and what it is about, and the sidebar's actions. */
import { normalizeEmail } from '../address';
import type { CardData } from '../ports';
import { TICKET_STATUSES } from '../types';
import type { Agent, RecentMessage, Ticket, TicketStatus } from '../types';
import { button, buttons, paragraph } from './card';
import type { Card, CardOptions, CardSection, SelectionItem, Widget } from './card';
import { formatDay, formatTime, peopleNames, personName, statusLabel } from './format';

/** Name of the comment text input in the action's form inputs. */
export const COMMENT_INPUT = 'comment';
/** Name of the assignee dropdown in the action's form inputs. */
export const ASSIGNEE_INPUT = 'assignee';
/** Earlier tickets shown before the customer section collapses the rest. */
const EARLIER_SHOWN = 3;

const STATUS_BUTTONS: Record<TicketStatus, string> = {
  open: 'Reopen',
  pending: 'Mark pending',
  closed: 'Close',
};

const KIND_LABELS: Record<RecentMessage['kind'], string> = {
  customer: 'customer',
  reply: 'reply to the customer',
  comment: 'internal comment',
};

export function ticketCard(data: CardData, agent: string, options: CardOptions = {}): Card {
  const { ticket } = data;
  const customer = ticket.customer.name || ticket.customer.email;
  return {
    header: {
      title: `#${ticket.number} ${ticket.subject}`,
      subtitle: `${statusLabel(ticket.status)} · ${customer}`,
    },
    sections: [
      summarySection(data, agent, options),
      customerSection(data, options),
      recentSection(data, options),
      assignSection(data, agent),
      statusSection(ticket),
      commentSection(ticket),
    ],
  };
}

function isTeamMember(agent: string, team: Agent[]): boolean {
  const email = normalizeEmail(agent);
  return team.some((member) => member.active && normalizeEmail(member.email) === email);
}

function summarySection(data: CardData, agent: string, options: CardOptions): CardSection {
  const { ticket, team } = data;
  const number = String(ticket.number);
  const following = ticket.followers.includes(normalizeEmail(agent));
  const widgets: Widget[] = [];
  if (!isTeamMember(agent, team)) {
    widgets.push(
      paragraph(`${agent} is not an active agent on the Team tab, so changes from this account are rejected.`),
    );
  }
  widgets.push(
    buttons(
      following
        ? button('★ Following', 'onToggleFollow', { ticket: number }, 'FILLED')
        : button('☆ Follow', 'onToggleFollow', { ticket: number }),
    ),
    {
      decoratedText: {
        topLabel: 'Status',
        text: statusLabel(ticket.status),
        bottomLabel: `Updated ${formatTime(ticket.updated, options.timeZone)}`,
      },
    },
    {
      decoratedText: {
        topLabel: 'Assignee',
        text: ticket.assignee === '' ? 'Unassigned' : personName(ticket.assignee, team),
      },
    },
    {
      decoratedText: {
        topLabel: 'Last replier',
        text: ticket.lastReplier === '' ? 'No reply yet' : personName(ticket.lastReplier, team),
      },
    },
    {
      decoratedText: {
        topLabel: 'Followers',
        text: peopleNames(ticket.followers, team, 'Nobody follows this ticket'),
        wrapText: true,
      },
    },
  );
  return { widgets };
}

function customerSection(data: CardData, options: CardOptions): CardSection {
  const { ticket } = data;
  const widgets: Widget[] = [
    {
      decoratedText: {
        topLabel: 'Customer',
        text: ticket.customer.name || ticket.customer.email,
        bottomLabel: ticket.customer.email,
        startIcon: { knownIcon: 'PERSON' },
      },
    },
  ];
  if (ticket.cc.length > 0) {
    widgets.push({ decoratedText: { topLabel: 'Copied', text: ticket.cc.join(', '), wrapText: true } });
  }
  const shownBeforeCollapse = widgets.length + EARLIER_SHOWN;
  if (data.earlier.length === 0) {
    widgets.push(paragraph('No earlier tickets from this customer.'));
  }
  for (const earlier of data.earlier) {
    widgets.push({
      decoratedText: {
        topLabel: `Earlier ticket #${earlier.number} · ${statusLabel(earlier.status)}`,
        text: earlier.subject,
        bottomLabel: `Opened ${formatDay(earlier.created, options.timeZone)}`,
        button: button('Show', 'onShowTicket', { ticket: String(earlier.number) }),
      },
    });
  }
  const section: CardSection = { header: 'Customer', widgets };
  if (data.earlier.length > EARLIER_SHOWN) {
    section.collapsible = true;
    section.uncollapsibleWidgetsCount = shownBeforeCollapse;
  }
  return section;
}

function recentSection(data: CardData, options: CardOptions): CardSection {
  const { ticket, team } = data;
  const newestFirst = [...ticket.recent].reverse();
  const widgets: Widget[] = newestFirst.map((message) => ({
    decoratedText: {
      topLabel: `${authorName(message, ticket, team)} · ${KIND_LABELS[message.kind]}`,
      text: message.summary,
      bottomLabel: formatTime(message.time, options.timeZone),
      wrapText: true,
    },
  }));
  if (widgets.length === 0) widgets.push(paragraph('No messages yet.'));
  return { header: 'Latest messages', widgets };
}

function authorName(message: RecentMessage, ticket: Ticket, team: Agent[]): string {
  return personName(message.author, team, ticket) || 'Unknown sender';
}

function assignSection(data: CardData, agent: string): CardSection {
  const { ticket, team } = data;
  const number = String(ticket.number);
  const me = normalizeEmail(agent);
  const items: SelectionItem[] = [{ text: 'Unassigned', value: '', selected: ticket.assignee === '' }];
  for (const member of team) {
    const email = normalizeEmail(member.email);
    if (!member.active && email !== ticket.assignee) continue;
    items.push({ text: member.name, value: email, selected: email === ticket.assignee });
  }
  if (ticket.assignee !== '' && !items.some((item) => item.value === ticket.assignee)) {
    // An assignee who left the Team tab stays visible rather than shown as unassigned.
    items.push({ text: ticket.assignee, value: ticket.assignee, selected: true });
  }
  const actions = [button('Assign', 'onAssign', { ticket: number }, 'FILLED')];
  if (ticket.assignee !== me && isTeamMember(me, team)) {
    actions.push(button('Assign to me', 'onAssign', { ticket: number, assignee: me }));
  }
  return {
    header: 'Assign',
    widgets: [
      { selectionInput: { name: ASSIGNEE_INPUT, label: 'Assignee', type: 'DROPDOWN', items } },
      buttons(...actions),
    ],
  };
}

function statusSection(ticket: Ticket): CardSection {
  const number = String(ticket.number);
  const choices = TICKET_STATUSES.filter((status) => status !== ticket.status).map((status) =>
    button(STATUS_BUTTONS[status], 'onSetStatus', { ticket: number, status }),
  );
  return {
    header: 'Status',
    widgets: [paragraph(`This ticket is ${ticket.status}.`), buttons(...choices)],
  };
}

function commentSection(ticket: Ticket): CardSection {
  return {
    header: 'Internal comment',
    widgets: [
      {
        textInput: {
          name: COMMENT_INPUT,
          label: 'Comment for the team',
          hintText: 'The customer never sees it. Type @name to notify a teammate.',
          type: 'MULTIPLE_LINE',
        },
      },
      buttons(button('Post comment', 'onComment', { ticket: String(ticket.number) }, 'FILLED')),
    ],
  };
}
