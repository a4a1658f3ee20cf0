/**
 * One run over new mail. Each message is parsed, classified and turned into a plan (ticket
 * changes, Messages rows, outgoing mail); the plan's mail is sent, and only then is the plan
 * applied. The store is written at the end. A long run also saves or stages its changes as it
 * goes (`save`, `stage`) and then drops those rows. Every outgoing message has a deterministic key,
 * so a run that dies before it saves is repeated by the next run with the same keys, and the
 * mailer's `wasSent` check keeps each message from going out twice.
 */
import { ADDRESS_LENGTH, isDeliverable, isPlainAddress, normalizeEmail, readPlusAddress } from './address';
import { classify, type Classification } from './classify';
import {
  composeAcknowledgement,
  composeDigest,
  composeHeldAlert,
  composeNotification,
  composeRelay,
  type ComposeContext,
  type NotificationEvent,
} from './compose';
import { DIGEST_INTERVAL_MS, RecipientBudget } from './budget';
import { epochOf, messageDate } from './dates';
import { Desk } from './desk';
import { hashKey } from './hash';
import { isNoReplyAddress } from './loops';
import { readOpenRequest } from './actions';
import { MailParseError, parseMessage } from './mime';
import type { Clock, InboundMail, Log, Mailer, MaybePromise, Signer, TicketStore } from './ports';
import { visibleText } from './quote';
import { findMentions, route, type RouteEvent } from './routing';
import { createTicket, noteRecent, recordAgentReply, recordCustomerMessage, touch } from './ticket';
import type { Address, MessageRecord, OutgoingMessage, ParsedMessage, Ticket } from './types';

export interface RunDependencies {
  store: TicketStore;
  mailer: Mailer;
  signer: Signer;
  clock: Clock;
  log: Log;
}

export interface RunOptions {
  /** Time (ms since epoch, by the run's clock) after which no new message is started. */
  deadline?: number;
  /** Called after each message, for progress bars. */
  onProgress?: (done: number) => void;
}

/** What happened to one inbound message. */
export interface MessageOutcome {
  sourceId: string;
  messageId: string;
  ticket: number | null;
  /** The classification, or 'duplicate', 'quarantined', 'failed'. */
  outcome: string;
  state: MessageRecord['state'] | 'duplicate';
  reason: string;
  /** True for a message that the Messages tab already records: a duplicate, or one quarantined before. */
  seenBefore: boolean;
}

/** A sent message as a run reports it: everything but its text, HTML and attachments. */
export type SentMessage = Omit<OutgoingMessage, 'text' | 'html' | 'attachments'>;

/** Drops a sent message's bodies, so a run over a large mailbox does not keep them all. */
function sentMessage(message: OutgoingMessage): SentMessage {
  const { text: _text, html: _html, attachments: _attachments, ...rest } = message;
  return rest;
}

export interface RunReport {
  outcomes: MessageOutcome[];
  sent: SentMessage[];
  tickets: Ticket[];
  /** True when the deadline or a send failure stopped the run before the end of the mail. */
  stoppedEarly: boolean;
  stopReason: string;
}

/** Marker that turns a reply into an internal comment when it is the first line of the text. */
export const COMMENT_MARKER = /^\s*#(note|comment|internal)\b[:\s]*/i;

const SUMMARY_LENGTH = 500;

/**
 * A sender gets at most one acknowledgement in this time: an autoresponder that replies to the
 * acknowledgement with no auto-reply header and no threading starts a new ticket, which must not
 * be acknowledged again.
 */
const ACKNOWLEDGEMENT_INTERVAL_MS = 24 * 60 * 60 * 1000;

/** A ticket's held messages raise at most one alert in this time. */
const HELD_ALERT_INTERVAL_MS = 24 * 60 * 60 * 1000;

interface Plan {
  tickets: Ticket[];
  records: MessageRecord[];
  outgoing: OutgoingMessage[];
  outcome: MessageOutcome;
}

function summarize(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > SUMMARY_LENGTH ? `${flat.slice(0, SUMMARY_LENGTH - 1)}…` : flat;
}

/**
 * Longest Message-ID kept as a message's id. Tickets keep up to 40 ids in one cell, and relays
 * write them into In-Reply-To and References lines of at most 998 characters (RFC 5322), so a
 * longer id is replaced by the fallback id.
 */
const MESSAGE_ID_LENGTH = 250;

function fallbackMessageId(parsed: ParsedMessage): string {
  const key = hashKey(parsed.from?.email ?? '', parsed.date, parsed.subject, parsed.text);
  return `no-message-id.${key}@plusdesk.invalid`;
}

