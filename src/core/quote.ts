/**
 * The new text of a reply: splits a plain-text mail body into fragments (new text, quoted
 * history, signature) with the semantics of GitHub's email_reply_parser (Ruby, 0.5.x), and adds
 * rules for the quote headers that Outlook, webmail and localized clients write.
 *
 * NOTE: email-reply-parser 1.9.4 (the crisp-oss port) is installed but not used here, because it
 * cannot produce these fragments. Run on the github/email_reply_parser sample bodies without the
 * optional re2 module, its regexes backtracked for minutes on a 750 KB quoted body.
 * It also hides every quoted block, even one above new text. It treats any "Sent from ..." line as
 * a signature, so prose such as "Sent from my desk, is much easier ..." is lost. It returns one
 * fragment where GitHub's parser returns three (text, signature, mailing-list footer). The
 * splitting below therefore follows GitHub's algorithm directly, on lines and without reversing
 * strings, and every regex is anchored and applied to one bounded line.
 */
import { convert } from 'html-to-text';

/** One block of a reply body. `splitReply` returns the blocks in the order they appear. */
export interface ReplyFragment {
  /** Lines of the block joined with "\n", each without trailing whitespace unless it is a signature line. */
  content: string;
  /** Quoted history: `>` lines with the header above them, or everything from an unquoted header down. */
  quoted: boolean;
  /** A block that starts with a signature line ("-- ", "Sent from my iPhone", a line of underscores). */
  signature: boolean;
  /** A quoted, signature or blank block below the last block of new text. */
  hidden: boolean;
}

/**
 * Splits a plain-text mail body into fragments. CRLF line ends become LF. As in GitHub's parser, a
 * quoted block above new text stays visible because it gives the reply its context. Quoted blocks,
 * signatures and blank blocks below the last new text are hidden.
 */
export function splitReply(text: string): ReplyFragment[] {
  let lines = text.replace(/\r\n/g, '\n').split('\n');
  // GitHub's parser reads the reversed text line by line and drops its last line when it is
  // empty, which is a single leading newline of the body.
  if (lines[0] === '') {
    lines = lines.slice(1);
  }
  lines = joinWrappedAttributions(lines);
  lines = separateUnderscoreLines(lines);

  const cut = findUnquotedHistory(lines);
  const scanner = new FragmentScanner();
  if (cut < lines.length) {
    scanner.addFinished(lines.slice(cut).map((line) => line.trimEnd()), true, false);
  }
  for (let i = cut - 1; i >= 0; i--) {
    scanner.scanLine(lines[i] ?? '');
  }
  return scanner.finish();
}

/**
 * Returns the new text a person wrote: the fragments that are not hidden, joined and trimmed.
 * When `text` is empty or blank and `html` is given, the HTML is rendered to plain text first.
 */
export function visibleText(text: string, html?: string): string {
  const source = text.trim() === '' && html !== undefined ? renderHtmlAsText(html) : text;
  return splitReply(source)
    .filter((fragment) => !fragment.hidden)
    .map((fragment) => fragment.content)
    .join('\n')
    .trim();
}

/**
 * Renders an HTML body as plain text without line wrapping. Blockquotes become `>` lines and `<hr>`
 * a line of dashes, so the plain-text rules of `splitReply` apply to HTML-only mail too.
 */
export function renderHtmlAsText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Line rules

/** First words of the attribution lines ("On <date>, <name> wrote:") in the supported languages. */
const ATTRIBUTION_START = /^(?:On|Am|Le|El|Op|Den|Il|Em)\s/;

const ATTRIBUTION_PATTERNS: readonly RegExp[] = [
  /^On\s.*wrote\s*:$/, // English: On <date>, <name> wrote:
  /^Le\s.*a\s+écrit\s*:$/, // French: Le <date>, <name> a écrit :
  /^El\s.*escribió\s*:$/, // Spanish: El <date>, <name> escribió:
  /^Il\s.*ha\s+scritto\s*:$/, // Italian: Il <date>, <name> ha scritto:
  /^Em\s.*escreveu\s*:$/, // Portuguese: Em <date>, <name> escreveu:
  /^Am\s.*\sschrieb(?:\s.*)?:$/, // German: Am <date> schrieb <name>:
  /^Op\s.*\sschreef(?:\s.*)?:$/, // Dutch: Op <date> schreef <name>:
  /^Den\s.*\sskrev(?:\s.*)?:$/, // Danish, Norwegian, Swedish: Den <date> skrev <name>:
];

/** Maximum length of a line tested as an attribution. It bounds the regex work and is far above real attributions. */
const MAX_ATTRIBUTION_LENGTH = 1000;

