/**
 * Smoke test of the benchmark: its workload generator is deterministic and addresses agents'
 * mail to valid signed plus addresses, and a 200-message workload runs through the emulated
 * processor and the baseline. Counts only; the benchmark's timings are never asserted.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readPlusAddress } from '../src/core/address';
import { hmacSigner } from '../src/node/secret';
import { runJob, type JobSpec } from '../bench/job';
import { countKinds, generateWorkload, mboxEntry, MESSAGE_KINDS } from '../bench/workload';

function digest(messages: { raw: string; time: number }[]): string {
  const hash = createHash('sha256');
  for (const message of messages) hash.update(`${message.time}\n${message.raw}\n`);
  return hash.digest('hex');
}

const SMOKE: Omit<JobSpec, 'name' | 'processor'> = {
  messages: 200,
  days: 1,
  seed: 7,
  teamAddress: false,
  indexMailbox: true,
};

describe('bench workload', () => {
  it('repeats the same bytes for a seed', () => {
    const first = generateWorkload({ messages: 500, days: 2, seed: 42 });
    const second = generateWorkload({ messages: 500, days: 2, seed: 42 });
    expect(digest(second.messages)).toBe(digest(first.messages));
    expect(second.stars).toEqual(first.stars);
  });

  it('changes with the seed', () => {
    const first = generateWorkload({ messages: 500, days: 2, seed: 42 });
    const other = generateWorkload({ messages: 500, days: 2, seed: 43 });
    expect(digest(other.messages)).not.toBe(digest(first.messages));
  });

  it('has every kind of message in arrival order', () => {
    const workload = generateWorkload({ messages: 2000, days: 3, seed: 5 });
    expect(workload.messages).toHaveLength(2000);
    const kinds = countKinds(workload);
    for (const kind of MESSAGE_KINDS) expect(kinds[kind], kind).toBeGreaterThan(0);
    for (let i = 1; i < workload.messages.length; i++) {
      expect(workload.messages[i]!.time).toBeGreaterThan(workload.messages[i - 1]!.time);
    }
  });

  it('signs agent plus addresses with its secret', () => {
    const workload = generateWorkload({ messages: 300, days: 1, seed: 9 });
    const signer = hmacSigner(workload.secret);
    const agentMail = workload.messages.filter((message) => message.kind === 'agent-reply' || message.kind === 'comment');
    expect(agentMail.length).toBeGreaterThan(0);
    for (const message of agentMail) {
      const to = /^To: .*<([^>]+)>/m.exec(message.raw)?.[1] ?? '';
      const tag = readPlusAddress(to, workload.supportAddress, signer);
      expect(tag).toEqual({
        status: 'valid',
        ticket: message.ticket,
        purpose: message.kind === 'agent-reply' ? 'reply' : 'comment',
      });
    }
  });

  it('quotes From lines in mbox entries', () => {
    const workload = generateWorkload({ messages: 10, days: 1, seed: 3 });
    const entry = mboxEntry({ ...workload.messages[0]!, raw: 'Subject: x\r\n\r\nFrom here on\r\n' });
    expect(entry).toMatch(/^From \S+ \w{3} \w{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}\n/);
    expect(entry).toContain('\n>From here on\n');
  });
});

describe('bench emulation', () => {
  it('runs 200 messages through plusdesk', async () => {
    const result = await runJob({ ...SMOKE, name: 'smoke-plusdesk', processor: 'plusdesk' });
    expect(result.delivered).toBe(200);
    expect(result.summary.messages).toBe(200);
    expect(result.summary.idleRuns).toBeGreaterThan(0);
    expect(result.summary.sendsPerMessage).toBeGreaterThan(0);
    expect(result.misses.checked).toBeGreaterThan(0);
    expect(result.misses.missesByRoutingTable).toBe(0);
    expect(result.agents).toHaveLength(8);
  }, 120_000);

  it('runs 200 messages through the baseline', async () => {
    const result = await runJob({ ...SMOKE, name: 'smoke-baseline', processor: 'baseline' });
    expect(result.summary.messages).toBe(200);
    expect(result.summary.callsByName['Gmail.Users.Messages.send']).toBe(200);
    expect(result.summary.sendsPerMessage).toBe(1);
    expect(result.summary.callsByName['Sheet.appendRow']).toBeGreaterThanOrEqual(200);
    for (const agent of result.agents) expect(agent.reduction).toBeCloseTo(0, 5);
  }, 120_000);
});