/** A setting that makes processing impossible; nothing is processed until it is fixed. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

export class Run {
  private readonly desk: Desk;
  private readonly compose: ComposeContext;
  private readonly sent: SentMessage[] = [];
  private readonly outcomes: MessageOutcome[] = [];
  private readonly budget: RecipientBudget;
  /** Time before which no digest is tried again (epoch ms), after one the limit held back. */
  private digestRetry = 0;

  constructor(
    private readonly deps: RunDependencies,
    desk: Desk,
  ) {
    this.desk = desk;
    this.compose = { settings: desk.settings, signer: deps.signer };
    // Every message would fail on it and be quarantined, so the run stops before the first one.
    const support = desk.settings.supportAddress;
    if (!isPlainAddress(normalizeEmail(support))) {
      throw new SettingsError(
        `The support address "${support}" is not an email address: set "Support address" in the Settings tab (or --support) to the mailbox plusdesk reads.`,
      );
    }
    // Every new-ticket notification would go to it and bounce, so no agent would hear of one.
    const team = desk.settings.teamAddress.trim();
    if (team !== '' && !isPlainAddress(normalizeEmail(team))) {
      throw new SettingsError(
        `The team group address "${team}" is not an email address: set "Team group address" in the Settings tab to the group's address, or clear it to notify each agent.`,
      );
    }
    this.budget = new RecipientBudget(
      Array.from(desk.records(), (row) => row.record),
      desk.settings,
      () => this.now(),
    );
  }

  static async start(deps: RunDependencies): Promise<Run> {
    const snapshot = await deps.store.load();
    return new Run(deps, new Desk(snapshot, deps.store.shelf?.()));
  }

  get state(): Desk {
    return this.desk;
  }

  get outcomeCount(): number {
    return this.outcomes.length;
  }

  outcomesSince(index: number): MessageOutcome[] {
    return this.outcomes.slice(index);
  }

  /**
   * Returns the outcomes and sent messages since the last drain and forgets them, so that a run
   * over a large mailbox does not keep them all. finish() reports only what was not drained.
   */
  drain(): { outcomes: MessageOutcome[]; sent: SentMessage[] } {
    return { outcomes: this.outcomes.splice(0), sent: this.sent.splice(0) };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  /**
   * Time of the message being planned: its Date header or the time its mailbox gives it, as
   * messageDate picks them, or the clock when that is missing or in the future.
   */
  private eventTime = '';

  private messageTime(parsed: ParsedMessage, mail: InboundMail): string {
    const now = this.deps.clock.now().getTime();
    const time = messageDate(epochOf(parsed.date), epochOf(mail.date));
    return new Date(time !== null && time <= now ? time : now).toISOString();
  }

  /**
   * Parses, checks and plans one message. Returns null when nothing is left to do: the message
   * was a duplicate, or it was quarantined (which is recorded here).
   */
  private async prepare(mail: InboundMail): Promise<Plan | null> {
    let parsed: ParsedMessage;
    try {
      parsed = await parseMessage(mail.raw);
    } catch (error) {
      const reason = error instanceof MailParseError ? error.reason : `parse failed: ${String(error)}`;
      this.quarantine(mail, '', reason);
      return null;
    }
    const usable = parsed.messageId !== '' && parsed.messageId.length <= MESSAGE_ID_LENGTH;
    const messageId = usable ? parsed.messageId : fallbackMessageId(parsed);
    if (this.desk.hasSeen(messageId, mail.sourceId)) {
      this.outcomes.push({
        sourceId: mail.sourceId,
        messageId,
        ticket: this.desk.lookup().byMessageId(messageId) ?? null,
        outcome: 'duplicate',
        state: 'duplicate',
        reason: 'already processed',
        seenBefore: true,
      });
      return null;
    }
    try {
      const plan = this.plan(mail, parsed, messageId);
      plan.outgoing = this.budget.spend(plan.outgoing, plan.records);
      return plan;
    } catch (error) {
      this.deps.log.error('message_failed', { sourceId: mail.sourceId, error: String(error) });
      this.quarantine(mail, messageId, `processing failed: ${String(error)}`);
      return null;
    }
  }

  private apply(plan: Plan, sourceId: string): void {
    for (const ticket of plan.tickets) this.desk.putTicket(ticket);
    for (const record of plan.records) this.desk.append(record);
    this.outcomes.push(plan.outcome);
    this.deps.log.info('message', {
      sourceId,
      ticket: plan.outcome.ticket,
      outcome: plan.outcome.outcome,
      sent: plan.outgoing.length,
    });
  }

  /** Sends a message unless an earlier run that died already sent it. */
  private async sendOnce(message: OutgoingMessage): Promise<void> {
    if (!(await this.deps.mailer.wasSent(message))) await this.deps.mailer.send(message);
  }

  /** Handles one inbound message; returns false when the run must stop (a send failed). */
  async handle(mail: InboundMail): Promise<boolean> {
    const plan = await this.prepare(mail);
    if (plan === null) return true;
    for (const message of plan.outgoing) {
      try {
        await this.sendOnce(message);
        this.sent.push(sentMessage(message));
      } catch (error) {
        this.deps.log.error('send_failed', {
          sourceId: mail.sourceId,
          key: message.key,
          error: String(error),
        });
        this.outcomes.push({ ...plan.outcome, outcome: 'failed', reason: `send failed: ${String(error)}` });
        return false;
      }
    }
    this.apply(plan, mail.sourceId);
    return true;
  }

  /**
   * Handles several messages and then sends all their mail in one batch, which a mailer with
   * `sendAll` can do in parallel. Each plan is applied before the next message is planned, so
   * a follow-up in the same batch finds the ticket its first message opened. A failed send
   * throws: the caller must then not save, and the next run repeats the batch with the same keys.
   */
  async handleBatch(mails: InboundMail[]): Promise<void> {
    const outgoing: OutgoingMessage[] = [];
    for (const mail of mails) {
      const plan = await this.prepare(mail);
      if (plan === null) continue;
      this.apply(plan, mail.sourceId);
      outgoing.push(...plan.outgoing);
    }
    if (outgoing.length === 0) return;
    const mailer = this.deps.mailer;
    const rejected = new Map<string, string>();
    if (mailer.sendAll !== undefined) {
      for (const rejection of await mailer.sendAll(outgoing)) rejected.set(rejection.key, rejection.reason);
    } else {
      for (const message of outgoing) await this.sendOnce(message);
    }
    this.sent.push(...outgoing.filter((message) => !rejected.has(message.key)).map(sentMessage));
    if (rejected.size > 0) this.recordRejections(rejected);
  }

  /** Marks the Messages rows of rejected messages as not sent, with the server's reason. */
  private recordRejections(rejected: Map<string, string>): void {
    const desk = this.desk;
    for (let index = desk.recordCount - 1; index >= 0 && desk.isChangeable(index); index--) {
      const row = desk.record(index);
      const reason = row === undefined ? undefined : rejected.get(row.key);
      if (row === undefined || reason === undefined || row.state !== 'sent') continue;
      desk.update(index, { ...row, state: 'skipped', reason: `${row.reason} not sent: ${reason}` });
    }
  }

  /**
   * Carries out the work earlier runs and the sidebar left: queued comments and open requests,
   * and the digests that are due. Returns false when a send failed.
   */
  async handleWaiting(): Promise<boolean> {
    return (await this.handleQueued()) && (await this.sendDigests());
  }

  /**
   * Sends the digests that are due: once the oldest waiting notification has waited
   * DIGEST_INTERVAL_MS, each recipient gets one message with all of theirs. A digest already
   * in the log is not sent again. Returns false when a send failed.
   */
  async sendDigests(): Promise<boolean> {
    const desk = this.desk;
    const waiting: { index: number; row: MessageRecord }[] = [];
    for (const { index, record: row } of desk.records()) {
      if (row.state === 'digest' && desk.isChangeable(index)) waiting.push({ index, row });
    }
    const due = this.digestDue();
    if (waiting.length === 0 || due === null || due > this.deps.clock.now().getTime()) return true;

    const byRecipient = new Map<string, MessageRecord[]>();
    for (const { row } of waiting) {
      for (const email of row.author.split(',').map(normalizeEmail)) {
        if (email === '') continue;
        const rows = byRecipient.get(email) ?? [];
        rows.push(row);
        byRecipient.set(email, rows);
      }
    }
    // All the digests go out together or wait together, so that no one gets an update twice.
    if (!this.budget.affords(byRecipient.size)) {
      this.digestRetry = this.deps.clock.now().getTime() + DIGEST_INTERVAL_MS;
      return true;
    }
    const limit = desk.settings.dailyRecipientLimit;
    for (const [recipient, rows] of byRecipient) {
      const items = rows.flatMap((row) => {
        const ticket = row.ticket === null ? undefined : desk.tickets.get(row.ticket);
        return ticket === undefined ? [] : [{ ticket, time: row.time, summary: row.summary, key: row.key }];
      });
      if (items.length === 0) continue;
      const message = composeDigest({ recipient, items, limit }, this.compose);
      if (desk.hasOutgoing(message.key)) continue;
      try {
        await this.sendOnce(message);
      } catch (error) {
        this.deps.log.error('send_failed', { key: message.key, error: String(error) });
        return false;
      }
      this.sent.push(sentMessage(message));
      this.budget.count(1);
      desk.append({
        time: this.now(),
        ticket: null,
        kind: 'notification',
        state: 'sent',
        author: recipient,
        messageId: message.messageId,
        sourceId: '',
        key: message.key,
        reason: 'digest',
        summary: message.subject,
      });
    }
    for (const { index, row } of waiting) desk.update(index, { ...row, state: 'sent', reason: `${row.reason}; sent in the digest` });
    return true;
  }

  /** Returns when the waiting notifications are due as a digest (epoch ms), or null when none wait. */
  digestDue(): number | null {
    const { count, oldest } = this.desk.digestWaiting();
    return count > 0 ? Math.max(oldest + DIGEST_INTERVAL_MS, this.digestRetry) : null;
  }

  /**
   * Records a message that cannot be processed. A message quarantined by an earlier run is tried
   * again, because it may have been fixed. When it fails again it is reported again, so that
   * adapters keep labelling it, but gets no second Messages row.
   */
  private quarantine(mail: InboundMail, messageId: string, reason: string): void {
    const seenBefore =
      this.desk.hasSeen(messageId, mail.sourceId) || this.desk.wasQuarantined(messageId, mail.sourceId);
    if (!seenBefore) {
      this.desk.append({
        time: this.now(),
        ticket: null,
        kind: 'system',
        state: 'quarantined',
        author: '',
        messageId,
        sourceId: mail.sourceId,
        key: '',
        reason,
        summary: '',
      });
    }
    this.outcomes.push({
      sourceId: mail.sourceId,
      messageId,
      ticket: null,
      outcome: 'quarantined',
      state: 'quarantined',
      reason,
      seenBefore,
    });
    this.deps.log.error('message_quarantined', { sourceId: mail.sourceId, reason });
  }

  private plan(mail: InboundMail, parsed: ParsedMessage, messageId: string): Plan {
    const desk = this.desk;
    const classification = classify(parsed, mail.threadId, {
      settings: desk.settings,
      team: desk.teamByEmail,
      signer: this.deps.signer,
      lookup: desk.lookup(),
    });
    this.eventTime = this.messageTime(parsed, mail);
    const time = this.eventTime;
    const author: Address = parsed.from ?? { name: '', email: '' };
    if (author.email.length > ADDRESS_LENGTH) {
      // Such an address cannot receive mail and does not fit a Sheet cell (50,000 characters).
      throw new Error(`the sender address is ${author.email.length} characters long, over the ${ADDRESS_LENGTH} SMTP allows`);
    }
    const record = (fields: Partial<MessageRecord>): MessageRecord => ({
      time,
      ticket: null,
      kind: 'customer',
      state: 'processed',
      author: normalizeEmail(author.email),
      messageId,
      sourceId: mail.sourceId,
      key: '',
      reason: '',
      summary: '',
      ...fields,
    });
    const outcome = (ticket: number | null, state: MessageRecord['state'], reason = '') => ({
      sourceId: mail.sourceId,
      messageId,
      ticket,
      outcome: classification.kind,
      state,
      reason,
      seenBefore: false,
    });
    const skip = (ticket: number | null, reason: string): Plan => ({
      tickets: [],
      records: [record({ ticket, kind: 'system', state: 'skipped', reason })],
      outgoing: [],
      outcome: outcome(ticket, 'skipped', reason),
    });

    switch (classification.kind) {
      case 'own-message':
        return skip(classification.ticket, 'plusdesk message came back');
      case 'bulk':
        return skip(null, `bulk or mailing-list mail (${classification.signal})`);
      case 'auto-reply':
        return skip(classification.ticket, `auto-reply (${classification.signal})`);
      case 'bounce': {
        const detail = [classification.recipient, classification.status].filter(Boolean).join(' ');
        return skip(classification.ticket, `delivery failure${detail ? ` for ${detail}` : ''} (${classification.signal})`);
      }
      case 'held':
        return this.planHeld(classification, parsed, record, outcome);
      case 'digest-reply':
        return skip(null, 'reply to a plusdesk digest: answer at the reply address the digest lists for the ticket');
      case 'new-ticket':
        return this.planNewTicket(mail, parsed, messageId, classification.note, record, outcome);
      case 'follow-up':
        return this.planFollowUp(mail, parsed, messageId, classification.ticket, record, outcome);
      case 'agent-reply':
      case 'comment':
      case 'agent-message':
        return this.planAgentMail(parsed, messageId, classification, record, outcome);
    }
  }

  /** Returns the recipients of a message outside the team, leaving out the support mailbox, its plus addresses, agents and the team address. */
  private customerSide(parsed: ParsedMessage, exclude: string): string[] {
    const support = normalizeEmail(this.desk.settings.supportAddress);
    const teamAddress = normalizeEmail(this.desk.settings.teamAddress);
    return [...parsed.to, ...parsed.cc]
      .map((address) => normalizeEmail(address.email))
      .filter(
        (email) =>
          email !== '' &&
          email !== exclude &&
          email !== support &&
          email !== teamAddress &&
          readPlusAddress(email, support, this.deps.signer).status === 'none' &&
          !this.desk.teamByEmail.has(email),
      );
  }

  private notify(
    event: NotificationEvent,
    routeEvent: RouteEvent,
    ticket: Ticket,
    author: Address,
    eventId: string,
    text: string,
    parsed: ParsedMessage | null,
    alreadySentTo: string[] = [],
  ): OutgoingMessage[] {
    // Someone who gets another message of the same event (the relay) is not notified as well.
    const recipients = route(routeEvent, ticket, this.desk.team, this.desk.settings).filter(
      (recipient) => !alreadySentTo.includes(recipient.email),
    );
    if (recipients.length === 0) return [];
    const inlineIds =
      parsed === null
        ? []
        : [...parsed.html.matchAll(/cid:([^"'\s>)]+)/gi)].map((match) => match[1]!);
    return [
      composeNotification(
        {
          event,
          ticket,
          author,
          eventId,
          text,
          attachments: parsed?.attachments ?? [],
          inlineIds,
          recipients,
        },
        this.compose,
      ),
    ];
  }

  /**
   * Returns the Messages rows of outgoing mail, dated when the run sends it: the daily recipient
   * limit counts sends by that time, whatever the date of the message that caused them.
   */
  private outgoingRecords(outgoing: OutgoingMessage[], eventId: string): MessageRecord[] {
    const time = this.now();
    return outgoing.map((message) => ({
      time,
      ticket: message.ticket,
      kind: message.kind === 'relay' || message.kind === 'acknowledgement' ? 'reply' : 'notification',
      state: 'sent',
      author: [...message.to, ...message.cc].map((address) => normalizeEmail(address.email)).join(', '),
      messageId: message.messageId,
      sourceId: eventId,
      key: message.key,
      reason: message.kind,
      summary: message.subject,
    }));
  }

  private planNewTicket(
    mail: InboundMail,
    parsed: ParsedMessage,
    messageId: string,
    note: string,
    record: (fields: Partial<MessageRecord>) => MessageRecord,
    outcome: (ticket: number | null, state: MessageRecord['state'], reason?: string) => MessageOutcome,
  ): Plan {
    // Web forms and shops send from a no-reply address and name the person in Reply-To.
    const replyTo = parsed.replyTo[0];
    const sender = parsed.from ?? replyTo;
    const customer =
      replyTo !== undefined && (sender === undefined || isNoReplyAddress(sender.email)) ? replyTo : sender;
    if (customer === undefined || customer.email === '') {
      throw new Error('message has no sender address (From)');
    }
    const text = visibleText(parsed.text, parsed.html);
    const earlier = this.desk.ticketsOf(customer.email).map((previous) => previous.number);
    const ticket = noteRecent(
      createTicket({
        number: this.desk.nextTicketNumber(),
        subject: parsed.subject,
        customer,
        cc: this.customerSide(parsed, normalizeEmail(customer.email)),
        threadId: mail.threadId,
        messageId,
        time: this.eventTime,
        earlier,
      }),
      { time: this.eventTime, kind: 'customer', author: normalizeEmail(customer.email), summary: summarize(text) },
    );
    const outgoing = this.notify(
      'new-ticket',
      { kind: 'new-ticket', author: customer.email },
      ticket,
      customer,
      messageId,
      text,
      parsed,
    );
    if (this.desk.settings.autoAcknowledge && this.mayAcknowledge(customer.email)) {
      outgoing.push(composeAcknowledgement(ticket, messageId, this.compose));
    }
    return {
      tickets: [ticket],
      records: [
        record({ ticket: ticket.number, kind: 'customer', reason: note, summary: summarize(text) }),
        ...this.outgoingRecords(outgoing, messageId),
      ],
      outgoing,
      outcome: outcome(ticket.number, 'processed', note),
    };
  }

  /**
   * Checks whether a new ticket from `email` is acknowledged. No-reply senders, addresses that
   * cannot receive mail, the support mailbox and its plus addresses, the team address and agents
   * never are, nor a sender who opened another ticket within ACKNOWLEDGEMENT_INTERVAL_MS.
   */
  private mayAcknowledge(email: string): boolean {
    const sender = normalizeEmail(email);
    const settings = this.desk.settings;
    if (isNoReplyAddress(sender) || !isDeliverable(sender) || this.desk.teamByEmail.has(sender)) return false;
    if (sender === normalizeEmail(settings.supportAddress) || sender === normalizeEmail(settings.teamAddress)) {
      return false;
    }
    if (readPlusAddress(sender, settings.supportAddress, this.deps.signer).status !== 'none') return false;
    // NOTE: tickets are dated by their first message, so when a backlog contains a message older
    // than the interval, its autoresponder's answer can still get one second acknowledgement.
    const time = Date.parse(this.eventTime);
    return !this.desk.ticketsOf(sender).some((earlier) => {
      const created = epochOf(earlier.created);
      return created !== null && time - created < ACKNOWLEDGEMENT_INTERVAL_MS;
    });
  }

  private planFollowUp(
    mail: InboundMail,
    parsed: ParsedMessage,
    messageId: string,
    number: number,
    record: (fields: Partial<MessageRecord>) => MessageRecord,
    outcome: (ticket: number | null, state: MessageRecord['state'], reason?: string) => MessageOutcome,
  ): Plan {
    const before = this.desk.tickets.get(number)!;
    const sender = normalizeEmail(parsed.from?.email ?? '');
    const text = visibleText(parsed.text, parsed.html);
    const recorded = recordCustomerMessage(before, {
      messageId,
      cc: this.customerSide(parsed, normalizeEmail(before.customer.email)).concat(
        sender === normalizeEmail(before.customer.email) ? [] : [sender],
      ),
      threadId: mail.threadId,
      time: this.eventTime,
    });
    const ticket = noteRecent(recorded, { time: this.eventTime, kind: 'customer', author: sender, summary: summarize(text) });
    const author = parsed.from ?? before.customer;
    const outgoing = this.notify('follow-up', { kind: 'follow-up' }, ticket, author, messageId, text, parsed);
    return {
      tickets: [ticket],
      records: [
        record({ ticket: number, kind: 'customer', summary: summarize(text) }),
        ...this.outgoingRecords(outgoing, messageId),
      ],
      outgoing,
      outcome: outcome(number, 'processed'),
    };
  }

  private planAgentMail(
    parsed: ParsedMessage,
    messageId: string,
    classification: Extract<Classification, { kind: 'agent-reply' | 'comment' | 'agent-message' }>,
    record: (fields: Partial<MessageRecord>) => MessageRecord,
    outcome: (ticket: number | null, state: MessageRecord['state'], reason?: string) => MessageOutcome,
  ): Plan {
    const before = this.desk.tickets.get(classification.ticket)!;
    const agent = classification.agent;
    const author: Address = { name: agent.name, email: agent.email };
    let text = visibleText(parsed.text, parsed.html);
    let kind = classification.kind;
    if (kind === 'agent-reply' && COMMENT_MARKER.test(text)) {
      kind = 'comment';
      text = text.replace(COMMENT_MARKER, '').trim();
    }
    // A reply is not relayed to an agent who opened the ticket by mailing the support address,
    // which would only send them their own text, or to an address that cannot receive mail. It
    // is recorded and the followers are notified, as for a message into the customer's thread.
    // NOTE: the author is not told when the customer's address cannot receive mail; only the
    // Messages row's reason says so.
    const customer = normalizeEmail(before.customer.email);
    let notRelayed = '';
    if (kind === 'agent-reply' && !isDeliverable(customer)) {
      notRelayed = 'not relayed: the customer address cannot receive mail';
      kind = 'agent-message';
    } else if (kind === 'agent-reply' && customer === normalizeEmail(agent.email)) {
      kind = 'agent-message';
    }
    const time = this.eventTime;

    // A reply with only the quoted conversation would reach the customer as an empty email.
    if (kind === 'agent-reply' && text.trim() === '' && parsed.attachments.length === 0) {
      const reason = 'not relayed: the reply has no text of its own, only quoted text';
      return {
        tickets: [],
        records: [record({ ticket: before.number, kind: 'system', state: 'skipped', reason })],
        outgoing: [],
        outcome: outcome(before.number, 'skipped', reason),
      };
    }

    if (kind === 'comment') {
      const ticket = noteRecent(touch(before, time), { time, kind: 'comment', author: agent.email, summary: summarize(text) });
      const mentions = findMentions(text, this.desk.team);
      const outgoing = this.notify(
        'comment',
        { kind: 'comment', author: agent.email, mentions },
        ticket,
        author,
        messageId,
        text,
        parsed,
      );
      return {
        tickets: [ticket],
        records: [
          record({ ticket: ticket.number, kind: 'comment', summary: summarize(text) }),
          ...this.outgoingRecords(outgoing, messageId),
        ],
        outgoing,
        outcome: { ...outcome(ticket.number, 'processed'), outcome: 'comment' },
      };
    }

    if (kind === 'agent-message') {
      // The agent wrote into the customer's thread from their own mailbox, so the customer
      // already has it: record it and tell the followers, but relay nothing.
      const ticket = noteRecent(
        recordAgentReply(before, { agent: agent.email, relayMessageId: messageId, cc: [], time }),
        { time, kind: 'reply', author: agent.email, summary: summarize(text) },
      );
      const outgoing = this.notify(
        'agent-message',
        { kind: 'agent-reply', author: agent.email },
        ticket,
        author,
        messageId,
        text,
        parsed,
      );
      return {
        tickets: [ticket],
        records: [
          record({ ticket: ticket.number, kind: 'reply', reason: notRelayed, summary: summarize(text) }),
          ...this.outgoingRecords(outgoing, messageId),
        ],
        outgoing,
        outcome: outcome(ticket.number, 'processed', notRelayed),
      };
    }

    const extraCc = this.customerSide(parsed, normalizeEmail(before.customer.email));
    const relay = composeRelay(
      { ticket: before, agent: author, eventId: messageId, text, attachments: parsed.attachments, extraCc },
      this.compose,
    );
    const ticket = noteRecent(
      recordAgentReply(before, { agent: agent.email, relayMessageId: relay.messageId, cc: extraCc, time }),
      { time, kind: 'reply', author: agent.email, summary: summarize(text) },
    );
    const relayedTo = [...relay.to, ...relay.cc].map((address) => normalizeEmail(address.email));
    const outgoing = [
      relay,
      ...this.notify('agent-reply', { kind: 'agent-reply', author: agent.email }, ticket, author, messageId, text, parsed, relayedTo),
    ];
    return {
      tickets: [ticket],
      records: [
        record({ ticket: ticket.number, kind: 'reply', summary: summarize(text) }),
        ...this.outgoingRecords(outgoing, messageId),
      ],
      outgoing,
      outcome: outcome(ticket.number, 'processed'),
    };
  }

  private planHeld(
    classification: Extract<Classification, { kind: 'held' }>,
    parsed: ParsedMessage,
    record: (fields: Partial<MessageRecord>) => MessageRecord,
    outcome: (ticket: number | null, state: MessageRecord['state'], reason?: string) => MessageOutcome,
  ): Plan {
    const ticket = this.desk.tickets.get(classification.ticket)!;
    const sender = normalizeEmail(parsed.from?.email ?? '');
    const recipients = route({ kind: 'new-ticket' }, ticket, this.desk.team, this.desk.settings);
    // The agent whose address the mail used is alerted too, because it was spoofed or their own
    // mail failed a check.
    const impersonated = this.desk.teamByEmail.get(sender);
    if (impersonated !== undefined && !recipients.some((recipient) => recipient.email === sender)) {
      recipients.push({ email: sender, reason: 'team' });
    }
    // A ticket raises one alert a day, so that a leaked reply address cannot flood the team. The
    // Messages tab lists every later held message.
    const previous = this.desk.latestHeld(ticket.number);
    const alerted = previous !== undefined && Date.parse(this.eventTime) - previous < HELD_ALERT_INTERVAL_MS;
    const eventId = record({}).messageId;
    const reason = alerted ? `${classification.reason}; the team was alerted about this ticket in the last 24 hours` : classification.reason;
    const outgoing =
      recipients.length === 0 || alerted
        ? []
        : [
            composeHeldAlert(
              { ticket, sender, reason: classification.reason, eventId, recipients },
              this.compose,
            ),
          ];
    return {
      tickets: [],
      records: [
        record({ ticket: ticket.number, kind: 'system', state: 'held', reason }),
        ...this.outgoingRecords(outgoing, eventId),
      ],
      outgoing,
      outcome: outcome(ticket.number, 'held', reason),
    };
  }

  /**
   * Carries out what agents queued in the sidebar (rows of the Messages tab in state queued):
   * sends the notifications of their comments and opens the tickets they asked for, then marks
   * the rows processed. Returns false when a send failed.
   */
  async handleQueued(): Promise<boolean> {
    const desk = this.desk;
    for (const { index, record: row } of desk.records()) {
      if (row.state !== 'queued') continue;
      if (row.kind === 'customer') {
        this.openRequested(index, row);
        continue;
      }
      if (row.kind !== 'comment' || row.ticket === null) continue;
      const ticket = desk.tickets.get(row.ticket);
      const agent = desk.teamByEmail.get(normalizeEmail(row.author));
      if (ticket === undefined || agent === undefined) {
        desk.update(index, { ...row, state: 'skipped', reason: 'ticket or agent not found' });
        continue;
      }
      const mentions = findMentions(row.summary, desk.team);
      const author: Address = { name: agent.name, email: agent.email };
      const outgoing = this.notify(
        'comment',
        { kind: 'comment', author: agent.email, mentions },
        ticket,
        author,
        row.messageId,
        row.summary,
        null,
      );
      const records = this.outgoingRecords(outgoing, row.messageId);
      for (const message of this.budget.spend(outgoing, records)) {
        try {
          await this.sendOnce(message);
          this.sent.push(sentMessage(message));
        } catch (error) {
          this.deps.log.error('send_failed', { ticket: ticket.number, key: message.key, error: String(error) });
          return false;
        }
      }
      desk.update(index, { ...row, state: 'processed' });
      for (const record of records) desk.append(record);
      this.outcomes.push({
        sourceId: row.sourceId,
        messageId: row.messageId,
        ticket: ticket.number,
        outcome: 'comment',
        state: 'processed',
        reason: 'posted in the sidebar',
        seenBefore: false,
      });
    }
    return true;
  }

  /** Opens the ticket an agent asked for; the agent follows it and no one else is notified. */
  private openRequested(index: number, row: MessageRecord): void {
    const desk = this.desk;
    const request = readOpenRequest(row);
    if (request === null) {
      desk.update(index, { ...row, state: 'skipped', reason: 'open request is not readable' });
      return;
    }
    const existing = row.messageId === '' ? undefined : desk.lookup().byMessageId(row.messageId);
    if (existing !== undefined) {
      desk.update(index, { ...row, ticket: existing, state: 'duplicate', summary: summarize(request.text) });
      return;
    }
    const time = this.now();
    const created = createTicket({
      number: desk.nextTicketNumber(),
      subject: request.subject,
      customer: { name: request.customerName, email: row.author },
      cc: [],
      threadId: '',
      messageId: row.messageId,
      time,
      earlier: desk.ticketsOf(row.author).map((previous) => previous.number),
    });
    const ticket = noteRecent(
      { ...created, followers: [request.agent] },
      { time, kind: 'customer', author: row.author, summary: summarize(request.text) },
    );
    desk.putTicket(ticket);
    desk.update(index, { ...row, ticket: ticket.number, state: 'processed', summary: summarize(request.text) });
    this.outcomes.push({
      sourceId: row.sourceId,
      messageId: row.messageId,
      ticket: ticket.number,
      outcome: 'new-ticket',
      state: 'processed',
      reason: row.reason,
      seenBefore: false,
    });
  }

  /**
   * Writes what the run changed since its last save to the store, so that a long run can save as
   * it goes and keep each save small.
   */
  async save(): Promise<void> {
    await this.deps.store.save(this.desk.changes());
    this.desk.markSaved();
  }

  /**
   * Hands what the run changed since its last save to the store, which writes it with the next
   * save, or saves at once when it cannot stage. The run then drops those rows.
   */
  async stage(): Promise<void> {
    const store = this.deps.store;
    if (store.stage === undefined) return this.save();
    await store.stage(this.desk.changes());
    this.desk.markSaved();
  }

  /** Writes everything the run changed to the store and returns the report. */
  async finish(stopReason = ''): Promise<RunReport> {
    await this.save();
    return {
      outcomes: this.outcomes,
      sent: this.sent,
      tickets: [...this.desk.tickets.values()].sort((a, b) => a.number - b.number),
      stoppedEarly: stopReason !== '',
      stopReason,
    };
  }
}

/** Processes mail in the order given, stopping at the deadline; saves once at the end. */
export async function processMail(
  deps: RunDependencies,
  mail: Iterable<InboundMail> | AsyncIterable<InboundMail>,
  options: RunOptions = {},
): Promise<RunReport> {
  const run = await Run.start(deps);
  let done = 0;
  let stopReason = '';
  if (!(await run.handleWaiting())) return run.finish('a send failed; the next run retries');
  for await (const item of mail) {
    if (options.deadline !== undefined && deps.clock.now().getTime() >= options.deadline) {
      stopReason = 'time budget used up; the next run continues';
      break;
    }
    const goOn = await run.handle(item);
    done++;
    options.onProgress?.(done);
    if (!goOn) {
      stopReason = 'a send failed; the next run retries';
      break;
    }
  }
  return run.finish(stopReason);
}

export type { MaybePromise };
