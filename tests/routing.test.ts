import { describe, expect, it } from 'vitest';
import { findMentions, route } from '../src/core/routing';
import { defaultSettings } from '../src/core/sheet';
import { agents, SUPPORT } from './support/memory';
import { ticket } from './support/tickets';

const team = agents('Alice', 'Bob', 'Carol', 'Dave');
const settings = defaultSettings(SUPPORT);
const emails = (list: { email: string }[]) => list.map((recipient) => recipient.email).sort();

describe('routing a new ticket', () => {
  it('notifies every active agent', () => {
    const inactive = team.map((agent) => (agent.name === 'Dave' ? { ...agent, active: false } : agent));
    expect(emails(route({ kind: 'new-ticket' }, ticket({ number: 1 }), inactive, settings))).toEqual([
      'alice@example.com',
      'bob@example.com',
      'carol@example.com',
    ]);
  });

  it('uses one team address when set', () => {
    const withGroup = { ...settings, teamAddress: 'team@example.com' };
    expect(route({ kind: 'new-ticket' }, ticket({ number: 1 }), team, withGroup)).toEqual([
      { email: 'team@example.com', reason: 'team address' },
    ]);
  });
});

describe('routing a customer follow-up', () => {
  it('notifies last replier, assignee and followers once each', () => {
    const current = ticket({ number: 1, lastReplier: 'alice@example.com', assignee: 'alice@example.com', followers: ['bob@example.com'] });
    expect(route({ kind: 'follow-up' }, current, team, settings)).toEqual([
      { email: 'alice@example.com', reason: 'last replier' },
      { email: 'bob@example.com', reason: 'follower' },
    ]);
  });

  it('falls back to the whole team when nobody is involved', () => {
    expect(emails(route({ kind: 'follow-up' }, ticket({ number: 1 }), team, settings))).toHaveLength(4);
  });
});

describe('routing agent mail', () => {
  it('notifies followers of a reply except the author', () => {
    const current = ticket({ number: 1, followers: ['alice@example.com', 'bob@example.com'] });
    expect(emails(route({ kind: 'agent-reply', author: 'alice@example.com' }, current, team, settings))).toEqual([
      'bob@example.com',
    ]);
  });

  it('notifies followers and mentions of a comment, never the customer', () => {
    const current = ticket({ number: 1, followers: ['carol@example.com'], customerEmail: 'dana@customer.example' });
    const recipients = route(
      { kind: 'comment', author: 'carol@example.com', mentions: ['bob@example.com', 'dana@customer.example'] },
      current,
      team,
      settings,
    );
    expect(recipients).toEqual([{ email: 'bob@example.com', reason: 'mentioned' }]);
  });
});

describe('mentions', () => {
  it.each([
    ['@bob please look', ['bob@example.com']],
    ['ask @Carol and @dave@example.com.', ['carol@example.com', 'dave@example.com']],
    ['mail bob@example.com', []],
    ['@nobody here', []],
    ['@"Alice" and @alice', ['alice@example.com']],
  ])('finds agents in %s', (text, expected) => {
    expect(findMentions(text, team)).toEqual(expected);
  });
});
