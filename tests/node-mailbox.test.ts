import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maildirDeliveryTime, MailboxError, openMailbox, postmarkDate } from '../src/node/mailbox';
import type { MailboxSource } from '../src/node/mailbox';
import type { InboundMail } from '../src/core/ports';
import { hasShared, sharedMissingNote, sharedPath } from './shared';

let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'plusdesk-mailbox-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, string>): Promise<string> {
  const path = join(root, name);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(join(path, file, '..'), { recursive: true });
    await writeFile(join(path, file), content);
  }
  await mkdir(path, { recursive: true });
  return path;
}

/** Builds an RFC 5322 message. A null `date` leaves the Date header out. */
function mail(subject: string, date: string | null, body = 'Hello.', eol = '\r\n'): string {
  const lines = [
    'From: Customer <customer@example.org>',
    'To: support@example.com',
    `Subject: ${subject}`,
    ...(date === null ? [] : [`Date: ${date}`]),
    `Message-ID: <${subject.replace(/\W/g, '')}@example.org>`,
    '',
    body,
  ];
  return lines.join(eol) + eol;
}

async function collect(source: MailboxSource): Promise<InboundMail[]> {
  const messages: InboundMail[] = [];
  for await (const message of source.messages()) messages.push(message);
  return messages;
}

function text(message: InboundMail | undefined): string {
  if (message === undefined) return '';
  return typeof message.raw === 'string'
    ? message.raw
    : Buffer.from(message.raw).toString('utf8');
}

function subjects(messages: InboundMail[]): string[] {
  return messages.map((message) => /^Subject: (.*)$/m.exec(text(message))?.[1]?.trim() ?? '');
}

async function expectMailboxError(path: string, pattern: RegExp): Promise<MailboxError> {
  const error = await openMailbox(path).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MailboxError);
  const message = (error as MailboxError).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
  return error as MailboxError;
}

