/**
 * Recipient counts of a run: recipients per day against the daily sending quota, emails per
 * agent compared with the everyone-is-copied workflow, and the check that every agent a message
 * concerns was notified of it.
 */
import { domainOf, normalizeEmail } from '../src/core/address';
import { notificationKey, type EmulationResult, type SentRecord } from './emulated';
import type { MessageKind, Workload, WorkloadMessage } from './workload';

const DAY = 24 * 60 * 60 * 1000;

/** Workspace daily recipient quota (Apps Script quotas page): external and within the domain. */
export const QUOTA = { external: 1500, internal: 2000 } as const;

export interface DailyRecipients {
  /** Largest day's recipients inside the support domain (agents, team address). */
  maxInternal: number;
  /** Largest day's recipients outside it (customers). */
  maxExternal: number;
  /** Largest day's recipients in all. */
  maxTotal: number;
  meanInternal: number;
  meanExternal: number;
  days: number;
}

function dayOf(workload: Workload, time: number): number {
  return Math.floor((time - workload.start) / DAY);
}

function daily(workload: Workload, entries: { time: number; internal: number; external: number }[]): DailyRecipients {
  const byDay = new Map<number, { internal: number; external: number }>();
  for (const entry of entries) {
    const day = dayOf(workload, entry.time);
    const slot = byDay.get(day) ?? { internal: 0, external: 0 };
    slot.internal += entry.internal;
    slot.external += entry.external;
    byDay.set(day, slot);
  }
  const days = [...byDay.values()];
  const count = Math.max(1, days.length);
  return {
    maxInternal: Math.max(0, ...days.map((day) => day.internal)),
    maxExternal: Math.max(0, ...days.map((day) => day.external)),
    maxTotal: Math.max(0, ...days.map((day) => day.internal + day.external)),
    meanInternal: days.reduce((sum, day) => sum + day.internal, 0) / count,
    meanExternal: days.reduce((sum, day) => sum + day.external, 0) / count,
    days: days.length,
  };
}

function splitRecipients(workload: Workload, recipients: string[]): { internal: number; external: number } {
  const domain = domainOf(workload.supportAddress);
  const internal = recipients.filter((email) => domainOf(email) === domain).length;
  return { internal, external: recipients.length - internal };
}

/** Recipients per day of everything sent. */
export function recipientsPerDay(workload: Workload, sent: SentRecord[]): DailyRecipients {
  return daily(
    workload,
    sent.map((message) => ({ time: message.time, ...splitRecipients(workload, message.recipients) })),
  );
}

/** Recipients of each new-ticket notification: how many went to exactly one address. */
export function newTicketRecipients(sent: SentRecord[]): { notifications: number; singleRecipient: number; maxRecipients: number } {
  const newTickets = sent.filter((message) => message.event === 'new-ticket');
  return {
    notifications: newTickets.length,
    singleRecipient: newTickets.filter((message) => message.recipients.length === 1).length,
    maxRecipients: Math.max(0, ...newTickets.map((message) => message.recipients.length)),
  };
}

export interface AgentLoad {
  agent: string;
  /** Emails plusdesk sent the agent, digests included, per day with traffic. */
  plusdeskPerDay: number;
  /** Emails the agent would get if every notification went out at once, without the digest. */
  routedPerDay: number;
  /** Emails the agent gets when everyone is copied on every message, per day with traffic. */
  copiedPerDay: number;
  /** New-ticket notifications among routedPerDay: the whole team gets each one. */
  newTicketPerDay: number;
  /** 1 - plusdesk / copied. */
  reduction: number;
  /** 1 - routed / copied: what the routing table alone saves. */
  routedReduction: number;
}

/**
 * Emails each agent receives: plusdesk's notifications to them (a team-address message reaches
 * every agent), against every message of every conversation that someone else wrote. The routed
 * figure counts each notification that waited for a digest as its own email instead of the
 * digest.
 */
export function agentLoad(workload: Workload, result: EmulationResult): AgentLoad[] {
  const messages = workload.messages.slice(0, result.delivered);
  const days = new Set(messages.map((message) => dayOf(workload, message.time))).size || 1;
  const team = normalizeEmail(workload.teamAddress);
  const reaches = (recipients: string[], agent: string) => recipients.includes(agent) || recipients.includes(team);
  return workload.agents.map((agent) => {
    const received = result.sent.filter((message) => reaches(message.recipients, agent.email));
    const digests = received.filter((message) => message.event === 'digest').length;
    const waited = result.digested.filter((item) => reaches(item.recipients, agent.email)).length;
    const routed = received.length - digests + waited;
    const newTickets = messages.filter((message) => message.kind === 'new-ticket' && message.author !== agent.email).length;
    const copied = messages.filter((message) => message.author !== agent.email).length;
    return {
      agent: agent.email,
      plusdeskPerDay: received.length / days,
      routedPerDay: routed / days,
      copiedPerDay: copied / days,
      newTicketPerDay: newTickets / days,
      reduction: copied === 0 ? 0 : 1 - received.length / copied,
      routedReduction: copied === 0 ? 0 : 1 - routed / copied,
    };
  });
}

