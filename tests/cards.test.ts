/**
 * The sidebar's cards and its action dispatch, on the demo's ticket #1 as the local runtime
 * leaves it and on an in-memory store of the same desk.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plusAddress } from '../src/core/address';
import { defaultSettings } from '../src/core/sheet';
import {
  CARD_ACTIONS,
  errorCard,
  formatTime,
  HOME_LIST_LIMIT,
  homeCard,
  notATicketCard,
  sheetSetupCard,
  ticketCard,
  type Button,
  type Card,
  type DecoratedText,
  type SelectionInput,
  type Widget,
} from '../src/core/cards';
import type { CardData, DeskSnapshot, HomeData, SidebarStore, TicketHint } from '../src/core/ports';
import {
  cardDataFrom,
  findTicketNumberIn,
  handleAction,
  hintFromMessage,
  homeDataFrom,
  openCard,
  ticketFromMessage,
} from '../src/core/sidebar';
import type { MessageRecord, ParsedMessage, Ticket } from '../src/core/types';
import { DEMO_SECRET, DEMO_SUPPORT, DEMO_TEAM, runDemo } from '../src/node/demo';
import { hmacSigner } from '../src/node/secret';
import { readWorkbook } from '../src/node/workbook';
import { parsed } from './support/parsed';
import { ticket as makeTicket } from './support/tickets';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const NOW = new Date('2026-03-02T13:00:00.000Z');

/** A SidebarStore over a snapshot in memory, using the same helpers as the real stores. */
class MemorySidebarStore implements SidebarStore {
  updates = 0;
  constructor(readonly snapshot: DeskSnapshot) {}

  findTicketNumber(hint: TicketHint): number | null {
    return findTicketNumberIn(this.snapshot, hint, hmacSigner(DEMO_SECRET));
  }

  readCard(number: number): CardData | null {
    return structuredClone(cardDataFrom(this.snapshot, number));
  }

  readHome(agent: string): HomeData {
    return structuredClone(homeDataFrom(this.snapshot, agent));
  }

  update(number: number, change: (ticket: Ticket) => { ticket: Ticket; record: MessageRecord | null }): Ticket {
    const index = this.snapshot.tickets.findIndex((ticket) => ticket.number === number);
    if (index < 0) throw new Error(`no ticket ${number}`);
    const { ticket, record } = change(structuredClone(this.snapshot.tickets[index]!));
    this.snapshot.tickets[index] = ticket;
    if (record !== null) this.snapshot.messages.push(record);
    this.updates++;
    return ticket;
  }

  openTicket(message: ParsedMessage, threadId: string, agent: string, time: string): number {
    const { ticket, record } = ticketFromMessage(this.snapshot, { message, threadId, agent, time });
    this.snapshot.tickets.push(ticket);
    this.snapshot.messages.push(record);
    return ticket.number;
  }
}

let root = '';
let demo: DeskSnapshot;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'plusdesk-cards-'));
  await runDemo(root);
  demo = await readWorkbook(join(root, 'desk', 'plusdesk.xlsx'));
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

function demoStore(): MemorySidebarStore {
  return new MemorySidebarStore(structuredClone(demo));
}

function demoCard(number = 1): CardData {
  const data = cardDataFrom(demo, number);
  if (data === null) throw new Error(`the demo has no ticket #${number}`);
  return data;
}

function widgets(card: Card): Widget[] {
  return card.sections.flatMap((section) => section.widgets);
}

function allButtons(card: Card): Button[] {
  const found: Button[] = [];
  for (const widget of widgets(card)) {
    if ('buttonList' in widget) found.push(...widget.buttonList.buttons);
    if ('decoratedText' in widget && widget.decoratedText.button !== undefined) found.push(widget.decoratedText.button);
  }
  if (card.fixedFooter !== undefined) found.push(card.fixedFooter.primaryButton);
  return found;
}

function buttonNamed(card: Card, text: string): Button {
  const found = allButtons(card).find((candidate) => candidate.text === text);
  if (found === undefined) throw new Error(`no button "${text}" on the card "${card.header.title}"`);
  return found;
}

function parametersOf(button: Button): Record<string, string> {
  return Object.fromEntries(button.onClick.action.parameters.map(({ key, value }) => [key, value]));
}

