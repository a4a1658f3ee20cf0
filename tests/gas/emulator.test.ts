/**
 * Behaviour of the Apps Script emulator itself: Gmail threading, history and search, Sheets cell
 * semantics, properties, locks, triggers, Utilities, call counting and the clock, UrlFetchApp's
 * Gmail REST emulation, CardService JSON, and a bundle built by esbuild run through loadBundle.
 */
import { createHmac } from 'node:crypto';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { createAppsScript, DEFAULT_START, type AppsScript } from './emulator';
import { loadBundle } from './load-bundle';
import { repoRoot } from '../shared';

const SUPPORT = 'support@example.com';

/** Builds a raw message with CRLF line ends. */
function mail(fields: Record<string, string>, body = 'Hello there.'): string {
  const head = Object.entries(fields)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  return `${head}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`;
}

function customerMail(subject: string, messageId: string, extra: Record<string, string> = {}): string {
  return mail({
    From: 'Carol Customer <carol@customer.test>',
    To: SUPPORT,
    Subject: subject,
    'Message-ID': messageId,
    Date: 'Mon, 05 Jan 2026 08:00:00 +0000',
    ...extra,
  });
}

function base64Url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function emulator(options: Partial<Parameters<typeof createAppsScript>[0]> = {}): AppsScript {
  return createAppsScript({ user: SUPPORT, ...options });
}

/** The error a function throws, for checking its fields. */
function thrown(action: () => unknown): Error & { details?: { code: number; message: string } } {
  try {
    action();
  } catch (error) {
    return error as Error & { details?: { code: number; message: string } };
  }
  throw new Error('expected the call to throw');
}

describe('mailbox threading', () => {
  it('threads a reply by reference', () => {
    const gas = emulator();
    const first = gas.mailbox.deliver(customerMail('Printer on fire', '<a1@customer.test>'));
    const reply = gas.mailbox.deliver(
      customerMail('Re: Printer on fire', '<a2@customer.test>', { 'In-Reply-To': '<a1@customer.test>' }),
    );
    expect(reply.threadId).toBe(first.threadId);
    expect(first.threadId).toBe(first.id);
  });

  it('starts a thread when the subject changed', () => {
    const gas = emulator();
    const first = gas.mailbox.deliver(customerMail('Printer on fire', '<b1@customer.test>'));
    const other = gas.mailbox.deliver(
      customerMail('Invoice question', '<b2@customer.test>', { References: '<b1@customer.test>' }),
    );
    expect(other.threadId).not.toBe(first.threadId);
  });

  it('starts a thread without references', () => {
    const gas = emulator();
    const first = gas.mailbox.deliver(customerMail('Printer on fire', '<c1@customer.test>'));
    const again = gas.mailbox.deliver(customerMail('Re: Printer on fire', '<c2@customer.test>'));
    expect(again.threadId).not.toBe(first.threadId);
  });

  it('adds Delivered-To with the plus address', () => {
    const gas = emulator();
    const { id } = gas.mailbox.deliver(
      mail({ From: 'alice@example.com', To: 'Support <support+12-reply-abc@example.com>', Subject: 'x' }),
    );
    expect(gas.mailbox.message(id)?.header('Delivered-To')).toBe('support+12-reply-abc@example.com');
    expect(gas.mailbox.labelsOf(id)).toEqual(['INBOX', 'UNREAD']);
  });
});

describe('Gmail send', () => {
  function sendReply(gas: AppsScript, fields: Record<string, string>, threadId?: string): { id?: string; threadId?: string } {
    const raw = mail({ From: SUPPORT, To: 'carol@customer.test', ...fields });
    const resource = threadId === undefined ? { raw: base64Url(raw) } : { raw: base64Url(raw), threadId };
    return gas.globals.Gmail.Users.Messages.send(resource, 'me');
  }

  it('joins the thread when rules hold', () => {
    const gas = emulator();
    const first = gas.mailbox.deliver(customerMail('Printer on fire', '<d1@customer.test>'));
    const sent = sendReply(
      gas,
      { Subject: 'Re: Printer on fire', 'In-Reply-To': '<d1@customer.test>', References: '<d1@customer.test>' },
      first.threadId,
    );
    expect(sent.threadId).toBe(first.threadId);
  });

  it('starts a thread without threadId', () => {
    const gas = emulator();
    gas.mailbox.deliver(customerMail('Printer on fire', '<e1@customer.test>'));
    const sent = sendReply(gas, { Subject: 'Re: Printer on fire', 'In-Reply-To': '<e1@customer.test>' });
    expect(sent.threadId).toBe(sent.id);
  });

  it('starts a thread when the subject differs', () => {
    const gas = emulator();
    const first = gas.mailbox.deliver(customerMail('Printer on fire', '<f1@customer.test>'));
    const sent = sendReply(gas, { Subject: 'Something else', 'In-Reply-To': '<f1@customer.test>' }, first.threadId);
    expect(sent.threadId).not.toBe(first.threadId);
  });

  it('starts a thread without references', () => {
    const gas = emulator();
    const first = gas.mailbox.deliver(customerMail('Printer on fire', '<g1@customer.test>'));
    const sent = sendReply(gas, { Subject: 'Re: Printer on fire' }, first.threadId);
    expect(sent.threadId).not.toBe(first.threadId);
  });

  it('replaces Message-ID and keeps X- headers', async () => {
    const gas = emulator();
    const sent = sendReply(gas, {
      Subject: 'Notification',
      'Message-ID': '<plusdesk-key-1@example.com>',
      'X-Plusdesk-Key': 'key-1',
      'Reply-To': 'support+7-reply-k7fq2m@example.com',
    });
    expect(sent).toEqual({ id: sent.id, threadId: sent.id, labelIds: ['SENT'] });
    const [parsed] = await gas.mailbox.sent();
    expect(parsed?.messageId).toMatch(/^<CA[^@]+@mail\.gmail\.com>$/);
    expect(parsed?.headers['x-plusdesk-key']).toBe('key-1');
    expect(parsed?.replyTo).toEqual(['support+7-reply-k7fq2m@example.com']);
    const stored = gas.mailbox.message(sent.id!);
    expect(stored?.raw.match(/^Message-ID:/gim)).toHaveLength(1);
  });

  it('rewrites a From that is no alias', async () => {
    const gas = emulator({ sendAs: ['help@example.com'] });
    sendReply(gas, { From: 'Desk <someone@elsewhere.test>', Subject: 'one' });
    sendReply(gas, { From: 'Help <help@example.com>', Subject: 'two' });
    const [first, second] = await gas.mailbox.sent();
    expect(first?.from).toBe(SUPPORT);
    expect(second?.from).toBe('help@example.com');
  });

  it('parses sent recipients, subject and text', async () => {
    const gas = emulator();
    sendReply(gas, { Cc: 'dave@customer.test, Erin <erin@customer.test>', Subject: '[#5] Printer' });
    const [parsed] = await gas.mailbox.sent();
    expect(parsed?.to).toEqual(['carol@customer.test']);
    expect(parsed?.cc).toEqual(['dave@customer.test', 'erin@customer.test']);
    expect(parsed?.subject).toBe('[#5] Printer');
    expect(parsed?.text.trim()).toBe('Hello there.');
  });

  it('rejects a message without recipients', () => {
    const gas = emulator();
    const error = thrown(() =>
      gas.globals.Gmail.Users.Messages.send({ raw: base64Url(mail({ From: SUPPORT, Subject: 'x' })) }, 'me'),
    );
    expect(error.name).toBe('GoogleJsonResponseException');
    expect(error.details?.code).toBe(400);
  });
});

