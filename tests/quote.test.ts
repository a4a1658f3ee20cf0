import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../src/core/mime';
import { renderHtmlAsText, splitReply, visibleText, type ReplyFragment } from '../src/core/quote';
import { hasShared, sharedMissingNote, sharedPath } from './shared';

// ---------------------------------------------------------------------------------------------
// Reply bodies from GitHub's email_reply_parser tests

/** One entry of that corpus's expected.json, whose `_about` key describes the fields. */
interface ReplyParserExpectation {
  fragment_count?: number;
  quoted?: boolean[];
  signature?: boolean[];
  hidden?: boolean[];
  fragments_equal?: Record<string, string>;
  fragments_match?: Record<string, string | string[]>;
  fragments_contain?: Record<string, string | string[]>;
  visible_text?: string;
  max_seconds?: number;
}

interface CorpusCheck {
  file: string;
  check: string;
  run: (body: string) => void;
}

function fragmentAt(fragments: ReplyFragment[], index: string): string {
  const fragment = fragments[Number(index)];
  expect(fragment, `fragment ${index} exists`).toBeDefined();
  return fragment?.content ?? '';
}

function asList(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

/** Builds one check per asserted value, so that a failure names the file and the value. */
function corpusChecks(file: string, expected: ReplyParserExpectation): CorpusCheck[] {
  const checks: CorpusCheck[] = [];
  const add = (check: string, run: (body: string) => void): void => {
    checks.push({ file, check, run });
  };

  const { fragment_count: count } = expected;
  if (count !== undefined) {
    add(`fragment count ${count}`, (body) => expect(splitReply(body)).toHaveLength(count));
  }
  for (const flag of ['quoted', 'signature', 'hidden'] as const) {
    const flags = expected[flag];
    if (flags !== undefined) {
      add(`${flag} flags`, (body) => expect(splitReply(body).map((fragment) => fragment[flag])).toEqual(flags));
    }
  }
  for (const [index, content] of Object.entries(expected.fragments_equal ?? {})) {
    add(`fragment ${index} equals`, (body) => expect(fragmentAt(splitReply(body), index)).toBe(content));
  }
  for (const [index, patterns] of Object.entries(expected.fragments_match ?? {})) {
    for (const pattern of asList(patterns)) {
      // Ruby's ^ matches at the start of any line, which is JavaScript's m flag.
      add(`fragment ${index} matches /${pattern}/`, (body) =>
        expect(fragmentAt(splitReply(body), index)).toMatch(new RegExp(pattern, 'm')),
      );
    }
  }
  for (const [index, parts] of Object.entries(expected.fragments_contain ?? {})) {
    for (const part of asList(parts)) {
      add(`fragment ${index} contains ${JSON.stringify(part)}`, (body) =>
        expect(fragmentAt(splitReply(body), index)).toContain(part),
      );
    }
  }
  const { visible_text: visible } = expected;
  if (visible !== undefined) {
    add('visible text', (body) => expect(visibleText(body)).toBe(visible));
  }
  const { max_seconds: maxSeconds } = expected;
  if (maxSeconds !== undefined) {
    add(`parses within ${maxSeconds} s`, (body) => {
      const started = performance.now();
      splitReply(body);
      visibleText(body);
      expect(performance.now() - started).toBeLessThan(maxSeconds * 1000);
    });
  }
  return checks;
}

function loadReplyParserChecks(): CorpusCheck[] {
  if (!hasShared) return [];
  const path = sharedPath('corpus', 'github-email_reply_parser', 'expected.json');
  const emails = (JSON.parse(readFileSync(path, 'utf8')) as { emails: Record<string, ReplyParserExpectation> }).emails;
  return Object.entries(emails).flatMap(([file, expected]) => corpusChecks(file, expected));
}

describe('github email_reply_parser corpus', () => {
  if (!hasShared) {
    it.skip(sharedMissingNote, () => {});
    return;
  }

  const checks = loadReplyParserChecks();
  const bodies = new Map<string, string>();
  const bodyOf = (file: string): string => {
    let body = bodies.get(file);
    if (body === undefined) {
      body = readFileSync(sharedPath('corpus', 'github-email_reply_parser', file), 'utf8');
      bodies.set(file, body);
    }
    return body;
  };

  it('has checks for every body', () => {
    expect(new Set(checks.map((check) => check.file)).size).toBeGreaterThanOrEqual(15);
  });

  it.each(checks)('$file: $check', ({ file, run }) => {
    run(bodyOf(file));
  });
});

// ---------------------------------------------------------------------------------------------
// Zammad's signature detection samples

interface SignatureSet {
  files: string[];
  content_type: string;
  expected_signature: string;
}

/** Non-blank lines, trimmed, with runs of spaces collapsed. */
function contentLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '');
}

