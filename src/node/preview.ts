/**
 * A local preview of the Gmail sidebar: cards rendered to HTML in a 360 px column, served on
 * 127.0.0.1 over a local output folder. Buttons post to the server, which runs the same
 * `handleAction` as the add-on against the folder's plusdesk.xlsx and shows the returned card
 * with its toast.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Button, Card, CardSection, Widget } from '../core/cards';
import { parseMessage } from '../core/mime';
import { handleAction, hintFromMessage, homepage, openCard, type OpenedMessage } from '../core/sidebar';
import type { Agent, ParsedMessage, Ticket } from '../core/types';
import { WorkbookSidebarStore } from './sidebar-store';
import { readWorkbook } from './workbook';

// ---------------------------------------------------------------------------------------------
// Rendering cards to HTML

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Prefix of the form field names that carry the card's inputs (`input:comment`). */
export const INPUT_PREFIX = 'input:';
/** Form field of the pressed button: its action as JSON. */
const ACTION_FIELD = '_action';
const AGENT_FIELD = '_agent';

/** Icons drawn as inline SVG, because a headless system browser may have no emoji font. */
const ICONS: Record<string, string> = {
  PERSON:
    '<svg viewBox="0 0 24 24" width="20" height="20"><circle cx="12" cy="8" r="4" fill="currentColor"/>' +
    '<path d="M4 20c0-4 4-6 8-6s8 2 8 6z" fill="currentColor"/></svg>',
  STAR:
    '<svg viewBox="0 0 24 24" width="20" height="20"><path d="M12 3l2.7 5.6 6.1.9-4.4 4.3 1 6.1L12 17l-5.4 2.9 1-6.1' +
    '-4.4-4.3 6.1-.9z" fill="currentColor"/></svg>',
};
const DEFAULT_ICON = '<svg viewBox="0 0 24 24" width="20" height="20"><circle cx="12" cy="12" r="4" fill="currentColor"/></svg>';

function renderButton(button: Button): string {
  const parameters: Record<string, string> = {};
  for (const { key, value } of button.onClick.action.parameters) parameters[key] = value;
  const value = JSON.stringify({ function: button.onClick.action.function, parameters });
  const style = button.type === 'FILLED' ? 'filled' : 'outlined';
  return (
    `<button type="submit" class="pill ${style}" name="${ACTION_FIELD}" value="${escapeHtml(value)}"` +
    ` data-action="${escapeHtml(button.onClick.action.function)}">${escapeHtml(button.text)}</button>`
  );
}

function renderWidget(widget: Widget): string {
  if ('textParagraph' in widget) {
    return `<p class="text-paragraph">${escapeHtml(widget.textParagraph.text)}</p>`;
  }
  if ('decoratedText' in widget) {
    const item = widget.decoratedText;
    const icon = item.startIcon === undefined ? '' : `<span class="icon" aria-hidden="true">${ICONS[item.startIcon.knownIcon] ?? DEFAULT_ICON}</span>`;
    const top = item.topLabel === undefined ? '' : `<div class="top-label">${escapeHtml(item.topLabel)}</div>`;
    const bottom = item.bottomLabel === undefined ? '' : `<div class="bottom-label">${escapeHtml(item.bottomLabel)}</div>`;
    const action = item.button === undefined ? '' : `<div class="side-button">${renderButton(item.button)}</div>`;
    const wrap = item.wrapText === true ? ' wrap' : '';
    return (
      `<div class="decorated-text${wrap}">${icon}<div class="body">${top}` +
      `<div class="text">${escapeHtml(item.text)}</div>${bottom}</div>${action}</div>`
    );
  }
  if ('buttonList' in widget) {
    return `<div class="button-list">${widget.buttonList.buttons.map(renderButton).join('')}</div>`;
  }
  if ('textInput' in widget) {
    const input = widget.textInput;
    const name = escapeHtml(INPUT_PREFIX + input.name);
    const field =
      input.type === 'MULTIPLE_LINE'
        ? `<textarea name="${name}" rows="3"></textarea>`
        : `<input type="text" name="${name}">`;
    const hint = input.hintText === undefined ? '' : `<span class="hint">${escapeHtml(input.hintText)}</span>`;
    return `<label class="text-input"><span class="label">${escapeHtml(input.label)}</span>${field}${hint}</label>`;
  }
  if ('selectionInput' in widget) {
    const input = widget.selectionInput;
    const options = input.items
      .map(
        (item) =>
          `<option value="${escapeHtml(item.value)}"${item.selected ? ' selected' : ''}>${escapeHtml(item.text)}</option>`,
      )
      .join('');
    return (
      `<label class="selection-input"><span class="label">${escapeHtml(input.label)}</span>` +
      `<select name="${escapeHtml(INPUT_PREFIX + input.name)}">${options}</select></label>`
    );
  }
  return '<hr class="divider">';
}

