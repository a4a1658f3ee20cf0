/**
 * Near the daily recipient limit, notifications to agents wait for an hourly digest and the
 * Messages tab records it, while relays to customers still go out.
 */
import { describe, expect, it } from 'vitest';
import type { InboundMail } from '../src/core/ports';
import { DIGEST_INTERVAL_MS } from '../src/core/budget';
import { processMail, Run } from '../src/core/process';
import { defaultSettings, rowsToSettings } from '../src/core/sheet';
import { plusAddress } from '../src/core/address';
import type { MessageRecord, Settings } from '../src/core/types';
import { ManualClock, MemoryMailer, MemoryStore, rawMail, silentLog, SUPPORT, testSigner } from './support/memory';

const NOW = 'Mon, 02 Mar 2026 12:00:00 +0000';

function newTicket(n: number): InboundMail {
  return {
    sourceId: `new-${n}`,
    threadId: `thread-${n}`,
    raw: rawMail(
      { From: `customer${n}@shop.example`, To: SUPPORT, Subject: `Order ${n} is late`, 'Message-ID': `<order${n}@shop.example>`, Date: NOW },
      `Where is order ${n}?`,
    ),
  };
}

function agentReply(ticket: number, n: number): InboundMail {
  return {
    sourceId: `reply-${ticket}-${n}`,
    threadId: '',
    raw: rawMail(
      {
        From: 'alice@example.com',
        To: plusAddress(SUPPORT, testSigner, ticket, 'reply'),
        Subject: `Re: [#${ticket}] Order ${ticket} is late`,
        'Message-ID': `<reply${ticket}.${n}@example.com>`,
        Date: NOW,
      },
      'It ships today.',
    ),
  };
}

/** Creates a desk of three agents whose limit lets notifications to agents reach six recipients a day. */
function desk(settings: Partial<Settings> = {}) {
  const store = new MemoryStore({ settings: { dailyRecipientLimit: 8, ...settings } });
  const mailer = new MemoryMailer();
  const clock = new ManualClock();
  const run = (mail: InboundMail[]) => processMail({ store, mailer, signer: testSigner, clock, log: silentLog }, mail);
  return { store, mailer, clock, run };
}

/**
 * Creates a desk with a limit of 10 after one digest cycle: tickets #1 and #2 notified, #3 sent
 * in a digest an hour later, and #4 waiting for the next one.
 */
async function deskAfterOneDigest() {
  const built = desk({ dailyRecipientLimit: 10 });
  await built.run([newTicket(1), newTicket(2), newTicket(3)]);
  built.clock.advance(DIGEST_INTERVAL_MS);
  await built.run([]);
  await built.run([newTicket(4)]);
  return built;
}

/** Creates a desk near its limit whose ticket #1 waited and was sent in a digest an hour later. */
async function deskWithOneDigestSent() {
  const built = desk({ dailyRecipientLimit: 100 });
  built.store.snapshot.messages.push(sentRow('2026-03-02T11:00:00.000Z', 73));
  await built.run([newTicket(1)]);
  built.clock.advance(DIGEST_INTERVAL_MS);
  await built.run([]);
  return built;
}

const rows = (store: MemoryStore, state: MessageRecord['state']) => store.snapshot.messages.filter((row) => row.state === state);

