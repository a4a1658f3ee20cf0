import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import PostalMime, { decodeWords } from 'postal-mime';
import type { Email } from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { toMime } from '../src/core/mime-writer';
import type { Attachment, OutgoingMessage } from '../src/core/types';
import { repoRoot } from './shared';

const DATE = new Date('2025-03-14T09:26:53Z');

function outgoing(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    kind: 'notification',
    ticket: 42,
    key: 'n42-7f3a9c',
    messageId: 'n42-7f3a9c@plusdesk.example.com',
    from: { name: 'Acme Support', email: 'support@example.com' },
    to: [
      { name: 'Alice Agent', email: 'alice@example.com' },
      { name: '', email: 'bob@example.com' },
    ],
    cc: [{ name: 'Carol', email: 'carol@example.com' }],
    replyTo: [{ name: 'Reply to customer', email: 'support+42-r-k7fq2m@example.com' }],
    subject: '[#42] Printer is on fire',
    text: 'The customer wrote:\n\nIt is still burning.\n',
    html: '',
    inReplyTo: 'customer-1@mail.example.org',
    references: ['customer-1@mail.example.org', 'relay-1@plusdesk.example.com'],
    headers: {
      'X-Plusdesk-Ticket': '42',
      'X-Plusdesk-Key': 'n42-7f3a9c',
      'Auto-Submitted': 'auto-generated',
    },
    attachments: [],
    threadId: '',
    reasons: {},
    ...overrides,
  };
}

async function parse(raw: string): Promise<Email> {
  return PostalMime.parse(raw);
}

/** Values of one top-level header, by lower-case name. */
function headerValues(email: Email, name: string): string[] {
  return email.headers.filter((header) => header.key === name).map((header) => header.value);
}

function headerBlock(raw: string): string {
  return raw.slice(0, raw.indexOf('\r\n\r\n'));
}

function bytesOf(content: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof content === 'string') throw new Error('expected binary attachment content');
  return content instanceof Uint8Array ? content : new Uint8Array(content);
}

function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

function attachment(overrides: Partial<Attachment>): Attachment {
  return {
    filename: 'file.bin',
    mimeType: 'application/octet-stream',
    contentId: '',
    disposition: 'attachment',
    content: new Uint8Array([1, 2, 3]),
    ...overrides,
  };
}

