/**
 * A message's time in the desk: its Date header, or else the time its mailbox gives it, never
 * later than the run's clock.
 */
import { describe, expect, it } from 'vitest';
import type { InboundMail } from '../src/core/ports';
import { processMail } from '../src/core/process';
import { agents, ManualClock, MemoryMailer, MemoryStore, silentLog, testSigner } from './support/memory';

function inbound(date: string | null, mailboxDate?: string): InboundMail {
  const headers = [
    'From: Dana <dana@customer.example>',
    'To: support@example.com',
    'Subject: Printer on fire',
    'Message-ID: <dana.1@customer.example>',
    ...(date === null ? [] : [`Date: ${date}`]),
  ];
  return {
    sourceId: 'dana-1',
    threadId: '',
    raw: `${headers.join('\r\n')}\r\n\r\nHello\r\n`,
    ...(mailboxDate === undefined ? {} : { date: mailboxDate }),
  };
}

/** Processes one message with the clock at 2026-03-02 12:00 UTC and returns its ticket's created time. */
async function createdTime(mail: InboundMail): Promise<string> {
  const store = new MemoryStore({ team: agents('Alice') });
  const deps = { store, mailer: new MemoryMailer(), signer: testSigner, clock: new ManualClock(), log: silentLog };
  await processMail(deps, [mail]);
  const [ticket] = store.snapshot.tickets;
  expect(store.snapshot.messages[0]?.time).toBe(ticket!.created);
  return ticket!.created;
}

describe('message time', () => {
  it('is the Date header when there is one', async () => {
    const time = await createdTime(inbound('Mon, 02 Mar 2026 09:00:00 +0000', '2026-03-02T09:05:00.000Z'));

    expect(time).toBe('2026-03-02T09:00:00.000Z');
  });

  it("is the mailbox's time without a Date header", async () => {
    const time = await createdTime(inbound(null, '2026-03-01T08:00:00.000Z'));

    expect(time).toBe('2026-03-01T08:00:00.000Z');
  });

  it('is the clock without either', async () => {
    expect(await createdTime(inbound(null))).toBe('2026-03-02T12:00:00.000Z');
  });

  it("is the mailbox's time for a Date header days later", async () => {
    const time = await createdTime(inbound('Fri, 01 Jan 2027 12:00:00 +0000', '2026-03-01T08:00:00.000Z'));

    expect(time).toBe('2026-03-01T08:00:00.000Z');
  });

  it('is the clock for a time in the future', async () => {
    expect(await createdTime(inbound(null, '2026-03-09T08:00:00.000Z'))).toBe('2026-03-02T12:00:00.000Z');
    expect(await createdTime(inbound('Mon, 09 Mar 2026 08:00:00 +0000'))).toBe('2026-03-02T12:00:00.000Z');
  });
});
