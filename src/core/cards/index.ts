/** The sidebar's cards, built as plain data from the ticket store's card data. */
export * from './card';
export { formatDay, formatTime, personName, statusLabel } from './format';
export { HOME_LIST_LIMIT, homeCard } from './home-card';
export { errorCard, notATicketCard, SHEET_INPUT, sheetSetupCard, type MessageSummary } from './message-card';
export { ASSIGNEE_INPUT, COMMENT_INPUT, ticketCard } from './ticket-card';