describe('Gmail history', () => {
  it('lists messages added after the start id', () => {
    const gas = emulator();
    const start = gas.globals.Gmail.Users.getProfile('me').historyId!;
    const first = gas.mailbox.deliver(customerMail('One', '<h1@customer.test>'));
    const second = gas.mailbox.deliver(customerMail('Two', '<h2@customer.test>'));
    const page = gas.globals.Gmail.Users.History.list('me', { startHistoryId: start, historyTypes: ['messageAdded'] });
    const added = (page.history ?? []).flatMap((record) => record.messagesAdded ?? []).map((entry) => entry.message?.id);
    expect(added).toEqual([first.id, second.id]);
    expect(page.historyId).toBe(gas.globals.Gmail.Users.getProfile('me').historyId);
    expect(page.nextPageToken).toBeUndefined();
  });

  it('omits history when nothing changed', () => {
    const gas = emulator();
    const start = gas.globals.Gmail.Users.getProfile('me').historyId!;
    const page = gas.globals.Gmail.Users.History.list('me', { startHistoryId: start });
    expect(page).toEqual({ historyId: start });
  });

  it('pages with nextPageToken', () => {
    const gas = emulator();
    const start = gas.globals.Gmail.Users.getProfile('me').historyId!;
    for (let i = 0; i < 5; i++) gas.mailbox.deliver(customerMail(`Message ${i}`, `<p${i}@customer.test>`));
    const ids: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = gas.globals.Gmail.Users.History.list('me', {
        startHistoryId: start,
        maxResults: 2,
        ...(pageToken === undefined ? {} : { pageToken }),
      });
      ids.push(...(page.history ?? []).map((record) => record.id!));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== undefined);
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(5);
  });

  it('filters by label and history type', () => {
    const gas = emulator();
    const start = gas.globals.Gmail.Users.getProfile('me').historyId!;
    const inbox = gas.mailbox.deliver(customerMail('Inbox', '<l1@customer.test>'));
    gas.mailbox.deliver(customerMail('Archived', '<l2@customer.test>'), { labels: ['UNREAD'] });
    gas.globals.Gmail.Users.Messages.modify({ removeLabelIds: ['UNREAD'] }, 'me', inbox.id);
    const page = gas.globals.Gmail.Users.History.list('me', {
      startHistoryId: start,
      historyTypes: ['messageAdded'],
      labelId: 'INBOX',
    });
    expect(page.history?.map((record) => record.messagesAdded?.[0]?.message?.id)).toEqual([inbox.id]);
    const removals = gas.globals.Gmail.Users.History.list('me', { startHistoryId: start, historyTypes: ['labelRemoved'] });
    expect(removals.history?.[0]?.labelsRemoved?.[0]?.labelIds).toEqual(['UNREAD']);
  });

  it('throws 404 for an expired start id', () => {
    const gas = emulator();
    const start = gas.globals.Gmail.Users.getProfile('me').historyId!;
    gas.mailbox.deliver(customerMail('One', '<x1@customer.test>'));
    gas.mailbox.expireHistory();
    const error = thrown(() => gas.globals.Gmail.Users.History.list('me', { startHistoryId: start }));
    expect(error.name).toBe('GoogleJsonResponseException');
    expect(error.message).toBe('API call to gmail.users.history.list failed with error: Requested entity was not found.');
    expect(error.details?.code).toBe(404);
  });

  it('expires history after the retention time', () => {
    const gas = emulator({ historyRetentionMs: 60_000 });
    const start = gas.globals.Gmail.Users.getProfile('me').historyId!;
    gas.mailbox.deliver(customerMail('One', '<y1@customer.test>'));
    expect(() => gas.globals.Gmail.Users.History.list('me', { startHistoryId: start })).not.toThrow();
    gas.clock.advance(120_000);
    expect(thrown(() => gas.globals.Gmail.Users.History.list('me', { startHistoryId: start })).details?.code).toBe(404);
  });

  it('throws 404 for a start id ahead of the mailbox', () => {
    const gas = emulator();
    const ahead = String(Number(gas.globals.Gmail.Users.getProfile('me').historyId) + 1000);
    expect(thrown(() => gas.globals.Gmail.Users.History.list('me', { startHistoryId: ahead })).details?.code).toBe(404);
  });

  it('throws 400 for a non-numeric start id', () => {
    const gas = emulator();
    const error = thrown(() => gas.globals.Gmail.Users.History.list('me', { startHistoryId: 'abc' }));
    expect(error.details?.code).toBe(400);
    expect(error.message).toContain(`Invalid value at 'start_history_id' (TYPE_UINT64), "abc"`);
  });
});