/** Maximum length of a line tested as a "Sent from my iPhone" signature. */
const MAX_MOBILE_SIGNATURE_LENGTH = 200;

/** Lines that mobile and webmail clients append below the text. */
const MOBILE_SIGNATURE_PATTERNS: readonly RegExp[] = [
  /^Sent from my(?:\s+[\w'&-]+){1,5}\.?$/, // Sent from my iPhone / my Verizon Wireless BlackBerry
  /^Sent from [A-Z][\w'&-]*(?:\s+[\w'&-]+){0,4}\.?$/, // Sent from Outlook for iOS / Mail for Windows
  /^Get Outlook for \w+$/,
  /^Von meinem(?:\s+[\w'&-]+){1,4}\s+gesendet\.?$/,
  /^Envoyé de mon(?:\s+[\w'&-]+){1,4}\.?$/,
  /^Enviado desde mi(?:\s+[\w'&-]+){1,4}\.?$/,
  /^(?:Verzonden|Verstuurd) (?:vanaf|met) mijn(?:\s+[\w'&-]+){1,4}\.?$/,
  /^Skickat från min(?:\s+[\w'&-]+){1,4}\.?$/,
  /^Sendt fra min(?:\s+[\w'&-]+){1,4}\.?$/,
  /^Inviato da(?: mio| il mio)?(?:\s+[\w'&-]+){1,4}\.?$/,
];

/** "-----Original Message-----" and its translations: the rest of the body is the earlier message. */
const ORIGINAL_MESSAGE_SEPARATOR =
  /^-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Originalnachricht|Message d'origine|Mensaje original|Oorspronkelijk bericht|Originalmeddelande|Oprindelig meddelelse|Opprinnelig melding|Messaggio originale|Mensagem original)\s*-{2,}$/i;

/** A horizontal rule of dashes or underscores, which Outlook and html-to-text put above a header block. */
const RULE_SEPARATOR = /^(?:-{8,}|_{8,})$/;

/** A line of four or more dashes only: a horizontal rule in prose, not a signature delimiter. */
const DASH_RULE = /^\s*-{4,}\s*$/;

/** Lines that introduce a forwarded message, whose header block and text are content to keep. */
const FORWARD_MARKERS: readonly RegExp[] = [
  /^-{2,}\s*(?:Forwarded message|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|Doorgestuurd bericht|Messaggio inoltrato|Videresendt meddelelse|Vidarebefordrat meddelande)\s*-{2,}$/i,
  /^(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht)\s*:$/i,
];

type HeaderField = 'from' | 'sent' | 'date' | 'to' | 'subject' | 'cc' | 'reply-to';

/** Field names of quoted header blocks, lower case, in English, German, French, Spanish, Dutch, Nordic and Italian. */
const HEADER_FIELD_NAMES = new Map<string, HeaderField>([
  ['from', 'from'], ['von', 'from'], ['de', 'from'], ['van', 'from'], ['fra', 'from'], ['från', 'from'], ['da', 'from'],
  ['sent', 'sent'], ['gesendet', 'sent'], ['envoyé', 'sent'], ['enviado', 'sent'], ['verzonden', 'sent'],
  ['sendt', 'sent'], ['skickat', 'sent'], ['inviato', 'sent'],
  ['date', 'date'], ['datum', 'date'], ['fecha', 'date'], ['data', 'date'], ['dato', 'date'],
  ['to', 'to'], ['an', 'to'], ['à', 'to'], ['a', 'to'], ['para', 'to'], ['aan', 'to'], ['til', 'to'], ['till', 'to'],
  ['subject', 'subject'], ['betreff', 'subject'], ['objet', 'subject'], ['asunto', 'subject'],
  ['onderwerp', 'subject'], ['emne', 'subject'], ['ämne', 'subject'], ['oggetto', 'subject'], ['assunto', 'subject'],
  ['cc', 'cc'], ['kopie', 'cc'], ['bcc', 'cc'],
  ['reply-to', 'reply-to'],
]);

/** "From: x", "*From:* x" (Outlook's bold text rendering) or "De : x" (French spacing). */
const HEADER_FIELD_LINE = /^\*{0,2}([A-Za-zÀ-ÿ-]{1,12})\s?\*{0,2}\s?:/;

function isAttribution(line: string): boolean {
  if (line.length > MAX_ATTRIBUTION_LENGTH || !ATTRIBUTION_START.test(line)) {
    return false;
  }
  return ATTRIBUTION_PATTERNS.some((pattern) => pattern.test(line));
}

/** Checks an attribution for a date or an address, so that prose ending in "wrote:" is not taken for one. */
function hasAttributionDetails(line: string): boolean {
  return /[0-9@]/.test(line);
}

function isQuotedLine(line: string): boolean {
  return line.startsWith('>');
}

function isBlank(line: string): boolean {
  return line.trim() === '';
}

function isForwardMarker(line: string): boolean {
  const trimmed = line.trim();
  return FORWARD_MARKERS.some((pattern) => pattern.test(trimmed));
}

function headerField(line: string): HeaderField | undefined {
  const match = HEADER_FIELD_LINE.exec(line.trimStart());
  const name = match?.[1];
  return name === undefined ? undefined : HEADER_FIELD_NAMES.get(name.toLowerCase());
}

/**
 * GitHub's signature rule, read on the unreversed line: a line starting with "--" or "__", a line
 * "-Name", or a "Sent from my iPhone" line. Two deliberate exceptions keep customer text: a line of
 * four or more dashes only is a horizontal rule, and a "---- Forwarded message ----" line
 * introduces content.
 */
function isSignatureLine(line: string): boolean {
  if (/^\s*--/.test(line)) {
    return !DASH_RULE.test(line) && !isForwardMarker(line);
  }
  if (/^\s*__/.test(line) || /^-\w/.test(line)) {
    return true;
  }
  if (line.length > MAX_MOBILE_SIGNATURE_LENGTH) {
    return false;
  }
  return MOBILE_SIGNATURE_PATTERNS.some((pattern) => pattern.test(line));
}

/** Checks for a header that belongs to the quoted block below it: an attribution or a header field line. */
function isQuoteHeader(line: string): boolean {
  return isAttribution(line) || headerField(line) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Preparing the lines

/** Index of the first non-blank line at or after `start`, or `lines.length`. */
function nextNonBlank(lines: readonly string[], start: number): number {
  let index = start;
  while (index < lines.length && isBlank(lines[index] ?? '')) {
    index++;
  }
  return index;
}

/**
 * Joins an attribution that a client wrapped over two or three lines ("On <date>, <name>" /
 * "<address>" / "wrote:") into one line, joined with spaces as GitHub's parser does. The wrapped
 * lines must be non-blank and unquoted and must not start an attribution themselves, so a
 * customer's own line starting with "On " is never joined to the header below it. The joined line
 * must carry a date or address, unless `>` lines follow it.
 */
function joinWrappedAttributions(lines: readonly string[]): string[] {
  const joined: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const width = ATTRIBUTION_START.test(lines[i] ?? '') ? wrappedAttributionWidth(lines, i) : 1;
    joined.push(lines.slice(i, i + width).join(' '));
    i += width;
  }
  return joined;
}

/** Number of lines (1 to 3) that form the attribution starting at `start`; 1 when none is wrapped. */
function wrappedAttributionWidth(lines: readonly string[], start: number): number {
  if (isAttribution((lines[start] ?? '').trimEnd())) {
    return 1;
  }
  for (let width = 2; width <= 3 && start + width <= lines.length; width++) {
    const last = lines[start + width - 1] ?? '';
    if (isBlank(last) || isQuotedLine(last) || ATTRIBUTION_START.test(last)) {
      return 1;
    }
    const candidate = lines.slice(start, start + width).join(' ').trimEnd();
    if (isAttribution(candidate)) {
      const following = lines[nextNonBlank(lines, start + width)];
      const quoteFollows = following !== undefined && isQuotedLine(following);
      return hasAttributionDetails(candidate) || quoteFollows ? width : 1;
    }
  }
  return 1;
}

/**
 * Puts a blank line above every line that starts with eight or more underscores, as GitHub's
 * parser does, so that a reply written directly above such a line is split from it.
 */
function separateUnderscoreLines(lines: readonly string[]): string[] {
  const separated: string[] = [];
  lines.forEach((line, index) => {
    if (index > 0 && line.startsWith('________') && (lines[index - 1] ?? '') !== '') {
      separated.push('');
    }
    separated.push(line);
  });
  return separated;
}

// ---------------------------------------------------------------------------------------------
// Quoted history without `>` marks

interface HeaderBlock {
  fields: Set<HeaderField>;
  /** Index of the first line after the block. */
  end: number;
}

/**
 * Reads the header block starting at `start`: header field lines in any order, with indented
 * continuation lines of a wrapped value.
 */
function readHeaderBlock(lines: readonly string[], start: number): HeaderBlock {
  const fields = new Set<HeaderField>();
  let index = start;
  while (index < lines.length) {
    const line = lines[index] ?? '';
    const field = headerField(line);
    if (field !== undefined) {
      fields.add(field);
    } else if (fields.size === 0 || !/^\s+\S/.test(line)) {
      break;
    }
    index++;
  }
  return { fields, end: index };
}

/**
 * Checks whether a header block is the top of a quoted message even without a separator above it.
 * It needs a Subject, so that lines such as "Da: Roma / A: Milano / Data: 17/03" stay text.
 */
function isStandaloneHeaderBlock(fields: Set<HeaderField>): boolean {
  const dated = fields.has('sent') || fields.has('date');
  return fields.has('from') && dated && fields.has('subject');
}

/** Blank lines allowed between a rule separator and the header block below it. */
const MAX_BLANKS_BELOW_SEPARATOR = 2;

/**
 * Finds the first line of earlier messages that are quoted without `>` marks, and returns
 * `lines.length` when there is none. Such a line is an attribution without `>` lines below it, an
 * "Original Message" separator, or a rule line above a header block. A header block of From, Sent
 * or Date, and Subject counts without a separator. Everything from that line down is one
 * quoted fragment.
 */
function findUnquotedHistory(lines: readonly string[]): number {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();

    if (isForwardMarker(trimmed)) {
      i = readHeaderBlock(lines, nextNonBlank(lines, i + 1)).end;
      continue;
    }
    if (ORIGINAL_MESSAGE_SEPARATOR.test(trimmed)) {
      return i;
    }
    if (RULE_SEPARATOR.test(trimmed)) {
      const blockStart = nextNonBlank(lines, i + 1);
      const block = readHeaderBlock(lines, blockStart);
      if (blockStart - i - 1 <= MAX_BLANKS_BELOW_SEPARATOR && block.fields.has('from') && block.fields.size >= 2) {
        return i;
      }
    }
    const attribution = line.trimEnd();
    if (isAttribution(attribution) && hasAttributionDetails(attribution)) {
      const following = lines[nextNonBlank(lines, i + 1)];
      if (following === undefined || !isQuotedLine(following)) {
        return i;
      }
    }
    if (headerField(line) !== undefined) {
      const block = readHeaderBlock(lines, i);
      if (isStandaloneHeaderBlock(block.fields)) {
        return i;
      }
      // A block starting further down holds a subset of these fields, so it cannot qualify either.
      i = Math.max(block.end, i + 1);
      continue;
    }
    i++;
  }
  return lines.length;
}

// ---------------------------------------------------------------------------------------------
// GitHub's bottom-up scan

interface FragmentDraft {
  quoted: boolean;
  signature: boolean;
  /** Lines from the bottom up. */
  lines: string[];
}

/**
 * Builds fragments from the bottom of the body up, so that a header line joins the quoted block
 * below it and blocks below the last new text can be hidden.
 */
class FragmentScanner {
  private readonly finished: ReplyFragment[] = [];
  private current: FragmentDraft | undefined;
  private foundVisible = false;

  /** Adds a fragment whose lines (top down) were grouped before the scan. */
  addFinished(lines: string[], quoted: boolean, signature: boolean): void {
    this.finishCurrent();
    this.current = { quoted, signature, lines: lines.slice().reverse() };
    this.finishCurrent();
  }

  scanLine(rawLine: string): void {
    const line = isSignatureLine(rawLine) ? rawLine : rawLine.trimEnd();
    const quoted = isQuotedLine(line);
    const current = this.current;

    // A blank line above a block that starts with a signature line ends a signature fragment.
    if (current !== undefined && line === '' && isSignatureLine(current.lines[current.lines.length - 1] ?? '')) {
      current.signature = true;
      this.finishCurrent();
    }

    const open = this.current;
    const joinsOpen =
      open !== undefined &&
      (open.quoted === quoted || (open.quoted && (line === '' || isQuoteHeader(line))));
    if (open !== undefined && joinsOpen) {
      open.lines.push(line);
    } else {
      this.finishCurrent();
      this.current = { quoted, signature: false, lines: [line] };
    }
  }

  /** Finishes the scan and returns the fragments top down. */
  finish(): ReplyFragment[] {
    this.finishCurrent();
    return this.finished.slice().reverse();
  }

  private finishCurrent(): void {
    const draft = this.current;
    if (draft === undefined) {
      return;
    }
    this.current = undefined;
    const content = draft.lines.reverse().join('\n');
    let hidden = false;
    if (!this.foundVisible) {
      if (draft.quoted || draft.signature || content.trim() === '') {
        hidden = true;
      } else {
        this.foundVisible = true;
      }
    }
    this.finished.push({ content, quoted: draft.quoted, signature: draft.signature, hidden });
  }
}
