/**
 * The sidebar preview in a real headless Chromium. Bob stars, assigns, comments on and closes
 * the demo's ticket #1 through the rendered card, and each step is checked on the page and in
 * the workbook. Then the local processor sends the comment's notification.
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../src/core/types';
import { DEMO_SUPPORT, runDemo, type DemoResult } from '../src/node/demo';
import { runLocal } from '../src/node/local';
import { listOutbox } from '../src/node/outbox';
import { startPreview, type PreviewServer } from '../src/node/preview';
import { readWorkbook } from '../src/node/workbook';
import { repoRoot } from './shared';
import { chromiumMissingNote, hasChromium, launchChromium, type ChromiumSession } from './support/chromium';

const screenshots = join(repoRoot, 'test-output', 'screenshots');
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const COMMENT = '@carol please check the export logs';

let root = '';
let demo: DemoResult;
let desk = '';
let server: PreviewServer | null = null;
let browser: ChromiumSession | null = null;

beforeAll(async () => {
  if (!hasChromium) return;
  root = await mkdtemp(join(tmpdir(), 'plusdesk-preview-test-'));
  demo = await runDemo(root);
  desk = join(root, 'desk');
  server = await startPreview({ dir: desk, port: 0 });
  browser = await launchChromium();
  mkdirSync(screenshots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (root !== '') await rm(root, { recursive: true, force: true });
});

async function ticketOne(): Promise<Ticket> {
  const snapshot = await readWorkbook(join(desk, 'plusdesk.xlsx'));
  const ticket = snapshot.tickets.find((candidate) => candidate.number === 1);
  if (ticket === undefined) throw new Error('ticket #1 is missing from the workbook');
  return ticket;
}

/** Clicks a card button and waits for the page that the server returns. */
async function press(page: Page, name: string): Promise<void> {
  await Promise.all([
    page.waitForEvent('load'),
    page.locator('aside').getByRole('button', { name, exact: true }).click(),
  ]);
}

async function toast(page: Page): Promise<string> {
  return (await page.getByRole('status').textContent()) ?? '';
}

async function decoratedText(page: Page, label: string): Promise<string> {
  const item = page.locator('.decorated-text', { has: page.locator('.top-label', { hasText: label }) }).first();
  return (await item.locator('.text').textContent()) ?? '';
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, name), fullPage: true });
}