describe('Gmail search', () => {
  function setup(): { gas: AppsScript; ids: Record<string, string> } {
    const gas = emulator();
    const processed = gas.mailbox.ensureLabel('plusdesk/processed');
    const old = gas.mailbox.deliver(customerMail('Old', '<s1@customer.test>'), { date: new Date('2026-01-01T00:00:00Z') });
    const fresh = gas.mailbox.deliver(customerMail('[#12] Fresh', '<s2@customer.test>'));
    const done = gas.mailbox.deliver(customerMail('Done', '<s3@customer.test>'));
    gas.globals.Gmail.Users.Messages.modify({ addLabelIds: [processed], removeLabelIds: ['INBOX'] }, 'me', done.id);
    const sent = gas.globals.Gmail.Users.Messages.send(
      { raw: base64Url(mail({ From: SUPPORT, To: 'carol@customer.test', Subject: 'Sent one' })) },
      'me',
    );
    return { gas, ids: { old: old.id, fresh: fresh.id, done: done.id, sent: sent.id! } };
  }

  const cases: [string, string, string[]][] = [
    ['in:inbox', 'in:inbox', ['fresh', 'old']],
    ['in:sent', 'in:sent', ['sent']],
    ['label:', 'label:plusdesk/processed', ['done']],
    ['label: with hyphens', 'label:plusdesk-processed', ['done']],
    ['-label:', 'in:inbox -label:plusdesk/processed', ['fresh', 'old']],
    ['after: epoch seconds', `after:${Date.parse('2026-01-03T00:00:00Z') / 1000}`, ['sent', 'done', 'fresh']],
    ['before: epoch seconds', `before:${Date.parse('2026-01-03T00:00:00Z') / 1000}`, ['old']],
    ['rfc822msgid:', 'rfc822msgid:<s2@customer.test>', ['fresh']],
    ['rfc822msgid: without brackets', 'rfc822msgid:s3@customer.test', ['done']],
    ['AND of terms', 'in:inbox after:1767312000', ['fresh']],
    ['quoted subject', 'subject:"[#12]"', ['fresh']],
    ['newer_than:', 'in:inbox newer_than:2d', ['fresh']],
  ];

  it.each(cases)('matches %s', (_label, query, expected) => {
    const { gas, ids } = setup();
    const page = gas.globals.Gmail.Users.Messages.list('me', { q: query });
    const byId = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
    expect((page.messages ?? []).map((message) => byId[message.id!])).toEqual(expected);
    expect(page.resultSizeEstimate).toBe(expected.length);
  });

  it('omits messages when nothing matches', () => {
    const { gas } = setup();
    expect(gas.globals.Gmail.Users.Messages.list('me', { q: 'label:nothing-here' })).toEqual({ resultSizeEstimate: 0 });
  });

  it('rejects an unsupported term', () => {
    const { gas } = setup();
    expect(() => gas.globals.Gmail.Users.Messages.list('me', { q: 'printer' })).toThrow(/free-text search term/);
    expect(() => gas.globals.Gmail.Users.Messages.list('me', { q: 'in:inbox OR in:sent' })).toThrow(/not supported/);
  });

  it('pages the message list', () => {
    const { gas } = setup();
    const first = gas.globals.Gmail.Users.Messages.list('me', { maxResults: 3 });
    expect(first.messages).toHaveLength(3);
    const second = gas.globals.Gmail.Users.Messages.list('me', { maxResults: 3, pageToken: first.nextPageToken });
    expect(second.messages).toHaveLength(1);
    expect(second.nextPageToken).toBeUndefined();
  });
});

describe('Gmail messages and labels', () => {
  it('returns raw as signed bytes by default', () => {
    const gas = emulator();
    const raw = customerMail('Grüße', '<r1@customer.test>');
    const { id } = gas.mailbox.deliver(raw);
    const message = gas.globals.Gmail.Users.Messages.get('me', id, { format: 'raw' });
    const bytes = message.raw as unknown as number[];
    expect(Array.isArray(bytes)).toBe(true);
    expect(bytes.some((byte) => byte < 0)).toBe(true);
    const text = Buffer.from(bytes.map((byte) => byte & 0xff)).toString('utf8');
    expect(text.endsWith(raw)).toBe(true);
    expect(text.startsWith('Delivered-To: support@example.com\r\n')).toBe(true);
  });

  it('returns raw as base64url when configured', () => {
    const gas = emulator({ gmailRawFormat: 'base64url' });
    const { id } = gas.mailbox.deliver(customerMail('Plain', '<r2@customer.test>'));
    const message = gas.globals.Gmail.Users.Messages.get('me', id, { format: 'raw' });
    expect(typeof message.raw).toBe('string');
    expect(Buffer.from(message.raw!, 'base64url').toString()).toContain('Subject: Plain');
  });

  it('returns chosen headers for metadata', () => {
    const gas = emulator();
    const { id, threadId } = gas.mailbox.deliver(customerMail('=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=', '<r3@customer.test>'));
    const message = gas.globals.Gmail.Users.Messages.get('me', id, {
      format: 'metadata',
      metadataHeaders: ['subject', 'Message-ID'],
    });
    expect(message.payload?.headers).toEqual([
      { name: 'Subject', value: 'Grüße' },
      { name: 'Message-ID', value: '<r3@customer.test>' },
    ]);
    expect(message.threadId).toBe(threadId);
    expect(message.raw).toBeUndefined();
  });

  it('throws 404 for an unknown message', () => {
    const gas = emulator();
    const error = thrown(() => gas.globals.Gmail.Users.Messages.get('me', '18c0000000000000', { format: 'minimal' }));
    expect(error.message).toBe('API call to gmail.users.messages.get failed with error: Requested entity was not found.');
  });

  it('rejects the full format as not emulated', () => {
    const gas = emulator();
    const { id } = gas.mailbox.deliver(customerMail('x', '<r4@customer.test>'));
    expect(() => gas.globals.Gmail.Users.Messages.get('me', id)).toThrow(/format "full" is not emulated/);
  });

  it('creates labels and rejects duplicates', () => {
    const gas = emulator();
    const label = gas.globals.Gmail.Users.Labels.create(
      { name: 'plusdesk/processed', labelListVisibility: 'labelShow', messageListVisibility: 'show' },
      'me',
    );
    expect(label).toEqual({
      id: 'Label_1',
      name: 'plusdesk/processed',
      labelListVisibility: 'labelShow',
      messageListVisibility: 'show',
    });
    expect(thrown(() => gas.globals.Gmail.Users.Labels.create({ name: 'PLUSDESK/processed' }, 'me')).details?.code).toBe(409);
    expect(thrown(() => gas.globals.Gmail.Users.Labels.create({ name: 'Inbox' }, 'me')).details?.code).toBe(400);
    const names = gas.globals.Gmail.Users.Labels.list('me').labels?.map((entry) => entry.name);
    expect(names).toContain('plusdesk/processed');
    expect(names).toContain('INBOX');
  });

  it('batch-modifies labels and rejects label names', () => {
    const gas = emulator();
    const label = gas.mailbox.ensureLabel('plusdesk/processed');
    const a = gas.mailbox.deliver(customerMail('a', '<m1@customer.test>'));
    const b = gas.mailbox.deliver(customerMail('b', '<m2@customer.test>'));
    gas.globals.Gmail.Users.Messages.batchModify({ ids: [a.id, b.id], addLabelIds: [label], removeLabelIds: ['INBOX'] }, 'me');
    expect(gas.mailbox.labelsOf(a.id)).toEqual(['UNREAD', 'plusdesk/processed']);
    const error = thrown(() =>
      gas.globals.Gmail.Users.Messages.batchModify({ ids: [a.id], addLabelIds: ['plusdesk/processed'] }, 'me'),
    );
    expect(error.message).toContain('Invalid label: plusdesk/processed');
  });

  it('reads thread metadata oldest first', () => {
    const gas = emulator();
    const first = gas.mailbox.deliver(customerMail('Printer', '<t1@customer.test>'));
    gas.mailbox.deliver(
      customerMail('Re: Printer', '<t2@customer.test>', { References: '<t1@customer.test>', 'X-Plusdesk-Key': 'k2' }),
    );
    const thread = gas.globals.Gmail.Users.Threads.get('me', first.threadId, {
      format: 'metadata',
      metadataHeaders: ['X-Plusdesk-Key'],
    });
    expect(thread.messages?.map((message) => message.payload?.headers)).toEqual([[], [{ name: 'X-Plusdesk-Key', value: 'k2' }]]);
  });
});