function squeezed(line: string): string {
  return line.replace(/\s+/g, '');
}

/**
 * Splits a sample into the body above the signature and the rest, at the first line that begins
 * with the first line of Zammad's signature block (compared without spaces, because Zammad and
 * html-to-text render table cells differently).
 */
function splitAtSignature(text: string, signature: string): { body: string[]; rest: string[] } {
  const lines = contentLines(text);
  const first = squeezed(contentLines(signature)[0] ?? '');
  const start = lines.findIndex((line) => squeezed(line).startsWith(first));
  expect(start, `the sample contains the signature line ${JSON.stringify(first)}`).toBeGreaterThan(0);
  return { body: lines.slice(0, start), rest: lines.slice(start) };
}

describe('zammad signature samples', () => {
  if (!hasShared) {
    it.skip(sharedMissingNote, () => {});
    return;
  }

  const folder = ['corpus', 'zammad', 'signature_detection'];
  const expected = JSON.parse(readFileSync(sharedPath(...folder, 'expected.json'), 'utf8')) as {
    sets: Record<string, SignatureSet>;
  };
  const samples = Object.values(expected.sets).flatMap((set) =>
    set.files.map((file) => ({ file, html: set.content_type === 'text/html', signature: set.expected_signature })),
  );
  const visibleOf = (file: string, html: boolean): string => {
    const content = readFileSync(sharedPath(...folder, file), 'utf8');
    return html ? visibleText('', content) : visibleText(content);
  };

  // Zammad finds a signature by comparing several mails of one sender. splitReply looks at one
  // mail, so it cannot hide a sign-off such as "Mit freundlichen Grüßen" that has no delimiter.
  // What it must do is keep the whole body above the signature.
  it.each(samples)('$file keeps the body above the signature', ({ file, html, signature }) => {
    const content = readFileSync(sharedPath(...folder, file), 'utf8');
    const text = html ? renderHtmlAsText(content) : content;
    const { body } = splitAtSignature(text, signature);
    const visible = contentLines(visibleOf(file, html)).join('\n');
    for (const line of body) {
      expect(visible, `body line ${JSON.stringify(line)}`).toContain(line);
    }
  });

  // In client_a the signature has a line of underscores in it, GitHub's signature delimiter.
  const delimited = samples.filter(({ signature }) => signature.includes('\n________________________________\n'));

  it('has samples with a delimited signature', () => {
    expect(delimited.length).toBeGreaterThan(0);
  });

  it.each(delimited)('$file hides the signature below the underscores', ({ file, html, signature }) => {
    const belowDelimiter = contentLines(signature.split('\n________________________________\n')[1] ?? '');
    const visible = contentLines(visibleOf(file, html));
    for (const line of belowDelimiter) {
      expect(visible, `signature line ${JSON.stringify(line)}`).not.toContain(line);
    }
  });

  it('client_a_3 hides the quoted Outlook message', () => {
    const visible = visibleOf('client_a_3.txt', false);
    expect(visible).toMatch(/^Hi Roy,/);
    expect(visible).toContain('Bitte nochmal testen und kurz zurückmelden, vielen Dank!');
    expect(visible).not.toContain('Von: Roy Smith');
    expect(visible).not.toContain('Betreff: VPN');
    expect(visible).not.toContain('Hallo Bob');
  });
});

// ---------------------------------------------------------------------------------------------
// Bug report cases

describe('bug report cases', () => {
  if (!hasShared) {
    it.skip(sharedMissingNote, () => {});
    return;
  }

  const readCase = (name: string): Buffer => readFileSync(sharedPath('cases', name));

  it('B10 text part drops the webmail header block', async () => {
    const message = await parseMessage(readCase('B10.eml'));
    expect(visibleText(message.text)).toBe('Thanks, the new password works now. You can close the ticket.');
  });

  it('B10 html part drops the webmail header block', async () => {
    const message = await parseMessage(readCase('B10.eml'));
    expect(message.html).toContain('<hr');
    expect(visibleText('', message.html)).toBe('Thanks, the new password works now. You can close the ticket.');
  });

  it('B10 message gives the same text either way', async () => {
    const message = await parseMessage(readCase('B10.eml'));
    expect(visibleText(message.text, message.html)).toBe(visibleText('', message.html));
  });

  it('B12 keeps the first line beginning with On', async () => {
    const message = await parseMessage(readCase('B12.eml'));
    expect(visibleText(message.text)).toBe('On the laptop the Export button stays grey.\n\nIt works on the desktop though.');
  });
});