function decorated(card: Card, topLabel: string): DecoratedText {
  for (const widget of widgets(card)) {
    if ('decoratedText' in widget && widget.decoratedText.topLabel === topLabel) return widget.decoratedText;
  }
  throw new Error(`no item labelled "${topLabel}" on the card "${card.header.title}"`);
}

function section(card: Card, header: string) {
  const found = card.sections.find((candidate) => candidate.header === header);
  if (found === undefined) throw new Error(`no section "${header}"`);
  return found;
}

function dropdown(card: Card): SelectionInput {
  for (const widget of widgets(card)) if ('selectionInput' in widget) return widget.selectionInput;
  throw new Error('no dropdown on the card');
}

function paragraphs(card: Card): string[] {
  return widgets(card).flatMap((widget) => ('textParagraph' in widget ? [widget.textParagraph.text] : []));
}

describe('ticketCard', () => {
  it('shows the demo ticket header', () => {
    const card = ticketCard(demoCard(), ALICE);
    expect(card.header.title).toBe('#1 CSV export fails with error 500');
    expect(card.header.subtitle).toBe('Pending · Dana Reyes');
  });

  it('shows ☆ to a non-follower and ★ to a follower', () => {
    const forAlice = ticketCard(demoCard(), ALICE);
    const forBob = ticketCard(demoCard(), BOB);
    expect(allButtons(forAlice).map((button) => button.text)).toContain('☆ Follow');
    expect(allButtons(forAlice).map((button) => button.text)).not.toContain('★ Following');
    expect(allButtons(forBob).map((button) => button.text)).toContain('★ Following');
    const star = buttonNamed(forAlice, '☆ Follow');
    expect(star.onClick.action.function).toBe('onToggleFollow');
    expect(star.onClick.action.parameters).toEqual([{ key: 'ticket', value: '1' }]);
  });

  it('shows assignee, last replier and followers by name', () => {
    const card = ticketCard(demoCard(), ALICE);
    expect(decorated(card, 'Assignee').text).toBe('Alice Martin');
    expect(decorated(card, 'Last replier').text).toBe('Alice Martin');
    expect(decorated(card, 'Followers').text).toBe('Bob Chen');
    expect(decorated(card, 'Customer').text).toBe('Dana Reyes');
    expect(decorated(card, 'Customer').bottomLabel).toBe('dana@customer.example');
    expect(decorated(card, 'Copied').text).toBe('mario@customer.example');
  });

  it('lists the team in the assignee dropdown', () => {
    const select = dropdown(ticketCard(demoCard(), BOB));
    expect(select.name).toBe('assignee');
    expect(select.type).toBe('DROPDOWN');
    expect(select.items.map((item) => item.value)).toEqual(['', ALICE, BOB, CAROL]);
    expect(select.items.map((item) => item.text)).toEqual(['Unassigned', 'Alice Martin', 'Bob Chen', 'Carol Diaz']);
    expect(select.items.filter((item) => item.selected).map((item) => item.value)).toEqual([ALICE]);
  });

  it('selects Unassigned when nobody is assigned', () => {
    const data = demoCard();
    const select = dropdown(ticketCard({ ...data, ticket: { ...data.ticket, assignee: '' } }, BOB));
    expect(select.items.filter((item) => item.selected).map((item) => item.value)).toEqual(['']);
  });

  it('offers Assign to me only to others', () => {
    const forBob = buttonNamed(ticketCard(demoCard(), BOB), 'Assign to me');
    expect(parametersOf(forBob)).toEqual({ ticket: '1', assignee: BOB });
    const forAlice = allButtons(ticketCard(demoCard(), ALICE)).map((button) => button.text);
    expect(forAlice).not.toContain('Assign to me');
  });

  it('lists recent messages newest first with authors', () => {
    const recent = section(ticketCard(demoCard(), ALICE), 'Latest messages').widgets.map((widget) =>
      'decoratedText' in widget ? widget.decoratedText : null,
    );
    expect(recent.map((item) => item?.topLabel)).toEqual([
      'Alice Martin · reply to the customer',
      'Dana Reyes · customer',
      'Carol Diaz · internal comment',
      'Dana Reyes · customer',
      'Alice Martin · reply to the customer',
    ]);
    expect(recent[0]?.text).toContain('the order status is now a column of the export');
    expect(recent[2]?.text).toContain('@bob the empty dates');
  });

  it('lists earlier tickets with status and date', () => {
    const earlier = makeTicket({
      number: 1,
      status: 'closed',
      subject: 'Password reset',
      customerEmail: 'dana@customer.example',
      created: '2026-01-15T10:30:00.000Z',
    });
    const current = makeTicket({ number: 4, customerEmail: 'dana@customer.example', earlier: [1] });
    const data: CardData = {
      ticket: current,
      earlier: [{ number: 1, status: 'closed', subject: 'Password reset', created: earlier.created }],
      team: DEMO_TEAM,
    };
    const item = decorated(ticketCard(data, ALICE), 'Earlier ticket #1 · Closed');
    expect(item.text).toBe('Password reset');
    expect(item.bottomLabel).toBe('Opened 15 Jan 2026');
    expect(item.button?.onClick.action.function).toBe('onShowTicket');
    expect(item.button === undefined ? {} : parametersOf(item.button)).toEqual({ ticket: '1' });
  });

  it('collapses a long list of earlier tickets', () => {
    const data: CardData = {
      ticket: makeTicket({ number: 9 }),
      earlier: [8, 7, 6, 5, 4].map((number) => ({ number, status: 'closed' as const, subject: `S${number}`, created: '2026-01-01T00:00:00Z' })),
      team: DEMO_TEAM,
    };
    const customer = section(ticketCard(data, ALICE), 'Customer');
    expect(customer.collapsible).toBe(true);
    expect(customer.uncollapsibleWidgetsCount).toBe(4);
    expect(customer.widgets).toHaveLength(6);
  });

  it('says when there are no earlier tickets', () => {
    expect(paragraphs(ticketCard(demoCard(), ALICE))).toContain('No earlier tickets from this customer.');
  });

  it('offers the other statuses', () => {
    const pending = allButtons(ticketCard(demoCard(), ALICE)).filter((button) => button.onClick.action.function === 'onSetStatus');
    expect(pending.map((button) => button.text)).toEqual(['Reopen', 'Close']);
    expect(pending.map((button) => parametersOf(button).status)).toEqual(['open', 'closed']);
    const data = demoCard();
    const closed = ticketCard({ ...data, ticket: { ...data.ticket, status: 'closed' } }, ALICE);
    const choices = allButtons(closed).filter((button) => button.onClick.action.function === 'onSetStatus');
    expect(choices.map((button) => parametersOf(button).status)).toEqual(['open', 'pending']);
  });

  it('has a multi-line comment input', () => {
    const input = widgets(ticketCard(demoCard(), ALICE)).find((widget) => 'textInput' in widget);
    expect(input).toEqual({
      textInput: {
        name: 'comment',
        label: 'Comment for the team',
        hintText: 'The customer never sees it. Type @name to notify a teammate.',
        type: 'MULTIPLE_LINE',
      },
    });
    expect(parametersOf(buttonNamed(ticketCard(demoCard(), ALICE), 'Post comment'))).toEqual({ ticket: '1' });
  });

  it('warns an agent missing from the Team tab', () => {
    const card = ticketCard(demoCard(), 'mallory@example.com');
    expect(paragraphs(card)[0]).toContain('mallory@example.com is not an active agent on the Team tab');
  });

  it('keeps text unescaped for the renderers', () => {
    const data = demoCard();
    const card = ticketCard({ ...data, ticket: { ...data.ticket, subject: '<b>Tom & Jerry</b>' } }, ALICE);
    expect(card.header.title).toBe('#1 <b>Tom & Jerry</b>');
  });
});