describe('openMailbox folder', () => {
  it('lists .eml and .box files in date order', async () => {
    const path = await folder('folder-order', {
      'b.eml': mail('second', 'Tue, 02 Jan 2024 10:00:00 +0000'),
      'a.eml': mail('third', 'Wed, 03 Jan 2024 10:00:00 +0000'),
      'nested/c.box': mail('first', 'Mon, 01 Jan 2024 10:00:00 +0000'),
      'notes.txt': 'not a message',
      '.hidden.eml': mail('hidden', 'Mon, 01 Jan 2024 09:00:00 +0000'),
    });
    const source = await openMailbox(path);
    const messages = await collect(source);

    expect(source.kind).toBe('folder');
    expect(source.count).toBe(3);
    expect(subjects(messages)).toEqual(['first', 'second', 'third']);
    expect(messages.map((message) => message.sourceId)).toEqual(['nested/c.box', 'b.eml', 'a.eml']);
    expect(messages.map((message) => message.threadId)).toEqual(['', '', '']);
    expect(messages[0]?.date).toBe('2024-01-01T10:00:00.000Z');
  });

  it('returns each file byte for byte', async () => {
    const content = mail('Grüße', 'Mon, 01 Jan 2024 10:00:00 +0000', 'Körper\r\n>From here');
    const path = await folder('folder-bytes', { 'one.eml': content });
    const [message] = await collect(await openMailbox(path));

    expect(Buffer.from(message!.raw as Uint8Array)).toEqual(Buffer.from(content));
  });

  it('keeps a message without a date after its file neighbour', async () => {
    const path = await folder('folder-undated', {
      '1.eml': mail('jan 5', 'Fri, 05 Jan 2024 10:00:00 +0000'),
      '2.eml': mail('undated', null),
      '3.eml': mail('invalid date', 'someday soon'),
      '10.eml': mail('jan 1', 'Mon, 01 Jan 2024 10:00:00 +0000'),
    });
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['jan 1', 'jan 5', 'undated', 'invalid date']);
    expect(messages[2]?.date).toBe('2024-01-05T10:00:00.000Z');
    expect(messages[3]?.date).toBe('2024-01-05T10:00:00.000Z');
  });

  it('dates an undated file by its envelope line', async () => {
    const path = await folder('folder-envelope-date', {
      'a.box': `From someone@example.org  Tue Jan  2 10:00:00 2024\n${mail('enveloped', null)}`,
      'b.eml': mail('dated', 'Mon, 01 Jan 2024 10:00:00 +0000'),
    });
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['dated', 'enveloped']);
    expect(messages[1]?.date).toBe('2024-01-02T10:00:00.000Z');
  });

  it('finds a Date header after a 94 KB header line', async () => {
    const path = await folder('folder-long-header', {
      '1.eml': mail('later', 'Tue, 05 Mar 2024 10:00:00 +0000'),
      '2.eml': `X-Long: ${'x'.repeat(94_000)}\r\n${mail('earlier', 'Mon, 04 Mar 2024 10:00:00 +0000')}`,
    });
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['earlier', 'later']);
  });

  it('orders messages with equal dates by file name', async () => {
    const date = 'Mon, 01 Jan 2024 10:00:00 +0000';
    const path = await folder('folder-stable', {
      '2.eml': mail('two', date),
      '10.eml': mail('ten', date),
      '1.eml': mail('one', date),
    });
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['one', 'two', 'ten']);
  });

  it('drops an mbox envelope line at the start of a file', async () => {
    const content = mail('enveloped', 'Mon, 01 Jan 2024 10:00:00 +0000');
    const path = await folder('folder-envelope', {
      'a.box': `From someone@example.org  Mon Jan  1 10:00:00 2024\n${content}`,
    });
    const [message] = await collect(await openMailbox(path));

    expect(text(message)).toBe(content);
  });

  it('opens an empty folder with no messages', async () => {
    const path = await folder('folder-empty', {});
    const source = await openMailbox(path);

    expect(source.kind).toBe('folder');
    expect(source.count).toBe(0);
    expect(await collect(source)).toEqual([]);
  });

  it('rejects a folder that holds only an mbox file', async () => {
    const path = await folder('folder-mbox', { 'All mail.mbox': 'From x Mon Jan  1 10:00:00 2024\n' });

    await expectMailboxError(path, /contains no \.eml or \.box files.*All mail\.mbox.*Pass that file/);
  });

  it('reads the corpus folder of .box files', async (context) => {
    if (!hasShared) {
      context.skip(sharedMissingNote);
      return;
    }
    const path = sharedPath('corpus', 'zammad');
    const boxFiles = (await readdir(path)).filter((name) => name.endsWith('.box'));
    const source = await openMailbox(path);
    const messages = await collect(source);
    const ids = new Set(messages.map((message) => message.sourceId));

    expect(source.count).toBe(boxFiles.length);
    expect(ids.size).toBe(boxFiles.length);
    for (const message of messages) {
      expect((message.raw as Uint8Array).length).toBeGreaterThan(0);
      expect(text(message).startsWith('From ')).toBe(false);
    }
  });
});

/** Formats a time as an mbox postmark date in UTC: `Mon Jan  1 10:00:00 2024`. */
function asctime(time: number): string {
  const [weekday, day, month, year, clock] = new Date(time).toUTCString().replace(',', '').split(' ').slice(0, 5);
  return `${weekday} ${month} ${day!.replace(/^0/, ' ')} ${clock} ${year}`;
}

/** Writes mbox entries to a file under the test folder and reads its messages. */
async function readMbox(name: string, entries: string[]): Promise<InboundMail[]> {
  const path = join(root, name);
  await writeFile(path, entries.join(''));
  return collect(await openMailbox(path));
}

