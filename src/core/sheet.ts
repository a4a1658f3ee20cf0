/**
 * The layout of the ticket Sheet: tab names, headers, and conversion between rows and objects.
 * Google Sheets and the local .xlsx workbook share it, so a workbook made locally imports as is.
 */
import type {
  Agent,
  MessageKind,
  MessageRecord,
  MessageState,
  RecentMessage,
  Settings,
  Ticket,
} from './types';
import { TICKET_STATUSES } from './types';

export type Cell = string | number | boolean;
export type Row = Cell[];

export const TAB = {
  tickets: 'Tickets',
  messages: 'Messages',
  team: 'Team',
  settings: 'Settings',
} as const;

export const TICKET_HEADERS = [
  'Number',
  'Status',
  'Subject',
  'Customer name',
  'Customer email',
  'Cc',
  'Assignee',
  'Last replier',
  'Followers',
  'Created',
  'Updated',
  'Thread ID',
  'Conversation',
  'Earlier tickets',
  'Recent messages',
] as const;

export const MESSAGE_HEADERS = [
  'Time',
  'Ticket',
  'Kind',
  'State',
  'Author',
  'Message-ID',
  'Source ID',
  'Key',
  'Reason',
  'Summary',
] as const;

export const TEAM_HEADERS = ['Email', 'Name', 'Active', 'Notified of new tickets'] as const;
export const SETTINGS_HEADERS = ['Setting', 'Value'] as const;
export const TICKET_STATUSES_LIST = TICKET_STATUSES;

/** Google Sheets holds at most 50,000 characters in a cell. */
export const CELL_LIMIT = 50_000;
/** Message-IDs kept per ticket for threading relays; References only needs the recent ones. */
export const CONVERSATION_LIMIT = 40;
/** Messages shown on the sidebar card, kept on the ticket row. */
export const RECENT_LIMIT = 5;
/** Characters of each recent message's summary kept on the ticket row. */
export const RECENT_SUMMARY_LENGTH = 240;

const SETTING_NAMES: Record<keyof Settings, string> = {
  supportAddress: 'Support address',
  supportName: 'Support name',
  teamAddress: 'Team group address',
  signature: 'Signature',
  autoAcknowledge: 'Auto-acknowledge new tickets',
  trustedDomains: 'Trusted domains without DMARC',
  requireAuthPass: 'Require DMARC or DKIM pass',
  dailyRecipientLimit: 'Daily recipient limit',
};

/**
 * Recipients a Google Workspace account may send to in 24 hours from Apps Script. The quotas
 * page gives 1,500, and 2,000 within the domain, so the lower figure is the default.
 */
export const DEFAULT_DAILY_RECIPIENT_LIMIT = 1500;

export function defaultSettings(supportAddress: string): Settings {
  return {
    supportAddress,
    supportName: 'Support',
    teamAddress: '',
    signature: '',
    autoAcknowledge: false,
    trustedDomains: [],
    requireAuthPass: false,
    dailyRecipientLimit: DEFAULT_DAILY_RECIPIENT_LIMIT,
  };
}

/**
 * Cuts text to `limit` characters (the Sheet's cell limit by default), saying so at the end.
 * A cut never splits a surrogate pair, which would leave half an emoji.
 */
export function fitCell(text: string, limit = CELL_LIMIT): string {
  if (text.length <= limit) return text;
  const marker = ' [cut: full text in Gmail]';
  let end = limit - marker.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + marker;
}

function text(cell: Cell | undefined): string {
  if (cell === undefined || cell === null) return '';
  return String(cell);
}