describe('toMime headers', () => {
  it('round-trips every header exactly', async () => {
    const message = outgoing();
    const email = await parse(toMime(message, DATE));

    expect(email.from).toEqual({ name: 'Acme Support', address: 'support@example.com' });
    expect(email.to).toEqual([
      { name: 'Alice Agent', address: 'alice@example.com' },
      { name: '', address: 'bob@example.com' },
    ]);
    expect(email.cc).toEqual([{ name: 'Carol', address: 'carol@example.com' }]);
    expect(email.replyTo).toEqual([
      { name: 'Reply to customer', address: 'support+42-r-k7fq2m@example.com' },
    ]);
    expect(email.subject).toBe('[#42] Printer is on fire');
    expect(email.messageId).toBe('<n42-7f3a9c@plusdesk.example.com>');
    expect(email.inReplyTo).toBe('<customer-1@mail.example.org>');
    expect(email.references).toBe(
      '<customer-1@mail.example.org> <relay-1@plusdesk.example.com>',
    );
    expect(email.date).toBe('2025-03-14T09:26:53.000Z');
    expect(headerValues(email, 'date')).toEqual(['Fri, 14 Mar 2025 09:26:53 +0000']);
    expect(headerValues(email, 'mime-version')).toEqual(['1.0']);
    expect(headerValues(email, 'x-plusdesk-ticket')).toEqual(['42']);
    expect(headerValues(email, 'x-plusdesk-key')).toEqual(['n42-7f3a9c']);
    expect(headerValues(email, 'auto-submitted')).toEqual(['auto-generated']);
    expect(email.text).toBe(message.text);
    expect(email.html).toBeUndefined();
  });

  it('writes one header of each kind', async () => {
    const email = await parse(toMime(outgoing(), DATE));
    const names = email.headers.map((header) => header.key);

    expect(new Set(names).size).toBe(names.length);
    expect(names).not.toContain('bcc');
    expect(names).not.toContain('sender');
  });

  it('leaves out empty threading and copy headers', async () => {
    const raw = toMime(outgoing({ inReplyTo: '', references: [], cc: [], replyTo: [] }), DATE);
    const email = await parse(raw);

    expect(headerValues(email, 'in-reply-to')).toEqual([]);
    expect(headerValues(email, 'references')).toEqual([]);
    expect(headerValues(email, 'cc')).toEqual([]);
    expect(headerValues(email, 'reply-to')).toEqual([]);
  });

  it('writes several Reply-To addresses', async () => {
    const replyTo = [
      { name: 'Reply', email: 'support+42-r-k7fq2m@example.com' },
      { name: 'Comment', email: 'support+42-c-p3x9aa@example.com' },
    ];
    const email = await parse(toMime(outgoing({ replyTo }), DATE));

    expect(email.replyTo).toEqual([
      { name: 'Reply', address: 'support+42-r-k7fq2m@example.com' },
      { name: 'Comment', address: 'support+42-c-p3x9aa@example.com' },
    ]);
  });

  it('strips angle brackets given with Message-IDs', async () => {
    const message = outgoing({
      messageId: '<own@plusdesk.example.com>',
      inReplyTo: '<parent@example.org>',
      references: ['<root@example.org>', ''],
    });
    const email = await parse(toMime(message, DATE));

    expect(email.messageId).toBe('<own@plusdesk.example.com>');
    expect(email.inReplyTo).toBe('<parent@example.org>');
    expect(email.references).toBe('<root@example.org>');
  });

  it('folds a long References list within 78 characters', async () => {
    const references = Array.from({ length: 40 }, (_, i) => `message-${i}@mail.example.org`);
    const raw = toMime(outgoing({ references }), DATE);
    const email = await parse(raw);

    expect(email.references).toBe(references.map((id) => `<${id}>`).join(' '));
    for (const line of headerBlock(raw).split('\r\n')) {
      expect(line.length).toBeLessThanOrEqual(78);
    }
  });

  it('rejects a date that is not a date', () => {
    expect(() => toMime(outgoing(), new Date('not a date'))).toThrow(RangeError);
  });

  it('rejects an invalid header name', () => {
    const message = outgoing({ headers: { 'X-Bad Name': '1' } });

    expect(() => toMime(message, DATE)).toThrow(/invalid header name "X-Bad Name"/);
  });

  it('rejects headers the message fields set', () => {
    for (const name of ['Subject', 'bcc', 'Content-Type', 'Message-ID']) {
      const message = outgoing({ headers: { [name]: 'x' } });

      expect(() => toMime(message, DATE)).toThrow(/set from the message's own fields/);
    }
  });
});

describe('toMime encoding', () => {
  const subjects = [
    'Ünïcödé in the subject',
    'Re: 日本語の件名です。長い件名は複数のエンコード語に分割されるべきです。さらに続きます。',
    'Emoji 😀🔥 across the word boundary 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀',
    'Looks like an encoded word =?utf-8?q?hello?= but is not',
    '  leading and trailing spaces  ',
    'two  spaces\tand a tab',
    'A plain ASCII subject that is long enough to need folding onto a second line at a space',
    'x'.repeat(120),
    '',
  ];

  it.each(subjects)('round-trips subject %j', async (subject) => {
    const raw = toMime(outgoing({ subject }), DATE);
    const email = await parse(raw);

    expect(email.subject ?? '').toBe(subject);
  });

  it('keeps encoded subject lines within 78 characters', () => {
    for (const subject of subjects.slice(0, 4)) {
      const raw = toMime(outgoing({ subject }), DATE);
      const lines = headerBlock(raw).split('\r\n');
      const start = lines.findIndex((line) => line.startsWith('Subject:'));
      let end = start + 1;
      while (lines[end]?.startsWith(' ')) end++;

      for (const line of lines.slice(start, end)) {
        expect(line.length).toBeLessThanOrEqual(78);
      }
    }
  });

  const names = [
    'Zoë Ångström',
    '山田 太郎',
    'Émile "the printer" Durand',
    'Back\\slash "quoted"',
    'Comma, Semicolon; and <angle>',
    'A'.repeat(90),
    '😀 '.repeat(30).trim(),
  ];

  it.each(names)('round-trips display name %j', async (name) => {
    const message = outgoing({
      from: { name, email: 'support@example.com' },
      to: [{ name, email: 'alice@example.com' }],
      cc: [{ name, email: 'carol@example.com' }],
      replyTo: [{ name, email: 'support+42-r-k7fq2m@example.com' }],
    });
    const email = await parse(toMime(message, DATE));

    expect(email.from).toEqual({ name, address: 'support@example.com' });
    expect(email.to).toEqual([{ name, address: 'alice@example.com' }]);
    expect(email.cc).toEqual([{ name, address: 'carol@example.com' }]);
    expect(email.replyTo).toEqual([{ name, address: 'support+42-r-k7fq2m@example.com' }]);
  });

  it('encodes non-ASCII custom header values', async () => {
    const message = outgoing({ headers: { 'X-Plusdesk-Note': 'für Zoë' } });
    const raw = toMime(message, DATE);
    const [value] = headerValues(await parse(raw), 'x-plusdesk-note');

    expect(headerBlock(raw)).toMatch(/^X-Plusdesk-Note: =\?UTF-8\?B\?/m);
    expect(decodeWords(value ?? '')).toBe('für Zoë');
  });

  it('ends every line with CRLF and keeps lines under 998 characters', () => {
    const message = outgoing({
      subject: 'Ünïcödé '.repeat(80),
      text: 'long line '.repeat(500),
      html: `<p>${'long line '.repeat(500)}</p>`,
      attachments: [attachment({ content: randomBytes(5000, 1) })],
    });
    const raw = toMime(message, DATE);

    expect(raw.endsWith('\r\n')).toBe(true);
    expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    for (const line of raw.split('\r\n')) {
      expect(line.length).toBeLessThanOrEqual(998);
    }
  });

  it('is 7-bit ASCII for any content', () => {
    const message = outgoing({
      from: { name: 'Zoë', email: 'support@example.com' },
      subject: 'Grüße 😀',
      text: 'Grüße aus Köln 😀',
      html: '<p>Grüße</p>',
      attachments: [attachment({ filename: 'Überweisung 2025.pdf', content: randomBytes(300, 2) })],
    });

    expect(toMime(message, DATE)).toMatch(/^[\x00-\x7F]*$/);
  });

  it('produces the same bytes for the same message', () => {
    const message = outgoing({ html: '<p>Hi</p>', attachments: [attachment({})] });

    expect(toMime(message, DATE)).toBe(toMime(message, DATE));
  });
});

describe('toMime header injection', () => {
  const injection = '\r\nBcc: x@evil.example';

  async function expectNoBcc(message: OutgoingMessage): Promise<Email> {
    const raw = toMime(message, DATE);
    const email = await parse(raw);

    expect(headerBlock(raw)).not.toMatch(/^Bcc:/im);
    expect(email.bcc).toBeUndefined();
    expect(headerValues(email, 'bcc')).toEqual([]);
    return email;
  }

  it('keeps CR LF in the subject inside the subject', async () => {
    const email = await expectNoBcc(outgoing({ subject: `Hello${injection}` }));

    expect(email.subject).toBe('Hello Bcc: x@evil.example');
  });

  it('keeps CR LF in a display name inside the name', async () => {
    const email = await expectNoBcc(
      outgoing({
        from: { name: `Eve${injection}`, email: 'support@example.com' },
        to: [{ name: `Eve${injection}`, email: 'alice@example.com' }],
        replyTo: [{ name: `Eve${injection}`, email: 'support+42-r-k7fq2m@example.com' }],
      }),
    );

    expect(email.from?.name).toBe('Eve Bcc: x@evil.example');
  });

  it('keeps lone CR or LF in the subject inside the subject', async () => {
    await expectNoBcc(outgoing({ subject: 'Hello\nBcc: x@evil.example' }));
    await expectNoBcc(outgoing({ subject: 'Hello\rBcc: x@evil.example' }));
  });

  it('keeps CR LF in other header fields', async () => {
    await expectNoBcc(
      outgoing({
        to: [{ name: '', email: `alice@example.com${injection}` }],
        cc: [{ name: 'Carol', email: `carol@example.com>${injection}` }],
        messageId: `own@plusdesk.example.com${injection}`,
        inReplyTo: `parent@example.org${injection}`,
        references: [`root@example.org${injection}`],
        headers: { 'X-Plusdesk-Ticket': `42${injection}` },
        attachments: [
          attachment({ filename: `report.pdf${injection}`, contentId: `cid1${injection}` }),
        ],
      }),
    );
  });
});

describe('toMime body and attachments', () => {
  it('writes text and HTML as alternatives', async () => {
    const email = await parse(toMime(outgoing({ text: 'Plain ünï', html: '<p>Rich ünï</p>' }), DATE));

    expect(email.text).toBe('Plain ünï');
    expect(email.html).toBe('<p>Rich ünï</p>');
    expect(email.attachments).toEqual([]);
  });

  it('keeps an empty text body', async () => {
    const email = await parse(toMime(outgoing({ text: '' }), DATE));

    expect(email.text ?? '').toBe('');
  });

  it('round-trips attachments byte for byte', async () => {
    const allBytes = new Uint8Array(256).map((_, i) => i);
    const large = randomBytes(200_000, 7);
    const message = outgoing({
      html: '<p>See <img src="cid:logo-1@example.com"></p>',
      attachments: [
        attachment({ filename: 'all-bytes.bin', content: allBytes }),
        attachment({ filename: 'large.dat', content: large }),
        attachment({ filename: 'empty.txt', mimeType: 'text/plain', content: new Uint8Array() }),
        attachment({
          filename: 'logo.png',
          mimeType: 'image/png',
          contentId: 'logo-1@example.com',
          disposition: 'inline',
          content: randomBytes(1000, 3),
        }),
      ],
    });
    const email = await parse(toMime(message, DATE));
    const byName = new Map(email.attachments.map((item) => [item.filename, item]));

    expect(email.attachments).toHaveLength(4);
    expect(bytesOf(byName.get('all-bytes.bin')!.content)).toEqual(allBytes);
    expect(bytesOf(byName.get('large.dat')!.content)).toEqual(large);
    expect(bytesOf(byName.get('empty.txt')!.content)).toEqual(new Uint8Array());
    expect(bytesOf(byName.get('logo.png')!.content)).toEqual(message.attachments[3]!.content);
  });

  it('sends forwarded messages as 7bit', async () => {
    const forwarded = 'From: Dana <dana@customer.example>\nSubject: Order 1\nMessage-ID: <f1@customer.example>\n\nWhere is it?\n';
    const raw = toMime(
      outgoing({ attachments: [attachment({ filename: 'order.eml', mimeType: 'message/rfc822', content: new TextEncoder().encode(forwarded) })] }),
      DATE,
    );
    const email = await parse(raw);
    const part = raw.slice(raw.indexOf('Content-Type: message/rfc822'));

    expect(part).toMatch(/^Content-Type: message\/rfc822; name="order\.eml"\r\nContent-Transfer-Encoding: 7bit\r\n/);
    expect(part).toContain('\r\n\r\nFrom: Dana <dana@customer.example>\r\nSubject: Order 1\r\nMessage-ID: <f1@customer.example>\r\n\r\nWhere is it?\r\n');
    expect(new TextDecoder().decode(bytesOf(email.attachments[0]!.content))).toBe(forwarded.replace(/\n/g, '\r\n'));
  });

  it.each([
    ['8-bit bytes', 'Subject: Grüße\r\n\r\nHallo\r\n'],
    ['a line of our boundary', 'Subject: Fwd\r\nContent-Type: multipart/mixed; boundary=plusdesk_mixed_boundary\r\n\r\n--plusdesk_mixed_boundary\r\n\r\nText\r\n--plusdesk_mixed_boundary--\r\n'],
    ['a bare CR', 'Subject: Fwd\r\n\r\nOne\rTwo\r\n'],
  ])('keeps base64 for a forwarded message with %s', async (_case, forwarded) => {
    const content = new TextEncoder().encode(forwarded);
    const raw = toMime(outgoing({ attachments: [attachment({ filename: 'fwd.eml', mimeType: 'message/rfc822', content })] }), DATE);
    const email = await parse(raw);

    expect(raw.slice(raw.indexOf('Content-Type: message/rfc822'))).toMatch(/^[^\r]*\r\nContent-Transfer-Encoding: base64\r\n/);
    expect(bytesOf(email.attachments[0]!.content)).toEqual(content);
  });

  it('gives inline attachments their Content-ID', async () => {
    const message = outgoing({
      html: '<p><img src="cid:logo-1@example.com"></p>',
      attachments: [
        attachment({
          filename: 'logo.png',
          mimeType: 'image/png',
          contentId: 'logo-1@example.com',
          disposition: 'inline',
        }),
      ],
    });
    const email = await parse(toMime(message, DATE));
    const [logo] = email.attachments;

    expect(logo?.disposition).toBe('inline');
    expect(logo?.contentId).toBe('<logo-1@example.com>');
    expect(logo?.mimeType).toBe('image/png');
    expect(email.html).toBe('<p><img src="cid:logo-1@example.com"></p>');
  });

  it('sorts parts by disposition, not by file name', async () => {
    const message = outgoing({
      attachments: [
        attachment({ filename: 'inline.png', disposition: 'attachment' }),
        attachment({ filename: 'attachment.png', disposition: 'inline', contentId: 'a@x' }),
      ],
    });
    const email = await parse(toMime(message, DATE));
    const dispositions = Object.fromEntries(
      email.attachments.map((item) => [item.filename, item.disposition]),
    );

    expect(dispositions).toEqual({ 'inline.png': 'attachment', 'attachment.png': 'inline' });
  });

  const filenames = [
    'Überweisung März 2025.pdf',
    '見積書（最終版）とても長いファイル名のテスト用ファイルです.xlsx',
    'quote "this" and back\\slash.txt',
    "it's (really) 100%*.txt",
    'plain name with spaces.txt',
  ];

  it.each(filenames)('round-trips file name %j', async (filename) => {
    const message = outgoing({ attachments: [attachment({ filename })] });
    const email = await parse(toMime(message, DATE));

    expect(email.attachments[0]?.filename).toBe(filename);
  });

  it('writes an unknown MIME type as application/octet-stream', async () => {
    const message = outgoing({
      attachments: [attachment({ mimeType: 'not a type', filename: 'x.bin' })],
    });
    const email = await parse(toMime(message, DATE));

    expect(email.attachments[0]?.mimeType).toBe('application/octet-stream');
  });

  it('writes every combination of text, HTML, inline and attached parts', async () => {
    const inline = attachment({
      filename: 'i.png',
      mimeType: 'image/png',
      contentId: 'i@x',
      disposition: 'inline',
    });
    const attached = attachment({ filename: 'a.pdf', mimeType: 'application/pdf' });
    for (const html of ['', '<p>H</p>']) {
      for (const attachments of [[], [inline], [attached], [inline, attached]]) {
        const email = await parse(toMime(outgoing({ text: 'T', html, attachments }), DATE));

        expect(email.text).toBe('T');
        expect(email.html ?? '').toBe(html);
        expect(email.attachments.map((item) => item.filename).sort()).toEqual(
          attachments.map((item) => item.filename).sort(),
        );
      }
    }
  });
});

describe('toMime bundle', () => {
  async function bundle(): Promise<string> {
    const result = await build({
      stdin: {
        contents:
          "import { toMime } from './src/core/mime-writer';\n" +
          '(globalThis as unknown as { plusdeskToMime: typeof toMime }).plusdeskToMime = toMime;\n',
        resolveDir: repoRoot,
        sourcefile: 'mime-entry.ts',
        loader: 'ts',
      },
      bundle: true,
      platform: 'neutral',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  }

  it('bundles for a neutral platform without require', async () => {
    const code = await bundle();

    // esbuild wraps the bundled CommonJS modules of core-js in a helper declared as
    // `function __require()`, and that declaration is not a call. Any real call, `require(x)`
    // or esbuild's `__require(x)` shim for a module it could not bundle, still fails here.
    const withoutHelper = code.replace(/function __require\(\)/g, '');

    expect(code.length).toBeGreaterThan(0);
    expect(withoutHelper).not.toContain('require(');
  });

  it('runs without Node globals and writes the same message', async () => {
    const code = await bundle();
    const message = outgoing({
      subject: 'Grüße 😀',
      html: '<p>Hi</p>',
      attachments: [attachment({ filename: 'ä.bin', content: randomBytes(500, 9) })],
    });
    // Only the language's own globals: no require, process, Buffer, btoa or atob.
    const sandbox: Record<string, unknown> = {};
    runInNewContext(code, sandbox);
    const plain = {
      ...message,
      attachments: message.attachments.map((item) => ({ ...item, content: [...item.content] })),
    };
    const raw = runInNewContext(
      `(() => {
        const message = JSON.parse(json);
        for (const item of message.attachments) item.content = new Uint8Array(item.content);
        return plusdeskToMime(message, new Date(time));
      })()`,
      Object.assign(sandbox, { json: JSON.stringify(plain), time: DATE.getTime() }),
    ) as string;

    expect(typeof sandbox.require).toBe('undefined');
    expect(typeof sandbox.Buffer).toBe('undefined');
    expect(raw).toBe(toMime(message, DATE));
  });
});
