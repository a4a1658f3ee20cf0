/** The homepage card: the agent's open tickets, the tickets they follow, unassigned tickets. */
import type { HomeData } from '../ports';
import type { Ticket } from '../types';
import { button, paragraph } from './card';
import type { Card, CardOptions, CardSection, Widget } from './card';
import { formatTime, personName, statusLabel } from './format';

/** Tickets listed per group; a card with hundreds of widgets loads slowly in Gmail. */
export const HOME_LIST_LIMIT = 20;

export function homeCard(data: HomeData, agent: string, options: CardOptions = {}): Card {
  const name = personName(agent, data.team);
  return {
    header: { title: 'plusdesk', subtitle: name === agent ? agent : `${name} · ${agent}` },
    sections: [
      ticketList('Assigned to me', data.mine, 'No open or pending tickets are assigned to you.', data, options),
      ticketList('Following', data.following, 'You follow no open or pending tickets. Click ☆ on a ticket to follow it.', data, options),
      ticketList('Unassigned', data.unassigned, 'Every open ticket has an assignee.', data, options),
    ],
  };
}

function ticketList(
  header: string,
  tickets: Ticket[],
  empty: string,
  data: HomeData,
  options: CardOptions,
): CardSection {
  if (tickets.length === 0) return { header, widgets: [paragraph(empty)] };
  const widgets: Widget[] = tickets.slice(0, HOME_LIST_LIMIT).map((ticket) => ({
    decoratedText: {
      topLabel: `#${ticket.number} · ${statusLabel(ticket.status)} · ${assigneeLabel(ticket, data)}`,
      text: ticket.subject,
      bottomLabel: `${ticket.customer.name || ticket.customer.email} · updated ${formatTime(ticket.updated, options.timeZone)}`,
      button: button('Show', 'onShowTicket', { ticket: String(ticket.number) }),
      wrapText: true,
    },
  }));
  if (tickets.length > HOME_LIST_LIMIT) {
    widgets.push(paragraph(`${tickets.length - HOME_LIST_LIMIT} more not shown: see the Tickets tab of the Sheet.`));
  }
  return { header: `${header} (${tickets.length})`, widgets };
}

function assigneeLabel(ticket: Ticket, data: HomeData): string {
  return ticket.assignee === '' ? 'unassigned' : personName(ticket.assignee, data.team);
}
