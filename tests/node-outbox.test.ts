import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../src/core/ports';
import type { OutgoingMessage } from '../src/core/types';
import { keyPart, listOutbox, OutboxMailer } from '../src/node/outbox';

let root = '';
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'plusdesk-outbox-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Records every key, as a workbook that saved all of a run's mail does. */
const recordedAll = () => true;

function freshDir(): string {
  counter++;
  return join(root, `run-${counter}`);
}

const clock: Clock = { now: () => new Date('2025-03-14T09:26:53Z') };

function outgoing(key: string, overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    kind: 'notification',
    ticket: 42,
    key,
    messageId: `${key}@plusdesk.example.com`,
    from: { name: 'Acme Support', email: 'support@example.com' },
    to: [{ name: 'Alice', email: 'alice@example.com' }],
    cc: [],
    replyTo: [{ name: 'Reply', email: 'support+42-r-k7fq2m@example.com' }],
    subject: '[#42] Printer is on fire',
    text: 'It is still burning.',
    html: '',
    inReplyTo: 'customer-1@example.org',
    references: ['customer-1@example.org'],
    headers: { 'X-Plusdesk-Ticket': '42', 'X-Plusdesk-Key': key },
    attachments: [],
    threadId: '',
    reasons: {},
    ...overrides,
  };
}

async function outboxNames(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'outbox'))).filter((name) => name.endsWith('.eml')).sort();
}

describe('OutboxMailer', () => {
  it('writes messages as numbered .eml files in send order', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    await mailer.send(outgoing('n42-a'));
    await mailer.send(outgoing('r42-b', { kind: 'relay' }));
    await mailer.send(outgoing('a7-c', { kind: 'acknowledgement', ticket: 7 }));
    await mailer.settle(recordedAll);

    expect(await outboxNames(dir)).toEqual([
      '0001-notification-42-n42-a.eml',
      '0002-relay-42-r42-b.eml',
      '0003-acknowledgement-7-a7-c.eml',
    ]);
  });

  it('writes the MIME message dated by the clock', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    await mailer.send(outgoing('n42-a'));
    await mailer.settle(recordedAll);
    const raw = await readFile(join(dir, 'outbox', '0001-notification-42-n42-a.eml'), 'utf8');

    expect(raw).toMatch(/^Date: Fri, 14 Mar 2025 09:26:53 \+0000\r\n/);
    expect(raw).toContain('\r\nX-Plusdesk-Key: n42-a\r\n');
    expect(raw).toContain('\r\nMessage-ID: <n42-a@plusdesk.example.com>\r\n');
  });

  it('reports a key as sent once its file exists', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    const message = outgoing('n42-a');

    expect(await mailer.wasSent(message)).toBe(false);
    await mailer.send(message);
    expect(await mailer.wasSent(message)).toBe(true);
    expect(await mailer.wasSent(outgoing('n42-other'))).toBe(false);
  });

  it('finds messages of an earlier run and goes on numbering', async () => {
    const dir = freshDir();
    const first = new OutboxMailer({ dir, clock });
    await first.send(outgoing('n42-a'));
    await first.send(outgoing('n42-b'));
    await first.settle(recordedAll);
    const rerun = new OutboxMailer({ dir, clock });

    expect(await rerun.wasSent(outgoing('n42-a'))).toBe(true);
    expect(await rerun.wasSent(outgoing('n42-c'))).toBe(false);
    await rerun.send(outgoing('n42-c'));
    await rerun.settle(recordedAll);
    expect(await outboxNames(dir)).toEqual([
      '0001-notification-42-n42-a.eml',
      '0002-notification-42-n42-b.eml',
      '0003-notification-42-n42-c.eml',
    ]);
  });

  it('never writes a key twice', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    await mailer.send(outgoing('n42-a'));
    await mailer.send(outgoing('n42-a'));
    await mailer.settle(recordedAll);
    const rerun = new OutboxMailer({ dir, clock });
    await rerun.send(outgoing('n42-a'));
    await rerun.settle(recordedAll);

    expect(await outboxNames(dir)).toEqual(['0001-notification-42-n42-a.eml']);
  });

  it('numbers sends started together in call order', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    await Promise.all(['k1', 'k2', 'k3', 'k4'].map((key) => mailer.send(outgoing(key))));
    await mailer.settle(recordedAll);

    expect(await outboxNames(dir)).toEqual([
      '0001-notification-42-k1.eml',
      '0002-notification-42-k2.eml',
      '0003-notification-42-k3.eml',
      '0004-notification-42-k4.eml',
    ]);
  });

  it('encodes keys that are not safe in file names', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    const unsafe = outgoing('n42/../ünï:*?');
    await mailer.send(unsafe);
    await mailer.settle(recordedAll);
    const [name] = await outboxNames(dir);

    expect(name).toBe('0001-notification-42-n42%2F..%2F%C3%BCn%C3%AF%3A%2A%3F.eml');
    expect(await mailer.wasSent(unsafe)).toBe(true);
    expect(await mailer.wasSent(outgoing('n42_.._ünï_*?'))).toBe(false);
  });

  it('shortens very long keys with a hash', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    const long = outgoing(`n42-${'x'.repeat(400)}`);
    const longer = outgoing(`n42-${'x'.repeat(401)}`);
    await mailer.send(long);
    await mailer.settle(recordedAll);
    const [name] = await outboxNames(dir);

    expect(Buffer.byteLength(name!)).toBeLessThan(200);
    expect(await mailer.wasSent(long)).toBe(true);
    expect(await mailer.wasSent(longer)).toBe(false);
    expect(keyPart(long.key)).not.toBe(keyPart(longer.key));
  });

  it('rejects a message without a key', async () => {
    const mailer = new OutboxMailer({ dir: freshDir(), clock });

    await expect(mailer.send(outgoing(''))).rejects.toThrow(/has no key/);
  });

  it.each(['k\r\nend', 'k\u0000', 'k\u007f', 'a\uD800b', 'a\uDC00b'])('rejects the key %j', async (key) => {
    const mailer = new OutboxMailer({ dir: freshDir(), clock });

    await expect(mailer.send(outgoing(key))).rejects.toThrow(/is invalid: it contains a control character or an unpaired surrogate/);
  });

  it('leaves no temporary files', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    await mailer.send(outgoing('k1'));
    await mailer.send(outgoing('k2'));
    await mailer.settle(recordedAll);

    expect((await readdir(join(dir, 'outbox'))).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});

