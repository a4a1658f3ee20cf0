/** The card of an opened message that belongs to no ticket, and the card shown on errors. */
import { button, buttons, paragraph } from './card';
import type { Card } from './card';

export interface MessageSummary {
  subject: string;
  /** The sender as shown in Gmail, such as `Dana Reyes <dana@customer.example>`. */
  from: string;
}

export function notATicketCard(summary: MessageSummary, agent: string): Card {
  return {
    header: { title: 'Not a ticket', subtitle: summary.subject || '(no subject)' },
    sections: [
      {
        widgets: [
          paragraph('This message is not part of any plusdesk ticket.'),
          { decoratedText: { topLabel: 'From', text: summary.from || '(unknown sender)', wrapText: true } },
          { decoratedText: { topLabel: 'Subject', text: summary.subject || '(no subject)', wrapText: true } },
          paragraph(`Opening it as a ticket makes ${agent} a follower. The team is not notified.`),
          buttons(button('Open as ticket', 'onOpenAsTicket', {}, 'FILLED'), button('My tickets', 'onShowHome')),
        ],
      },
    ],
  };
}

export function errorCard(message: string): Card {
  return {
    header: { title: 'plusdesk', subtitle: 'Something went wrong' },
    sections: [{ widgets: [paragraph(message), buttons(button('My tickets', 'onShowHome'))] }],
  };
}
