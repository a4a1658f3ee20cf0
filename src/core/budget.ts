/**
 * The daily recipient budget. Google counts every recipient of every message the support
 * account sends in 24 hours, and plusdesk counts the same from the Messages tab. Near the limit,
 * notifications to agents wait for an hourly digest and acknowledgements are not sent, so that
 * replies to customers still go out.
 */
import type { MessageRecord, OutgoingMessage, Settings } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * Share of the daily recipient limit kept for mail to customers. Once the rest is used,
 * notifications to agents wait for the digest and acknowledgements are not sent.
 */
const CUSTOMER_SHARE = 0.25;
/** Words of the reason of a notification row that waits for the digest, kept after it is sent. */
export const DIGEST_WAIT = 'waits for the hourly digest';
/** A digest goes out once its oldest notification has waited this long. */
export const DIGEST_INTERVAL_MS = 60 * 60 * 1000;
/** Characters of a notification kept for its line in the digest. */
const DIGEST_SUMMARY_LENGTH = 300;

/** Counts the addresses of an outgoing row: its author cell lists them separated by commas. */
function recipientCount(record: MessageRecord): number {
  return record.author.split(',').filter((email) => email.trim() !== '').length;
}

/** Returns a notification's headline and text without its footer, on one line. */
function digestSummary(message: OutgoingMessage): string {
  const flat = message.text.split('\n\n--\n')[0]!.replace(/\s+/g, ' ').trim();
  return flat.length > DIGEST_SUMMARY_LENGTH ? `${flat.slice(0, DIGEST_SUMMARY_LENGTH - 1)}…` : flat;
}

export class RecipientBudget {
  /** Recipients of the mail sent in the last 24 hours, as the Messages tab records it. */
  private used = 0;
  /** True once the log of the last 24 hours records that notifications wait for the digest. */
  private announced = false;

  private readonly limit: number;

  constructor(
    records: readonly MessageRecord[],
    private readonly settings: Settings,
    /** The run's clock as ISO 8601 text. */
    private readonly now: () => string,
  ) {
    this.limit = settings.dailyRecipientLimit;
    const since = Date.parse(now()) - DAY_MS;
    for (const record of records) {
      // A notification a digest carried was not sent itself; the digest's own row counts.
      const carried = record.reason.includes(DIGEST_WAIT);
      // One notice a day is enough while the desk keeps switching to the digest and back.
      if (record.state === 'digest' || (carried && Date.parse(record.time) >= since)) this.announced = true;
      if (record.key !== '' && record.state === 'sent' && !carried && Date.parse(record.time) >= since) {
        this.used += recipientCount(record);
      }
    }
  }

  /** Checks whether `recipients` more fit in the whole limit. */
  affords(recipients: number): boolean {
    return this.used + recipients <= this.limit;
  }

  /** Adds recipients of mail sent outside spend(). */
  count(recipients: number): void {
    this.used += recipients;
  }

  /**
   * Keeps the mail the limit can afford. Past the agents' share, a notification waits for the
   * digest and an acknowledgement is not sent, and its row in `records` gives the reason. The
   * first notification that waits adds a system row saying so. Returns the mail to send.
   */
  spend(outgoing: OutgoingMessage[], records: MessageRecord[]): OutgoingMessage[] {
    const agentsShare = Math.floor(this.limit * (1 - CUSTOMER_SHARE));
    const affordable: OutgoingMessage[] = [];
    for (const message of outgoing) {
      const recipients = message.to.length + message.cc.length;
      const deferrable = message.kind === 'notification' || message.kind === 'acknowledgement';
      if (!deferrable || this.used + recipients <= agentsShare) {
        this.used += recipients;
        affordable.push(message);
        continue;
      }
      const index = records.findIndex((record) => record.key === message.key);
      if (index < 0) throw new Error(`no Messages row for outgoing message ${message.key}`);
      records[index] = this.heldBack(message, records[index]!);
      if (message.kind === 'notification' && !this.announced) {
        this.announced = true;
        records.push(this.notice());
      }
    }
    return affordable;
  }

  private usage(): string {
    return `${this.used.toLocaleString('en-US')} of ${this.limit.toLocaleString('en-US')} daily recipients used`;
  }

  /** Returns the row of a message held back: skipped for an acknowledgement, waiting for a notification. */
  private heldBack(message: OutgoingMessage, record: MessageRecord): MessageRecord {
    if (message.kind === 'acknowledgement') {
      return { ...record, state: 'skipped', messageId: '', reason: `acknowledgement not sent: ${this.usage()}` };
    }
    const event = message.headers['X-Plusdesk-Event'] ?? message.kind;
    return {
      ...record,
      // Dated when it starts to wait, so that the digest follows an hour later.
      time: this.now(),
      state: 'digest',
      messageId: '',
      reason: `${event} notification ${DIGEST_WAIT}: ${this.usage()}`,
      summary: digestSummary(message),
    };
  }

  private notice(): MessageRecord {
    return {
      time: this.now(),
      ticket: null,
      kind: 'system',
      state: 'processed',
      author: '',
      messageId: '',
      sourceId: '',
      key: '',
      reason: [
        `Notifications to agents now wait for an hourly digest: ${this.usage()} in 24 hours. Agent replies still go out to customers; acknowledgements are skipped.`,
        // A team address makes each new-ticket notification one recipient instead of one per agent.
        this.settings.teamAddress === '' ? 'Set a "Team group address" in Settings, so that each new ticket costs one recipient.' : '',
        'If the account may send more, raise "Daily recipient limit" in Settings.',
      ]
        .filter((sentence) => sentence !== '')
        .join(' '),
      summary: '',
    };
  }
}