describe('GmailApp', () => {
  it('reads the opened message with its token', () => {
    const gas = emulator({ user: 'alice@example.com', gmailAccess: 'current-message' });
    const { id, threadId } = gas.mailbox.deliver(
      customerMail('=?UTF-8?Q?Caf=C3=A9?=', '<ga1@customer.test>', { 'X-Plusdesk-Ticket': '12' }),
    );
    const event = gas.addonEvent({ messageId: id, parameters: { ticket: '12' } });
    const app = gas.globals.GmailApp;
    expect(() => app.getMessageById(id)).toThrow(/Missing access token/);
    app.setCurrentMessageAccessToken(event.gmail.accessToken);
    const message = app.getMessageById(event.gmail.messageId);
    expect(message.getId()).toBe(id);
    expect(message.getThread().getId()).toBe(threadId);
    expect(message.getSubject()).toBe('Café');
    expect(message.getHeader('x-plusdesk-ticket')).toBe('12');
    expect(message.getHeader('X-Missing')).toBe('');
    expect(message.getFrom()).toBe('Carol Customer <carol@customer.test>');
    expect(message.getDate().getTime()).toBe(DEFAULT_START.getTime());
    expect(message.getRawContent()).toContain('Message-ID: <ga1@customer.test>');
    expect(event.commonEventObject.parameters).toEqual({ ticket: '12' });
  });

  it('creates and finds user labels', () => {
    const gas = emulator();
    expect(gas.globals.GmailApp.getUserLabelByName('plusdesk/held')).toBeNull();
    gas.globals.GmailApp.createLabel('plusdesk/held');
    expect(gas.globals.GmailApp.getUserLabelByName('plusdesk/held')?.getName()).toBe('plusdesk/held');
  });
});