function renderSection(section: CardSection): string {
  const header = section.header === undefined ? '' : `<h3 class="section-header">${escapeHtml(section.header)}</h3>`;
  const widgets = section.widgets.map(renderWidget);
  const shown = section.collapsible === true ? (section.uncollapsibleWidgetsCount ?? 0) : widgets.length;
  const rest = widgets.slice(shown);
  const more =
    rest.length === 0
      ? ''
      : `<details class="more"><summary>Show ${rest.length} more</summary>${rest.join('')}</details>`;
  return `<section class="section">${header}${widgets.slice(0, shown).join('')}${more}</section>`;
}

/** Renders a card as an HTML fragment; every text is escaped. */
export function renderCard(card: Card): string {
  const subtitle = card.header.subtitle === undefined ? '' : `<div class="subtitle">${escapeHtml(card.header.subtitle)}</div>`;
  const footer =
    card.fixedFooter === undefined
      ? ''
      : `<div class="fixed-footer">${renderButton(card.fixedFooter.primaryButton)}${
          card.fixedFooter.secondaryButton === undefined ? '' : renderButton(card.fixedFooter.secondaryButton)
        }</div>`;
  return (
    `<div class="card"><header class="card-header"><div class="title">${escapeHtml(card.header.title)}</div>` +
    `${subtitle}</header>${card.sections.map(renderSection).join('')}${footer}</div>`
  );
}

const STYLE = `
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fc; color: #1f1f1f;
  font: 14px/20px "Google Sans", Roboto, "Segoe UI", Helvetica, Arial, sans-serif; }
.page { display: flex; min-height: 100vh; }
nav { flex: 1; padding: 16px 24px; }
nav h1 { font-size: 22px; font-weight: 400; margin: 4px 0 16px; }
nav h2 { font-size: 14px; font-weight: 500; color: #444746; margin: 20px 0 8px; }
nav ul { list-style: none; padding: 0; margin: 0; }
nav li a { display: block; padding: 6px 12px; border-radius: 16px; color: #1f1f1f; text-decoration: none; }
nav li a:hover, nav li a.current { background: #d3e3fd; }
nav .agent select { font: inherit; padding: 4px 8px; border-radius: 8px; border: 1px solid #747775; }
.opened { background: #fff; border-radius: 12px; padding: 12px 16px; margin-top: 16px; color: #444746; }
.sidebar { width: 360px; flex: none; background: #fff; border-left: 1px solid #e0e0e0; min-height: 100vh; }
.addon-bar { display: flex; align-items: center; gap: 8px; padding: 12px 16px; border-bottom: 1px solid #e0e0e0;
  font-size: 16px; }
.addon-bar .logo { width: 24px; height: 24px; border-radius: 6px; background: #0b57d0; color: #fff;
  display: inline-flex; align-items: center; justify-content: center; font-weight: 700; font-size: 14px; }
.card-header { padding: 16px; border-bottom: 1px solid #e0e0e0; }
.card-header .title { font-size: 16px; line-height: 24px; font-weight: 500; }
.card-header .subtitle { font-size: 12px; color: #5e5e5e; }
.section { padding: 8px 16px 12px; border-bottom: 1px solid #e0e0e0; }
.section-header { font-size: 14px; font-weight: 500; color: #0b57d0; margin: 8px 0; }
.text-paragraph { margin: 8px 0; }
.decorated-text { display: flex; align-items: center; gap: 12px; padding: 6px 0; }
.decorated-text .body { flex: 1; min-width: 0; }
.decorated-text .text { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.decorated-text.wrap .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.top-label, .bottom-label { font-size: 12px; line-height: 16px; color: #5e5e5e; }
.icon { width: 24px; flex: none; color: #5e5e5e; display: flex; justify-content: center; }
.button-list { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.pill { font-family: inherit; font-size: 14px; font-weight: 500; height: 36px; padding: 0 16px; border-radius: 18px;
  cursor: pointer; border: 1px solid #747775; background: #fff; color: #0b57d0; }
.pill.filled { background: #0b57d0; border-color: #0b57d0; color: #fff; }
.pill:hover { box-shadow: 0 1px 2px rgba(0,0,0,.3); }
.side-button .pill { height: 32px; padding: 0 12px; }
label.text-input, label.selection-input { display: flex; flex-direction: column; gap: 4px; margin: 8px 0; }
label .label { font-size: 12px; color: #444746; }
label .hint { font-size: 12px; color: #5e5e5e; }
textarea, input[type=text], .sidebar label select { font: inherit; padding: 8px 12px; border: 1px solid #747775;
  border-radius: 4px; background: #fff; width: 100%; }
textarea { resize: vertical; }
details.more summary { cursor: pointer; color: #0b57d0; padding: 6px 0; }
hr.divider { border: 0; border-top: 1px solid #e0e0e0; }
.fixed-footer { display: flex; gap: 8px; padding: 12px 16px; border-top: 1px solid #e0e0e0; }
.toast { position: sticky; top: 8px; z-index: 1; margin: 8px 16px; padding: 14px 16px; border-radius: 4px; background: #303030; color: #f2f2f2;
  box-shadow: 0 3px 5px rgba(0,0,0,.3); }
`;