describe('sidebar preview in Chromium', () => {
  it('star, assign, comment and close persist', async (context) => {
    context.skip(!hasChromium, chromiumMissingNote);
    const page = await browser!.context.newPage();
    await page.goto(`${server!.url}/ticket/1?agent=${encodeURIComponent(BOB)}`);
    expect(await page.locator('.card-header .title').textContent()).toBe('#1 CSV export fails with error 500');
    // The demo story already has Bob starring #1, so his first click stops following.
    expect(await page.locator('aside').getByRole('button', { name: '★ Following' }).count()).toBe(1);
    await shoot(page, '01-ticket-as-bob.png');

    await press(page, '★ Following');
    expect(await toast(page)).toBe('You no longer follow #1.');
    expect(await page.locator('aside').getByRole('button', { name: '☆ Follow' }).count()).toBe(1);
    expect((await ticketOne()).followers).not.toContain(BOB);
    await shoot(page, '02-unstarred.png');

    await press(page, '☆ Follow');
    expect(await toast(page)).toBe('You follow #1: you get every new message.');
    expect(await page.locator('aside').getByRole('button', { name: '★ Following' }).count()).toBe(1);
    expect(await decoratedText(page, 'Followers')).toBe('Bob Chen');
    expect((await ticketOne()).followers).toContain(BOB);
    await shoot(page, '03-starred.png');

    await page.selectOption('select[name="input:assignee"]', CAROL);
    await press(page, 'Assign');
    expect(await toast(page)).toBe(`#1 is assigned to ${CAROL}.`);
    expect(await decoratedText(page, 'Assignee')).toBe('Carol Diaz');
    expect(await page.locator('select[name="input:assignee"]').inputValue()).toBe(CAROL);
    expect((await ticketOne()).assignee).toBe(CAROL);
    await shoot(page, '04-assigned-to-carol.png');

    await page.fill('textarea[name="input:comment"]', COMMENT);
    await press(page, 'Post comment');
    expect(await toast(page)).toBe('Comment added to #1; the processor notifies followers and mentions.');
    const latest = page.locator('section', { hasText: 'Latest messages' }).locator('.decorated-text').first();
    expect(await latest.locator('.top-label').textContent()).toBe('Bob Chen · internal comment');
    expect(await latest.locator('.text').textContent()).toBe(COMMENT);
    expect(await page.locator('textarea[name="input:comment"]').inputValue()).toBe('');
    const queued = (await readWorkbook(join(desk, 'plusdesk.xlsx'))).messages.filter(
      (record) => record.kind === 'comment' && record.state === 'queued',
    );
    expect(queued).toHaveLength(1);
    expect(queued[0]!.author).toBe(BOB);
    expect(queued[0]!.ticket).toBe(1);
    expect(queued[0]!.summary).toBe(COMMENT);
    await shoot(page, '05-commented.png');

    await press(page, 'Close');
    expect(await toast(page)).toBe('#1 is closed.');
    expect(await page.locator('.card-header .subtitle').textContent()).toBe('Closed · Dana Reyes');
    expect(await decoratedText(page, 'Status')).toBe('Closed');
    expect(await page.locator('aside').getByRole('button', { name: 'Reopen' }).count()).toBe(1);
    const closed = await ticketOne();
    expect(closed.status).toBe('closed');
    expect(closed.assignee).toBe(CAROL);
    expect(closed.followers).toContain(BOB);
    await shoot(page, '06-closed.png');

    const outboxBefore = (await listOutbox(desk)).length;
    const report = await runLocal({ mailboxes: [demo.mailbox], out: desk, supportAddress: DEMO_SUPPORT });
    expect(report.outgoing).toHaveLength(1);
    expect(report.outgoing[0]!.kind).toBe('notification');
    expect(report.outgoing[0]!.to).toEqual([CAROL]);
    expect(report.outgoing[0]!.cc).toEqual([]);
    const sent = (await listOutbox(desk)).slice(outboxBefore);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to.map((address) => address.email)).toEqual([CAROL]);
    expect(sent[0]!.text).toContain('please check the export logs');
    const everyRecipient = sent.flatMap((entry) => [...entry.to, ...entry.cc].map((address) => address.email));
    expect(everyRecipient).not.toContain('dana@customer.example');
    const after = await readWorkbook(join(desk, 'plusdesk.xlsx'));
    expect(after.messages.filter((record) => record.state === 'queued')).toHaveLength(0);
    expect(after.tickets.find((ticket) => ticket.number === 1)?.status).toBe('closed');
    await page.close();
  });

  it('opens a message as a ticket and lists it', async (context) => {
    context.skip(!hasChromium, chromiumMissingNote);
    const page = await browser!.context.newPage();
    await page.goto(`${server!.url}/message?agent=alice%40example.com`);
    expect(await page.locator('.card-header .title').textContent()).toBe('Not a ticket');
    expect(await decoratedText(page, 'From')).toBe('Dana Reyes <dana@customer.example>');
    await shoot(page, '07-not-a-ticket.png');

    await press(page, 'Open as ticket');
    expect(await toast(page)).toBe('Opened ticket #2; you follow it.');
    expect(await page.locator('.card-header .title').textContent()).toBe('#2 Invoice for February is missing');
    const earlier = page.locator('.decorated-text', { has: page.locator('.top-label', { hasText: 'Earlier ticket #1' }) });
    expect(await earlier.locator('.text').textContent()).toBe('CSV export fails with error 500');
    await shoot(page, '08-opened-as-ticket.png');

    await page.goto(`${server!.url}/home?agent=alice%40example.com`);
    const unassigned = page.locator('section', { hasText: 'Unassigned (1)' });
    expect(await unassigned.locator('.decorated-text .text').allTextContents()).toEqual(['Invoice for February is missing']);
    const following = page.locator('section', { hasText: 'Following (1)' });
    expect(await following.locator('.decorated-text .top-label').allTextContents()).toEqual(['#2 · Open · unassigned']);
    await shoot(page, '09-homepage.png');

    await Promise.all([page.waitForEvent('load'), following.getByRole('button', { name: 'Show' }).click()]);
    expect(await page.locator('.card-header .title').textContent()).toBe('#2 Invoice for February is missing');
    await page.close();
  });
});