describe('daily recipient limit', () => {
  it('holds back past the agents share', async () => {
    const { store, mailer, run } = desk();
    await run([newTicket(1), newTicket(2), newTicket(3)]);

    expect(mailer.sent.map((message) => message.ticket)).toEqual([1, 2]);
    const waiting = rows(store, 'digest');
    expect(waiting.map((row) => row.ticket)).toEqual([3]);
    expect(waiting[0]!.author).toBe('alice@example.com, bob@example.com, carol@example.com');
    expect(waiting[0]!.reason).toBe('new-ticket notification waits for the hourly digest: 6 of 8 daily recipients used');
    expect(waiting[0]!.summary).toContain('Where is order 3?');
  });

  it('announces the switch once', async () => {
    const { store, run } = desk();
    await run([newTicket(1), newTicket(2), newTicket(3), newTicket(4)]);

    const notices = store.snapshot.messages.filter((row) => row.kind === 'system');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.reason).toContain('Notifications to agents now wait for an hourly digest: 6 of 8 daily recipients used');
    expect(notices[0]!.reason).toContain('"Daily recipient limit" in Settings');
    expect(notices[0]!.reason).toContain('Set a "Team group address" in Settings');
  });

  it('announces again after a day', async () => {
    const { store, clock, run } = await deskAfterOneDigest();
    const notices = () => store.snapshot.messages.filter((row) => row.kind === 'system').length;
    expect(notices()).toBe(1);

    clock.advance(25 * 60 * 60 * 1000);
    await run([]);
    expect(rows(store, 'digest')).toEqual([]);
    store.snapshot.messages.push(sentRow(clock.now().toISOString(), 8));
    const later = newTicket(5);
    later.raw = (later.raw as string).replace(NOW, 'Tue, 03 Mar 2026 14:00:00 +0000');
    await run([later]);
    expect(notices()).toBe(2);
  });

  it('still relays agent replies to the customer', async () => {
    const { mailer, run } = desk();
    await run([newTicket(1), newTicket(2), newTicket(3)]);
    await run([agentReply(1, 1), agentReply(2, 1)]);

    const relays = mailer.sent.filter((message) => message.kind === 'relay');
    expect(relays.map((message) => message.to[0]!.email)).toEqual(['customer1@shop.example', 'customer2@shop.example']);
  });

  it('skips acknowledgements past the share', async () => {
    const { store, mailer, run } = desk({ autoAcknowledge: true, dailyRecipientLimit: 10 });
    await run([newTicket(1), newTicket(2), newTicket(3)]);

    // Each new ticket costs three agents and the customer, against a share of 7.
    expect(mailer.sent.map((message) => message.kind)).toEqual(['notification', 'acknowledgement', 'notification']);
    const skipped = rows(store, 'skipped').filter((row) => row.reason.startsWith('acknowledgement not sent'));
    expect(skipped.map((row) => row.ticket)).toEqual([2, 3]);
  });

  it('counts only the last 24 hours', async () => {
    const { mailer, clock, run } = desk();
    await run([newTicket(1), newTicket(2)]);
    clock.advance(25 * 60 * 60 * 1000);
    const later = newTicket(3);
    later.raw = (later.raw as string).replace(NOW, 'Tue, 03 Mar 2026 13:00:00 +0000');
    await run([later]);

    expect(mailer.sent.map((message) => message.ticket)).toEqual([1, 2, 3]);
  });
});