// ---------------------------------------------------------------------------------------------
// Pages

/** The message the not-a-ticket route shows: a customer who wrote to an agent directly. */
export const SAMPLE_MESSAGE = [
  'From: Dana Reyes <dana@customer.example>',
  'To: Alice Martin <alice@example.com>',
  'Subject: Invoice for February is missing',
  'Date: Tue, 03 Mar 2026 08:15:00 +0000',
  'Message-ID: <dana.0303.0815@customer.example>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hi Alice,',
  '',
  'I cannot find the invoice for February in our account. Could you send it again?',
  '',
  'Dana',
  '',
].join('\r\n');

interface PageInput {
  title: string;
  card: Card;
  toast: string;
  agent: string;
  /** Path of the view, for the agent selector and the address bar. */
  view: string;
  tickets: Ticket[];
  team: Agent[];
  opened?: ParsedMessage;
}

function renderPage(input: PageInput): string {
  const agents = input.team
    .filter((agent) => agent.active)
    .map(
      (agent) =>
        `<option value="${escapeHtml(agent.email)}"${agent.email === input.agent ? ' selected' : ''}>${escapeHtml(agent.name)} (${escapeHtml(agent.email)})</option>`,
    )
    .join('');
  const link = (path: string, text: string): string =>
    `<li><a href="${escapeHtml(`${path}?agent=${encodeURIComponent(input.agent)}`)}"${path === input.view ? ' class="current"' : ''}>${escapeHtml(text)}</a></li>`;
  const tickets = input.tickets
    .map((ticket) => link(`/ticket/${ticket.number}`, `#${ticket.number} ${ticket.subject} (${ticket.status})`))
    .join('');
  const opened =
    input.opened === undefined
      ? ''
      : `<div class="opened"><strong>Opened message</strong><br>From: ${escapeHtml(
          input.opened.from === null ? '' : `${input.opened.from.name} <${input.opened.from.email}>`,
        )}<br>Subject: ${escapeHtml(input.opened.subject)}<br><br>${escapeHtml(input.opened.text).replace(/\n/g, '<br>')}</div>`;
  const toast = input.toast === '' ? '' : `<div class="toast" role="status">${escapeHtml(input.toast)}</div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)} · plusdesk preview</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><div class="page">
<nav>
  <h1>plusdesk sidebar preview</h1>
  <form class="agent" method="get" action="${escapeHtml(input.view)}">
    <label>Acting as <select name="agent" onchange="this.form.submit()">${agents}</select></label>
    <noscript><button type="submit">Switch</button></noscript>
  </form>
  <h2>Cards</h2>
  <ul>${link('/home', 'Homepage card')}${link('/message', 'A message that is not a ticket')}</ul>
  <h2>Tickets</h2>
  <ul>${tickets === '' ? '<li>No tickets in the workbook.</li>' : tickets}</ul>
  ${opened}
</nav>
<aside class="sidebar">
  <div class="addon-bar"><span class="logo">+</span>plusdesk</div>
  ${toast}
  <form method="post" action="/action">
    <input type="hidden" name="${AGENT_FIELD}" value="${escapeHtml(input.agent)}">
    ${renderCard(input.card)}
  </form>
</aside>
</div>
<script>history.replaceState(null, '', ${JSON.stringify(`${input.view}?agent=${encodeURIComponent(input.agent)}`).replace(/</g, '\\u003c')});</script>
</body></html>`;
}