describe('openMailbox mbox', () => {
  /**
   * Writes entries as an mbox: postmark, message with `From ` escaped, blank line. Each postmark
   * has the time of the message's Date header, as when mail is delivered as it is sent, or a
   * fixed time for a message without one. With `dated` false, postmarks have no date, so the
   * Date headers order the messages.
   */
  function mbox(messages: string[], eol = '\n', blankLine = true, dated = true): string {
    return messages
      .map((message, index) => {
        const escaped = message.replace(/^(>*From )/gm, '>$1');
        const sent = Date.parse(/^Date: (.*)$/m.exec(message)?.[1]?.replace(/\(.*\)/, '') ?? '');
        const time = Number.isNaN(sent) ? 'Sat Jan 20 14:42:09 +0000 2024' : asctime(sent);
        const postmark = `From ${index}@xxx${dated ? ` ${time}` : ''}${eol}`;
        return postmark + escaped + (blankLine ? eol : '');
      })
      .join('');
  }

  const bodies = {
    first: mail('first', 'Mon, 01 Jan 2024 10:00:00 +0000', 'From the start:\n>From quoted\nend'),
    second: mail('second', 'Tue, 02 Jan 2024 10:00:00 +0000'),
    third: mail('third', 'Wed, 03 Jan 2024 10:00:00 +0000', 'Line one\n\nFrom me, with love'),
  };

  it('splits messages, orders them by date and unescapes From lines', async () => {
    const content = mbox([bodies.third, bodies.first, bodies.second], '\n');
    const path = join(root, 'lf.mbox');
    await writeFile(path, content);
    const source = await openMailbox(path);
    const messages = await collect(source);

    expect(source.kind).toBe('mbox');
    expect(source.count).toBe(3);
    expect(subjects(messages)).toEqual(['first', 'second', 'third']);
    expect(text(messages[0])).toBe(bodies.first);
    expect(text(messages[1])).toBe(bodies.second);
    expect(text(messages[2])).toBe(bodies.third);
  });

  it('names each message by file and byte offset', async () => {
    const content = mbox([bodies.third, bodies.first], '\n');
    const path = join(root, 'offsets.mbox');
    await writeFile(path, content);
    const messages = await collect(await openMailbox(path));
    const secondOffset = content.indexOf('From 1@xxx');

    expect(messages.map((message) => message.sourceId)).toEqual([
      `offsets.mbox#${secondOffset}`,
      'offsets.mbox#0',
    ]);
  });

  it('reads a CRLF mbox', async () => {
    const crlf = Object.values(bodies).map((body) => body.replace(/\r?\n/g, '\r\n'));
    const path = join(root, 'crlf.mbox');
    await writeFile(path, mbox([crlf[1]!, crlf[2]!, crlf[0]!], '\r\n'));
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['first', 'second', 'third']);
    expect(text(messages[0])).toBe(crlf[0]);
    expect(text(messages[0])).toContain('\r\n>From quoted\r\n');
    expect(text(messages[2])).toBe(crlf[2]);
  });

  it('splits at postmarks without blank lines between messages', async () => {
    const path = join(root, 'tight.mbox');
    await writeFile(path, mbox([bodies.second, bodies.first], '\n', false));
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['first', 'second']);
    expect(text(messages[0])).toBe(bodies.first);
  });

  it('reads folded dates and dates with comments', async () => {
    const folded = mail('folded', null).replace(
      'Subject: folded',
      'Subject: folded\nDate: Fri, 05 Jan 2024\n 10:00:00 +0000',
    );
    const commented = mail('commented', 'Thu, 04 Jan 2024 10:00:00 +0000 (UTC)');
    const path = join(root, 'dates.mbox');
    await writeFile(path, mbox([folded, commented], '\n', true, false));
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['commented', 'folded']);
    expect(messages.map((message) => message.date)).toEqual([
      '2024-01-04T10:00:00.000Z',
      '2024-01-05T10:00:00.000Z',
    ]);
  });

  it('ignores a Date line in the body', async () => {
    const undated = mail('undated', null, 'Date: Mon, 01 Jan 2001 10:00:00 +0000');
    const dated = mail('dated', 'Mon, 01 Jan 2024 10:00:00 +0000');
    const path = join(root, 'body-date.mbox');
    await writeFile(path, mbox([undated, dated], '\n', true, false));
    const messages = await collect(await openMailbox(path));

    // The body's Date line would date the undated message 2001, before the dated one.
    expect(subjects(messages)).toEqual(['undated', 'dated']);
    expect(messages[0]?.date).toBe('2024-01-01T10:00:00.000Z');
  });

  it('gives a first undated message the first date', async () => {
    const entries = [
      `From a@example.org\n${mail('undated', null)}\n`,
      `From b@example.org Tue Jan  2 10:00:00 2024\n${mail('dated', null)}\n`,
    ];
    const messages = await readMbox('first-undated.mbox', entries);

    expect(subjects(messages)).toEqual(['undated', 'dated']);
    expect(messages.map((message) => message.date)).toEqual(['2024-01-02T10:00:00.000Z', '2024-01-02T10:00:00.000Z']);
  });

  it('orders by postmark over the Date header', async () => {
    const entries = [
      `From a@example.org Fri Jan  2 10:00:00 2026\n${mail('question', 'Fri, 02 Jan 2026 15:00:00 +0000')}\n`,
      `From b@example.org Fri Jan  2 11:00:00 2026\n${mail('answer', 'Fri, 02 Jan 2026 11:00:00 +0000')}\n`,
      `From c@example.org Sat Jan  3 10:00:00 2026\n${mail('sender clock wrong', 'Fri, 01 Jan 2027 12:00:00 +0000')}\n`,
    ];
    const messages = await readMbox('late-header.mbox', entries);

    expect(subjects(messages)).toEqual(['question', 'answer', 'sender clock wrong']);
    expect(messages.map((message) => message.date)).toEqual([
      '2026-01-02T10:00:00.000Z',
      '2026-01-02T11:00:00.000Z',
      '2026-01-03T10:00:00.000Z',
    ]);
  });

  it('dates a message without a Date header by its postmark', async () => {
    const entries = [
      `From a@example.org Tue Jan  2 10:00:00 2024\n${mail('second', 'Tue, 02 Jan 2024 10:00:00 +0000')}\n`,
      `From b@example.org Mon Jan  1 09:00:00 2024\n${mail('undated', null)}\n`,
      `From c@example.org Wed Jan  3 10:00:00 2024\n${mail('third', null)}\n`,
    ];
    const messages = await readMbox('postmark-dates.mbox', entries);

    expect(subjects(messages)).toEqual(['undated', 'second', 'third']);
    expect(messages.map((message) => message.date)).toEqual([
      '2024-01-01T09:00:00.000Z',
      '2024-01-02T10:00:00.000Z',
      '2024-01-03T10:00:00.000Z',
    ]);
  });

  it('reads a Takeout message with Gmail headers', async () => {
    const message = [
      'X-GM-THRID: 1790383893830591938',
      'X-Gmail-Labels: Inbox,Opened',
      'Date: Sat, 20 Jan 2024 14:42:09 +0000',
      'Subject: takeout',
      '',
      'Body',
      '',
    ].join('\r\n');
    const path = join(root, 'takeout.mbox');
    await writeFile(path, `From 1790383893830591938@xxx Sat Jan 20 14:42:09 +0000 2024\r\n${message}\r\n`);
    const messages = await collect(await openMailbox(path));

    expect(messages).toHaveLength(1);
    expect(text(messages[0])).toBe(message);
  });

  it('opens an empty .mbox file with no messages', async () => {
    const path = join(root, 'empty.mbox');
    await writeFile(path, '');
    const source = await openMailbox(path);

    expect(source.count).toBe(0);
    expect(await collect(source)).toEqual([]);
  });

  it('iterates the messages again on a second call', async () => {
    const path = join(root, 'twice.mbox');
    await writeFile(path, mbox([bodies.first, bodies.second]));
    const source = await openMailbox(path);

    expect(subjects(await collect(source))).toEqual(['first', 'second']);
    expect(subjects(await collect(source))).toEqual(['first', 'second']);
  });
});