describe('digest', () => {
  it('waits an hour after holding', async () => {
    const { mailer, clock, run } = desk();
    await run([newTicket(1), newTicket(2), newTicket(3)]);
    clock.advance(DIGEST_INTERVAL_MS - 60_000);
    await run([]);

    expect(mailer.sent.filter((message) => message.headers['X-Plusdesk-Event'] === 'digest')).toEqual([]);
  });

  it('sends one digest per recipient', async () => {
    const { store, mailer, clock, run } = desk({ dailyRecipientLimit: 100 });
    // Raise the usage near the limit with rows of mail sent earlier today.
    store.snapshot.messages.push(sentRow('2026-03-02T11:00:00.000Z', 73));
    await run([newTicket(1), newTicket(2)]);
    clock.advance(DIGEST_INTERVAL_MS);
    await run([]);

    const digests = mailer.sent.filter((message) => message.headers['X-Plusdesk-Event'] === 'digest');
    expect(digests.map((message) => message.to[0]!.email)).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com']);
    const text = digests[0]!.text;
    expect(digests[0]!.subject).toBe('plusdesk digest: 2 updates on 2 tickets');
    expect(text).toContain('[#1] Order 1 is late (open, unassigned)');
    expect(text).toContain('Where is order 2?');
    expect(text).toContain(`Answer the customer: ${plusAddress(SUPPORT, testSigner, 1, 'reply')}`);
    expect(text).toContain(`Add an internal note: ${plusAddress(SUPPORT, testSigner, 2, 'comment')}`);
    expect(rows(store, 'digest')).toEqual([]);
    const sentDigestRows = store.snapshot.messages.filter((row) => row.reason === 'digest');
    expect(sentDigestRows.map((row) => row.author)).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com']);
  });

  it('reply from an agent opens nothing', async () => {
    const { store, mailer, run } = await deskWithOneDigestSent();
    const digest = mailer.sent.find((message) => message.headers['X-Plusdesk-Event'] === 'digest')!;
    const answer = rawMail(
      { From: 'alice@example.com', To: SUPPORT, Subject: `Re: ${digest.subject}`, Date: NOW, 'In-Reply-To': `<${digest.messageId}>` },
      'Thanks',
    );
    await run([{ sourceId: 'answer', threadId: '', raw: answer }]);

    expect(store.snapshot.tickets).toHaveLength(1);
    expect(store.snapshot.messages.find((row) => row.sourceId === 'answer')!.reason).toContain('reply to a plusdesk digest');
  });

  it('is not sent twice', async () => {
    const { mailer, clock, run } = await deskWithOneDigestSent();
    const count = mailer.sent.length;
    clock.advance(DIGEST_INTERVAL_MS);
    await run([]);

    expect(mailer.sent).toHaveLength(count);
  });
});

describe('recipients after a digest', () => {
  it('counts digests, not carried notifications', async () => {
    const { store } = await deskAfterOneDigest();

    const waiting = rows(store, 'digest');
    expect(waiting.map((row) => row.ticket)).toEqual([4]);
    // Two notifications of three and three digests of one recipient each.
    expect(waiting[0]!.reason).toContain('9 of 10 daily recipients used');
  });

  it('waits from hold time, not Date', async () => {
    const { mailer, clock, run } = desk();
    const old = [newTicket(1), newTicket(2), newTicket(3)].map((mail) => ({
      ...mail,
      raw: (mail.raw as string).replace(NOW, 'Mon, 02 Mar 2026 08:00:00 +0000'),
    }));
    await run(old);
    clock.advance(60_000);
    await run([]);

    expect(mailer.sent.filter((message) => message.headers['X-Plusdesk-Event'] === 'digest')).toEqual([]);
  });
});

describe('digest past the whole limit', () => {
  it('waits and is tried again an hour later', async () => {
    const { store, mailer, clock, run } = desk({ dailyRecipientLimit: 10 });
    store.snapshot.messages.push(sentRow('2026-03-02T11:30:00.000Z', 10));
    await run([newTicket(1)]);
    clock.advance(DIGEST_INTERVAL_MS);

    const waiting = await Run.start({ store, mailer, signer: testSigner, clock, log: silentLog });
    expect(await waiting.handleWaiting()).toBe(true);
    expect(mailer.sent).toEqual([]);
    expect(waiting.digestDue()).toBe(clock.now().getTime() + DIGEST_INTERVAL_MS);
  });
});

describe('daily recipient limit setting', () => {
  const read = (value: string | number) => rowsToSettings([['Daily recipient limit', value]], defaultSettings(SUPPORT)).dailyRecipientLimit;

  it('reads a number with separators', () => {
    expect(read('1,500')).toBe(1500);
    expect(read(900)).toBe(900);
  });

  it('keeps the default for an unreadable value', () => {
    expect(read('lots')).toBe(1500);
    expect(read(-3)).toBe(1500);
    expect(read('2.5')).toBe(1500);
  });
});

/** Builds a row of earlier mail to `count` recipients. */
function sentRow(time: string, count: number): MessageRecord {
  return {
    time,
    ticket: null,
    kind: 'notification',
    state: 'sent',
    author: Array.from({ length: count }, (_, i) => `someone${i}@example.com`).join(', '),
    messageId: '',
    sourceId: '',
    key: `earlier-${time}`,
    reason: 'notification',
    summary: '',
  };
}
