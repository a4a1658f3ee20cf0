/**
 * Property-based tests of whole runs: fast-check generates a team, settings and a list of event
 * descriptors (customers writing and following up, agents replying and commenting, auto-replies,
 * bounces, list mail, plusdesk's own mail coming back, redeliveries, sidebar actions between
 * runs). The raw messages are built from the descriptors while the runs go on, so each message
 * can refer to mail sent before it, and a failing case shrinks to a short, readable event list.
 *
 * The properties checked after every inbound message and at the end:
 * (a) no notification or alert goes to the author of the message that caused it, and relays and
 *     acknowledgements go only to customers;
 * (b) the text of an internal comment never reaches anyone outside the team;
 * (c) no recipient gets two messages for one inbound message, and no key is sent twice;
 * (d) auto-replies, bounces, list mail and plusdesk's own mail cause no outgoing message;
 * (e) every inbound message has exactly one Messages row, or is reported as a duplicate;
 * (f) running the same mailbox again sends nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeEmail, plusAddress } from '../src/core/address';
import { applyAction, type TicketAction } from '../src/core/actions';
import { toMime } from '../src/core/mime-writer';
import type { InboundMail, Mailer } from '../src/core/ports';
import { processMail, Run, type MessageOutcome } from '../src/core/process';
import { defaultSettings } from '../src/core/sheet';
import type { Agent, OutgoingMessage, Ticket } from '../src/core/types';
import { bounceFor, buildMail } from './support/hostile-mail';
import { ManualClock, MemoryStore, silentLog, SUPPORT, testSigner } from './support/memory';

// ---------------------------------------------------------------------------------------------
// Event descriptors

type Event =
  | { type: 'customer-new'; customer: number; subject: number; cc: 'none' | 'colleague' | 'agent' | 'team-address' }
  | { type: 'agent-new'; agent: number }
  | { type: 'customer-follow-up'; customer: number; via: 'relay' | 'notification' | 'subject-tag'; pick: number }
  | { type: 'agent-reply'; agent: number; pick: number; note: boolean }
  | { type: 'comment'; agent: number; pick: number; mention: number | null }
  | { type: 'auto-reply'; by: 'customer' | 'agent'; who: number; pick: number; signal: 'header' | 'subject' | 'precedence' }
  | { type: 'bounce'; pick: number }
  | { type: 'list-mail' }
  | { type: 'own-message'; pick: number }
  | { type: 'outsider-reply'; pick: number }
  | { type: 'redeliver'; pick: number }
  | { type: 'sidebar'; agent: number; pick: number; action: 'star' | 'assign' | 'close' | 'comment' }
  | { type: 'next-run' }
  | { type: 'send-failure' }
  | { type: 'crash' };

interface Scenario {
  teamSize: number;
  teamAddress: boolean;
  autoAcknowledge: boolean;
  events: Event[];
}

const AGENT_NAMES = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank'];
const CUSTOMERS = [
  { name: 'Dana Reyes', email: 'dana@customer.example' },
  { name: 'Eli Novak', email: 'eli@client.example' },
  { name: 'Fay Moreau', email: 'fay@buyer.example' },
  { name: 'Gus Lind', email: 'gus@shop.example' },
];
const SUBJECTS = ['Invoice copy', 'Login fails', 'Refund for order 7'];
const TEAM_ADDRESS = 'team@example.com';
/** A colleague of the first customer, on the same domain. */
const COLLEAGUE = 'lee@customer.example';
const OUTSIDER = 'mallory@outsider.example';
const LIST_SENDER = 'news@lists.example';

/** Scenarios per property; PLUSDESK_PROPERTY_RUNS raises it for a longer search. */
const RUNS = Number(process.env.PLUSDESK_PROPERTY_RUNS ?? 100);
/** Time for one property: a scenario takes about 10 ms, so this leaves ample room. */
const TIMEOUT_MS = Math.max(60_000, RUNS * 50);