describe('formatTime', () => {
  it('shows UTC without a zone', () => {
    expect(formatTime('2026-03-02T09:05:00.000Z')).toBe('2 Mar 2026, 09:05 UTC');
  });

  it('shows the agent zone when given', () => {
    expect(formatTime('2026-03-02T23:30:00.000Z', { id: 'Europe/Helsinki', offset: 2 * 3_600_000 })).toBe('3 Mar 2026, 01:30');
  });

  it('keeps text that is not a time', () => {
    expect(formatTime('yesterday')).toBe('yesterday');
  });
});

describe('notATicketCard', () => {
  it('offers to open the message as a ticket', () => {
    const card = notATicketCard({ subject: 'Invoice missing', from: 'Dana Reyes <dana@customer.example>' }, ALICE);
    expect(card.header.title).toBe('Not a ticket');
    expect(card.header.subtitle).toBe('Invoice missing');
    expect(paragraphs(card)).toContain('This message is not part of any plusdesk ticket.');
    expect(decorated(card, 'From').text).toBe('Dana Reyes <dana@customer.example>');
    expect(buttonNamed(card, 'Open as ticket').onClick.action).toEqual({ function: 'onOpenAsTicket', parameters: [] });
  });
});

describe('homeCard', () => {
  const tickets = [
    makeTicket({ number: 1, subject: 'Mine', assignee: BOB, updated: '2026-03-02T10:00:00Z' }),
    makeTicket({ number: 2, subject: 'Followed', assignee: CAROL, followers: [BOB], updated: '2026-03-02T11:00:00Z' }),
    makeTicket({ number: 3, subject: 'Nobody', updated: '2026-03-02T12:00:00Z' }),
    makeTicket({ number: 4, subject: 'Closed mine', assignee: BOB, status: 'closed' }),
    makeTicket({ number: 5, subject: 'Older nobody', updated: '2026-03-01T12:00:00Z' }),
  ];
  const snapshot: DeskSnapshot = {
    tickets,
    messages: [],
    team: DEMO_TEAM,
    settings: defaultSettings(DEMO_SUPPORT),
  };

  it('groups mine, following and unassigned', () => {
    const card = homeCard(homeDataFrom(snapshot, BOB), BOB);
    expect(card.header.subtitle).toBe(`Bob Chen · ${BOB}`);
    expect(card.sections.map((item) => item.header)).toEqual(['Assigned to me (1)', 'Following (1)', 'Unassigned (2)']);
    const texts = (index: number) =>
      card.sections[index]!.widgets.map((widget) => ('decoratedText' in widget ? widget.decoratedText.text : ''));
    expect(texts(0)).toEqual(['Mine']);
    expect(texts(1)).toEqual(['Followed']);
    expect(texts(2)).toEqual(['Nobody', 'Older nobody']);
  });

  it('opens each ticket card', () => {
    const card = homeCard(homeDataFrom(snapshot, BOB), BOB);
    const shows = allButtons(card).filter((button) => button.onClick.action.function === 'onShowTicket');
    expect(shows.map((button) => parametersOf(button).ticket)).toEqual(['1', '2', '3', '5']);
    expect(decorated(card, '#2 · Open · Carol Diaz').bottomLabel).toBe('customer@example.org · updated 2 Mar 2026, 11:00 UTC');
  });

  it('says when a group is empty', () => {
    const card = homeCard(homeDataFrom(snapshot, ALICE), ALICE);
    expect(paragraphs(card)).toEqual([
      'No open or pending tickets are assigned to you.',
      'You follow no open or pending tickets. Click ☆ on a ticket to follow it.',
    ]);
  });

  it('cuts long lists and says how many more', () => {
    const many = Array.from({ length: HOME_LIST_LIMIT + 3 }, (_, index) => makeTicket({ number: index + 1 }));
    const card = homeCard(homeDataFrom({ ...snapshot, tickets: many }, ALICE), ALICE);
    const unassigned = section(card, `Unassigned (${HOME_LIST_LIMIT + 3})`);
    expect(unassigned.widgets).toHaveLength(HOME_LIST_LIMIT + 1);
    expect(paragraphs(card)).toContain('3 more not shown: see the Tickets tab of the Sheet.');
  });
});

