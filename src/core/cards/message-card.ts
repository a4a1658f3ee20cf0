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

/** Name of the text input for the ticket Sheet's URL on the setup card. */
export const SHEET_INPUT = 'sheetUrl';

/** Card asking for the ticket Sheet, shown by the add-on until it knows which Sheet to use. */
export function sheetSetupCard(problem = ''): Card {
  const intro =
    'Paste the URL of the plusdesk ticket Sheet (setup() in the processor logs it). ' +
    'It is saved for everyone who uses this add-on.';
  return {
    header: { title: 'plusdesk', subtitle: 'Connect the ticket Sheet' },
    sections: [
      {
        widgets: [
          paragraph(problem === '' ? intro : `${problem}\n\n${intro}`),
          { textInput: { name: SHEET_INPUT, label: 'Ticket Sheet URL', type: 'SINGLE_LINE' } },
          buttons(button('Save', 'onSaveSheet', {}, 'FILLED')),
        ],
      },
    ],
  };
}