// ---------------------------------------------------------------------------------------------
// Server

export interface PreviewOptions {
  /** Output folder that contains plusdesk.xlsx, such as the `desk` folder of a demo run. */
  dir: string;
  /** TCP port on 127.0.0.1; 0 picks any free port. */
  port: number;
  /** Logger of caught request errors, console.error by default. */
  logError?: (message: string) => void;
}

export interface PreviewServer {
  url: string;
  store: WorkbookSidebarStore;
  close(): Promise<void>;
}

/** Largest request body read, in bytes; the card forms send well under 10 KB. */
const MAX_BODY_BYTES = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startPreview(options: PreviewOptions): Promise<PreviewServer> {
  const store = new WorkbookSidebarStore({ dir: options.dir });
  const logError = options.logError ?? ((message: string) => console.error(message));
  const sample = await parseMessage(SAMPLE_MESSAGE);
  const opened: OpenedMessage = { message: sample, threadId: '' };

  async function page(
    agentParameter: string,
    view: string,
    title: string,
    build: (agent: string) => Promise<{ card: Card; toast: string }>,
    withOpened = false,
  ): Promise<string> {
    const team = (await readWorkbook(store.path)).team;
    const active = team.filter((agent) => agent.active);
    const agent = active.some((member) => member.email === agentParameter) ? agentParameter : (active[0]?.email ?? '');
    const { card, toast } = await build(agent);
    // Read again after the action, so the ticket list shows what the action changed.
    const snapshot = await readWorkbook(store.path);
    const input: PageInput = { title, card, toast, agent, view, tickets: snapshot.tickets, team: snapshot.team };
    if (withOpened) input.opened = sample;
    return renderPage(input);
  }

  async function route(request: IncomingMessage): Promise<string> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const agent = url.searchParams.get('agent') ?? '';
    if (request.method === 'POST' && url.pathname === '/action') {
      const form = new URLSearchParams(await readBody(request));
      let pressed: { function?: unknown; parameters?: unknown };
      try {
        pressed = JSON.parse(form.get(ACTION_FIELD) ?? '') as typeof pressed;
      } catch {
        throw new HttpError(400, `The form field ${ACTION_FIELD} is missing or not JSON.`);
      }
      const name = typeof pressed.function === 'string' ? pressed.function : '';
      const parameters: Record<string, string> = {};
      for (const [key, value] of Object.entries((pressed.parameters ?? {}) as Record<string, unknown>)) {
        parameters[key] = String(value);
      }
      const inputs: Record<string, string> = {};
      for (const [key, value] of form) {
        if (key.startsWith(INPUT_PREFIX)) inputs[key.slice(INPUT_PREFIX.length)] = value;
      }
      let view = '/home';
      if (parameters.ticket !== undefined) view = `/ticket/${parameters.ticket}`;
      else if (name === 'onOpenAsTicket') view = '/message';
      return page(form.get(AGENT_FIELD) ?? '', view, name, async (actor) =>
        handleAction(store, name, parameters, inputs, actor, new Date(), { opened }),
        view === '/message',
      );
    }
    if (request.method !== 'GET') throw new HttpError(405, `${request.method ?? ''} is not supported here.`);
    if (url.pathname === '/' || url.pathname === '/home') {
      return page(agent, '/home', 'Homepage', async (actor) => ({ card: await homepage(store, actor), toast: '' }));
    }
    if (url.pathname === '/message') {
      const hint = hintFromMessage(sample, '');
      return page(
        agent,
        '/message',
        'Opened message',
        async (actor) => ({ card: await openCard(store, hint, actor, { opened }), toast: '' }),
        true,
      );
    }
    const ticket = /^\/ticket\/(\d{1,9})$/.exec(url.pathname);
    if (ticket !== null) {
      const view = url.pathname;
      return page(agent, view, `Ticket #${ticket[1]}`, async (actor) =>
        handleAction(store, 'onShowTicket', { ticket: ticket[1]! }, {}, actor, new Date()),
      );
    }
    throw new HttpError(404, `No page at ${url.pathname}: try /home, /message or /ticket/1.`);
  }

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.url === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    try {
      const html = await route(request);
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(html);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      logError(`preview: ${request.method ?? ''} ${request.url ?? ''} failed with ${status}: ${message}`);
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`${status}: ${message}\n`);
    }
  }

  const server = createServer((request, response) => void respond(request, response));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
