/** Builds tickets for test scenarios with sensible defaults. */
import type { Ticket } from '../../src/core/types';

export function ticket(fields: Partial<Ticket> & { number: number; customerEmail?: string }): Ticket {
  const { customerEmail, ...rest } = fields;
  return {
    status: 'open',
    subject: 'A question',
    customer: { name: '', email: customerEmail ?? 'customer@example.org' },
    cc: [],
    assignee: '',
    lastReplier: '',
    followers: [],
    created: '2025-03-01T08:00:00.000Z',
    updated: '2025-03-01T08:00:00.000Z',
    threadId: '',
    conversation: [],
    earlier: [],
    recent: [],
    ...rest,
  };
}