describe('OutboxMailer before the workbook is saved', () => {
  it('moves recorded mail to the outbox', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    await mailer.send(outgoing('k1'));

    expect(await outboxNames(dir)).toEqual([]);
    expect(await mailer.wasSent(outgoing('k1'))).toBe(true);
    await mailer.settle(recordedAll);
    expect(await outboxNames(dir)).toEqual(['0001-notification-42-k1.eml']);
  });

  it("deletes a run's unrecorded mail", async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    await mailer.send(outgoing('recorded'));
    await mailer.send(outgoing('unrecorded'));
    await mailer.settle((key) => key === 'recorded');

    expect(await outboxNames(dir)).toEqual(['0001-notification-42-recorded.eml']);
    expect(await mailer.wasSent(outgoing('unrecorded'))).toBe(false);
  });

  it('recovers recorded mail of a dead run', async () => {
    const dir = freshDir();
    const dead = new OutboxMailer({ dir, clock });
    await dead.send(outgoing('saved'));
    await dead.send(outgoing('lost'));
    const next = new OutboxMailer({ dir, clock });
    await next.settle((key) => key === 'saved');

    expect(await outboxNames(dir)).toEqual(['0001-notification-42-saved.eml']);
    expect(await readdir(join(dir, 'outbox'))).toEqual(['0001-notification-42-saved.eml']);
    expect(await next.wasSent(outgoing('lost'))).toBe(false);
    await next.send(outgoing('lost'));
    await next.settle(recordedAll);
    expect(await outboxNames(dir)).toEqual(['0001-notification-42-saved.eml', '0002-notification-42-lost.eml']);
  });

  it('settles encoded and cut keys by the whole key', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    const encoded = outgoing('n42/ünï:*?');
    const long = outgoing(`n42-${'x'.repeat(400)}`);
    const longer = outgoing(`n42-${'x'.repeat(401)}`);
    // Cut keys whose header is folded or written as encoded words.
    const spaced = outgoing('long '.repeat(60));
    const accented = outgoing('ü'.repeat(100));
    const tailed = outgoing(`${'Z'.repeat(200)} tail`);
    for (const message of [encoded, long, longer, spaced, accented, tailed]) await mailer.send(message);
    const recorded = new Set([encoded.key, long.key, spaced.key, accented.key, tailed.key]);
    await mailer.settle((key) => recorded.has(key));

    expect(await outboxNames(dir)).toEqual([
      `0001-notification-42-${keyPart(encoded.key)}.eml`,
      `0002-notification-42-${keyPart(long.key)}.eml`,
      `0004-notification-42-${keyPart(spaced.key)}.eml`,
      `0005-notification-42-${keyPart(accented.key)}.eml`,
      `0006-notification-42-${keyPart(tailed.key)}.eml`,
    ]);
    expect(await mailer.wasSent(longer)).toBe(false);
    expect((await listOutbox(dir)).map((entry) => entry.key)).toEqual([encoded.key, long.key, spaced.key, accented.key, tailed.key]);
  });
});