describe('openMailbox Maildir', () => {
  it('reads cur and new in date order and skips tmp', async () => {
    const path = await folder('maildir', {
      // Each name starts with the delivery time, an hour after the Date header.
      'cur/1704279600.M1P1.host:2,S': mail('read later', 'Wed, 03 Jan 2024 10:00:00 +0000'),
      'new/1704106800.M2P1.host': mail('new earlier', 'Mon, 01 Jan 2024 10:00:00 +0000'),
      'cur/1704193200.M3P1.host:2,RS': mail('read middle', 'Tue, 02 Jan 2024 10:00:00 +0000'),
      'tmp/1704020400.M4P1.host': mail('still being written', 'Sun, 31 Dec 2023 10:00:00 +0000'),
    });
    const source = await openMailbox(path);
    const messages = await collect(source);

    expect(source.kind).toBe('maildir');
    expect(source.count).toBe(3);
    expect(subjects(messages)).toEqual(['new earlier', 'read middle', 'read later']);
    expect(messages.map((message) => message.sourceId)).toEqual([
      '1704106800.M2P1.host',
      '1704193200.M3P1.host',
      '1704279600.M1P1.host',
    ]);
  });

  it('dates a message without a Date header by its delivery time', async () => {
    const path = await folder('maildir-undated', {
      'cur/1704103200.M1P1.host:2,S': mail('undated', null),
      'new/1704189600.M2P1.host': mail('dated', 'Mon, 01 Jan 2024 12:00:00 +0000'),
    });
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['undated', 'dated']);
    expect(messages[0]?.date).toBe('2024-01-01T10:00:00.000Z');
  });

  it('orders names that are no times by Date header', async () => {
    const path = await folder('maildir-numbered', {
      'new/000000001.msg': mail('second', 'Tue, 05 Mar 2024 10:00:00 +0000'),
      'new/000000002.msg': mail('first', 'Mon, 04 Mar 2024 10:00:00 +0000'),
    });
    await mkdir(join(path, 'cur'));
    const messages = await collect(await openMailbox(path));

    expect(subjects(messages)).toEqual(['first', 'second']);
    expect(messages[0]?.date).toBe('2024-03-04T10:00:00.000Z');
  });

  it('opens a Maildir without a tmp folder', async () => {
    const path = await folder('maildir-no-tmp', {
      'new/1.M1.host': mail('only', 'Mon, 01 Jan 2024 10:00:00 +0000'),
    });
    await mkdir(join(path, 'cur'));
    const source = await openMailbox(path);

    expect(source.kind).toBe('maildir');
    expect(source.count).toBe(1);
  });
});