describe('SpreadsheetApp', () => {
  function sheet(gas = emulator()): GoogleAppsScript.Spreadsheet.Sheet {
    return gas.globals.SpreadsheetApp.create('Tickets').getSheets()[0]! as unknown as GoogleAppsScript.Spreadsheet.Sheet;
  }

  it('rejects a setValues row count mismatch', () => {
    const range = sheet().getRange(1, 1, 2, 2);
    expect(() => range.setValues([[1, 2]])).toThrow(
      'The number of rows in the data does not match the number of rows in the range. The data has 1 but the range has 2.',
    );
  });

  it('rejects a setValues column count mismatch', () => {
    const range = sheet().getRange(1, 1, 2, 2);
    expect(() => range.setValues([[1, 2], [3]])).toThrow(
      'The number of columns in the data does not match the number of columns in the range. The data has 1 but the range has 2.',
    );
  });

  it('stores = as a formula and reads its result', () => {
    const target = sheet().getRange(1, 1, 1, 3);
    target.setValues([['=1+2', '=HYPERLINK("https://evil.test","click")', "'=1+2"]]);
    expect(target.getValues()).toEqual([[3, '#NAME?', '=1+2']]);
    expect(target.getFormulas()).toEqual([['=1+2', '=HYPERLINK("https://evil.test","click")', '']]);
  });

  it('drops the leading apostrophe of text', () => {
    const target = sheet().getRange(1, 1, 1, 3);
    target.setValues([["'+44 20", "'42", "'@home"]]);
    expect(target.getValues()).toEqual([['+44 20', '42', '@home']]);
    expect(target.getDisplayValues()).toEqual([['+44 20', '42', '@home']]);
  });

  it('auto-types numbers, booleans and dates', () => {
    const target = sheet().getRange(1, 1, 1, 7);
    target.setValues([['42', '-2+3', '1,000', 'TRUE', '2026-01-05', '2026-01-05T09:00:00Z', '50%']]);
    const [row] = target.getValues();
    expect(row?.slice(0, 4)).toEqual([42, '-2+3', 1000, true]);
    expect(row?.[4]).toBeInstanceOf(Date);
    expect((row?.[4] as Date).toISOString()).toBe('2026-01-05T00:00:00.000Z');
    expect(row?.slice(5)).toEqual(['2026-01-05T09:00:00Z', 0.5]);
    expect(target.getDisplayValues()).toEqual([['42', '-2+3', '1,000', 'TRUE', '1/5/2026', '2026-01-05T09:00:00Z', '50%']]);
  });

  it('keeps number-like text in plain-text cells', () => {
    const target = sheet().getRange(1, 1, 1, 2).setNumberFormat('@');
    target.setValues([['42', '007']]);
    expect(target.getValues()).toEqual([['42', '007']]);
  });

  it('tracks last row through appends and row edits', () => {
    const tab = sheet();
    expect(tab.getLastRow()).toBe(0);
    tab.appendRow(['Number', 'Status']);
    tab.appendRow([1, 'open']);
    expect(tab.getLastRow()).toBe(2);
    expect(tab.getDataRange().getValues()).toEqual([
      ['Number', 'Status'],
      [1, 'open'],
    ]);
    tab.insertRowsAfter(1, 2);
    expect(tab.getLastRow()).toBe(4);
    expect(tab.getMaxRows()).toBe(1002);
    tab.deleteRows(2, 2);
    expect(tab.getRange('A2:B2').getValues()).toEqual([[1, 'open']]);
  });

  it('rejects ranges outside the sheet', () => {
    const tab = sheet();
    expect(() => tab.getRange(1001, 1)).toThrow('The coordinates of the range are outside the dimensions of the sheet.');
    expect(() => tab.getRange(1, 1, 0, 1)).toThrow('The number of rows in the range must be at least 1.');
  });

  it('rejects values outside a strict list rule', () => {
    const gas = emulator();
    const tab = sheet(gas);
    const rule = gas.globals.SpreadsheetApp.newDataValidation()
      .requireValueInList(['open', 'pending', 'closed'], true)
      .setAllowInvalid(false)
      .build();
    tab.getRange(2, 2, 10, 1).setDataValidation(rule as unknown as GoogleAppsScript.Spreadsheet.DataValidation);
    tab.getRange(2, 2).setValue('pending');
    expect(() => tab.getRange(3, 2).setValue('lost')).toThrow(/cell B3 violates the data validation rules/);
    expect(tab.getRange(2, 2).getDataValidation()?.getCriteriaValues()).toEqual([['open', 'pending', 'closed'], true]);
  });

  it('accepts booleans under checkbox rules', () => {
    const gas = emulator();
    const tab = sheet(gas);
    const rule = gas.globals.SpreadsheetApp.newDataValidation().requireCheckbox().setAllowInvalid(false).build();
    tab.getRange(2, 3, 5, 1).setDataValidation(rule as unknown as GoogleAppsScript.Spreadsheet.DataValidation);
    tab.getRange(2, 3, 2, 1).setValues([[true], ['FALSE']]);
    expect(tab.getRange(2, 3, 2, 1).getValues()).toEqual([[true], [false]]);
    expect(() => tab.getRange(4, 3).setValue('yes')).toThrow(/cell C4 violates/);
  });

  it('finds cells with a text finder', () => {
    const gas = emulator();
    const tab = sheet(gas);
    tab.getRange(1, 1, 3, 2).setValues([
      ['id', 'thread'],
      ['1', '18c0a'],
      ['2', 'x18c0a'],
    ]);
    gas.calls.reset();
    const finder = tab.createTextFinder('18c0a').matchEntireCell(true);
    expect(finder.findAll().map((range) => range.getA1Notation())).toEqual(['B2']);
    expect(finder.findNext()?.getRow()).toBe(2);
    expect(finder.findNext()?.getRow()).toBe(2);
    expect(gas.calls.count('TextFinder.findAll')).toBe(1);
    expect(gas.calls.count('TextFinder.findNext')).toBe(2);
  });

  it('builds and lists charts', () => {
    const gas = emulator();
    const tab = sheet(gas);
    const chart = tab
      .newChart()
      .setChartType(gas.globals.Charts.ChartType.BAR as unknown as GoogleAppsScript.Charts.ChartType)
      .addRange(tab.getRange('A2:B30'))
      .setPosition(2, 7, 0, 0)
      .setOption('title', 'Open tickets per agent')
      .build();
    tab.insertChart(chart);
    const [stored] = tab.getCharts();
    expect(stored?.getOptions().get('title')).toBe('Open tickets per agent');
    const spreadsheetId = gas.spreadsheets.ids()[0]!;
    expect(gas.spreadsheets.sheet(spreadsheetId, 'Sheet1').charts[0]?.ranges).toEqual([{ sheetName: 'Sheet1', a1: 'A2:B30' }]);
  });

  it('opens a shared spreadsheet from another project', () => {
    const processor = emulator();
    const created = processor.globals.SpreadsheetApp.create('Desk');
    created.insertSheet('Team').getRange(1, 1).setValue('alice@example.com');
    const addon = emulator({ user: 'alice@example.com', spreadsheets: processor.spreadsheets });
    const opened = addon.globals.SpreadsheetApp.openById(created.getId());
    expect(opened.getSheetByName('Team')?.getRange(1, 1).getValue()).toBe('alice@example.com');
    expect(() => addon.globals.SpreadsheetApp.openById('missing')).toThrow(/Unexpected error while getting the method or property openById/);
    expect(addon.globals.SpreadsheetApp.getActiveSpreadsheet()).toBeNull();
  });
});

describe('PropertiesService', () => {
  it('rejects a value over 9 KB', () => {
    const gas = emulator();
    const properties = gas.globals.PropertiesService.getScriptProperties();
    properties.setProperty('fits', 'x'.repeat(9 * 1024));
    expect(() => properties.setProperty('big', 'x'.repeat(9 * 1024 + 1))).toThrow('Argument too large: value');
    expect(() => properties.setProperties({ a: 'é'.repeat(4700) })).toThrow('Argument too large: value');
    expect(gas.properties.script.keys()).toEqual(['fits']);
  });

  it('sets, lists and deletes properties', () => {
    const properties = emulator().globals.PropertiesService.getScriptProperties();
    properties.setProperties({ a: '1', b: '2' });
    properties.setProperties({ c: '3' }, true);
    expect(properties.getProperties()).toEqual({ c: '3' });
    properties.deleteProperty('c');
    expect(properties.getProperty('c')).toBeNull();
    expect(properties.getKeys()).toEqual([]);
  });
});

