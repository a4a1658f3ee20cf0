import { describe, expect, it } from 'vitest';
import { generateWorkload } from '../bench/workload';
import type { TicketShelf } from '../src/core/ports';
import { processMail } from '../src/core/process';
import type { Ticket } from '../src/core/types';
import { CompactTicketShelf } from '../src/node/ticket-shelf';
import { ManualClock, MemoryMailer, MemoryStore, silentLog, testSigner } from './support/memory';

function ticket(number: number, changes: Partial<Ticket> = {}): Ticket {
  return {
    number,
    status: 'open',
    subject: `Order ${number} arrived broken`,
    customer: { name: 'Zoë 山田', email: `customer${number}@example.org` },
    cc: [],
    assignee: '',
    lastReplier: '',
    followers: [],
    created: '2026-03-01T09:00:00.000Z',
    updated: '2026-03-01T09:00:00.000Z',
    threadId: '',
    conversation: [`m${number}@example.org`],
    earlier: [],
    recent: [{ time: '2026-03-01T09:00:00.000Z', kind: 'customer', author: `customer${number}@example.org`, summary: 'It broke 😀' }],
    ...changes,
  };
}

describe('CompactTicketShelf', () => {
  it('returns tickets it had to encode', () => {
    const shelf = new CompactTicketShelf(2);
    for (let number = 1; number <= 5; number++) shelf.put(ticket(number));

    for (let number = 1; number <= 5; number++) expect(shelf.get(number)).toEqual(ticket(number));
    expect(shelf.has(3)).toBe(true);
    expect(shelf.has(6)).toBe(false);
    expect(shelf.get(6)).toBeUndefined();
  });

  it('keeps the latest version', () => {
    const shelf = new CompactTicketShelf(1);
    shelf.put(ticket(1));
    shelf.put(ticket(2));
    shelf.put(ticket(1, { status: 'closed', followers: ['bob@example.com'] }));
    shelf.put(ticket(3));

    expect(shelf.get(1)).toEqual(ticket(1, { status: 'closed', followers: ['bob@example.com'] }));
    expect(shelf.get(2)).toEqual(ticket(2));
  });

  it('lists tickets in first-put order', () => {
    const shelf = new CompactTicketShelf(2);
    for (const number of [4, 1, 3, 2]) shelf.put(ticket(number));
    shelf.put(ticket(4, { subject: 'changed' }));
    shelf.get(1);

    expect([...shelf.values()].map((item) => [item.number, item.subject])).toEqual([
      [4, 'changed'],
      [1, 'Order 1 arrived broken'],
      [3, 'Order 3 arrived broken'],
      [2, 'Order 2 arrived broken'],
    ]);
  });

  it('keeps every ticket through many changes', () => {
    const shelf = new CompactTicketShelf(10);
    const count = 3000;
    for (let round = 0; round < 5; round++) {
      for (let number = 1; number <= count; number++) {
        shelf.put(ticket(number, { updated: `round ${round}`, earlier: Array.from({ length: round }, (_, i) => i) }));
      }
    }

    const wrong = [...shelf.values()].filter(
      (item, index) => JSON.stringify(item) !== JSON.stringify(ticket(index + 1, { updated: 'round 4', earlier: [0, 1, 2, 3] })),
    );
    expect(wrong).toEqual([]);
  });

  it('forgets everything when cleared', () => {
    const shelf = new CompactTicketShelf(1);
    shelf.put(ticket(1));
    shelf.put(ticket(2));
    shelf.clear();

    expect(shelf.has(1)).toBe(false);
    expect([...shelf.values()]).toEqual([]);
    shelf.put(ticket(2));
    expect([...shelf.values()].map((item) => item.number)).toEqual([2]);
  });
});

describe('a run on a compact shelf', () => {
  it('decides as a run on a Map', async () => {
    const workload = generateWorkload({ messages: 600, days: 1, seed: 17 });
    const run = async (shelf?: TicketShelf) => {
      const store: MemoryStore & { shelf?: () => TicketShelf } = new MemoryStore({
        team: workload.agents,
        settings: { supportAddress: workload.supportAddress },
      });
      if (shelf !== undefined) store.shelf = () => shelf;
      const mailer = new MemoryMailer();
      const clock = new ManualClock(Date.parse('2026-03-04T12:00:00.000Z'));
      const mail = workload.messages.map((message) => ({ sourceId: `m${message.index}`, threadId: '', raw: message.raw }));
      const report = await processMail({ store, mailer, signer: testSigner, clock, log: silentLog }, mail);
      return { report, store, mailer };
    };

    const onMap = await run();
    // Two built tickets, so nearly every lookup reads an encoded one.
    const onShelf = await run(new CompactTicketShelf(2));

    expect(onMap.report.tickets.length).toBeGreaterThan(50);
    expect(onShelf.report.tickets).toEqual(onMap.report.tickets);
    expect(onShelf.store.snapshot).toEqual(onMap.store.snapshot);
    expect(onShelf.mailer.sent).toEqual(onMap.mailer.sent);
  });
});
