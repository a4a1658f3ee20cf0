/**
 * Deterministic support-mailbox workloads for the benchmark: a team of eight agents, customers
 * writing over several simulated days, and every message that reaches `support@` as raw
 * RFC 5322 text. The same seed and size always give the same bytes.
 *
 * A workload is planned per conversation: new ticket, agent replies, customer follow-ups,
 * internal comments, out-of-office auto-replies, bounces and stars. Then all messages are sorted
 * by arrival time, cut to the requested count and numbered. plusdesk numbers tickets in arrival
 * order of their first message, so ticket N is the N-th new conversation here, and agent replies
 * and comments go to the signed plus addresses of that number.
 */
import { plusAddress } from '../src/core/address';
import type { Signer } from '../src/core/ports';
import type { Agent } from '../src/core/types';
import { hmacSigner } from '../src/node/secret';

export type MessageKind = 'new-ticket' | 'follow-up' | 'agent-reply' | 'comment' | 'auto-reply' | 'bounce';

export const MESSAGE_KINDS: readonly MessageKind[] = [
  'new-ticket',
  'follow-up',
  'agent-reply',
  'comment',
  'auto-reply',
  'bounce',
];

export interface WorkloadMessage {
  /** Position in arrival order, from 0. */
  index: number;
  /** Arrival time, epoch ms; strictly increasing with `index`. */
  time: number;
  kind: MessageKind;
  /** The ticket number plusdesk gives the conversation. */
  ticket: number;
  /** Sender address, lower case. */
  author: string;
  /** Agents a comment @mentions. */
  mentions: string[];
  /** Message-ID without angle brackets. */
  messageId: string;
  raw: string;
}

/** An agent starring a ticket in the sidebar, which makes them a follower. */
export interface StarEvent {
  time: number;
  ticket: number;
  agent: string;
}

/** A span in which the one-minute trigger did not run (mail still arrives). */
export interface Outage {
  start: number;
  end: number;
}

export interface WorkloadOptions {
  messages: number;
  days: number;
  seed: number;
}

export interface Workload {
  name: string;
  seed: number;
  days: number;
  /** Epoch ms of the first simulated day, a Monday 00:00 UTC. */
  start: number;
  supportAddress: string;
  /** Team group address used by the runs that set one in Settings. */
  teamAddress: string;
  /** HMAC secret of the plus tags, stored in the processor's script properties. */
  secret: string;
  agents: Agent[];
  messages: WorkloadMessage[];
  stars: StarEvent[];
  outages: Outage[];
  tickets: number;
  customers: number;
}

export const SUPPORT_ADDRESS = 'support@example.com';
export const TEAM_ADDRESS = 'team@example.com';
export const WORKLOAD_SECRET = 'plusdesk-bench-secret-2f6c1d';
export const WORKLOAD_START = Date.parse('2026-01-05T00:00:00Z');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Shape of the mix, with sources in bench/README.md. Freshdesk's Customer Happiness Benchmark
 * reports 71% of tickets resolved on the first contact. A B2B SaaS benchmark calls 1 to 4 agent
 * replies per ticket excellent to good. Jitbit's median over about 1,000 helpdesks is a response
 * after about 7 hours, and about 2% of sent mail bouncing is the commonly quoted norm. The
 * auto-reply, comment, nudge and star shares are this benchmark's own assumptions.
 */
