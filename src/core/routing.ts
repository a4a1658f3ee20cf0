/**
 * Who is notified of what, as plain data:
 *
 * | event          | recipients                                                        |
 * | new ticket     | the team group address, else every active agent notified of new tickets, except the author |
 * | follow-up      | last replier, assignee and followers; the whole team if none      |
 * | agent reply    | followers, except the author                                      |
 * | comment        | followers and @mentioned agents, except the author; never the customer |
 */
import { normalizeEmail } from './address';
import type { Agent, Settings, Ticket } from './types';

export type RouteEvent =
  | {
      kind: 'new-ticket';
      /** The sender, left out of the recipients: an agent may mail the support address directly. */
      author?: string;
    }
  | { kind: 'follow-up' }
  | { kind: 'agent-reply'; author: string }
  | { kind: 'comment'; author: string; mentions: string[] };

/** One recipient and why they are notified. */
export interface Recipient {
  email: string;
  reason: 'team' | 'team address' | 'last replier' | 'assignee' | 'follower' | 'mentioned';
}

function activeAgents(team: Agent[]): Agent[] {
  return team.filter((agent) => agent.active);
}

function wholeTeam(team: Agent[], settings: Settings): Recipient[] {
  if (settings.teamAddress !== '') {
    return [{ email: normalizeEmail(settings.teamAddress), reason: 'team address' }];
  }
  return activeAgents(team)
    .filter((agent) => agent.notifyNew)
    .map((agent) => ({ email: agent.email, reason: 'team' as const }));
}

/** Adds each agent once, keeping the first reason; inactive and unknown agents are left out. */
function collect(team: Agent[], candidates: Recipient[], exclude: string[]): Recipient[] {
  const active = new Set(activeAgents(team).map((agent) => agent.email));
  const skip = new Set(exclude.map(normalizeEmail));
  const seen = new Set<string>();
  const result: Recipient[] = [];
  for (const candidate of candidates) {
    const email = normalizeEmail(candidate.email);
    if (email === '' || seen.has(email) || skip.has(email) || !active.has(email)) continue;
    seen.add(email);
    result.push({ email, reason: candidate.reason });
  }
  return result;
}

export function route(
  event: RouteEvent,
  ticket: Ticket,
  team: Agent[],
  settings: Settings,
): Recipient[] {
  const followers = ticket.followers.map((email) => ({ email, reason: 'follower' as const }));
  switch (event.kind) {
    case 'new-ticket': {
      const author = normalizeEmail(event.author ?? '');
      return wholeTeam(team, settings).filter((recipient) => recipient.email !== author);
    }
    case 'follow-up': {
      const scoped = collect(
        team,
        [
          { email: ticket.lastReplier, reason: 'last replier' },
          { email: ticket.assignee, reason: 'assignee' },
          ...followers,
        ],
        [],
      );
      return scoped.length > 0 ? scoped : wholeTeam(team, settings);
    }
    case 'agent-reply':
      return collect(team, followers, [event.author]);
    case 'comment':
      return collect(
        team,
        [...followers, ...event.mentions.map((email) => ({ email, reason: 'mentioned' as const }))],
        [event.author],
      );
  }
}

/**
 * The agents an `@name` mention refers to: `@bob`, `@Bob`, `@bob@example.com` or `@"Bob Ortiz"`,
 * matched against the agent's email, its local part, or their name's first word.
 */
export function findMentions(text: string, team: Agent[]): string[] {
  const found = new Set<string>();
  const pattern = /(?:^|[^\w@.])@(?:"([^"]+)"|([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?))/g;
  for (const match of text.matchAll(pattern)) {
    const word = (match[1] ?? match[2] ?? '').toLowerCase().replace(/\.$/, '');
    const agent = team.find((candidate) => {
      const local = candidate.email.split('@')[0];
      const name = candidate.name.toLowerCase();
      return (
        candidate.email === word ||
        local === word ||
        name === word ||
        name.split(/\s+/)[0] === word
      );
    });
    if (agent !== undefined) found.add(agent.email);
  }
  return [...found];
}