describe('LockService', () => {
  it('makes a second execution wait and fail', async () => {
    const gas = emulator();
    const lockService = gas.globals.LockService;
    const first = gas.beginExecution('trigger run 1');
    expect(await first.run(() => lockService.getScriptLock().tryLock(0))).toBe(true);
    const before = gas.clock.now();
    const second = await gas.execution('trigger run 2', () => lockService.getScriptLock().tryLock(5000));
    expect(second).toBe(false);
    expect(gas.clock.now() - before).toBeGreaterThanOrEqual(5000 + 50);
    await expect(gas.execution('trigger run 3', () => lockService.getScriptLock().waitLock(100))).rejects.toThrow(
      'Lock timeout: another process was holding the lock for too long.',
    );
    first.end();
    expect(await gas.execution('trigger run 4', () => lockService.getScriptLock().tryLock(0))).toBe(true);
    expect(gas.locks.held()).toEqual({});
  });

  it('lets the holder take the lock again', async () => {
    const gas = emulator();
    const result = await gas.execution('run', () => {
      const lock = gas.globals.LockService.getScriptLock();
      return [lock.tryLock(0), gas.globals.LockService.getScriptLock().tryLock(0), lock.hasLock()];
    });
    expect(result).toEqual([true, true, true]);
  });
});

describe('ScriptApp triggers', () => {
  it('creates, lists and deletes a trigger', () => {
    const gas = emulator();
    const scriptApp = gas.globals.ScriptApp;
    scriptApp.newTrigger('processInbox').timeBased().everyMinutes(1).create();
    const [trigger] = scriptApp.getProjectTriggers();
    expect(trigger?.getHandlerFunction()).toBe('processInbox');
    expect(trigger?.getEventType()).toBe(scriptApp.EventType.CLOCK);
    expect(gas.triggers.list()).toEqual([{ id: trigger?.getUniqueId(), handler: 'processInbox', eventType: 'CLOCK', everyMinutes: 1 }]);
    scriptApp.deleteTrigger(trigger!);
    expect(scriptApp.getProjectTriggers()).toEqual([]);
  });

  it('rejects other minute intervals', () => {
    const builder = emulator().globals.ScriptApp.newTrigger('processInbox').timeBased();
    expect(() => builder.everyMinutes(2)).toThrow(/1, 5, 10, 15 or 30/);
  });

  it('limits a project to 20 triggers', () => {
    const scriptApp = emulator().globals.ScriptApp;
    for (let i = 0; i < 20; i++) scriptApp.newTrigger(`f${i}`).timeBased().everyHours(1).create();
    expect(() => scriptApp.newTrigger('one-more').timeBased().everyHours(1).create()).toThrow(/too many triggers/);
  });
});

