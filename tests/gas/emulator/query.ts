/**
 * Gmail search queries (`q` of messages.list) over the emulated mailbox. Terms are ANDed, a
 * leading `-` negates one, and values may be double-quoted. A term the emulator does not know
 * throws, so an adapter never silently relies on search syntax the emulator does not check.
 */
import { decodeHeader, headerValue, normalizeMessageId, type HeaderField } from './message-headers';

export interface SearchableMessage {
  labelIds: ReadonlySet<string>;
  /** Epoch ms when Gmail accepted the message. */
  internalDate: number;
  headers: readonly HeaderField[];
}

export interface QueryContext {
  /** Label ids whose name matches a `label:` value, compared the way Gmail does. */
  labelIdsNamed(name: string): string[];
  /** Epoch ms, for `newer_than:` and `older_than:`. */
  now: number;
}

export interface CompiledQuery {
  matches(message: SearchableMessage): boolean;
  /** True when a term names Spam, Trash or `in:anywhere`, which lifts their default exclusion. */
  searchesSpamOrTrash: boolean;
}

type Predicate = (message: SearchableMessage) => boolean;

const SUPPORTED = 'in:, is:, label:, after:, before:, newer_than:, older_than:, rfc822msgid:, from:, to:, cc:, subject:, deliveredto:, has:userlabels, has:nouserlabels';

/** Gmail reads a date such as 2026/01/05 as midnight Pacific Standard Time (UTC-8). */
const PST_OFFSET_MS = 8 * 3600 * 1000;

function tokens(query: string): string[] {
  return query.match(/-?[a-z_]+:"[^"]*"|-?"[^"]*"|\S+/gi) ?? [];
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
}

function parseDate(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const ymd = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  if (ymd) return Date.UTC(Number(ymd[1]), Number(ymd[2]) - 1, Number(ymd[3])) + PST_OFFSET_MS;
  const mdy = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  if (mdy) return Date.UTC(Number(mdy[3]), Number(mdy[1]) - 1, Number(mdy[2])) + PST_OFFSET_MS;
  throw new Error(`Gmail emulator: invalid date "${value}" in a search query; use epoch seconds or YYYY/MM/DD`);
}

function parseSpan(value: string): number {
  const match = /^(\d+)([dhmy])$/i.exec(value);
  if (!match) throw new Error(`Gmail emulator: invalid period "${value}"; use a number and d, m or y, such as 7d`);
  const unit = { h: 3600, d: 86400, m: 30 * 86400, y: 365 * 86400 }[match[2]!.toLowerCase() as 'h' | 'd' | 'm' | 'y'];
  return Number(match[1]) * unit * 1000;
}

function contains(headers: readonly HeaderField[], names: string[], needle: string): boolean {
  const wanted = needle.toLowerCase();
  return names.some((name) => decodeHeader(headerValue(headers, name)).toLowerCase().includes(wanted));
}

const IN_LABELS: Record<string, string> = {
  inbox: 'INBOX',
  sent: 'SENT',
  spam: 'SPAM',
  trash: 'TRASH',
  drafts: 'DRAFT',
  draft: 'DRAFT',
  starred: 'STARRED',
  important: 'IMPORTANT',
  chats: 'CHAT',
};

export function compileQuery(query: string, context: QueryContext): CompiledQuery {
  const predicates: Predicate[] = [];
  let searchesSpamOrTrash = false;
  for (const token of tokens(query)) {
    if (token === 'AND') continue;
    if (token === 'OR' || /^[-]?[({]/.test(token) || token.includes('}') || token.includes(')')) {
      throw new Error(`Gmail emulator: "${token}" is not supported; it supports space-separated AND of ${SUPPORTED}`);
    }
    const negated = token.startsWith('-');
    const body = negated ? token.slice(1) : token;
    const colon = body.indexOf(':');
    if (colon <= 0) {
      throw new Error(`Gmail emulator: free-text search term "${token}" is not supported; use one of ${SUPPORTED}`);
    }
    const operator = body.slice(0, colon).toLowerCase();
    const value = unquote(body.slice(colon + 1));
    let predicate: Predicate;
    switch (operator) {
      case 'in': {
        const lower = value.toLowerCase();
        if (lower === 'anywhere') {
          searchesSpamOrTrash = true;
          predicate = () => true;
          break;
        }
        const label = IN_LABELS[lower];
        if (label === undefined) throw new Error(`Gmail emulator: in:${value} is not supported`);
        if (label === 'SPAM' || label === 'TRASH') searchesSpamOrTrash = true;
        predicate = (message) => message.labelIds.has(label);
        break;
      }
      case 'is': {
        const lower = value.toLowerCase();
        if (lower === 'unread') predicate = (message) => message.labelIds.has('UNREAD');
        else if (lower === 'read') predicate = (message) => !message.labelIds.has('UNREAD');
        else if (lower === 'starred') predicate = (message) => message.labelIds.has('STARRED');
        else if (lower === 'important') predicate = (message) => message.labelIds.has('IMPORTANT');
        else throw new Error(`Gmail emulator: is:${value} is not supported`);
        break;
      }
      case 'label': {
        const ids = context.labelIdsNamed(value);
        if (ids.includes('SPAM') || ids.includes('TRASH')) searchesSpamOrTrash = true;
        predicate = (message) => ids.some((id) => message.labelIds.has(id));
        break;
      }
      case 'has': {
        const lower = value.toLowerCase();
        const hasUserLabel = (message: SearchableMessage): boolean =>
          [...message.labelIds].some((id) => id.startsWith('Label_'));
        if (lower === 'userlabels') predicate = hasUserLabel;
        else if (lower === 'nouserlabels') predicate = (message) => !hasUserLabel(message);
        else throw new Error(`Gmail emulator: has:${value} is not supported`);
        break;
      }
      case 'after': {
        const time = parseDate(value);
        predicate = (message) => message.internalDate >= time;
        break;
      }
      case 'before': {
        const time = parseDate(value);
        predicate = (message) => message.internalDate < time;
        break;
      }
      case 'newer_than': {
        const time = context.now - parseSpan(value);
        predicate = (message) => message.internalDate >= time;
        break;
      }
      case 'older_than': {
        const time = context.now - parseSpan(value);
        predicate = (message) => message.internalDate < time;
        break;
      }
      case 'rfc822msgid': {
        const wanted = normalizeMessageId(value);
        predicate = (message) => normalizeMessageId(headerValue(message.headers, 'Message-ID') ?? '') === wanted;
        break;
      }
      case 'from':
        predicate = (message) => contains(message.headers, ['From'], value);
        break;
      case 'to':
        predicate = (message) => contains(message.headers, ['To'], value);
        break;
      case 'cc':
        predicate = (message) => contains(message.headers, ['Cc'], value);
        break;
      case 'subject':
        predicate = (message) => contains(message.headers, ['Subject'], value);
        break;
      case 'deliveredto':
        predicate = (message) => contains(message.headers, ['Delivered-To'], value);
        break;
      default:
        throw new Error(`Gmail emulator: search operator "${operator}:" is not supported; it supports ${SUPPORTED}`);
    }
    predicates.push(negated ? (message) => !predicate(message) : predicate);
  }
  return {
    matches: (message) => predicates.every((predicate) => predicate(message)),
    searchesSpamOrTrash,
  };
}
