/** Text shown on cards: readable times, status labels and people's names. */
import { normalizeEmail } from '../address';
import type { Agent, Ticket, TicketStatus } from '../types';
import type { AgentTimeZone } from './card';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function twoDigits(value: number): string {
  return String(value).padStart(2, '0');
}

/**
 * Formats an ISO 8601 time as `2 Mar 2026, 09:00` in the agent's zone, or with ` UTC` appended
 * when the zone is unknown. Text that is not a valid time is returned as it is.
 */
export function formatTime(iso: string, zone?: AgentTimeZone): string {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return iso;
  // Shifting by the offset and reading the UTC fields gives the local wall-clock time without
  // Intl, whose time-zone data differs between Apps Script and Node.
  const local = new Date(time + (zone?.offset ?? 0));
  const day = `${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()}`;
  const clock = `${twoDigits(local.getUTCHours())}:${twoDigits(local.getUTCMinutes())}`;
  return zone === undefined ? `${day}, ${clock} UTC` : `${day}, ${clock}`;
}

/** Formats the day only, such as `2 Mar 2026`. */
export function formatDay(iso: string, zone?: AgentTimeZone): string {
  const time = Date.parse(iso);
  if (!Number.isFinite(time)) return iso;
  const local = new Date(time + (zone?.offset ?? 0));
  return `${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()}`;
}

const STATUS_LABELS: Record<TicketStatus, string> = {
  open: 'Open',
  pending: 'Pending',
  closed: 'Closed',
};

export function statusLabel(status: TicketStatus): string {
  return STATUS_LABELS[status];
}

/** Returns the agent's name from the team list, the customer's name, or else the email address. */
export function personName(email: string, team: Agent[], ticket?: Ticket): string {
  const wanted = normalizeEmail(email);
  if (wanted === '') return '';
  const agent = team.find((candidate) => normalizeEmail(candidate.email) === wanted);
  if (agent !== undefined) return agent.name;
  if (ticket !== undefined && normalizeEmail(ticket.customer.email) === wanted && ticket.customer.name !== '') {
    return ticket.customer.name;
  }
  return email;
}

/** Names of several people joined by commas, or `fallback` when there are none. */
export function peopleNames(emails: string[], team: Agent[], fallback: string): string {
  const names = emails.filter((email) => email !== '').map((email) => personName(email, team));
  return names.length === 0 ? fallback : names.join(', ');
}