// ---------------------------------------------------------------------------------------------
// Rules beyond GitHub's parser

interface VisibleCase {
  name: string;
  body: string;
  visible: string;
}

const quoteHeaderCases: VisibleCase[] = [
  {
    name: 'English header over two lines, unquoted',
    body: 'Thanks, that fixed it.\n\nOn Mon, 17 Mar 2025 at 18:14, Example Support\n<support@example.com> wrote:\nWhich device are you using?\nAlice\n',
    visible: 'Thanks, that fixed it.',
  },
  {
    name: 'English header over three lines',
    body: 'Thanks.\n\nOn Mon, Mar 17, 2025 at 6:14 PM,\nExample Support <support@example.com>\nwrote:\n\n> Which device?\n',
    visible: 'Thanks.',
  },
  {
    name: 'German Am ... schrieb header',
    body: 'Danke, geht jetzt.\n\nAm 17.03.2025 um 18:14 schrieb Alice Example <alice@example.com>:\n> Welches Gerät?\n',
    visible: 'Danke, geht jetzt.',
  },
  {
    name: 'German Gmail header over two lines',
    body: 'Danke, geht jetzt.\n\nAm Mo., 17. März 2025 um 18:14 Uhr schrieb Alice Example <\nalice@example.com>:\nWelches Gerät?\n',
    visible: 'Danke, geht jetzt.',
  },
  {
    name: 'French Le ... a écrit header',
    body: 'Merci, ça marche.\n\nLe lun. 17 mars 2025 à 18:14, Alice <alice@example.com> a écrit :\nQuel appareil ?\n',
    visible: 'Merci, ça marche.',
  },
  {
    name: 'Spanish El ... escribió header',
    body: 'Gracias, ya funciona.\n\nEl lun, 17 mar 2025 a las 18:14, Alice (<alice@example.com>) escribió:\n> ¿Qué dispositivo?\n',
    visible: 'Gracias, ya funciona.',
  },
  {
    name: 'Dutch Op ... schreef header',
    body: 'Bedankt, het werkt.\n\nOp ma 17 mrt 2025 om 18:14 schreef Alice <alice@example.com>:\n\nWelk apparaat?\n',
    visible: 'Bedankt, het werkt.',
  },
  {
    name: 'Danish Den ... skrev header',
    body: 'Tak, det virker.\n\nDen 17. mar. 2025 kl. 18.14 skrev Alice <alice@example.com>:\n> Hvilken enhed?\n',
    visible: 'Tak, det virker.',
  },
  {
    name: 'Swedish Den ... skrev header',
    body: 'Tack, det fungerar.\n\nDen mån 17 mars 2025 kl 18:14 skrev Alice <alice@example.com>:\nVilken enhet?\n',
    visible: 'Tack, det fungerar.',
  },
];

const outlookCases: VisibleCase[] = [
  {
    name: 'Original Message separator',
    body: 'It works now.\n\n-----Original Message-----\nFrom: Example Support <support@example.com>\nSent: Monday, March 17, 2025 6:14 PM\nTo: Leo <leo@example.org>\nSubject: RE: [#18] Export\n\nWhich device?\n',
    visible: 'It works now.',
  },
  {
    name: 'underscores, then Date/To/Subject/From',
    body: 'It works now.\n________________________________\nDate: Mon, 17 Mar 2025 18:14\nTo: leo@example.org\nSubject: [#18] Export\nFrom: support@example.com\n\nWhich device?\n',
    visible: 'It works now.',
  },
  {
    name: 'dashes, blank line, bold Cc/From/Sent/To',
    body: 'It works now.\n\n------------------------------\n\n*Cc:* team@example.com\n*From:* Example Support [mailto:support@example.com]\n*Sent:* Monday, March 17, 2025 6:14 PM\n*To:* leo@example.org\n\nWhich device?\n',
    visible: 'It works now.',
  },
  {
    name: 'German Von/Gesendet/An/Betreff without separator',
    body: 'Geht jetzt, danke.\n\nLeo\nVon: Example Support [mailto:support@example.com]\nGesendet: Montag, 17. März 2025 18:14\nAn: Leo\nBetreff: AW: [#18] Export\n\nWelches Gerät?\n',
    visible: 'Geht jetzt, danke.\n\nLeo',
  },
  {
    name: 'French De/Envoyé/À/Objet with a wrapped value',
    body: 'Ça marche.\n\nDe : Example Support <support@example.com>\nEnvoyé : lundi 17 mars 2025 18:14\nÀ : Léa <lea@example.org>;\n    Paul <paul@example.org>\nObjet : RE: [#18] Export\n\nQuel appareil ?\n',
    visible: 'Ça marche.',
  },
];

