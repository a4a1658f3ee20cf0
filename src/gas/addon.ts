/**
 * The Gmail add-on agents install: the homepage card, the card of an opened message, and the
 * card actions. Card callbacks must return synchronously, so the opened message is read through
 * GmailMessage getters and the Sheet through the synchronous SheetSidebarStore.
 */
import { errorCard, SHEET_INPUT, sheetSetupCard } from '../core/cards';
import { now } from '../core/maybe';
import { extractMessageIds, parseAddressList } from '../core/mime';
import { handleAction, hintFromMessage, homepage, openCard, type SidebarOptions } from '../core/sidebar';
import type { ParsedMessage } from '../core/types';
import { renderCard, renderResponse } from './card-renderer';
import { PROPERTY } from './properties';
import { SheetSidebarStore } from './sidebar-store';

/** The parts of Gmail's add-on event object that plusdesk reads. */
export interface AddonEvent {
  commonEventObject?: {
    parameters?: Record<string, string>;
    formInputs?: Record<string, { stringInputs?: { value?: string[] } }>;
    timeZone?: { id: string; offset: number };
  };
  gmail?: { messageId?: string; threadId?: string; accessToken?: string };
}


function agentEmail(): string {
  return Session.getActiveUser().getEmail();
}

function options(event: AddonEvent): SidebarOptions {
  const zone = event.commonEventObject?.timeZone;
  return zone === undefined ? {} : { timeZone: { id: zone.id, offset: zone.offset } };
}

function formInputs(event: AddonEvent): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const [name, input] of Object.entries(event.commonEventObject?.formInputs ?? {})) {
    inputs[name] = input.stringInputs?.value?.[0] ?? '';
  }
  return inputs;
}

/** The Sheet id from the add-on's script properties, or null before it is set. */
function sheetId(): string | null {
  const id = PropertiesService.getScriptProperties().getProperty(PROPERTY.sheetId);
  return id === null || id === '' ? null : id;
}

function withStore(build: (store: SheetSidebarStore) => GoogleAppsScript.Card_Service.Card) {
  const id = sheetId();
  if (id === null) return renderCard(sheetSetupCard());
  try {
    return build(new SheetSidebarStore(id));
  } catch (error) {
    console.error(JSON.stringify({ event: 'card_failed', error: String(error) }));
    return renderCard(errorCard(`plusdesk could not load this card: ${String(error)}`));
  }
}

/**
 * Reads the opened message through the current-message access token. The body costs another
 * Gmail read, and only "Open as ticket" needs it, so a card leaves it out.
 */
function openedMessage(event: AddonEvent, withBody: boolean): { message: ParsedMessage; threadId: string } | null {
  const id = event.gmail?.messageId;
  if (id === undefined) return null;
  if (event.gmail?.accessToken !== undefined) GmailApp.setCurrentMessageAccessToken(event.gmail.accessToken);
  const message = GmailApp.getMessageById(id);
  const header = (name: string) => message.getHeader(name) ?? '';
  const from = parseAddressList(message.getFrom())[0] ?? null;
  // The card and an open request need no header but the ticket's; each read is a Gmail call.
  const ticketHeader = header('X-Plusdesk-Ticket');
  const headers: Record<string, string[]> = ticketHeader === '' ? {} : { 'x-plusdesk-ticket': [ticketHeader] };
  return {
    threadId: message.getThread().getId(),
    message: {
      messageId: extractMessageIds(header('Message-ID'))[0] ?? '',
      inReplyTo: extractMessageIds(header('In-Reply-To')),
      references: extractMessageIds(header('References')),
      from,
      replyTo: parseAddressList(message.getReplyTo()),
      to: parseAddressList(message.getTo()),
      cc: parseAddressList(message.getCc()),
      subject: message.getSubject(),
      date: message.getDate().toISOString(),
      headers,
      text: withBody ? message.getPlainBody() : '',
      html: '',
      attachments: [],
      contentType: 'text/plain',
      warnings: [],
    },
  };
}

/** Homepage trigger: my open tickets, tickets I follow, unassigned open tickets. */
export function onHomepage(event: AddonEvent): GoogleAppsScript.Card_Service.Card {
  return withStore((store) => renderCard(now(homepage(store, agentEmail(), options(event)))));
}

/** Contextual trigger: the ticket card of the opened message, or an offer to open one. */
export function onGmailMessage(event: AddonEvent): GoogleAppsScript.Card_Service.Card {
  return withStore((store) => {
    const opened = openedMessage(event, false);
    if (opened === null) return renderCard(now(homepage(store, agentEmail(), options(event))));
    const hint = hintFromMessage(opened.message, opened.threadId);
    return renderCard(now(openCard(store, hint, agentEmail(), { ...options(event), opened })));
  });
}

function runAction(name: string, event: AddonEvent): GoogleAppsScript.Card_Service.ActionResponse {
  const id = sheetId();
  if (id === null) return renderResponse(sheetSetupCard(), 'Connect the ticket Sheet first.');
  try {
    const store = new SheetSidebarStore(id);
    const opened = name === 'onOpenAsTicket' ? openedMessage(event, true) : null;
    const response = now(
      handleAction(
        store,
        name,
        event.commonEventObject?.parameters ?? {},
        formInputs(event),
        agentEmail(),
        new Date(),
        opened === null ? options(event) : { ...options(event), opened },
      ),
    );
    return renderResponse(response.card, response.toast);
  } catch (error) {
    console.error(JSON.stringify({ event: 'action_failed', action: name, error: String(error) }));
    // Not "nothing was changed": a failure between the row write and the Messages append
    // leaves the first one done.
    return renderResponse(
      errorCard(`The action failed: ${String(error)}`),
      'The action failed: open the message again to see the ticket as saved.',
    );
  }
}

export function onSaveSheet(event: AddonEvent): GoogleAppsScript.Card_Service.ActionResponse {
  const value = formInputs(event)[SHEET_INPUT] ?? '';
  const match = /\/spreadsheets\/d\/([\w-]{20,})/.exec(value) ?? /^\s*([\w-]{20,})\s*$/.exec(value);
  if (match === null) {
    return renderResponse(
      sheetSetupCard(`"${value}" is not a Google Sheets URL.`),
      'Paste the URL of the ticket Sheet, as shown in the browser.',
    );
  }
  const id = match[1]!;
  // The Sheet is read before its id is saved, so a wrong URL never replaces a working one.
  let home;
  try {
    home = now(homepage(new SheetSidebarStore(id), agentEmail(), options(event)));
  } catch (error) {
    console.error(JSON.stringify({ event: 'sheet_check_failed', sheetId: id, error: String(error) }));
    return renderResponse(
      sheetSetupCard(`plusdesk could not read a ticket Sheet at that URL: ${String(error)}`),
      'That Sheet could not be read: check the URL and that you can open the Sheet.',
    );
  }
  PropertiesService.getScriptProperties().setProperty(PROPERTY.sheetId, id);
  return renderResponse(home, 'Ticket Sheet saved.');
}

export const onToggleFollow = (event: AddonEvent) => runAction('onToggleFollow', event);
export const onAssign = (event: AddonEvent) => runAction('onAssign', event);
export const onSetStatus = (event: AddonEvent) => runAction('onSetStatus', event);
export const onComment = (event: AddonEvent) => runAction('onComment', event);
export const onShowTicket = (event: AddonEvent) => runAction('onShowTicket', event);
export const onShowHome = (event: AddonEvent) => runAction('onShowHome', event);
export const onOpenAsTicket = (event: AddonEvent) => runAction('onOpenAsTicket', event);