describe('Utilities', () => {
  it('signs like Node HMAC as signed bytes', () => {
    const utilities = emulator().globals.Utilities;
    const signature = utilities.computeHmacSha256Signature('12:reply', 'sëcret');
    const expected = [...createHmac('sha256', 'sëcret').update('12:reply').digest()].map((byte) => (byte > 127 ? byte - 256 : byte));
    expect(signature).toEqual(expected);
    expect(signature.every((byte) => byte >= -128 && byte <= 127)).toBe(true);
  });

  it('round-trips base64 in both alphabets', () => {
    const utilities = emulator().globals.Utilities;
    const text = 'Grüße ~~~ ???';
    const webSafe = utilities.base64EncodeWebSafe(text, utilities.Charset.UTF_8);
    expect(webSafe).toBe(Buffer.from(text).toString('base64').replace(/\+/g, '-').replace(/\//g, '_'));
    const bytes = utilities.base64DecodeWebSafe(webSafe);
    expect(utilities.newBlob(bytes).getDataAsString()).toBe(text);
    expect(utilities.base64Decode(utilities.base64Encode(text))).toEqual(bytes);
    expect(() => utilities.base64Decode(webSafe)).toThrow('Could not decode string.');
  });

  it('formats dates in a time zone', () => {
    const utilities = emulator().globals.Utilities;
    const date = new Date('2026-07-01T12:34:56Z');
    expect(utilities.formatDate(date, 'Europe/Berlin', "yyyy-MM-dd'T'HH:mm:ssXXX")).toBe('2026-07-01T14:34:56+02:00');
    expect(utilities.formatDate(date, 'UTC', 'EEE, d MMM yyyy HH:mm:ss Z')).toBe('Wed, 1 Jul 2026 12:34:56 +0000');
  });

  it('sleeps on the emulated clock', () => {
    const gas = emulator();
    const before = gas.clock.now();
    gas.globals.Utilities.sleep(2000);
    expect(gas.clock.now() - before).toBe(2000);
  });
});

describe('calls and clock', () => {
  it('counts calls by name', () => {
    const gas = emulator();
    gas.globals.PropertiesService.getScriptProperties().getProperty('a');
    gas.globals.Gmail.Users.getProfile('me');
    expect(gas.calls.byName()).toEqual({
      'Gmail.Users.getProfile': 1,
      'Properties.getProperty': 1,
      'PropertiesService.getScriptProperties': 1,
    });
    expect(gas.calls.total()).toBe(3);
    gas.calls.reset();
    expect(gas.calls.total()).toBe(0);
  });

  it('charges modelled latency per call', () => {
    const gas = emulator({ latency: { 'Gmail.Users.getProfile': 1234 } });
    const start = gas.clock.now();
    gas.globals.Gmail.Users.getProfile('me');
    const { id } = gas.mailbox.deliver(customerMail('x', '<lat@customer.test>'));
    gas.globals.Gmail.Users.Messages.get('me', id, { format: 'raw' });
    gas.globals.Gmail.Users.Messages.get('me', id, { format: 'metadata' });
    expect(gas.clock.now() - start).toBe(1234 + 300 + 200);
  });

  it('kills the execution after the Nth call', async () => {
    const gas = emulator();
    const properties = gas.globals.PropertiesService.getScriptProperties();
    gas.calls.onCall = (name, count) => {
      if (count === 3) throw new Error(`crash after ${name}`);
    };
    const run = gas.execution('processInbox', () => {
      properties.setProperty('step', '1');
      try {
        properties.setProperty('step', '2');
      } catch {
        // The script swallows the error, but it died all the same.
      }
      properties.setProperty('step', '3');
    });
    await expect(run).rejects.toThrow('crash after Properties.setProperty');
    expect(gas.properties.script.get('step')).toBe('2');
    expect(gas.calls.total()).toBe(3);
  });

  it('survives a crash outside executions', () => {
    const gas = emulator();
    const properties = gas.globals.PropertiesService.getScriptProperties();
    gas.calls.onCall = (_name, count) => {
      if (count === 2) throw new Error('crash');
    };
    expect(() => properties.setProperty('a', '1')).toThrow('crash');
    expect(properties.getProperty('a')).toBe('1');
  });

  it('fails a call before it takes effect', () => {
    const gas = emulator();
    const properties = gas.globals.PropertiesService.getScriptProperties();
    gas.calls.beforeCall = (name) => {
      if (name === 'Properties.setProperty') throw new Error('Service unavailable');
    };
    expect(() => properties.setProperty('a', '1')).toThrow('Service unavailable');
    expect(gas.properties.script.get('a')).toBeNull();
    expect(gas.calls.count('Properties.setProperty')).toBe(1);
  });

  it('gives Date the emulated clock', () => {
    const gas = emulator();
    const EmulatedDate = gas.globals.Date;
    expect(new EmulatedDate().getTime()).toBe(DEFAULT_START.getTime());
    gas.clock.advance(90_000);
    expect(EmulatedDate.now()).toBe(DEFAULT_START.getTime() + 90_000);
    expect(new EmulatedDate(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(new EmulatedDate('2026-02-01T00:00:00Z').getTime()).toBe(Date.parse('2026-02-01T00:00:00Z'));
    expect(new Date() instanceof EmulatedDate).toBe(true);
    expect(typeof (EmulatedDate as unknown as () => string)()).toBe('string');
  });

  it('ends an execution at six minutes', async () => {
    const gas = emulator();
    const properties = gas.globals.PropertiesService.getScriptProperties();
    const run = gas.execution('processInbox', () => {
      for (;;) properties.getProperty('cursor');
    });
    await expect(run).rejects.toThrow('Exceeded maximum execution time');
  });
});

describe('UrlFetchApp', () => {
  it('serves Gmail REST reads in one fetchAll', () => {
    const gas = emulator();
    const a = gas.mailbox.deliver(customerMail('One', '<u1@customer.test>'));
    const b = gas.mailbox.deliver(customerMail('Two', '<u2@customer.test>'));
    const token = gas.globals.ScriptApp.getOAuthToken();
    const before = gas.clock.now();
    const responses = gas.globals.UrlFetchApp.fetchAll(
      [a.id, b.id, 'ffff000000000000'].map((id) => ({
        url: `https://gmail.googleapis.com/gmail/v1/users/me/messages/${id}?format=raw`,
        headers: { Authorization: `Bearer ${token}` },
        muteHttpExceptions: true,
      })),
    );
    expect(gas.clock.now() - before).toBe(600);
    expect(responses.map((response) => response.getResponseCode())).toEqual([200, 200, 404]);
    const body = JSON.parse(responses[0]!.getContentText()) as { id: string; threadId: string; raw: string };
    expect(body.id).toBe(a.id);
    expect(Buffer.from(body.raw, 'base64url').toString()).toContain('Subject: One');
    expect(responses[0]!.getHeaders()).toEqual({ 'Content-Type': 'application/json; charset=UTF-8' });
    const error = JSON.parse(responses[2]!.getContentText()) as { error: { code: number; status: string } };
    expect(error.error.code).toBe(404);
    expect(error.error.status).toBe('NOT_FOUND');
  });

  it('batch-modifies over REST', () => {
    const gas = emulator();
    const a = gas.mailbox.deliver(customerMail('One', '<u3@customer.test>'));
    const response = gas.globals.UrlFetchApp.fetch('https://gmail.googleapis.com/gmail/v1/users/me/messages/batchModify', {
      method: 'post',
      contentType: 'application/json',
      payload: JSON.stringify({ ids: [a.id], removeLabelIds: ['INBOX', 'UNREAD'] }),
      headers: { Authorization: `Bearer ${gas.oauthToken}` },
    });
    expect(response.getResponseCode()).toBe(204);
    expect(gas.mailbox.labelsOf(a.id)).toEqual([]);
  });

  it('throws for errors unless muted', () => {
    const gas = emulator();
    expect(() => gas.globals.UrlFetchApp.fetch('https://gmail.googleapis.com/gmail/v1/users/me/profile')).toThrow(
      /^Request failed for https:\/\/gmail\.googleapis\.com returned code 401/,
    );
  });

  it('refuses every other address', () => {
    const gas = emulator();
    expect(() => gas.globals.UrlFetchApp.fetch('https://example.com/')).toThrow(/Address unavailable: https:\/\/example\.com\//);
    expect(() =>
      gas.globals.UrlFetchApp.fetchAll([
        { url: 'https://gmail.googleapis.com/gmail/v1/users/me/profile', headers: { Authorization: `Bearer ${gas.oauthToken}` } },
        'http://127.0.0.1:9/',
      ]),
    ).toThrow(/Address unavailable/);
  });
});

describe('CardService', () => {
  /** Returns CardService typed as the real service, as bundle code uses it. */
  function cardService(): GoogleAppsScript.Card_Service.CardService {
    return emulator().globals.CardService as unknown as GoogleAppsScript.Card_Service.CardService;
  }

  it('prints card JSON in the add-on shape', () => {
    const cards = cardService();
    const action = cards.newAction().setFunctionName('onToggleFollow').setParameters({ ticket: '12' });
    const card = cards
      .newCardBuilder()
      .setHeader(cards.newCardHeader().setTitle('#12 Printer on fire').setSubtitle('Open'))
      .addSection(
        cards
          .newCardSection()
          .setHeader('Ticket')
          .addWidget(cards.newTextParagraph().setText('Carol writes'))
          .addWidget(
            cards
              .newDecoratedText()
              .setTopLabel('Assignee')
              .setText('Alice')
              .setButton(cards.newTextButton().setText('Assign').setOnClickAction(action)),
          )
          .addWidget(
            cards
              .newButtonSet()
              .addButton(
                cards
                  .newTextButton()
                  .setText('☆ Follow')
                  .setTextButtonStyle(cards.TextButtonStyle.FILLED)
                  .setOnClickAction(action),
              ),
          )
          .addWidget(cards.newTextInput().setFieldName('comment').setTitle('Comment').setMultiline(true))
          .addWidget(
            cards
              .newSelectionInput()
              .setFieldName('status')
              .setTitle('Status')
              .setType(cards.SelectionInputType.DROPDOWN)
              .addItem('Open', 'open', true)
              .addItem('Closed', 'closed', false),
          )
          .addWidget(cards.newDivider()),
      )
      .setFixedFooter(cards.newFixedFooter().setPrimaryButton(cards.newTextButton().setText('Save').setOnClickAction(action)))
      .build();
    const onClick = { action: { function: 'onToggleFollow', parameters: [{ key: 'ticket', value: '12' }] } };
    expect(JSON.parse(card.printJson())).toEqual({
      header: { title: '#12 Printer on fire', subtitle: 'Open' },
      sections: [
        {
          header: 'Ticket',
          widgets: [
            { textParagraph: { text: 'Carol writes' } },
            { decoratedText: { topLabel: 'Assignee', text: 'Alice', button: { text: 'Assign', onClick } } },
            { buttonList: { buttons: [{ text: '☆ Follow', onClick, type: 'FILLED' }] } },
            { textInput: { name: 'comment', label: 'Comment', type: 'MULTIPLE_LINE' } },
            {
              selectionInput: {
                name: 'status',
                label: 'Status',
                type: 'DROPDOWN',
                items: [
                  { text: 'Open', value: 'open', selected: true },
                  { text: 'Closed', value: 'closed', selected: false },
                ],
              },
            },
            { divider: {} },
          ],
        },
      ],
      fixedFooter: { primaryButton: { text: 'Save', onClick } },
    });
  });

  it('prints an action response', () => {
    const cards = cardService();
    const card = cards
      .newCardBuilder()
      .addSection(cards.newCardSection().addWidget(cards.newTextParagraph().setText('Done')))
      .build();
    const response = cards
      .newActionResponseBuilder()
      .setNotification(cards.newNotification().setText('Following #12'))
      .setNavigation(cards.newNavigation().updateCard(card))
      .build();
    expect(JSON.parse(response.printJson())).toEqual({
      renderActions: {
        action: {
          navigations: [{ updateCard: { sections: [{ widgets: [{ textParagraph: { text: 'Done' } }] }] } }],
          notification: { text: 'Following #12' },
        },
      },
    });
    const root = cards.newActionResponseBuilder().setNavigation(cards.newNavigation().popToRoot()).build();
    expect(JSON.parse(root.printJson())).toEqual({ renderActions: { action: { navigations: [{ popToRoot: true }] } } });
  });

  it('rejects non-string action parameters', () => {
    const cards = cardService();
    expect(() => cards.newAction().setParameters({ ticket: 12 as unknown as string })).toThrow(/must be a string/);
  });
});

describe('loadBundle', () => {
  const source = `
    export function run(input: string) {
      const properties = PropertiesService.getScriptProperties();
      properties.setProperty('greeting', input);
      const sheet = SpreadsheetApp.create('Probe').getSheets()[0];
      sheet.getRange(1, 1, 1, 2).setValues([[input, '=1+2']]);
      const values = sheet.getRange(1, 1, 1, 2).getValues();
      return {
        stored: properties.getProperty('greeting'),
        values,
        isArray: values instanceof Array,
        now: new Date().toISOString(),
      };
    }
    export async function runAsync() {
      await Promise.resolve();
      return Session.getEffectiveUser().getEmail();
    }
    export function nodeGlobals() {
      const names = ['require', 'process', 'Buffer', 'setTimeout', 'TextEncoder', 'structuredClone', 'queueMicrotask', 'fetch'];
      return names.map((name) => typeof (globalThis as Record<string, unknown>)[name]);
    }
    export function hang() {
      return new Promise(() => undefined);
    }
    export function errorShape() {
      Logger.log('history from %s', '1');
      console.warn('careful', { start: 1 });
      try {
        Gmail.Users.History.list('me', { startHistoryId: '1' });
        return 'no error';
      } catch (error) {
        const failure = error as Error & { details: { code: number } };
        return [failure instanceof Error, failure.name, failure.details.code];
      }
    }
  `;

  async function bundle(): Promise<string> {
    const result = await build({
      stdin: { contents: source, loader: 'ts', resolveDir: repoRoot, sourcefile: 'probe.ts' },
      bundle: true,
      format: 'iife',
      globalName: 'Probe',
      target: 'es2020',
      write: false,
      logLevel: 'silent',
      footer: {
        js: [
          'function run(input) { return Probe.run(input); }',
          'function runAsync() { return Probe.runAsync(); }',
          'function nodeGlobals() { return Probe.nodeGlobals(); }',
          'function hang() { return Probe.hang(); }',
          'function errorShape() { return Probe.errorShape(); }',
        ].join('\n'),
      },
    });
    return result.outputFiles[0]!.text;
  }

  it('runs an esbuild IIFE against the services', async () => {
    const gas = emulator();
    const loaded = loadBundle(await bundle(), gas.globals);
    expect(loaded.functions()).toEqual(['errorShape', 'hang', 'nodeGlobals', 'run', 'runAsync']);
    const result = await gas.execution('run', () => loaded.call('run', 'hi'));
    // No service call follows `new Date()`, so the bundle saw the clock as it is now.
    expect(result).toEqual({ stored: 'hi', values: [['hi', 3]], isArray: true, now: gas.clock.date().toISOString() });
    expect(gas.clock.now()).toBeGreaterThan(DEFAULT_START.getTime() + 2000);
    expect(gas.calls.byName()).toMatchObject({ 'Properties.setProperty': 1, 'Range.setValues': 1, 'Range.getValues': 1 });
    expect(await loaded.call('runAsync')).toBe(SUPPORT);
  });

  it('hides Node globals from the bundle', async () => {
    const loaded = loadBundle(await bundle(), emulator().globals);
    expect(await loaded.call('nodeGlobals')).toEqual(Array(8).fill('undefined'));
  });

  it('throws service errors of the bundle realm', async () => {
    const gas = emulator();
    const loaded = loadBundle(await bundle(), gas.globals);
    expect(await loaded.call('errorShape')).toEqual([true, 'GoogleJsonResponseException', 404]);
    expect(gas.logs.entries.map((entry) => [entry.source, entry.level, entry.message])).toEqual([
      ['Logger', 'info', 'history from 1'],
      ['console', 'warn', 'careful { start: 1 }'],
    ]);
    expect(gas.calls.count('Logger.log')).toBe(1);
  });

  it('reports a promise that never settles', async () => {
    const loaded = loadBundle(await bundle(), emulator().globals);
    await expect(loaded.call('hang')).rejects.toThrow(/still pending after the microtask queue emptied/);
    await expect(loaded.call('missing')).rejects.toThrow(/no top-level function "missing"/);
  });
});