export const MIX = {
  oneTouchShare: 0.71,
  /** Extra agent replies of a multi-touch ticket beyond two: geometric with this mean. */
  extraRepliesMean: 2,
  maxReplies: 8,
  /** Another agent takes over a later reply. */
  handoffShare: 0.15,
  /** Tickets where the customer writes again before the first agent reply. */
  nudgeShare: 0.12,
  /** Tickets where the customer thanks the agent after the last reply. */
  thanksShare: 0.3,
  /** Tickets with internal comments (one or two). */
  commentedShare: 0.18,
  /** Comments that @mention another agent. */
  mentionShare: 0.5,
  /** Relays that get an out-of-office auto-reply back (at most one per ticket). */
  autoReplyPerRelay: 0.04,
  /** Relays that bounce. */
  bouncePerRelay: 0.02,
  /** Tickets starred by an agent who is not the first replier. */
  starredShare: 0.1,
  /** Tickets per distinct customer over the workload (repeat customers). */
  ticketsPerCustomer: 1.4,
  /** Median delays (lognormal, sigma 1). */
  firstResponseMedianMs: 4 * HOUR,
  customerReplyMedianMs: 3 * HOUR,
  /** Messages per ticket that the shares above give, used to size the ticket count. */
  expectedMessagesPerTicket: 4.6,
} as const;

/** Customer arrival weight by UTC hour: a business day peaking late morning and afternoon. */
const HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 9, 10, 10, 9, 7, 5, 4, 3, 2, 2, 1];
const WEEKEND_WEIGHT = 0.3;
/** Agents work 08:00-18:00 UTC, Monday to Friday. */
const WORK_START_HOUR = 8;
const WORK_END_HOUR = 18;

const AGENT_NAMES = ['Alice Adams', 'Bob Brown', 'Chen Li', 'Dana Diaz', 'Emil Eriksen', 'Fatima Farah', 'Goran Gal', 'Hana Hayashi'];
const FIRST_NAMES = ['Maria', 'John', 'Aiko', 'Pierre', 'Ingrid', 'Kwame', 'Lucia', 'Omar', 'Sven', 'Priya', 'Tom', 'Yara', 'Noah', 'Elif', 'Ravi', 'Zoe'];
const LAST_NAMES = ['Smith', 'Garcia', 'Tanaka', 'Dubois', 'Nilsen', 'Mensah', 'Rossi', 'Haddad', 'Berg', 'Patel', 'Walsh', 'Costa', 'Kim', 'Yilmaz', 'Rao', 'Novak'];
const TOPICS = [
  'Cannot log in to my account',
  'Invoice shows the wrong amount',
  'Refund for a cancelled order',
  'Package has not arrived',
  'Change my billing address',
  'Export to CSV fails',
  'Question about the annual plan',
  'Password reset link expired',
  'Wrong size delivered',
  'API returns error 500',
  'How do I add a second user?',
  'Double charge on my card',
  'Cancel my subscription',
  'Data missing after the update',
  'Request for a quote',
  'Sync with calendar stopped',
];
const REPLY_LINES = [
  'Thanks for writing in. I have checked your account and fixed the setting; it should work now.',
  'I am sorry about the trouble. I have issued the refund, it shows on your statement in 3-5 days.',
  'Could you send me the order number and a screenshot of the error?',
  'We found the cause and deployed a fix this morning. Please try again.',
  'I have forwarded this to our billing team and will update you tomorrow.',
];
const CUSTOMER_LINES = [
  'Hello, I still have this problem. Can you help?',
  'Here is the order number you asked for. The error appears every time I click Export.',
  'Thank you, that worked!',
  'Any update on this? It is getting urgent.',
  'I tried again but it still fails with the same message.',
];
const COMMENT_LINES = [
  'Customer is on the legacy plan, check before refunding.',
  'Seen this twice this week, might be the new release.',
  'Escalating to billing, do not close yet.',
];

/** mulberry32: a small, fast 32-bit PRNG; the same seed always gives the same sequence. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Dice {
  constructor(private readonly random: () => number) {}

  next(): number {
    return this.random();
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  weighted(weights: readonly number[]): number {
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let target = this.random() * total;
    for (let i = 0; i < weights.length; i++) {
      target -= weights[i]!;
      if (target < 0) return i;
    }
    return weights.length - 1;
  }

  /** Lognormal with the given median and sigma 1 (Box-Muller). */
  lognormal(median: number): number {
    const u = Math.max(this.random(), 1e-12);
    const v = this.random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return median * Math.exp(normal);
  }

  geometric(mean: number): number {
    const p = 1 / (1 + mean);
    let count = 0;
    while (!this.chance(p)) count++;
    return count;
  }
}