describe('card actions', () => {
  it('name only listed handlers', () => {
    const data = demoCard();
    const cards = [
      ticketCard(data, ALICE),
      ticketCard(data, BOB),
      notATicketCard({ subject: 's', from: 'f' }, ALICE),
      homeCard(homeDataFrom(demo, ALICE), ALICE),
      errorCard('x'),
      sheetSetupCard(),
    ];
    const used = new Set(cards.flatMap(allButtons).map((button) => button.onClick.action.function));
    for (const name of used) expect(CARD_ACTIONS).toContain(name);
    expect([...used].sort()).toEqual([...CARD_ACTIONS].sort());
  });
});

describe('handleAction', () => {
  it('toggles the star with toasts', async () => {
    const store = demoStore();
    const first = await handleAction(store, 'onToggleFollow', { ticket: '1' }, {}, ALICE, NOW);
    expect(first.toast).toBe('You follow #1: you get every new message.');
    expect(allButtons(first.card).map((button) => button.text)).toContain('★ Following');
    expect(store.snapshot.tickets[0]!.followers).toEqual([BOB, ALICE]);
    expect(store.snapshot.tickets[0]!.updated).toBe(NOW.toISOString());

    const second = await handleAction(store, 'onToggleFollow', { ticket: '1' }, {}, ALICE, NOW);
    expect(second.toast).toBe('You no longer follow #1.');
    expect(allButtons(second.card).map((button) => button.text)).toContain('☆ Follow');
    expect(store.snapshot.tickets[0]!.followers).toEqual([BOB]);
  });

  it('assigns from the dropdown', async () => {
    const store = demoStore();
    const result = await handleAction(store, 'onAssign', { ticket: '1' }, { assignee: CAROL }, BOB, NOW);
    expect(result.toast).toBe(`#1 is assigned to ${CAROL}.`);
    expect(decorated(result.card, 'Assignee').text).toBe('Carol Diaz');
    expect(store.snapshot.tickets[0]!.assignee).toBe(CAROL);
  });

  it('assigns to me from the button', async () => {
    const store = demoStore();
    const result = await handleAction(store, 'onAssign', { ticket: '1', assignee: BOB }, { assignee: CAROL }, BOB, NOW);
    expect(result.toast).toBe('#1 is assigned to you.');
    expect(store.snapshot.tickets[0]!.assignee).toBe(BOB);
  });

  it('unassigns with the empty choice', async () => {
    const store = demoStore();
    const result = await handleAction(store, 'onAssign', { ticket: '1' }, { assignee: '' }, BOB, NOW);
    expect(result.toast).toBe('#1 is unassigned.');
    expect(store.snapshot.tickets[0]!.assignee).toBe('');
  });

  it('rejects an assignee outside the team', async () => {
    const store = demoStore();
    const result = await handleAction(store, 'onAssign', { ticket: '1' }, { assignee: 'eve@example.com' }, BOB, NOW);
    expect(result.toast).toBe('eve@example.com is not an active agent on the Team tab: pick a teammate from the list.');
    expect(decorated(result.card, 'Assignee').text).toBe('Alice Martin');
    expect(store.updates).toBe(0);
  });

  it('sets the status', async () => {
    const store = demoStore();
    const result = await handleAction(store, 'onSetStatus', { ticket: '1', status: 'closed' }, {}, BOB, NOW);
    expect(result.toast).toBe('#1 is closed.');
    expect(result.card.header.subtitle).toBe('Closed · Dana Reyes');
    expect(store.snapshot.tickets[0]!.status).toBe('closed');
  });

  it('rejects an unknown status', async () => {
    const store = demoStore();
    const result = await handleAction(store, 'onSetStatus', { ticket: '1', status: 'done' }, {}, BOB, NOW);
    expect(result.toast).toBe('"done" is not a ticket status: use open, pending, closed.');
    expect(store.updates).toBe(0);
  });

  it('queues a comment', async () => {
    const store = demoStore();
    const count = store.snapshot.messages.length;
    const result = await handleAction(store, 'onComment', { ticket: '1' }, { comment: '  @carol please look  ' }, BOB, NOW);
    expect(result.toast).toBe('Comment added to #1; the processor notifies followers and mentions.');
    const added = store.snapshot.messages.slice(count);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ kind: 'comment', state: 'queued', author: BOB, ticket: 1, summary: '@carol please look' });
    const latest = section(result.card, 'Latest messages').widgets[0];
    expect(latest).toBeDefined();
    expect(latest).toHaveProperty('decoratedText.topLabel', 'Bob Chen · internal comment');
  });

  it('rejects an empty comment', async () => {
    const store = demoStore();
    const count = store.snapshot.messages.length;
    const result = await handleAction(store, 'onComment', { ticket: '1' }, { comment: '   ' }, BOB, NOW);
    expect(result.toast).toBe('The comment is empty: type a note first.');
    expect(result.card.header.title).toBe('#1 CSV export fails with error 500');
    expect(store.snapshot.messages).toHaveLength(count);
    expect(store.updates).toBe(0);
  });

  it('reports an unknown ticket', async () => {
    const result = await handleAction(demoStore(), 'onToggleFollow', { ticket: '99' }, {}, BOB, NOW);
    expect(result.toast).toBe('Ticket #99 was not found: open the message again.');
    expect(result.card.header.subtitle).toBe('Something went wrong');
    const missing = await handleAction(demoStore(), 'onSetStatus', { status: 'open' }, {}, BOB, NOW);
    expect(missing.toast).toBe('The ticket was not found: open the message again.');
  });

  it('rejects an agent outside the team', async () => {
    const store = demoStore();
    const result = await handleAction(store, 'onToggleFollow', { ticket: '1' }, {}, 'eve@example.com', NOW);
    expect(result.toast).toBe('eve@example.com is not an active agent on the Team tab: ask a teammate to add you there.');
    expect(store.updates).toBe(0);
  });

  it('reports an unknown action', async () => {
    const result = await handleAction(demoStore(), 'onDelete', { ticket: '1' }, {}, BOB, NOW);
    expect(result.toast).toBe('Unknown action "onDelete": reload Gmail and try again.');
  });

  it('shows a ticket and the homepage', async () => {
    const store = demoStore();
    const shown = await handleAction(store, 'onShowTicket', { ticket: '1' }, {}, BOB, NOW);
    expect(shown.toast).toBe('');
    expect(shown.card.header.title).toBe('#1 CSV export fails with error 500');
    const home = await handleAction(store, 'onShowHome', {}, {}, BOB, NOW);
    expect(home.card.sections.map((item) => item.header)).toEqual(['Assigned to me', 'Following (1)', 'Unassigned']);
  });

  it('opens a message as a ticket once', async () => {
    const store = demoStore();
    const message = parsed({
      messageId: 'dana.0303.0815@customer.example',
      from: 'dana@customer.example',
      to: [{ name: '', email: ALICE }],
      subject: 'Re: Invoice missing',
      text: 'Where is the invoice?',
    });
    const opened = { message, threadId: 'thread-9' };
    const first = await handleAction(store, 'onOpenAsTicket', {}, {}, ALICE, NOW, { opened });
    expect(first.toast).toBe('Opened ticket #2; you follow it.');
    expect(first.card.header.title).toBe('#2 Invoice missing');
    expect(decorated(first.card, 'Earlier ticket #1 · Pending').text).toBe('CSV export fails with error 500');
    const created = store.snapshot.tickets.find((ticket) => ticket.number === 2)!;
    expect(created.followers).toEqual([ALICE]);
    expect(created.assignee).toBe('');
    expect(created.threadId).toBe('thread-9');
    expect(created.cc).toEqual([]);
    expect(store.snapshot.messages.at(-1)).toMatchObject({ kind: 'customer', state: 'processed', messageId: message.messageId });

    const again = await handleAction(store, 'onOpenAsTicket', {}, {}, BOB, NOW, { opened });
    expect(again.toast).toBe('This message is already ticket #2.');
    expect(store.snapshot.tickets).toHaveLength(2);
  });

  it('needs the opened message to open a ticket', async () => {
    const result = await handleAction(demoStore(), 'onOpenAsTicket', {}, {}, ALICE, NOW);
    expect(result.toast).toBe('Open the message in Gmail first, then click Open as ticket.');
  });
});