const pick = fc.nat({ max: 20 });
const agentIndex = fc.nat({ max: 5 });
const customerIndex = fc.nat({ max: CUSTOMERS.length - 1 });

const eventArbitrary: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('customer-new' as const),
      customer: customerIndex,
      subject: fc.nat({ max: SUBJECTS.length - 1 }),
      cc: fc.constantFrom('none' as const, 'colleague' as const, 'agent' as const, 'team-address' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('agent-new' as const), agent: agentIndex }) },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('customer-follow-up' as const),
      customer: customerIndex,
      via: fc.constantFrom('relay' as const, 'notification' as const, 'subject-tag' as const),
      pick,
    }),
  },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('agent-reply' as const), agent: agentIndex, pick, note: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('comment' as const), agent: agentIndex, pick, mention: fc.option(agentIndex, { nil: null }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('auto-reply' as const),
      by: fc.constantFrom('customer' as const, 'agent' as const),
      who: agentIndex,
      pick,
      signal: fc.constantFrom('header' as const, 'subject' as const, 'precedence' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('bounce' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('list-mail' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('own-message' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('outsider-reply' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('redeliver' as const), pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('sidebar' as const),
      agent: agentIndex,
      pick,
      action: fc.constantFrom('star' as const, 'assign' as const, 'close' as const, 'comment' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('next-run' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('send-failure' as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('crash' as const) }) },
);

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  teamSize: fc.integer({ min: 2, max: 6 }),
  teamAddress: fc.boolean(),
  autoAcknowledge: fc.boolean(),
  events: fc.array(eventArbitrary, { minLength: 1, maxLength: 25, size: 'max' }),
});

// ---------------------------------------------------------------------------------------------
// The simulated support desk

/** A mailer that records every send and every key it was asked about, and can fail once. */
class RecordingMailer implements Mailer {
  readonly sent: OutgoingMessage[] = [];
  /** Keys that `wasSent` found already sent: none unless a send failed or a run crashed. */
  readonly alreadySent: string[] = [];
  /** Makes the next send throw, as a quota error would. */
  failNext = false;

  send(message: OutgoingMessage): void {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('Service invoked too many times for one day: email');
    }
    this.sent.push(message);
  }

  wasSent(message: OutgoingMessage): boolean {
    const found = this.sent.some((sent) => sent.key === message.key);
    if (found) this.alreadySent.push(message.key);
    return found;
  }
}

/** What one attempt at an inbound message or queued comment caused. */
interface Effect {
  label: string;
  /** The inbound message's source id, or the queued comment's id: attempts at one share it. */
  source: string;
  event: Event | null;
  author: string;
  outcome: MessageOutcome | null;
  sent: OutgoingMessage[];
}

interface Attempt {
  mail: InboundMail;
  event: Event;
  label: string;
}

function recipientsOf(message: OutgoingMessage): string[] {
  return [...message.to, ...message.cc].map((address) => normalizeEmail(address.email));
}

class Simulation {
  readonly team: Agent[];
  readonly store: MemoryStore;
  readonly mailer = new RecordingMailer();
  readonly clock = new ManualClock();
  readonly inbound: InboundMail[] = [];
  readonly effects: Effect[] = [];
  /** Unique words of internal notes; none may reach anyone outside the team. */
  readonly internalWords: string[] = [];
  /** Unique words of messages that were held; none may reach a customer. */
  readonly heldWords: string[] = [];
  private run: Run | null = null;
  /** Mail handled by the current run, which is handled again if the run crashes. */
  private runMail: Attempt[] = [];
  /** Mail the next run handles first: a failed send or a crashed run left it unfinished. */
  private pending: Attempt[] = [];
  /** Whether a send failed or a run crashed, after which a key may be found already sent. */
  interrupted = false;
  private counter = 0;

  constructor(readonly scenario: Scenario) {
    this.team = AGENT_NAMES.slice(0, scenario.teamSize).map((name) => ({
      email: `${name.toLowerCase()}@example.com`,
      name,
      active: true,
      notifyNew: true,
    }));
    this.store = new MemoryStore({
      team: this.team,
      settings: {
        ...defaultSettings(SUPPORT),
        teamAddress: scenario.teamAddress ? TEAM_ADDRESS : '',
        autoAcknowledge: scenario.autoAcknowledge,
      },
    });
  }

  private deps() {
    return { store: this.store, mailer: this.mailer, signer: testSigner, clock: this.clock, log: silentLog };
  }

  private agent(index: number): Agent {
    return this.team[index % this.team.length]!;
  }

  /** Tickets of the run going on, or as stored between runs. */
  private tickets(): Ticket[] {
    const tickets = this.run === null ? this.store.snapshot.tickets : [...this.run.state.tickets.values()];
    return [...tickets].sort((a, b) => a.number - b.number);
  }

  private pickTicket(index: number): Ticket | undefined {
    const tickets = this.tickets();
    return tickets.length === 0 ? undefined : tickets[index % tickets.length];
  }

  private date(): string {
    return this.clock.now().toUTCString().replace('GMT', '+0000');
  }

  /** Whether queued sidebar comments or unfinished mail wait for the next run. */
  get hasWork(): boolean {
    return this.pending.length > 0 || this.store.snapshot.messages.some((record) => record.state === 'queued');
  }

  /**
   * Starts a run when none is going on. Like the processor, the run first sends the
   * notifications of queued sidebar comments, then handles the mail an interrupted run left.
   */
  async ensureRun(): Promise<Run> {
    if (this.run !== null) return this.run;
    const run = await Run.start(this.deps());
    this.run = run;
    const before = this.mailer.sent.length;
    const outcomesBefore = run.outcomeCount;
    const queuedDone = await run.handleQueued();
    const sent = this.mailer.sent.slice(before);
    for (const outcome of run.outcomesSince(outcomesBefore)) {
      // Outgoing rows name the comment they were sent for in their source id.
      const rows = Array.from(run.state.records(), (held) => held.record);
      const keys = rows
        .filter((record) => record.key !== '' && record.sourceId === outcome.messageId)
        .map((record) => record.key);
      const row = rows.find((record) => record.key === '' && record.messageId === outcome.messageId);
      this.effects.push({
        label: `sidebar comment ${outcome.messageId}`,
        source: outcome.messageId,
        event: null,
        author: normalizeEmail(row?.author ?? ''),
        outcome,
        sent: sent.filter((message) => keys.includes(message.key)),
      });
    }
    if (!queuedDone) {
      this.interrupted = true;
      await this.finishRun();
      return this.ensureRun();
    }
    while (this.pending.length > 0 && this.run === run) await this.handle(run, this.pending.shift()!);
    return this.run ?? this.ensureRun();
  }

  async finishRun(): Promise<void> {
    if (this.run === null) return;
    await this.run.finish();
    this.run = null;
    this.runMail = [];
  }

  /** Drops the current run without saving, as when Apps Script stops it at its time limit. */
  private crash(): void {
    if (this.run === null) return;
    this.interrupted = true;
    this.pending = [...this.runMail, ...this.pending];
    this.runMail = [];
    this.run = null;
  }

  private async handle(run: Run, attempt: Attempt): Promise<void> {
    this.runMail.push(attempt);
    const before = this.mailer.sent.length;
    const outcomesBefore = run.outcomeCount;
    const goOn = await run.handle(attempt.mail);
    const outcomes = run.outcomesSince(outcomesBefore);
    expect(outcomes, `outcomes of ${attempt.mail.sourceId}`).toHaveLength(1);
    this.effects.push({
      label: attempt.label,
      source: attempt.mail.sourceId,
      event: attempt.event,
      author: authorOf(attempt.mail.raw),
      outcome: outcomes[0]!,
      sent: this.mailer.sent.slice(before),
    });
    if (!goOn) {
      // The processor stops at a failed send and saves; the next run starts with this message.
      this.interrupted = true;
      this.runMail = this.runMail.filter((item) => item !== attempt);
      await this.finishRun();
      this.pending.unshift(attempt);
    }
  }

  async play(event: Event, index: number): Promise<void> {
    this.clock.advance(47 * 60 * 1000);
    switch (event.type) {
      case 'next-run':
        return this.finishRun();
      case 'crash':
        return this.crash();
      case 'send-failure':
        this.mailer.failNext = true;
        return;
      case 'sidebar':
        await this.finishRun();
        return this.applySidebar(event, index);
      default: {
        const run = await this.ensureRun();
        const mail = this.build(event, index);
        if (mail === null) return;
        this.inbound.push(mail);
        return this.handle(run, { mail, event, label: `event ${index} (${event.type})` });
      }
    }
  }

  private applySidebar(event: Extract<Event, { type: 'sidebar' }>, index: number): void {
    const target = this.pickTicket(event.pick);
    if (target === undefined) return;
    const agent = this.agent(event.agent);
    const word = `sidebarnote${index}`;
    const actions: Record<typeof event.action, TicketAction> = {
      star: { type: 'toggle-follow' },
      assign: { type: 'assign', assignee: agent.email },
      close: { type: 'status', status: 'closed' },
      comment: { type: 'comment', text: `${word} checked the logs` },
    };
    const result = applyAction(target, actions[event.action], agent.email, this.clock.now().toISOString());
    if (event.action === 'comment') this.internalWords.push(word);
    this.store.snapshot.tickets = this.store.snapshot.tickets.map((item) => (item.number === target.number ? result.ticket : item));
    if (result.record !== null) this.store.snapshot.messages.push(result.record);
  }

  /** Messages a customer received (relays and acknowledgements). */
  private receivedBy(email: string): OutgoingMessage[] {
    return this.mailer.sent.filter((message) => message.kind !== 'notification' && message.kind !== 'alert' && recipientsOf(message).includes(email));
  }

  private notificationsOf(ticketNumber: number): OutgoingMessage[] {
    return this.mailer.sent.filter((message) => message.kind === 'notification' && message.ticket === ticketNumber);
  }

  private mail(sourceId: string, raw: string): InboundMail {
    return { sourceId, threadId: '', raw };
  }

  /** Builds the raw message of an event from the desk's current state, or null when it has nothing to refer to. */
  private build(event: Exclude<Event, { type: 'next-run' | 'sidebar' | 'crash' | 'send-failure' }>, index: number): InboundMail | null {
    const id = `e${index}`;
    const messageId = `${id}.${++this.counter}@mail.example`;
    const date = this.date();
    switch (event.type) {
      case 'customer-new': {
        const customer = CUSTOMERS[event.customer]!;
        const copied = { none: undefined, colleague: COLLEAGUE, agent: this.agent(event.customer).email, 'team-address': TEAM_ADDRESS }[event.cc];
        return this.mail(
          id,
          buildMail({
            from: `${customer.name} <${customer.email}>`,
            subject: SUBJECTS[event.subject]!,
            messageId,
            date,
            ...(copied === undefined ? {} : { cc: copied }),
            body: `Hello, customer text ${id}.`,
          }),
        );
      }
      case 'agent-new': {
        const agent = this.agent(event.agent);
        return this.mail(
          id,
          buildMail({ from: `${agent.name} <${agent.email}>`, subject: 'Opened for a caller', messageId, date, body: `Caller text ${id}.` }),
        );
      }
      case 'customer-follow-up': {
        const customer = CUSTOMERS[event.customer]!;
        const own = this.tickets().filter((item) => item.customer.email === customer.email);
        const chosen = own[event.pick % Math.max(own.length, 1)];
        let inReplyTo: string | undefined;
        let subject = 'Re: one more thing';
        if (event.via === 'relay') {
          const received = this.receivedBy(customer.email);
          const message = received[event.pick % Math.max(received.length, 1)];
          if (message !== undefined) {
            inReplyTo = `<${message.messageId}>`;
            subject = `Re: ${message.subject}`;
          }
        } else if (chosen !== undefined && event.via === 'notification') {
          const notes = this.notificationsOf(chosen.number);
          const note = notes[event.pick % Math.max(notes.length, 1)];
          if (note !== undefined) inReplyTo = `<${note.messageId}>`;
          subject = `Re: ${chosen.subject}`;
        } else if (chosen !== undefined) {
          subject = `Re: [#${chosen.number}] ${chosen.subject}`;
        }
        return this.mail(
          id,
          buildMail({
            from: `${customer.name} <${customer.email}>`,
            subject,
            messageId,
            date,
            ...(inReplyTo === undefined ? {} : { inReplyTo, references: inReplyTo }),
            body: `Follow-up text ${id}.\n\nOn Mon, 2 Mar 2026, Support wrote:\n> earlier text`,
          }),
        );
      }
      case 'agent-reply': {
        const target = this.pickTicket(event.pick);
        if (target === undefined) return null;
        const agent = this.agent(event.agent);
        const replyAddress = plusAddress(SUPPORT, testSigner, target.number, 'reply');
        const word = event.note ? `internalnote${index}` : `answer${index}`;
        if (event.note) this.internalWords.push(word);
        const quoted = this.notificationsOf(target.number)
          .filter((note) => recipientsOf(note).includes(agent.email) && note.replyTo[0]?.email === replyAddress)
          .at(-1);
        const quote =
          quoted === undefined ? '' : `\n\nOn ${date}, Support <${SUPPORT}> wrote:\n${quoted.text.split('\n').map((line) => `> ${line}`).join('\n')}`;
        return this.mail(
          id,
          buildMail({
            from: `${agent.name} <${agent.email}>`,
            to: `Support <${replyAddress}>`,
            subject: `Re: [#${target.number}] ${target.subject}`,
            messageId,
            date,
            ...(quoted === undefined ? {} : { inReplyTo: `<${quoted.messageId}>` }),
            body: `${event.note ? '#note\n' : ''}Agent text ${word}.${quote}`,
          }),
        );
      }
      case 'comment': {
        const target = this.pickTicket(event.pick);
        if (target === undefined) return null;
        const agent = this.agent(event.agent);
        const word = `comment${index}`;
        this.internalWords.push(word);
        const mention = event.mention === null ? '' : ` @${this.agent(event.mention).name}`;
        return this.mail(
          id,
          buildMail({
            from: `${agent.name} <${agent.email}>`,
            to: plusAddress(SUPPORT, testSigner, target.number, 'comment'),
            subject: `Re: [#${target.number}] ${target.subject}`,
            messageId,
            date,
            body: `Internal ${word}${mention} please look at this.`,
          }),
        );
      }
      case 'auto-reply': {
        const sender = event.by === 'customer' ? CUSTOMERS[event.who % CUSTOMERS.length]! : this.agent(event.who);
        const received =
          event.by === 'customer'
            ? this.receivedBy(sender.email)
            : this.mailer.sent.filter((message) => message.kind === 'notification' && recipientsOf(message).includes(sender.email));
        const answered = received[event.pick % Math.max(received.length, 1)];
        const to = answered?.replyTo[0]?.email ?? SUPPORT;
        const extra: [string, string][] =
          event.signal === 'header' ? [['Auto-Submitted', 'auto-replied']] : event.signal === 'precedence' ? [['Precedence', 'auto_reply']] : [];
        return this.mail(
          id,
          buildMail({
            from: `${sender.name} <${sender.email}>`,
            to,
            // Only the 'subject' signal has an out-of-office subject, so the headers are tested alone.
            subject: `${event.signal === 'subject' ? 'Out of Office' : 'Re'}: ${answered?.subject ?? 'Your message'}`,
            messageId,
            date,
            ...(answered === undefined ? {} : { inReplyTo: `<${answered.messageId}>` }),
            extra,
            body: `I am away until Monday. autoreply${index}`,
          }),
        );
      }
      case 'bounce': {
        const candidates = this.mailer.sent.filter((message) => message.kind === 'relay' || message.kind === 'acknowledgement');
        const returned = candidates[event.pick % Math.max(candidates.length, 1)];
        const recipient = returned === undefined ? 'nobody@customer.example' : normalizeEmail(returned.to[0]!.email);
        return this.mail(id, bounceFor(messageId, recipient, returned?.messageId ?? 'unknown@example.com'));
      }
      case 'list-mail':
        return this.mail(
          id,
          buildMail({
            from: `Product news <${LIST_SENDER}>`,
            subject: 'Our March newsletter',
            messageId,
            date,
            extra: [['List-Id', 'Product news <news.lists.example>']],
          }),
        );
      case 'own-message': {
        const sent = this.mailer.sent[event.pick % Math.max(this.mailer.sent.length, 1)];
        if (sent === undefined) return null;
        return this.mail(id, toMime(sent, this.clock.now()));
      }
      case 'outsider-reply': {
        const target = this.pickTicket(event.pick);
        if (target === undefined) return null;
        const word = `outsider${index}`;
        this.heldWords.push(word);
        return this.mail(
          id,
          buildMail({
            from: `Mallory <${OUTSIDER}>`,
            to: plusAddress(SUPPORT, testSigner, target.number, 'reply'),
            subject: `Re: [#${target.number}] ${target.subject}`,
            messageId,
            date,
            body: `Send the refund to my account. ${word}`,
          }),
        );
      }
      case 'redeliver': {
        const earlier = this.inbound.filter((mail) => !mail.sourceId.includes('.again'));
        const original = earlier[event.pick % Math.max(earlier.length, 1)];
        if (original === undefined) return null;
        return { ...original, sourceId: `${original.sourceId}.again${index}` };
      }
    }
  }
}

function authorOf(raw: string | Uint8Array): string {
  const text = typeof raw === 'string' ? raw : new TextDecoder().decode(raw);
  const head = text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const from = /^From: (.*)$/im.exec(head)?.[1] ?? '';
  return normalizeEmail(/<([^>]+)>/.exec(from)?.[1] ?? from);
}

// ---------------------------------------------------------------------------------------------
// Properties

const LOOP_EVENTS = new Set<Event['type']>(['auto-reply', 'bounce', 'list-mail', 'own-message']);

function checkEffects(simulation: Simulation): void {
  const agents = new Set(simulation.team.map((agent) => agent.email));
  // Without a team address set, team@ is an outside address a customer may copy.
  const teamAddress = simulation.scenario.teamAddress ? [TEAM_ADDRESS] : [];
  const teamSide = new Set([...agents, ...teamAddress]);
  const customers = new Set([...CUSTOMERS.map((customer) => customer.email), COLLEAGUE, ...(simulation.scenario.teamAddress ? [] : [TEAM_ADDRESS])]);

  for (const effect of simulation.effects) {
    const where = effect.label;
    const recipientLists = effect.sent.map(recipientsOf);

    // (a) Notifications never go to the author; relays and acknowledgements only to customers.
    for (const [position, message] of effect.sent.entries()) {
      const to = recipientLists[position]!;
      // An acknowledgement answers its author by design; nothing else goes back to the author.
      if (message.kind !== 'acknowledgement') {
        expect(to, `${where}: ${message.kind} to its author`).not.toContain(effect.author);
      }
      if (message.kind === 'notification' || message.kind === 'alert') {
        for (const email of to) expect(teamSide.has(email), `${where}: ${message.kind} to ${email}`).toBe(true);
      } else {
        // The ticket's customer is an agent when that agent opened it by mailing support@.
        const ticket = simulation.store.snapshot.tickets.find((item) => item.number === message.ticket)!;
        const customerSide = new Set([normalizeEmail(ticket.customer.email), ...ticket.cc]);
        for (const email of to) {
          expect(customerSide.has(email), `${where}: ${message.kind} to ${email}`).toBe(true);
          expect(customers.has(email) || agents.has(email), `${where}: ${message.kind} to ${email}`).toBe(true);
          expect(teamAddress, `${where}: ${message.kind} to the team address`).not.toContain(email);
        }
      }
    }

    // (d) Loop mail causes nothing.
    if (effect.event !== null && LOOP_EVENTS.has(effect.event.type)) {
      expect(effect.sent, `${where}: sent mail`).toEqual([]);
      expect(effect.outcome?.state, where).not.toBe('processed');
    }
    if (effect.event?.type === 'outsider-reply') {
      expect(['held', 'duplicate', 'failed'], where).toContain(effect.outcome?.state);
    }
    if (effect.event?.type === 'redeliver') {
      expect(effect.outcome?.state, where).toBe('duplicate');
      expect(effect.sent, where).toEqual([]);
    }
  }

  // (c) Nobody gets two messages for one inbound message or comment, counting every attempt at
  // it: a failed send or a crash makes the next run handle it again.
  const attempts = new Map<string, Effect[]>();
  for (const effect of simulation.effects) attempts.set(effect.source, [...(attempts.get(effect.source) ?? []), effect]);
  for (const effects of attempts.values()) {
    const all = effects.flatMap((effect) => effect.sent.flatMap(recipientsOf));
    expect(new Set(all).size, `${effects[0]!.label}: a recipient got two messages (${all.join(', ')})`).toBe(all.length);
  }

  // (b) Internal notes and held text reach nobody outside the team.
  for (const message of simulation.mailer.sent) {
    const outside = recipientsOf(message).some((email) => !teamSide.has(email));
    const text = `${message.subject}\n${message.text}\n${message.html}`;
    const leaked = simulation.internalWords.filter((word) => text.includes(word));
    if (outside || message.kind === 'relay' || message.kind === 'acknowledgement') {
      expect(leaked, `${message.kind} to ${recipientsOf(message).join(', ')} carries internal notes`).toEqual([]);
      const held = simulation.heldWords.filter((word) => text.includes(word));
      expect(held, `${message.kind} carries held text`).toEqual([]);
    }
  }

  // (c) No key is sent twice and no send was skipped as already sent.
  const keys = simulation.mailer.sent.map((message) => message.key);
  expect(new Set(keys).size, 'distinct keys').toBe(keys.length);
  if (!simulation.interrupted) expect(simulation.mailer.alreadySent, 'keys found already sent').toEqual([]);

  // (e) Every inbound message has one Messages row, or was reported as a duplicate.
  const rows = simulation.store.snapshot.messages.filter((record) => record.key === '' && record.state !== 'queued' && record.sourceId !== 'sidebar');
  for (const mail of simulation.inbound) {
    const effect = attempts.get(mail.sourceId)?.at(-1);
    const own = rows.filter((record) => record.sourceId === mail.sourceId);
    if (effect?.outcome?.state === 'duplicate') {
      expect(own, `rows of duplicate ${mail.sourceId}`).toEqual([]);
    } else {
      expect(own, `rows of ${mail.sourceId}`).toHaveLength(1);
    }
  }
  const queued = simulation.store.snapshot.messages.filter((record) => record.state === 'queued');
  expect(queued, 'sidebar comments left unsent').toEqual([]);
}

async function playScenario(scenario: Scenario): Promise<Simulation> {
  const simulation = new Simulation(scenario);
  for (const [index, event] of scenario.events.entries()) await simulation.play(event, index);
  await simulation.finishRun();
  // More runs send what is left: sidebar comments made after the last message, and mail that
  // a failed send or a crash left. A failure happens once, so two runs always finish it.
  for (let runs = 0; runs < 3 && simulation.hasWork; runs++) {
    await simulation.ensureRun();
    await simulation.finishRun();
  }
  expect(simulation.hasWork, 'work left after the last run').toBe(false);
  return simulation;
}

/** Counterexamples fast-check found before the faults were fixed; every search runs them first. */
const FOUND: Scenario[] = [
  // An agent who opened a ticket by mailing support@ got their own reply relayed back.
  {
    teamSize: 2,
    teamAddress: false,
    autoAcknowledge: false,
    events: [{ type: 'agent-new', agent: 0 }, { type: 'agent-reply', agent: 0, pick: 0, note: false }],
  },
  // The team address a customer copied was put on the ticket's Cc and got relays.
  {
    teamSize: 2,
    teamAddress: true,
    autoAcknowledge: false,
    events: [
      { type: 'customer-new', customer: 1, subject: 0, cc: 'team-address' },
      { type: 'agent-reply', agent: 0, pick: 0, note: false },
    ],
  },
  // The agent who opened a ticket and follows it got both the relay and the notification.
  {
    teamSize: 2,
    teamAddress: false,
    autoAcknowledge: false,
    events: [
      { type: 'agent-new', agent: 1 },
      { type: 'sidebar', agent: 3, pick: 0, action: 'star' },
      { type: 'agent-reply', agent: 0, pick: 0, note: false },
    ],
  },
  // A star between a crashed run and its retry changed the notification's key.
  {
    teamSize: 2,
    teamAddress: false,
    autoAcknowledge: false,
    events: [
      { type: 'customer-new', customer: 1, subject: 0, cc: 'none' },
      { type: 'next-run' },
      { type: 'customer-follow-up', customer: 1, via: 'notification', pick: 0 },
      { type: 'crash' },
      { type: 'sidebar', agent: 0, pick: 0, action: 'star' },
    ],
  },
  // Closing the ticket between a crashed run and its retry turned a follow-up into a new ticket.
  {
    teamSize: 2,
    teamAddress: false,
    autoAcknowledge: false,
    events: [
      { type: 'customer-new', customer: 0, subject: 0, cc: 'none' },
      { type: 'next-run' },
      { type: 'customer-new', customer: 0, subject: 0, cc: 'none' },
      { type: 'crash' },
      { type: 'sidebar', agent: 0, pick: 0, action: 'close' },
    ],
  },
];

describe('whole runs over generated mail', () => {
  it('keep every safety property', { timeout: TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const simulation = await playScenario(scenario);
        checkEffects(simulation);
      }),
      { numRuns: RUNS, examples: FOUND.map((scenario) => [scenario]) },
    );
  });

  it('send nothing when the mailbox runs again', { timeout: TIMEOUT_MS }, async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const simulation = await playScenario(scenario);
        // A mailer that never finds a key: only the store may stop a second send.
        const forgetful: Mailer & { sent: OutgoingMessage[] } = {
          sent: [],
          send(message) {
            this.sent.push(message);
          },
          wasSent: () => false,
        };
        const report = await processMail(
          { store: simulation.store, mailer: forgetful, signer: testSigner, clock: simulation.clock, log: silentLog },
          simulation.inbound,
        );
        expect(forgetful.sent.map((message) => `${message.kind} #${message.ticket}`)).toEqual([]);
        expect(report.outcomes.filter((outcome) => outcome.state !== 'duplicate')).toEqual([]);
      }),
      { numRuns: Math.ceil(RUNS / 2), examples: FOUND.map((scenario) => [scenario]) },
    );
  });
});