const signatureCases: VisibleCase[] = [
  { name: 'dash-dash-space delimiter', body: 'Works now.\n\n-- \nLeo Varga\nExample Org\n', visible: 'Works now.' },
  { name: 'Sent from my iPhone', body: 'Works now.\n\nSent from my iPhone\n', visible: 'Works now.' },
  { name: 'Sent from Outlook for iOS', body: 'Works now.\n\nSent from Outlook for iOS\n', visible: 'Works now.' },
  { name: 'Von meinem iPhone gesendet', body: 'Geht jetzt.\n\nVon meinem iPhone gesendet\n', visible: 'Geht jetzt.' },
  {
    name: 'prose Sent from my desk',
    body: 'Works now.\n\nSent from my desk, is much easier then my mobile phone.\n',
    visible: 'Works now.\n\nSent from my desk, is much easier then my mobile phone.',
  },
  {
    name: 'prose Sent from a long phrase',
    body: 'Works now.\n\nSent from a magnificent torch of pixels\n',
    visible: 'Works now.\n\nSent from a magnificent torch of pixels',
  },
];

const keptTextCases: VisibleCase[] = [
  {
    name: 'own line starting with On, right above the header',
    body: 'On the laptop the button stays grey.\nOn Mon, 17 Mar 2025 at 18:14, Example Support <support@example.com> wrote:\n> Which device?\n',
    visible: 'On the laptop the button stays grey.',
  },
  {
    name: 'own lines starting with On, unquoted history below',
    body: 'On my phone it works.\nOn the laptop it does not.\n\nOn Mon, 17 Mar 2025 at 18:14, Example Support <support@example.com> wrote:\nWhich device?\n',
    visible: 'On my phone it works.\nOn the laptop it does not.',
  },
  {
    name: 'own line ending in wrote: without a date',
    body: 'On the form I wrote:\nmy name twice, sorry.\n',
    visible: 'On the form I wrote:\nmy name twice, sorry.',
  },
  {
    name: 'bottom-posted reply below a quote',
    body: 'On Mon, 17 Mar 2025 at 18:14, Example Support <support@example.com> wrote:\n> Which device are you using?\n\nThe laptop, with Firefox.\n',
    visible:
      'On Mon, 17 Mar 2025 at 18:14, Example Support <support@example.com> wrote:\n> Which device are you using?\n\nThe laptop, with Firefox.',
  },
  {
    name: 'inline answers between quotes',
    body: '> Which device?\n\nThe laptop.\n\n> Which browser?\n\nFirefox 128.\n\n> Thanks, Alice\n',
    visible: '> Which device?\n\nThe laptop.\n\n> Which browser?\n\nFirefox 128.',
  },
  {
    name: 'forwarded message with its headers',
    body: 'See the error mail below.\n\n---------- Forwarded message ---------\nFrom: Billing <billing@example.net>\nDate: Mon, 17 Mar 2025 at 18:14\nSubject: Payment failed\nTo: <leo@example.org>\n\nYour card was declined.\n',
    visible:
      'See the error mail below.\n\n---------- Forwarded message ---------\nFrom: Billing <billing@example.net>\nDate: Mon, 17 Mar 2025 at 18:14\nSubject: Payment failed\nTo: <leo@example.org>\n\nYour card was declined.',
  },
  {
    name: 'horizontal rule of dashes in the text',
    body: 'Results:\n\n----------\nrow 1\nrow 2\n',
    visible: 'Results:\n\n----------\nrow 1\nrow 2',
  },
  {
    name: 'travel details in header form',
    body: 'My booking:\nDa: Roma\nA: Milano\nData: 17/03/2025\n\nThe ticket never arrived.\n',
    visible: 'My booking:\nDa: Roma\nA: Milano\nData: 17/03/2025\n\nThe ticket never arrived.',
  },
  {
    name: 'a single header line in the text',
    body: 'The error says\nFrom: field is required\n\nwhen I save.\n',
    visible: 'The error says\nFrom: field is required\n\nwhen I save.',
  },
];