function list(cell: Cell | undefined): string[] {
  return text(cell)
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function flag(cell: Cell | undefined, fallback: boolean): boolean {
  if (typeof cell === 'boolean') return cell;
  const value = text(cell).trim().toLowerCase();
  if (value === '') return fallback;
  return ['true', 'yes', 'y', '1', 'on', 'x'].includes(value);
}

function whole(cell: Cell | undefined): number | null {
  const value = typeof cell === 'number' ? cell : Number.parseInt(text(cell), 10);
  return Number.isFinite(value) ? value : null;
}

export function ticketToRow(ticket: Ticket): Row {
  return [
    ticket.number,
    ticket.status,
    fitCell(ticket.subject),
    fitCell(ticket.customer.name),
    ticket.customer.email,
    ticket.cc.join(', '),
    ticket.assignee,
    ticket.lastReplier,
    ticket.followers.join(', '),
    ticket.created,
    ticket.updated,
    ticket.threadId,
    ticket.conversation.slice(-CONVERSATION_LIMIT).join(' '),
    ticket.earlier.join(' '),
    fitCell(JSON.stringify(ticket.recent)),
  ];
}

function readRecent(cell: Cell | undefined): RecentMessage[] {
  const value = text(cell).trim();
  if (!value.startsWith('[')) return [];
  try {
    const parsed = JSON.parse(value) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter((item): item is RecentMessage => typeof item === 'object' && item !== null && 'summary' in item)
      .map((item) => ({
        time: String(item.time ?? ''),
        kind: (['customer', 'reply', 'comment'] as const).includes(item.kind) ? item.kind : 'customer',
        author: String(item.author ?? ''),
        summary: String(item.summary ?? ''),
      }));
  } catch {
    // A hand-edited cell that is not JSON shows no recent messages rather than breaking the row.
    return [];
  }
}

/** Reads a Tickets row; returns null for a blank row or one without a ticket number. */
export function rowToTicket(row: Row): Ticket | null {
  const number = whole(row[0]);
  if (number === null || number <= 0) return null;
  const status = text(row[1]).trim().toLowerCase();
  return {
    number,
    status: (TICKET_STATUSES as readonly string[]).includes(status)
      ? (status as Ticket['status'])
      : 'open',
    subject: text(row[2]),
    customer: { name: text(row[3]), email: text(row[4]).trim() },
    cc: list(row[5]),
    assignee: text(row[6]).trim().toLowerCase(),
    lastReplier: text(row[7]).trim().toLowerCase(),
    followers: list(row[8]).map((email) => email.toLowerCase()),
    created: cellTime(row[9]),
    updated: cellTime(row[10]),
    threadId: text(row[11]),
    conversation: list(row[12]),
    earlier: list(row[13])
      .map((value) => Number.parseInt(value, 10))
      .filter((value) => Number.isFinite(value)),
    recent: readRecent(row[14]),
  };
}

function cellTime(cell: Cell | undefined | Date): string {
  if (cell instanceof Date) return cell.toISOString();
  return text(cell as Cell | undefined);
}

export function messageToRow(record: MessageRecord): Row {
  return [
    record.time,
    record.ticket ?? '',
    record.kind,
    record.state,
    record.author,
    record.messageId,
    record.sourceId,
    record.key,
    fitCell(record.reason),
    fitCell(record.summary),
  ];
}

const KINDS: readonly MessageKind[] = ['customer', 'reply', 'comment', 'notification', 'system'];
const STATES: readonly MessageState[] = [
  'processed',
  'queued',
  'sent',
  'skipped',
  'held',
  'quarantined',
  'duplicate',
  'digest',
];

export function rowToMessage(row: Row): MessageRecord {
  const kind = text(row[2]) as MessageKind;
  const state = text(row[3]) as MessageState;
  return {
    time: cellTime(row[0]),
    ticket: whole(row[1]),
    kind: KINDS.includes(kind) ? kind : 'system',
    state: STATES.includes(state) ? state : 'processed',
    author: text(row[4]),
    messageId: text(row[5]),
    sourceId: text(row[6]),
    key: text(row[7]),
    reason: text(row[8]),
    summary: text(row[9]),
  };
}

export function agentToRow(agent: Agent): Row {
  return [agent.email, agent.name, agent.active, agent.notifyNew];
}

/** Reads a Team row; returns null for a row without an email address. */
export function rowToAgent(row: Row): Agent | null {
  const email = text(row[0]).trim().toLowerCase();
  if (!email.includes('@')) return null;
  return {
    email,
    name: text(row[1]).trim() || email.split('@')[0]!,
    active: flag(row[2], true),
    notifyNew: flag(row[3], true),
  };
}

export function settingsToRows(settings: Settings): Row[] {
  return (Object.keys(SETTING_NAMES) as (keyof Settings)[]).map((key) => {
    const value = settings[key];
    return [SETTING_NAMES[key], Array.isArray(value) ? value.join(', ') : value];
  });
}

/** Reads the Settings tab; unknown names are ignored and missing ones keep their defaults. */
export function rowsToSettings(rows: Row[], fallback: Settings): Settings {
  const settings: Settings = { ...fallback, trustedDomains: [...fallback.trustedDomains] };
  const byName = new Map<string, keyof Settings>();
  for (const [key, name] of Object.entries(SETTING_NAMES)) {
    byName.set(name.toLowerCase(), key as keyof Settings);
  }
  for (const row of rows) {
    const key = byName.get(text(row[0]).trim().toLowerCase());
    if (key === undefined) continue;
    const cell = row[1];
    switch (key) {
      case 'autoAcknowledge':
      case 'requireAuthPass':
        settings[key] = flag(cell, fallback[key]);
        break;
      case 'trustedDomains':
        settings.trustedDomains = list(cell).map((domain) => domain.toLowerCase());
        break;
      case 'dailyRecipientLimit': {
        // A typed "1,500" is text, so its separators are dropped before it is read.
        const limit = typeof cell === 'number' ? cell : Number(text(cell).replace(/[\s,_]/g, ''));
        if (Number.isInteger(limit) && limit > 0) settings.dailyRecipientLimit = limit;
        break;
      }
      default:
        if (text(cell).trim() !== '') settings[key] = text(cell).trim();
    }
  }
  return settings;
}

/**
 * Makes text that a spreadsheet would read as a formula inert, for Google Sheets: a leading
 * apostrophe forces text and is not part of the value Sheets returns.
 */
export function guardFormula(value: Cell): Cell {
  if (typeof value !== 'string') return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