describe('openMailbox errors', () => {
  it('rejects a missing path', async () => {
    const error = await expectMailboxError(join(root, 'nope'), /^Mailbox not found: .*nope\./);

    expect(error.message).toMatch(/Pass a folder of \.eml or \.box files, an mbox file/);
  });

  it('rejects a text file that is not an mbox', async () => {
    const path = join(root, 'notes.txt');
    await writeFile(path, 'Shopping list\nMilk\n');

    await expectMailboxError(path, /notes\.txt is not a mailbox: an mbox file starts with "From "/);
  });

  it('rejects a single message file', async () => {
    const path = join(root, 'single.eml');
    await writeFile(path, mail('single', 'Mon, 01 Jan 2024 10:00:00 +0000'));

    await expectMailboxError(path, /single\.eml is a single message, not a mailbox\. Pass the folder/);
  });

  it('rejects an empty file without an .mbox name', async () => {
    const path = join(root, 'empty.txt');
    await writeFile(path, '');

    await expectMailboxError(path, /empty\.txt is an empty file, not a mailbox/);
  });
});

describe('postmarkDate', () => {
  it.each([
    ['From 1790383893830591938@xxx Sat Jan 20 14:42:09 +0000 2024', '2024-01-20T14:42:09.000Z'],
    ['From someone@example.org  Mon Jan  1 10:00:00 2024', '2024-01-01T10:00:00.000Z'],
    ['From someone@example.org Mon Jan  1 10:00 2024\r', '2024-01-01T10:00:00.000Z'],
    ['From someone@example.org Mon Jan  1 11:00:00 2024 +0100', '2024-01-01T10:00:00.000Z'],
    ['From someone@example.org Mon Jan  1 05:00:00 -0500 2024', '2024-01-01T10:00:00.000Z'],
  ])('reads %j', (line, expected) => {
    expect(new Date(postmarkDate(line)!).toISOString()).toBe(expected);
  });

  it.each([
    'From someone@example.org',
    'From the start of the body',
    'From someone@example.org Mon Jan 32 10:00:00 2024',
    'From someone@example.org Mon Jan  1 25:00:00 2024',
    'From someone@example.org Tue Feb 31 10:00:00 2026',
    'From someone@example.org Thu Jan  1 12:00:00 0099',
    'From someone@example.org Wed Jan  7 10:00:00 UTC 2026',
    'From someone@example.org Wed Jan  7 10:00:00 +9999 2026',
    'Date: Mon, 01 Jan 2024 10:00:00 +0000',
  ])('rejects %j', (line) => {
    expect(postmarkDate(line)).toBeNull();
  });
});