export function benchAgents(): Agent[] {
  return AGENT_NAMES.map((name) => ({
    email: `${name.split(' ')[0]!.toLowerCase()}@example.com`,
    name,
    active: true,
    notifyNew: true,
  }));
}

function isWorkday(time: number): boolean {
  const day = new Date(time).getUTCDay();
  return day !== 0 && day !== 6;
}

/** Moves a time into working hours: the next shift start plus up to 90 minutes when agents are off. */
function atWork(time: number, dice: Dice): number {
  const date = new Date(time);
  const hour = date.getUTCHours();
  if (isWorkday(time) && hour >= WORK_START_HOUR && hour < WORK_END_HOUR) return time;
  let day = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
  if (hour >= WORK_END_HOUR || !isWorkday(time)) day += DAY;
  while (!isWorkday(day)) day += DAY;
  return day + WORK_START_HOUR * HOUR + dice.int(0, 90 * MINUTE);
}

interface PlannedMessage {
  time: number;
  kind: MessageKind;
  conversation: number;
  author: string;
  mentions: string[];
  /** Index of the canned line of text. */
  line: number;
}

interface Conversation {
  id: number;
  customer: { name: string; email: string };
  subject: string;
  ticket: number;
  /** Message-IDs of the customer's own messages so far, for In-Reply-To and References. */
  customerIds: string[];
  answered: boolean;
}

interface PlannedStar {
  time: number;
  conversation: number;
  agent: string;
}

function sampleStart(dice: Dice, start: number, days: number): number {
  const dayWeights = Array.from({ length: days }, (_, day) => (isWorkday(start + day * DAY) ? 1 : WEEKEND_WEIGHT));
  const day = dice.weighted(dayWeights);
  const hour = dice.weighted(HOUR_WEIGHTS);
  return start + day * DAY + hour * HOUR + Math.floor(dice.next() * HOUR);
}

function planConversation(
  dice: Dice,
  id: number,
  time: number,
  customer: string,
  agents: Agent[],
): { messages: PlannedMessage[]; stars: PlannedStar[] } {
  const messages: PlannedMessage[] = [];
  const add = (at: number, kind: MessageKind, author: string, mentions: string[] = []) =>
    messages.push({ time: Math.floor(at), kind, conversation: id, author, mentions, line: dice.int(0, 4) });
  add(time, 'new-ticket', customer);

  const first = dice.pick(agents).email;
  let replyAt = atWork(time + dice.lognormal(MIX.firstResponseMedianMs), dice);
  if (dice.chance(MIX.nudgeShare)) {
    const nudge = time + dice.lognormal(MIX.customerReplyMedianMs);
    if (nudge < replyAt) add(nudge, 'follow-up', customer);
  }
  const replies = dice.chance(MIX.oneTouchShare)
    ? 1
    : Math.min(MIX.maxReplies, 2 + dice.geometric(MIX.extraRepliesMean));
  let replier = first;
  let autoReplied = false;
  let bounced = false;
  const relayTimes: number[] = [];
  for (let reply = 0; reply < replies; reply++) {
    if (reply > 0 && dice.chance(MIX.handoffShare)) replier = dice.pick(agents).email;
    add(replyAt, 'agent-reply', replier);
    relayTimes.push(replyAt);
    if (!autoReplied && dice.chance(MIX.autoReplyPerRelay)) {
      autoReplied = true;
      add(replyAt + dice.int(1, 5) * MINUTE, 'auto-reply', customer);
    }
    if (!bounced && dice.chance(MIX.bouncePerRelay)) {
      bounced = true;
      add(replyAt + dice.int(1, 10) * MINUTE, 'bounce', 'mailer-daemon@googlemail.com');
    }
    const last = reply === replies - 1;
    if (!last || dice.chance(MIX.thanksShare)) {
      const answer = replyAt + dice.lognormal(MIX.customerReplyMedianMs);
      add(answer, 'follow-up', customer);
      replyAt = atWork(answer + dice.lognormal(MIX.firstResponseMedianMs / 2), dice);
    }
  }
  if (dice.chance(MIX.commentedShare)) {
    const count = dice.int(1, 2);
    for (let i = 0; i < count; i++) {
      const base = relayTimes[Math.min(i, relayTimes.length - 1)]!;
      const author = dice.chance(0.6) ? first : dice.pick(agents).email;
      const others = agents.filter((agent) => agent.email !== author);
      const mentions = dice.chance(MIX.mentionShare) ? [dice.pick(others).email] : [];
      add(atWork(base + dice.int(5, 120) * MINUTE, dice), 'comment', author, mentions);
    }
  }
  const stars: PlannedStar[] = [];
  if (dice.chance(MIX.starredShare)) {
    const others = agents.filter((agent) => agent.email !== first);
    stars.push({ time: atWork(time + dice.int(5, 120) * MINUTE, dice), conversation: id, agent: dice.pick(others).email });
  }
  return { messages, stars };
}