export interface MissReport {
  /** Messages checked (new tickets, follow-ups, agent replies, comments that were handled). */
  checked: number;
  /** Agent-message pairs where the agent concerned got no notification. */
  misses: number;
  missesByKind: Partial<Record<MessageKind, number>>;
  /** The same check against plusdesk's own routing table (followers only for replies and comments). */
  missesByRoutingTable: number;
  /** Agent-message pairs that reached the agent in a digest, an hour late at most. */
  inDigest: number;
  examples: string[];
}

interface TicketState {
  assignee: string;
  lastReplier: string;
}

/**
 * Checks that every agent a message concerns was notified. A new ticket concerns the whole team.
 * Any other message concerns the ticket's assignee, last replier and followers and anyone it
 * @mentions, except its author. A customer follow-up with none of them concerns the whole team.
 * Followers are the stars applied before the run that handled the message.
 */
export function checkMisses(workload: Workload, result: EmulationResult): MissReport {
  const byKey = new Map<string, SentRecord>();
  for (const message of result.sent) if (message.key !== '') byKey.set(message.key, message);
  const team = normalizeEmail(workload.teamAddress);
  const everyone = workload.agents.filter((agent) => agent.active).map((agent) => agent.email);
  const tickets = new Map<number, TicketState>();
  const starsByTicket = new Map<number, number[]>();
  workload.stars.forEach((star, index) => {
    const list = starsByTicket.get(star.ticket) ?? [];
    list.push(index);
    starsByTicket.set(star.ticket, list);
  });

  const digested = new Map(result.digested.map((item) => [item.key, item]));
  const report: MissReport = { checked: 0, misses: 0, missesByKind: {}, missesByRoutingTable: 0, inDigest: 0, examples: [] };
  const messages: WorkloadMessage[] = workload.messages.slice(0, result.delivered);
  for (const message of messages) {
    const run = result.handledIn[message.index] ?? -1;
    const state = tickets.get(message.ticket) ?? { assignee: '', lastReplier: '' };
    tickets.set(message.ticket, state);
    const followers = (starsByTicket.get(message.ticket) ?? [])
      .filter((index) => {
        const applied = result.starAppliedBeforeRun[index] ?? -1;
        return applied >= 0 && applied <= run;
      })
      .map((index) => workload.stars[index]!.agent);
    if (message.kind === 'auto-reply' || message.kind === 'bounce' || run < 0) continue;

    let concerned: string[];
    let byTable: string[];
    const owners = [state.assignee, state.lastReplier, ...followers].filter((email) => email !== '');
    switch (message.kind) {
      case 'new-ticket':
        concerned = everyone;
        byTable = everyone;
        break;
      case 'follow-up':
        concerned = owners.length > 0 ? owners : everyone;
        byTable = concerned;
        break;
      case 'agent-reply':
        concerned = owners;
        byTable = followers;
        break;
      case 'comment':
        concerned = [...owners, ...message.mentions];
        byTable = [...followers, ...message.mentions];
        break;
    }
    if (message.kind === 'agent-reply') {
      if (state.assignee === '') state.assignee = message.author;
      state.lastReplier = message.author;
    }
    report.checked++;
    const key = notificationKey(message.messageId);
    const reached = new Set(byKey.get(key)?.recipients ?? []);
    const waited = digested.get(key);
    const inDigest = new Set(waited?.sent === true ? waited.recipients : []);
    const viaDigest = (agent: string) => !reached.has(agent) && !reached.has(team) && (inDigest.has(agent) || inDigest.has(team));
    const got = (agent: string) => reached.has(agent) || reached.has(team) || viaDigest(agent);
    const wanted = new Set(concerned.filter((agent) => agent !== message.author));
    for (const agent of wanted) {
      if (viaDigest(agent)) report.inDigest++;
      if (got(agent)) continue;
      report.misses++;
      report.missesByKind[message.kind] = (report.missesByKind[message.kind] ?? 0) + 1;
      if (report.examples.length < 5) {
        report.examples.push(`${message.kind} ${message.messageId} on #${message.ticket} by ${message.author}: ${agent} not notified`);
      }
    }
    for (const agent of new Set(byTable.filter((email) => email !== message.author))) {
      if (!got(agent)) report.missesByRoutingTable++;
    }
  }
  return report;
}
