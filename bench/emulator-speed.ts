/**
 * Indexes for one emulated mailbox, so that long workloads run in minutes. The emulator's
 * Mailbox sorts every message on each thread or Message-ID look-up and filters every history
 * record on each history read, which makes a 10,000-message workload quadratic.
 *
 * The replacements return the same values under one condition that the bench keeps: messages
 * and history records are added in time order (the emulated clock only moves forward and the
 * bench never passes a delivery date). `speedUpMailbox` checks it on every message and throws
 * when it breaks. A bench run can be compared with an unpatched one with `--no-index`.
 */
import type { Mailbox, StoredMessage } from '../tests/gas/emulator/mailbox';
import type { HistoryEvent } from '../tests/gas/emulator/mailbox';
import { headerValue, normalizeMessageId } from '../tests/gas/emulator/message-headers';

/** The Mailbox internals the indexes replace; private in TypeScript, plain fields at run time. */
interface MailboxInternals {
  events: HistoryEvent[];
  floor: number;
  historyRetentionMs: number;
  now: () => number;
  store: (...args: unknown[]) => StoredMessage;
  ordered: () => StoredMessage[];
  expireOldHistory: () => void;
  threadMessages: (threadId: string) => StoredMessage[];
  byMessageId: (messageId: string) => StoredMessage[];
  historySince: (start: number) => HistoryEvent[];
}

/** First index in a sorted array whose key is greater than (or, with `orEqual`, at least) `value`. */
function firstIndex<T>(items: T[], key: (item: T) => number, value: number, orEqual: boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const current = key(items[middle]!);
    if (orEqual ? current < value : current <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function speedUpMailbox(mailbox: Mailbox): void {
  const internals = mailbox as unknown as MailboxInternals;
  const all: StoredMessage[] = [];
  const byThread = new Map<string, StoredMessage[]>();
  const byId = new Map<string, StoredMessage[]>();
  const store = internals.store.bind(mailbox);

  internals.store = (...args: unknown[]) => {
    const message = store(...args);
    const previous = all[all.length - 1];
    if (previous !== undefined && message.internalDate < previous.internalDate) {
      throw new Error('speedUpMailbox: a message was stored out of time order; the indexes would be wrong');
    }
    all.push(message);
    const thread = byThread.get(message.threadId) ?? [];
    thread.push(message);
    byThread.set(message.threadId, thread);
    const id = normalizeMessageId(headerValue(message.headers, 'Message-ID') ?? '');
    const same = byId.get(id) ?? [];
    same.push(message);
    byId.set(id, same);
    return message;
  };
  internals.ordered = () => all.slice();
  internals.threadMessages = (threadId: string) => (byThread.get(threadId) ?? []).slice();
  internals.byMessageId = (messageId: string) => (byId.get(normalizeMessageId(messageId)) ?? []).slice();
  internals.expireOldHistory = () => {
    const events = internals.events;
    const cutoff = internals.now() - internals.historyRetentionMs;
    const kept = firstIndex(events, (event) => event.time, cutoff, true);
    if (kept === 0) return;
    internals.floor = Math.max(internals.floor, events[kept - 1]!.id);
    internals.events = events.slice(kept);
  };
  internals.historySince = (start: number) => {
    internals.expireOldHistory();
    const events = internals.events;
    return events.slice(firstIndex(events, (event) => event.id, start, false));
  };
}
