import { describe, expect, it } from 'vitest';
import { applyAction, ActionError, openRequestRecord, readOpenRequest } from '../src/core/actions';
import { guardFormula, rowToTicket, ticketToRow, CELL_LIMIT, fitCell } from '../src/core/sheet';
import { mergeTicket, recordAgentReply, recordCustomerMessage, toggleFollower } from '../src/core/ticket';
import { ticket } from './support/tickets';

const T = '2026-03-02T10:00:00.000Z';

describe('ticket transitions', () => {
  it('reopens a closed ticket on a customer message', () => {
    const closed = ticket({ number: 1, status: 'closed' });
    expect(recordCustomerMessage(closed, { messageId: 'm2', cc: [], threadId: '', time: T }).status).toBe('open');
  });

  it('reopens a pending ticket on a customer message', () => {
    const pending = ticket({ number: 1, status: 'pending' });
    expect(recordCustomerMessage(pending, { messageId: 'm2', cc: [], threadId: '', time: T }).status).toBe('open');
  });

  it('waits on the customer after an agent reply', () => {
    const replied = recordAgentReply(ticket({ number: 1 }), { agent: 'Alice@example.com', relayMessageId: 'r1', cc: [], time: T });
    expect(replied.status).toBe('pending');
    expect(replied.lastReplier).toBe('alice@example.com');
    expect(replied.assignee).toBe('alice@example.com');
    expect(replied.conversation).toContain('r1');
  });

  it('keeps an existing assignee on a reply', () => {
    const assigned = ticket({ number: 1, assignee: 'bob@example.com' });
    expect(recordAgentReply(assigned, { agent: 'alice@example.com', relayMessageId: 'r1', cc: [], time: T }).assignee).toBe('bob@example.com');
  });

  it('stars and unstars with one toggle', () => {
    const starred = toggleFollower(ticket({ number: 1 }), 'bob@example.com', T);
    expect(starred.followers).toEqual(['bob@example.com']);
    expect(toggleFollower(starred, 'bob@example.com', T).followers).toEqual([]);
  });
});

describe('merging concurrent ticket writes', () => {
  it('keeps a follower added by someone else', () => {
    const base = ticket({ number: 1 });
    const mine = { ...base, status: 'closed' as const };
    const fresh = { ...base, followers: ['carol@example.com'] };
    const merged = mergeTicket(base, mine, fresh);
    expect(merged.status).toBe('closed');
    expect(merged.followers).toEqual(['carol@example.com']);
  });

  it('applies my removal without erasing their addition', () => {
    const base = ticket({ number: 1, followers: ['bob@example.com'] });
    const mine = { ...base, followers: [] };
    const fresh = { ...base, followers: ['bob@example.com', 'carol@example.com'] };
    expect(mergeTicket(base, mine, fresh).followers).toEqual(['carol@example.com']);
  });

  it('keeps fields I did not touch as they are now', () => {
    const base = ticket({ number: 1 });
    const mine = { ...base, lastReplier: 'alice@example.com' };
    const fresh = { ...base, assignee: 'dave@example.com' };
    const merged = mergeTicket(base, mine, fresh);
    expect(merged.assignee).toBe('dave@example.com');
    expect(merged.lastReplier).toBe('alice@example.com');
  });

  it('writes a new ticket as it is', () => {
    const mine = ticket({ number: 2 });
    expect(mergeTicket(undefined, mine, null)).toBe(mine);
  });
});

describe('sidebar actions', () => {
  it('rejects an empty comment', () => {
    expect(() => applyAction(ticket({ number: 1 }), { type: 'comment', text: '  ' }, 'bob@example.com', T)).toThrow(ActionError);
  });

  it('queues a comment row for the processor', () => {
    const result = applyAction(ticket({ number: 1 }), { type: 'comment', text: '@carol look' }, 'bob@example.com', T);
    expect(result.record).toMatchObject({ kind: 'comment', state: 'queued', ticket: 1, author: 'bob@example.com', summary: '@carol look' });
    expect(result.ticket.recent.at(-1)).toMatchObject({ kind: 'comment', author: 'bob@example.com' });
  });

  it('round-trips an open request', () => {
    const record = openRequestRecord({ subject: 'Help', customerName: 'Kim', customerEmail: 'Kim@x.example', text: 'Hi', agent: 'Bob@example.com', messageId: 'm1', time: T });
    expect(readOpenRequest(record)).toEqual({ subject: 'Help', customerName: 'Kim', text: 'Hi', agent: 'bob@example.com' });
    expect(readOpenRequest({ ...record, summary: 'not json' })).toBeNull();
  });
});

describe('sheet rows', () => {
  it('round-trips a ticket row', () => {
    const original = ticket({ number: 7, followers: ['a@example.com', 'b@example.com'], earlier: [3, 1], recent: [{ time: T, kind: 'reply', author: 'a@example.com', summary: 'Done' }] });
    expect(rowToTicket(ticketToRow(original))).toEqual(original);
  });

  it.each(['=HYPERLINK("x")', '+1', '-2+3', '@SUM(1)'])('guards formula-looking text %s', (text) => {
    expect(guardFormula(text)).toBe(`'${text}`);
  });

  it('leaves plain text unguarded', () => {
    expect(guardFormula('Hello')).toBe('Hello');
  });

  it('cuts text to the cell limit with a note', () => {
    const cut = fitCell('x'.repeat(CELL_LIMIT + 10));
    expect(cut.length).toBe(CELL_LIMIT);
    expect(cut.endsWith('full text in Gmail]')).toBe(true);
  });

  it('keeps an emoji whole at the cut', () => {
    // The emoji's first half would be the last character that the cut keeps.
    const before = 100 - ' [cut: full text in Gmail]'.length - 1;
    const cut = fitCell(`${'x'.repeat(before)}😀${'y'.repeat(50)}`, 100);

    expect(cut).toBe(`${'x'.repeat(before)} [cut: full text in Gmail]`);
    expect(cut).not.toContain('\ud83d');
  });
});