describe('openCard', () => {
  const signer = hmacSigner(DEMO_SECRET);
  const empty: TicketHint = { ticketHeader: '', addresses: [], subject: 'Hello', threadId: '', messageIds: [] };

  it('finds the ticket by each hint', async () => {
    const store = demoStore();
    const hints: TicketHint[] = [
      { ...empty, ticketHeader: '1' },
      { ...empty, addresses: [plusAddress(DEMO_SUPPORT, signer, 1, 'comment')] },
      { ...empty, messageIds: ['dana.0302.1005@customer.example'] },
      { ...empty, subject: 'Re: CSV export [#1]' },
    ];
    for (const hint of hints) {
      const card = await openCard(store, hint, ALICE);
      expect(card.header.title).toBe('#1 CSV export fails with error 500');
    }
  });

  it('shows the not-a-ticket card otherwise', async () => {
    const message = parsed({ from: 'dana@customer.example', subject: 'Something new', messageId: 'new@customer.example' });
    const card = await openCard(demoStore(), hintFromMessage(message, ''), ALICE, { opened: { message, threadId: '' } });
    expect(card.header.title).toBe('Not a ticket');
    expect(decorated(card, 'From').text).toBe('dana@customer.example');
  });

  it('ignores a forged plus tag', async () => {
    const card = await openCard(demoStore(), { ...empty, addresses: ['support+1-aaaaaaaa@example.com'] }, ALICE);
    expect(card.header.title).toBe('Not a ticket');
  });
});
