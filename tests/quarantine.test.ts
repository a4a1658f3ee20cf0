/**
 * A quarantined message is tried again by later runs: once fixed it is processed, and while it
 * still fails it keeps its one Messages row.
 */
import { describe, expect, it } from 'vitest';
import type { InboundMail } from '../src/core/ports';
import { processMail } from '../src/core/process';
import { agents, ManualClock, MemoryMailer, MemoryStore, rawMail, silentLog, testSigner } from './support/memory';

const broken: InboundMail = { sourceId: 'inbox/1.eml', threadId: '', raw: 'not a message\u0000\r\n' };
const fixed: InboundMail = {
  sourceId: 'inbox/1.eml',
  threadId: '',
  raw: rawMail({ From: 'dana@customer.example', To: 'support@example.com', Subject: 'Printer', 'Message-ID': '<dana.1@customer.example>' }),
};

describe('quarantined message', () => {
  it('keeps one row while it fails', async () => {
    const store = new MemoryStore({ team: agents('Alice') });
    const deps = { store, mailer: new MemoryMailer(), signer: testSigner, clock: new ManualClock(), log: silentLog };
    await processMail(deps, [broken]);
    const again = await processMail(deps, [broken]);

    expect(again.outcomes.map((outcome) => [outcome.state, outcome.seenBefore])).toEqual([['quarantined', true]]);
    expect(store.snapshot.messages.map((record) => record.state)).toEqual(['quarantined']);
  });

  it('is processed once fixed', async () => {
    const store = new MemoryStore({ team: agents('Alice') });
    const mailer = new MemoryMailer();
    const deps = { store, mailer, signer: testSigner, clock: new ManualClock(), log: silentLog };
    await processMail(deps, [broken]);
    const repaired = await processMail(deps, [fixed]);
    const third = await processMail(deps, [fixed]);

    expect(repaired.outcomes.map((outcome) => [outcome.outcome, outcome.seenBefore])).toEqual([['new-ticket', false]]);
    expect(store.snapshot.tickets).toHaveLength(1);
    expect(mailer.sent).toHaveLength(1);
    expect(third.outcomes.map((outcome) => outcome.state)).toEqual(['duplicate']);
  });
});