describe('visibleText', () => {
  it.each(quoteHeaderCases)('drops history after $name', ({ body, visible }) => {
    expect(visibleText(body)).toBe(visible);
  });

  it.each(outlookCases)('drops Outlook block: $name', ({ body, visible }) => {
    expect(visibleText(body)).toBe(visible);
  });

  it.each(signatureCases)('signature rule: $name', ({ body, visible }) => {
    expect(visibleText(body)).toBe(visible);
  });

  it.each(keptTextCases)('keeps $name', ({ body, visible }) => {
    expect(visibleText(body)).toBe(visible);
  });

  it('renders an HTML-only Gmail reply', () => {
    const html =
      '<div dir="ltr">Works now, thanks!<div><br></div><div>Mei</div></div><br>' +
      '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 17 Mar 2025 at 18:14, Example Support ' +
      '&lt;<a href="mailto:support@example.com">support@example.com</a>&gt; wrote:<br></div>' +
      '<blockquote class="gmail_quote"><div>Which device?<br>Alice</div></blockquote></div>';
    expect(visibleText('', html)).toBe('Works now, thanks!\n\n\nMei');
  });

  it('renders an HTML-only Outlook reply', () => {
    const html =
      '<div class="WordSection1"><p class="MsoNormal">It works now.</p><p class="MsoNormal">&nbsp;</p>' +
      '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal">' +
      '<b>From:</b> Example Support &lt;support@example.com&gt;<br><b>Sent:</b> Monday, March 17, 2025 6:14 PM<br>' +
      '<b>To:</b> Leo &lt;leo@example.org&gt;<br><b>Subject:</b> RE: [#18] Export</p></div>' +
      '<p class="MsoNormal">Which device?</p></div>';
    expect(visibleText('', html)).toBe('It works now.');
  });

  it('prefers the text part when it has text', () => {
    expect(visibleText('Plain reply.', '<p>HTML reply.</p>')).toBe('Plain reply.');
  });

  it('renders the html when the text part is blank', () => {
    expect(visibleText(' \n', '<p>HTML reply.</p>')).toBe('HTML reply.');
  });

  it('returns empty text for an empty body', () => {
    expect(visibleText('')).toBe('');
  });
});

describe('splitReply', () => {
  it('flags an Outlook block as quoted and hidden', () => {
    const fragments = splitReply('It works now.\n\n-----Original Message-----\nFrom: a@example.com\nSent: today\n');
    expect(fragments).toHaveLength(2);
    expect(fragments[0]).toEqual({ content: 'It works now.\n', quoted: false, signature: false, hidden: false });
    expect(fragments[1]?.content).toBe('-----Original Message-----\nFrom: a@example.com\nSent: today\n');
    expect(fragments[1]?.quoted).toBe(true);
    expect(fragments[1]?.hidden).toBe(true);
  });

  it('flags a mobile signature', () => {
    const fragments = splitReply('Works now.\n\nSent from my iPhone');
    expect(fragments.map((fragment) => fragment.content)).toEqual(['Works now.\n', 'Sent from my iPhone']);
    expect(fragments.map((fragment) => fragment.signature)).toEqual([false, true]);
    expect(fragments.map((fragment) => fragment.hidden)).toEqual([false, true]);
  });

  it('attaches a localized header to its quote', () => {
    const fragments = splitReply('Merci.\n\nLe 17 mars 2025, Alice <alice@example.com> a écrit :\n> Quel appareil ?');
    expect(fragments.map((fragment) => fragment.quoted)).toEqual([false, true]);
    expect(fragments[1]?.content).toBe('\nLe 17 mars 2025, Alice <alice@example.com> a écrit :\n> Quel appareil ?');
  });

  it('keeps a quote above new text visible', () => {
    const fragments = splitReply('> Which device?\n\nThe laptop.');
    expect(fragments.map((fragment) => fragment.quoted)).toEqual([true, false]);
    expect(fragments.map((fragment) => fragment.hidden)).toEqual([false, false]);
  });

  it('converts CRLF and strips trailing spaces', () => {
    const fragments = splitReply('Works now.  \r\nThanks\t\r\n');
    expect(fragments).toHaveLength(1);
    expect(fragments[0]?.content).toBe('Works now.\nThanks\n');
  });

  it('returns no fragments for an empty body', () => {
    expect(splitReply('')).toEqual([]);
  });
});

describe('adversarial input', () => {
  const bodies: [string, string][] = [
    ['a 750 KB line of spaces', `${' '.repeat(750_000)}x`],
    ['50,000 lines starting with On', 'On x\n'.repeat(50_000)],
    ['100,000 header lines', 'From: a\n'.repeat(100_000)],
    ['a 750 KB line of dashes', `${'-'.repeat(750_000)}x\n`],
    ['a long German header candidate', `Am ${' schrieb'.repeat(100_000)} x`],
    ['a long Sent from line', `Sent from my ${'a '.repeat(100_000)}!`],
    ['a 750 KB quoted line', `Hi\n\n${'>'.repeat(750_000)}\n`],
  ];

  it.each(bodies)('parses %s within 1 s', (_name, body) => {
    const started = performance.now();
    visibleText(body);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