/** Generates the workload of `options.messages` messages over `options.days` days. */
export function generateWorkload(options: WorkloadOptions): Workload {
  const { messages: count, days, seed } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`messages must be a positive integer, got ${count}`);
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be a positive integer, got ${days}`);
  const dice = new Dice(createRandom(seed));
  const agents = benchAgents();
  const start = WORKLOAD_START;
  const end = start + days * DAY;

  const targetTickets = Math.ceil(count / MIX.expectedMessagesPerTicket);
  const customerCount = Math.max(1, Math.ceil(targetTickets / MIX.ticketsPerCustomer));
  const customers = Array.from({ length: customerCount }, (_, i) => {
    const first = dice.pick(FIRST_NAMES);
    const last = dice.pick(LAST_NAMES);
    return { name: `${first} ${last}`, email: `${first}.${last}${i}@customer${i % 97}.example`.toLowerCase() };
  });

  const planned: PlannedMessage[] = [];
  const plannedStars: PlannedStar[] = [];
  const conversationCustomer: number[] = [];
  const conversationTopic: string[] = [];
  // Plan conversations until enough messages arrive inside the workload's days.
  let inside = 0;
  for (let id = 0; inside < count; id++) {
    if (id > targetTickets * 3 + 100) throw new Error(`cannot fit ${count} messages into ${days} days`);
    const customer = dice.int(0, customerCount - 1);
    conversationCustomer.push(customer);
    conversationTopic.push(`${dice.pick(TOPICS)} (case ${10000 + id})`);
    const plan = planConversation(dice, id, sampleStart(dice, start, days), customers[customer]!.email, agents);
    for (const message of plan.messages) {
      planned.push(message);
      if (message.time < end) inside++;
    }
    plannedStars.push(...plan.stars);
  }

  planned.sort((a, b) => a.time - b.time || a.conversation - b.conversation);
  const kept = planned.slice(0, count);

  // Number tickets in arrival order of their first message, as plusdesk does.
  const conversations = new Map<number, Conversation>();
  let nextTicket = 1;
  let lastTime = -1;
  const messages: WorkloadMessage[] = kept.map((plan, index) => {
    let conversation = conversations.get(plan.conversation);
    if (conversation === undefined) {
      const customer = customers[conversationCustomer[plan.conversation]!]!;
      conversation = {
        id: plan.conversation,
        customer,
        subject: conversationTopic[plan.conversation]!,
        ticket: nextTicket++,
        customerIds: [],
        answered: false,
      };
      conversations.set(plan.conversation, conversation);
    }
    const time = Math.max(plan.time, lastTime + 1);
    lastTime = time;
    return render(plan, index, time, conversation, agents);
  });

  const stars = plannedStars
    .filter((star) => conversations.has(star.conversation))
    .map((star) => ({ time: star.time, ticket: conversations.get(star.conversation)!.ticket, agent: star.agent }))
    .filter((star) => star.time < (messages[messages.length - 1]?.time ?? 0))
    .sort((a, b) => a.time - b.time);

  // One two-hour trigger outage on the second workday, so some runs take a backlog.
  const outageDay = start + (days > 1 ? 1 : 0) * DAY;
  const outages = [{ start: outageDay + 10 * HOUR, end: outageDay + 12 * HOUR }];

  return {
    name: `${count}`,
    seed,
    days,
    start,
    supportAddress: SUPPORT_ADDRESS,
    teamAddress: TEAM_ADDRESS,
    secret: WORKLOAD_SECRET,
    agents,
    messages,
    stars,
    outages,
    tickets: nextTicket - 1,
    customers: new Set([...conversations.values()].map((conversation) => conversation.customer.email)).size,
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering raw messages

const signer: Signer = hmacSigner(WORKLOAD_SECRET);

function rfc2822(time: number): string {
  const text = new Date(time).toUTCString(); // "Mon, 05 Jan 2026 10:00:00 GMT"
  return text.replace(/GMT$/, '+0000');
}

function headerBlock(fields: [string, string][]): string {
  return fields.map(([name, value]) => `${name}: ${value}`).join('\r\n');
}

function textMessage(fields: [string, string][], body: string): string {
  return `${headerBlock([...fields, ['MIME-Version', '1.0'], ['Content-Type', 'text/plain; charset=utf-8'], ['Content-Transfer-Encoding', '8bit']])}\r\n\r\n${body.replace(/\n/g, '\r\n')}\r\n`;
}

function agentAuth(email: string): string {
  const domain = email.split('@')[1]!;
  return `mx.google.com; dkim=pass header.i=@${domain}; spf=pass smtp.mailfrom=${email}; dmarc=pass (p=NONE) header.from=${domain}`;
}

function render(
  plan: PlannedMessage,
  index: number,
  time: number,
  conversation: Conversation,
  agents: Agent[],
): WorkloadMessage {
  const date = rfc2822(time);
  const number = conversation.ticket;
  const subject = conversation.subject;
  const customer = conversation.customer;
  const messageId = `m${index}.${plan.kind}.${number}@${plan.kind === 'bounce' ? 'mx.googlemail.example' : plan.author.split('@')[1]}`;
  const agent = agents.find((candidate) => candidate.email === plan.author);
  let raw: string;

  switch (plan.kind) {
    case 'new-ticket':
    case 'follow-up': {
      const threading: [string, string][] =
        conversation.customerIds.length === 0
          ? []
          : [
              ['In-Reply-To', `<${conversation.customerIds[conversation.customerIds.length - 1]}>`],
              ['References', conversation.customerIds.slice(-10).map((id) => `<${id}>`).join(' ')],
            ];
      // A follow-up after an agent reply answers the relay, whose subject carries the ticket tag.
      let shownSubject = subject;
      if (plan.kind === 'follow-up') shownSubject = conversation.answered ? `Re: ${subject} [#${number}]` : `Re: ${subject}`;
      const body =
        plan.kind === 'new-ticket'
          ? `Hello,\n\n${subject}. ${CUSTOMER_LINES[plan.line]!}\n\nBest regards,\n${customer.name}`
          : `${CUSTOMER_LINES[plan.line]!}\n\n${customer.name}\n\nOn ${date}, Support <${SUPPORT_ADDRESS}> wrote:\n> ${REPLY_LINES[plan.line]!}\n`;
      raw = textMessage(
        [
          ['From', `"${customer.name}" <${customer.email}>`],
          ['To', SUPPORT_ADDRESS],
          ['Subject', shownSubject],
          ['Date', date],
          ['Message-ID', `<${messageId}>`],
          ...threading,
        ],
        body,
      );
      conversation.customerIds.push(messageId);
      break;
    }
    case 'agent-reply':
    case 'comment': {
      const purpose = plan.kind === 'agent-reply' ? 'reply' : 'comment';
      const to = plusAddress(SUPPORT_ADDRESS, signer, number, purpose);
      const mention = plan.mentions.map((email) => `@${email.split('@')[0]} `).join('');
      const text = plan.kind === 'agent-reply' ? REPLY_LINES[plan.line]! : `${mention}${COMMENT_LINES[plan.line % COMMENT_LINES.length]!}`;
      raw = textMessage(
        [
          ['Authentication-Results', agentAuth(plan.author)],
          ['From', `"${agent?.name ?? plan.author}" <${plan.author}>`],
          ['To', `"${customer.name} (#${number})" <${to}>`],
          ['Subject', `Re: [#${number}] ${subject}`],
          ['Date', date],
          ['Message-ID', `<${messageId}>`],
        ],
        `${text}\n\n${agent?.name.split(' ')[0] ?? ''}\n\nOn ${date}, ${customer.name} via Support <${SUPPORT_ADDRESS}> wrote:\n> ${CUSTOMER_LINES[plan.line]!}\n`,
      );
      if (plan.kind === 'agent-reply') conversation.answered = true;
      break;
    }
    case 'auto-reply':
      raw = textMessage(
        [
          ['From', `"${customer.name}" <${customer.email}>`],
          ['To', SUPPORT_ADDRESS],
          ['Subject', `Automatic reply: Re: ${subject} [#${number}]`],
          ['Date', date],
          ['Message-ID', `<${messageId}>`],
          ['Auto-Submitted', 'auto-replied'],
          ['X-Autoreply', 'yes'],
        ],
        `I am out of the office until next Monday with limited access to email.\n\n${customer.name}`,
      );
      break;
    case 'bounce': {
      const boundary = `report-${index}`;
      const original = `pd.bench${index}@example.com`;
      raw = [
        headerBlock([
          ['From', 'Mail Delivery Subsystem <mailer-daemon@googlemail.com>'],
          ['To', SUPPORT_ADDRESS],
          ['Subject', 'Delivery Status Notification (Failure)'],
          ['Date', date],
          ['Message-ID', `<${messageId}>`],
          ['Auto-Submitted', 'auto-replied'],
          ['MIME-Version', '1.0'],
          ['Content-Type', `multipart/report; report-type=delivery-status; boundary="${boundary}"`],
        ]),
        '',
        `--${boundary}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        `Your message to ${customer.email} could not be delivered: the mailbox is full.`,
        `--${boundary}`,
        'Content-Type: message/delivery-status',
        '',
        'Reporting-MTA: dns; googlemail.com',
        '',
        `Final-Recipient: rfc822; ${customer.email}`,
        'Action: failed',
        'Status: 5.2.2',
        `--${boundary}`,
        'Content-Type: text/rfc822-headers',
        '',
        `From: Support <${SUPPORT_ADDRESS}>`,
        `To: ${customer.email}`,
        `Subject: Re: ${subject} [#${number}]`,
        `Message-ID: <${original}>`,
        `--${boundary}--`,
        '',
      ].join('\r\n');
      break;
    }
  }
  return { index, time, kind: plan.kind, ticket: number, author: plan.author, mentions: plan.mentions, messageId, raw };
}

/** Messages per kind. */
export function countKinds(workload: Workload): Record<MessageKind, number> {
  const counts = Object.fromEntries(MESSAGE_KINDS.map((kind) => [kind, 0])) as Record<MessageKind, number>;
  for (const message of workload.messages) counts[message.kind]++;
  return counts;
}

/** Formats an epoch ms time as an mbox postmark date: `Mon Jan  5 10:00:00 2026`. */
function postmarkDate(time: number): string {
  const date = new Date(time);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${days[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} ${date.getUTCFullYear()}`;
}

/** Formats one message as an mbox entry (mboxrd quoting of `From ` lines, LF line ends). */
export function mboxEntry(message: WorkloadMessage): string {
  const body = message.raw.replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
  return `From ${message.author} ${postmarkDate(message.time)}\n${body}${body.endsWith('\n') ? '' : '\n'}\n`;
}
