/**
 * The `plusdesk` command as a user runs it (`npm run plusdesk -- ...`): its exit code, what it
 * prints, and its errors.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readWorkbook, WorkbookStore } from '../src/node/workbook';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'plusdesk-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REPO = resolve(__dirname, '..');
const CLI = join(REPO, 'src/entries/cli.ts');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function plusdesk(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function eml(index: number, headers: Record<string, string> = {}): string {
  const fields = {
    From: `Customer ${index} <customer${index}@customer.example>`,
    To: 'support@example.com',
    Subject: `Question ${index}`,
    Date: new Date(Date.UTC(2026, 2, 2, 9, index)).toUTCString(),
    'Message-ID': `<q${index}@customer.example>`,
    ...headers,
  };
  const lines = Object.entries(fields).map(([name, value]) => `${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\nHello, question number ${index}.\r\n`;
}

function mailbox(name: string, messages: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  messages.forEach((message, index) => writeFileSync(join(dir, `${String(index).padStart(3, '0')}.eml`), message));
  return dir;
}

describe('plusdesk process', () => {
  it('lists the newest 50 skipped', async () => {
    const autoReplies = Array.from({ length: 55 }, (_, index) => eml(index, { 'Auto-Submitted': 'auto-replied' }));
    const inbox = mailbox('inbox', [...autoReplies, eml(99)]);
    const result = await plusdesk('process', inbox, '--out', join(root, 'desk'), '--team', 'alice@example.com');

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Processed 56 message(s), 0 already seen; sent 1; skipped or held 55.');
    expect(result.stdout).toMatch(/^#1\s+open\s+customer99@customer\.example\s+-\s+1\s+Question 99$/m);
    expect(result.stdout.match(/auto-reply \(Auto-Submitted/g)).toHaveLength(50);
    expect(result.stdout).toContain('(5 earlier skipped messages are in the workbook');
    expect(result.stdout).not.toContain('older ticket');
    expect(result.stdout).toContain(join(root, 'desk', 'plusdesk.xlsx'));
  });

  it('warns when no agent would be notified', async () => {
    const inbox = mailbox('no-team', [eml(1)]);
    const result = await plusdesk('process', inbox, '--out', join(root, 'no-team-desk'));

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^plusdesk: warning: the Team tab of .* has no active agent, so no one is notified: give the agents with --team\./);
  });

  it('prints control characters of a subject as ?', async () => {
    const inbox = mailbox('escape', [eml(1, { Subject: 'Red \x1b[31malert\x1b[0m' })]);
    const result = await plusdesk('process', inbox, '--out', join(root, 'escape-desk'), '--team', 'alice@example.com');

    expect(result.stdout).toContain('Red ?[31malert?[0m');
    expect(result.stdout).not.toContain('\x1b');
  });

  it('reports each message once in --json', async () => {
    const inbox = mailbox('json', [eml(1), eml(2)]);
    const args = ['process', inbox, '--out', join(root, 'json-desk'), '--team', 'alice@example.com', '--json'];
    type Report = { processed: number; alreadySeen: number; tickets: unknown[]; outgoing: { to: string[] }[] };
    const first = JSON.parse((await plusdesk(...args)).stdout) as Report;
    const second = JSON.parse((await plusdesk(...args)).stdout) as Report;

    expect(first).toMatchObject({ processed: 2, alreadySeen: 0 });
    expect(second).toMatchObject({ processed: 0, alreadySeen: 2 });
    expect(first.tickets).toHaveLength(2);
    expect(first.outgoing.map((message) => message.to)).toEqual([['alice@example.com'], ['alice@example.com']]);
    expect(second.tickets).toHaveLength(2);
    expect(second.outgoing).toEqual([]);
  });

  it('counts a quarantined message as seen on rerun', async () => {
    const inbox = mailbox('bad-input', [eml(1), 'not a message\u0000\r\n']);
    const args = ['process', inbox, '--out', join(root, 'quarantine-desk'), '--team', 'alice@example.com'];
    const first = await plusdesk(...args);
    const second = await plusdesk(...args);

    expect(first.stdout).toContain('Processed 2 message(s), 0 already seen; sent 1; skipped or held 1.');
    expect(first.stdout).toMatch(/bad-input:001\.eml\s+quarantined/);
    expect(second.stdout).toContain('Processed 0 message(s), 2 already seen; sent 0; skipped or held 0.');
    expect(second.stdout).not.toContain('quarantined');
    expect(readdirSync(join(root, 'quarantine-desk', 'quarantine'))).toEqual(['bad-input_001.eml']);
  });

  it('joins a long-subject follow-up on a later run', async () => {
    const subject = `Export fails ${'again and again '.repeat(2500)}`;
    const inbox = mailbox('long-subject', [eml(1, { Subject: subject })]);
    const args = ['process', inbox, '--out', join(root, 'long-subject-desk'), '--team', 'alice@example.com'];
    await plusdesk(...args);
    writeFileSync(join(inbox, '002.eml'), eml(2, { From: 'Customer 1 <customer1@customer.example>', Subject: `Re: ${subject}` }));
    const second = await plusdesk(...args);

    expect(second.stdout).toContain('Processed 1 message(s), 1 already seen');
    expect(second.stdout).toMatch(/^#1\s+open\s+customer1@customer\.example\s+-\s+2\s/m);
    expect(second.stdout).not.toMatch(/^#2\s/m);
  });

  it('processes a quarantined message once fixed', async () => {
    const inbox = mailbox('fixed-input', [eml(1), 'not a message\u0000\r\n']);
    const args = ['process', inbox, '--out', join(root, 'fixed-desk'), '--team', 'alice@example.com'];
    await plusdesk(...args);
    writeFileSync(join(inbox, '001.eml'), eml(2));
    const second = await plusdesk(...args);

    expect(second.stdout).toContain('Processed 1 message(s), 1 already seen; sent 1; skipped or held 0.');
    expect(second.stdout).toMatch(/^#2\s+open\s+customer2@customer\.example/m);
  });

  it('keeps --support in place of a bad Settings address', async () => {
    const inbox = mailbox('support', [eml(1)]);
    const desk = join(root, 'support-desk');
    await new WorkbookStore({ path: join(desk, 'plusdesk.xlsx'), supportAddress: 'support at example' }).save({
      tickets: [],
      appended: [],
      updated: [],
    });
    const failed = await plusdesk('process', inbox, '--out', desk);
    const fixed = await plusdesk('process', inbox, '--out', desk, '--support', 'help@example.com', '--team', 'alice@example.com');
    const settings = (await readWorkbook(join(desk, 'plusdesk.xlsx'))).settings;

    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('The support address "support at example" is not an email address');
    expect(fixed.code).toBe(0);
    expect(settings.supportAddress).toBe('help@example.com');
  });

  it.each([
    [['process'], /process needs at least one mailbox path/],
    [['process', join(root, 'missing-folder')], /missing-folder/],
    [['process', root, '--support', 'not an address'], /--support "not an address" is not an email address/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['process', root, '--out', CLI], /--out ".*cli\.ts" is a file/],
  ])('exits with 1 and one clear line: %j', async (args, message) => {
    const result = await plusdesk(...args);

    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('plusdesk demo', () => {
  it('prints stages and final desk', async () => {
    const result = await plusdesk('demo', '--out', join(root, 'demo'));

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Stage 1:[\s\S]*Stage 2:[\s\S]*Stage 3: The same mailbox again\n {2}nothing sent\n\nThe desk after the demo:\n/);
    expect(result.stdout).toMatch(/^#1\s+pending\s+dana@customer\.example/m);
  });

  it('keeps a foreign --out folder', async () => {
    const folder = join(root, 'not-a-demo');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'notes.txt'), 'keep me');
    const result = await plusdesk('demo', '--out', folder);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('contains notes.txt, which the demo did not write');
    expect(existsSync(join(folder, 'notes.txt'))).toBe(true);
  });
});
