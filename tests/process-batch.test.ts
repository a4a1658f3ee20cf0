/**
 * Batched handling sends the same mail as one-by-one handling, and a batch whose sending fails
 * is repeated by the next run without sending anything twice.
 */
import { describe, expect, it } from 'vitest';
import type { InboundMail, Mailer } from '../src/core/ports';
import { processMail, Run, SettingsError } from '../src/core/process';
import { plusAddress } from '../src/core/address';
import type { OutgoingMessage } from '../src/core/types';
import { agents, ManualClock, MemoryMailer, MemoryStore, rawMail, silentLog, SUPPORT, testSigner } from './support/memory';

function mailbox(): InboundMail[] {
  const customers = ['dana', 'eve', 'finn'];
  const mails: InboundMail[] = [];
  customers.forEach((name, i) => {
    mails.push({
      sourceId: `${name}-1`,
      threadId: '',
      raw: rawMail({ From: `${name}@customer.example`, To: 'support@example.com', Subject: `Problem ${i}`, 'Message-ID': `<${name}.1@customer.example>` }),
    });
    mails.push({
      sourceId: `${name}-2`,
      threadId: '',
      raw: rawMail({ From: `${name}@customer.example`, To: 'support@example.com', Subject: `Re: Problem ${i}`, 'Message-ID': `<${name}.2@customer.example>`, 'In-Reply-To': `<${name}.1@customer.example>` }, 'More details'),
    });
  });
  return mails;
}

function deps(store: MemoryStore, mailer: Mailer) {
  return { store, mailer, signer: testSigner, clock: new ManualClock(), log: silentLog };
}

const keys = (sent: OutgoingMessage[]) => sent.map((message) => message.key).sort();

describe('batched handling', () => {
  it('sends what one-by-one handling sends', async () => {
    const single = { store: new MemoryStore({ team: agents('Alice', 'Bob') }), mailer: new MemoryMailer() };
    await processMail(deps(single.store, single.mailer), mailbox());

    const batched = { store: new MemoryStore({ team: agents('Alice', 'Bob') }), mailer: new MemoryMailer() };
    const run = await Run.start(deps(batched.store, batched.mailer));
    const mails = mailbox();
    await run.handleBatch(mails.slice(0, 4));
    await run.handleBatch(mails.slice(4));
    await run.finish();

    expect(keys(batched.mailer.sent)).toEqual(keys(single.mailer.sent));
    expect(batched.store.snapshot.tickets).toEqual(single.store.snapshot.tickets);
    expect(batched.store.snapshot.messages.length).toBe(single.store.snapshot.messages.length);
  });

  it('repeats a failed batch without sending twice', async () => {
    const store = new MemoryStore({ team: agents('Alice', 'Bob') });
    const mailer = new MemoryMailer();
    mailer.failAt = 3;
    const failing = await Run.start(deps(store, mailer));
    await expect(failing.handleBatch(mailbox())).rejects.toThrow('quota exceeded');
    expect(store.saves).toBe(0);
    expect(mailer.sent).toHaveLength(3);

    mailer.failAt = -1;
    const retry = await Run.start(deps(store, mailer));
    await retry.handleBatch(mailbox());
    await retry.finish();
    expect(new Set(keys(mailer.sent)).size).toBe(mailer.sent.length);
    expect(mailer.sent).toHaveLength(6);
    expect(store.snapshot.tickets).toHaveLength(3);
  });
});

describe('a message the server rejects', () => {
  it('keeps its row as skipped with the reason', async () => {
    const store = new MemoryStore({ team: agents('Alice', 'Bob') });
    const mailer = new MemoryMailer();
    const rejecting: Mailer = {
      send: (message: OutgoingMessage) => mailer.send(message),
      wasSent: (message: OutgoingMessage) => mailer.wasSent(message),
      sendAll: (messages: OutgoingMessage[]) => {
        const [first, ...rest] = messages;
        for (const message of rest) mailer.send(message);
        return first === undefined ? [] : [{ key: first.key, reason: 'Gmail rejected it (HTTP 400: Invalid To header)' }];
      },
    };
    const run = await Run.start(deps(store, rejecting));
    await run.handleBatch(mailbox().slice(0, 2));
    const report = await run.finish();

    const rows = store.snapshot.messages.filter((row) => row.key !== '');
    expect(rows.map((row) => row.state)).toEqual(['skipped', 'sent']);
    expect(rows[0]!.reason).toBe('notification not sent: Gmail rejected it (HTTP 400: Invalid To header)');
    expect(report.sent.map((message) => message.key)).toEqual([rows[1]!.key]);
  });
});

describe('an invalid address in Settings', () => {
  it.each([
    ['support address', { supportAddress: 'not-an-address' }, /"Support address"/],
    ['team group address', { teamAddress: 'team at example.com' }, /"Team group address".*clear it/],
  ])('stops the run before any message is handled: %s', async (_name, settings, message) => {
    const store = new MemoryStore({ team: agents('Alice'), settings });
    const mailer = new MemoryMailer();
    const run = processMail(deps(store, mailer), mailbox());

    await expect(run).rejects.toThrow(SettingsError);
    await expect(run).rejects.toThrow(message);
    expect(store.saves).toBe(0);
    expect(mailer.sent).toEqual([]);
  });
});

describe('an agent reply with only quoted text', () => {
  it('is skipped instead of relayed empty', async () => {
    const store = new MemoryStore({ team: agents('Alice') });
    const mailer = new MemoryMailer();
    const [first] = mailbox();
    const reply = rawMail(
      {
        From: 'alice@example.com',
        To: plusAddress(SUPPORT, testSigner, 1, 'reply'),
        Subject: 'Re: [#1] Problem 0',
        'Message-ID': '<alice.1@example.com>',
      },
      'On Mon, 2 Mar 2026, Dana wrote:\n> The export fails.',
    );
    await processMail(deps(store, mailer), [first!, { sourceId: 'reply', threadId: '', raw: reply }]);

    expect(mailer.sent.map((message) => message.kind)).toEqual(['notification']);
    const row = store.snapshot.messages.find((record) => record.sourceId === 'reply')!;
    expect(row.state).toBe('skipped');
    expect(row.reason).toBe('not relayed: the reply has no text of its own, only quoted text');
  });
});

describe('customer of a web-form message', () => {
  it('is the Reply-To person, not the no-reply sender', async () => {
    const store = new MemoryStore({ team: agents('Alice') });
    const mailer = new MemoryMailer();
    const raw = rawMail({ From: 'Shop <noreply@shop.example>', 'Reply-To': 'Kim Buyer <kim@buyer.example>', To: 'support@example.com', Subject: 'Order 77' });
    await processMail(deps(store, mailer), [{ sourceId: 'form', threadId: '', raw }]);
    expect(store.snapshot.tickets[0]!.customer).toEqual({ name: 'Kim Buyer', email: 'kim@buyer.example' });
  });
});
