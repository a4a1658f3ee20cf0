/**
 * In-memory ports for tests of the core: a store, a mailer that records what it sends, a clock
 * that only moves when told, and a signer with a fixed secret.
 */
import { createHmac } from 'node:crypto';
import type { Clock, DeskChanges, DeskSnapshot, Log, Mailer, Signer, TicketStore } from '../../src/core/ports';
import { defaultSettings } from '../../src/core/sheet';
import type { Agent, OutgoingMessage, Settings } from '../../src/core/types';

export const SUPPORT = 'support@example.com';

export function agents(...names: string[]): Agent[] {
  return names.map((name) => ({
    email: `${name.toLowerCase()}@example.com`,
    name,
    active: true,
    notifyNew: true,
  }));
}

export class MemoryStore implements TicketStore {
  snapshot: DeskSnapshot;
  saves = 0;

  constructor(init: Partial<Omit<DeskSnapshot, 'settings'>> & { settings?: Partial<Settings> } = {}) {
    this.snapshot = {
      tickets: init.tickets ?? [],
      messages: init.messages ?? [],
      team: init.team ?? agents('Alice', 'Bob', 'Carol'),
      settings: { ...defaultSettings(SUPPORT), ...init.settings },
    };
  }

  load(): DeskSnapshot {
    return structuredClone(this.snapshot);
  }

  save(changes: DeskChanges): void {
    this.saves++;
    const tickets = new Map(this.snapshot.tickets.map((ticket) => [ticket.number, ticket]));
    for (const ticket of changes.tickets) tickets.set(ticket.number, structuredClone(ticket));
    this.snapshot.tickets = [...tickets.values()].sort((a, b) => a.number - b.number);
    for (const { index, record } of changes.updated) this.snapshot.messages[index] = { ...record };
    this.snapshot.messages.push(...changes.appended.map((record) => ({ ...record })));
  }
}

export class MemoryMailer implements Mailer {
  readonly sent: OutgoingMessage[] = [];
  /** Throws on the send with this index (0-based), to test failures. */
  failAt = -1;

  send(message: OutgoingMessage): void {
    if (this.sent.length === this.failAt) throw new Error('quota exceeded');
    this.sent.push(message);
  }

  wasSent(message: OutgoingMessage): boolean {
    return this.sent.some((sent) => sent.key === message.key);
  }
}

export class ManualClock implements Clock {
  constructor(private time = Date.parse('2026-03-02T12:00:00Z')) {}
  now(): Date {
    return new Date(this.time);
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export const testSigner: Signer = {
  sign: (data) => new Uint8Array(createHmac('sha256', 'test-secret').update(data).digest()),
};

export const silentLog: Log = { info: () => undefined, error: () => undefined };

/** A small RFC 5322 message from header fields and a body. */
export function rawMail(headers: Record<string, string>, body = 'Hello'): string {
  const lines = Object.entries({
    'Message-ID': `<${Math.random().toString(36).slice(2)}@test.example>`,
    Date: 'Mon, 02 Mar 2026 09:00:00 +0000',
    'Content-Type': 'text/plain; charset=utf-8',
    ...headers,
  }).map(([name, value]) => `${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}\r\n`;
}