describe('maildirDeliveryTime', () => {
  it('reads the seconds that start a unique name', () => {
    expect(maildirDeliveryTime('1704103200.M1P1.host')).toBe(Date.UTC(2024, 0, 1, 10));
  });

  it.each(['1.M1.host', 'msg-0001', '', '17041032000000.M1.host', '000000001.msg', '788918399.M1.host'])('rejects %j', (name) => {
    expect(maildirDeliveryTime(name)).toBeNull();
  });
});

describe('openMailbox large mbox', () => {
  const COUNT = 20_000;

  /** Returns the garbage collector, so that memory is measured without garbage. */
  function collector(): () => void {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  }

  function usedMemory(): number {
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  }

  it('streams 20,000 messages in date order with flat memory', async () => {
    const path = join(root, 'large.mbox');
    const filler = 'x'.repeat(70);
    const body = Array.from({ length: 25 }, (_, i) => `${i} ${filler}`).join('\n');
    const output = createWriteStream(path);
    for (let i = 0; i < COUNT; i++) {
      // Dates run backwards in file order, so the source has to sort all of them.
      const date = new Date(Date.UTC(2024, 0, 1) + (COUNT - i) * 60_000).toUTCString();
      const message = mail(`m${i}`, date, `${body}\n>From the archive`, '\n');
      if (!output.write(`From ${i}@xxx Sat Jan 20 14:42:09 +0000 2024\n${message}\n`)) {
        await new Promise<void>((resolve) => output.once('drain', () => resolve()));
      }
    }
    await new Promise<void>((resolve, reject) => {
      output.on('error', reject);
      output.end(() => resolve());
    });
    const fileSize = (await stat(path)).size;

    const gc = collector();
    gc();
    const baseline = usedMemory();
    let peak = 0;
    const started = Date.now();

    const source = await openMailbox(path);
    gc();
    peak = Math.max(peak, usedMemory() - baseline);
    let count = 0;
    let previousDate = '';
    let ordered = true;
    let unescaped = true;
    for await (const message of source.messages()) {
      const date = message.date ?? '';
      if (date < previousDate) ordered = false;
      previousDate = date;
      if (!text(message).endsWith('\nFrom the archive\n')) unescaped = false;
      count++;
      if (count % 2000 === 0) {
        gc();
        peak = Math.max(peak, usedMemory() - baseline);
      }
    }
    const elapsed = Date.now() - started;

    expect(fileSize).toBeGreaterThan(32 * 1024 * 1024);
    expect(source.count).toBe(COUNT);
    expect(count).toBe(COUNT);
    expect(ordered).toBe(true);
    expect(unescaped).toBe(true);
    // The index of 20,000 messages takes a few MB, while holding the file would take over 32 MB.
    expect(peak).toBeLessThan(16 * 1024 * 1024);
    expect(elapsed).toBeLessThan(10_000);
  });
});