describe('listOutbox', () => {
  it('returns the decoded headers of each file in send order', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    for (let i = 1; i <= 11; i++) {
      await mailer.send(
        outgoing(`k${i}`, {
          ticket: i,
          subject: `[#${i}] Grüße ${i}`,
          to: [{ name: 'Zoë', email: `zoe${i}@example.org` }],
          cc: i === 1 ? [{ name: '', email: 'boss@example.org' }] : [],
          references: ['a@example.org', 'b@example.org'],
        }),
      );
    }
    await mailer.settle(recordedAll);
    const entries = await listOutbox(dir);
    const [first] = entries;

    expect(entries.map((entry) => entry.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(entries.map((entry) => entry.key)).toEqual(
      Array.from({ length: 11 }, (_, i) => `k${i + 1}`),
    );
    expect(first?.file).toBe('0001-notification-1-k1.eml');
    expect(first?.kind).toBe('notification');
    expect(first?.ticket).toBe(1);
    expect(first?.subject).toBe('[#1] Grüße 1');
    expect(first?.from).toEqual({ name: 'Acme Support', email: 'support@example.com' });
    expect(first?.to).toEqual([{ name: 'Zoë', email: 'zoe1@example.org' }]);
    expect(first?.cc).toEqual([{ name: '', email: 'boss@example.org' }]);
    expect(first?.replyTo).toEqual([{ name: 'Reply', email: 'support+42-r-k7fq2m@example.com' }]);
    expect(first?.messageId).toBe('k1@plusdesk.example.com');
    expect(first?.inReplyTo).toBe('customer-1@example.org');
    expect(first?.references).toEqual(['a@example.org', 'b@example.org']);
    expect(first?.date).toBe('2025-03-14T09:26:53.000Z');
    expect(first?.headers['x-plusdesk-ticket']).toEqual(['42']);
    expect(first?.text).toBe('It is still burning.');
  });

  it('returns nothing when there is no outbox', async () => {
    expect(await listOutbox(freshDir())).toEqual([]);
  });

  it('skips files that are not outbox messages', async () => {
    const dir = freshDir();
    const mailer = new OutboxMailer({ dir, clock });
    await mailer.send(outgoing('k1'));
    await mailer.settle(recordedAll);
    await mailer.send(outgoing('k2'));
    await writeFile(join(dir, 'outbox', 'notes.txt'), 'not mail');
    await writeFile(join(dir, 'outbox', '.0003-notification-1-k3.eml.tmp'), 'half');

    expect((await listOutbox(dir)).map((entry) => entry.file)).toEqual([
      '0001-notification-42-k1.eml',
    ]);
  });
});
