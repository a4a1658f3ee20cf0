/**
 * The support mailbox through the Gmail advanced service: new mail since the last history id
 * (with a search when the history id has expired), raw messages, labels, and sending with the
 * threading headers and thread id set.
 */
import { toMime } from '../core/mime-writer';
import type { InboundMail, Mailer } from '../core/ports';
import type { OutgoingMessage } from '../core/types';
import { PROPERTY } from './properties';

export const LABEL = {
  processed: 'plusdesk/processed',
  skipped: 'plusdesk/skipped',
  held: 'plusdesk/held',
  error: 'plusdesk/error',
} as const;
export type LabelName = (typeof LABEL)[keyof typeof LABEL];

/** Search used when there is no usable history id: inbox mail plusdesk has not labelled. */
export const BACKLOG_QUERY = `in:inbox -label:${LABEL.processed} -label:${LABEL.skipped} -label:${LABEL.held} -label:${LABEL.error}`;

const PAGE_SIZE = 500;

/**
 * Converts Apps Script's signed bytes (-128..127) to a Uint8Array. The typed array stores each
 * number modulo 256, so no mapping function is needed, which matters for messages of many MB.
 */
export function bytesFromSigned(bytes: ArrayLike<number>): Uint8Array {
  return new Uint8Array(bytes);
}

/** New inbox message ids and the history id to store once they are handled. */
export interface NewMail {
  ids: string[];
  historyId: string;
  /**
   * For history listings, the id of the history record that added each message (parallel to
   * `ids`), so a run that stops early can store how far it got. Empty for searches.
   */
  recordIds: string[];
  /** How the ids were found: 'history', or 'search' on first run or after the history expired. */
  source: 'history' | 'search';
}

/** The Gmail advanced service, which the processor's manifest enables. */
export function gmail(): GoogleAppsScript.Gmail {
  if (typeof Gmail === 'undefined' || Gmail === undefined) {
    throw new Error(
      'The Gmail advanced service is not enabled: add it under Services in the Apps Script editor, or push appsscript.json again.',
    );
  }
  return Gmail;
}

/** Returns the HTTP status of an advanced-service error (GoogleJsonResponseException), if any. */
function errorCode(error: unknown): number | undefined {
  const code = (error as { details?: { code?: unknown } } | null)?.details?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Reports whether a Gmail API error is a 404: an expired history id, or a deleted message. */
export function isNotFound(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined) return code === 404;
  return /not found|404/i.test(String(error));
}

/** Lists inbox messages added since `historyId`; one call when nothing is new. */
export function listNewMail(historyId: string | null): NewMail {
  if (historyId !== null && historyId !== '') {
    try {
      const ids: string[] = [];
      const recordIds: string[] = [];
      const seen = new Set<string>();
      let pageToken: string | undefined;
      let latest = historyId;
      do {
        const page = gmail().Users!.History!.list('me', {
          startHistoryId: historyId,
          historyTypes: ['messageAdded'],
          labelId: 'INBOX',
          maxResults: PAGE_SIZE,
          ...(pageToken === undefined ? {} : { pageToken }),
        });
        for (const entry of page.history ?? []) {
          for (const added of entry.messagesAdded ?? []) {
            const message = added.message;
            if (!message?.id || (message.labelIds ?? []).includes('SENT') || seen.has(message.id)) continue;
            seen.add(message.id);
            ids.push(message.id);
            recordIds.push(String(entry.id ?? ''));
          }
        }
        latest = page.historyId ?? latest;
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken !== undefined);
      return { ids, historyId: latest, recordIds, source: 'history' };
    } catch (error) {
      // 404: the history id expired. 400: the stored id is malformed. A search recovers both.
      if (!isNotFound(error) && errorCode(error) !== 400) throw error;
      console.warn(JSON.stringify({ event: 'history_expired', historyId, error: String(error) }));
    }
  }
  const profile = gmail().Users!.getProfile('me');
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = gmail().Users!.Messages!.list('me', {
      q: BACKLOG_QUERY,
      maxResults: PAGE_SIZE,
      ...(pageToken === undefined ? {} : { pageToken }),
    });
    for (const message of page.messages ?? []) if (message.id) ids.push(message.id);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken !== undefined);
  return { ids: ids.reverse(), historyId: String(profile.historyId ?? ''), recordIds: [], source: 'search' };
}

/**
 * Returns the history id to store after the first `handled` messages of `mail`: the record of
 * the last handled message, when the next message came in a later record. Returns null when
 * nothing can be stored, as after a search, which has no record ids.
 */
export function checkpointAfter(mail: NewMail, handled: number): string | null {
  if (handled >= mail.ids.length) return mail.historyId === '' ? null : mail.historyId;
  if (mail.source !== 'history' || handled === 0) return null;
  const next = mail.recordIds[handled];
  for (let i = handled - 1; i >= 0; i--) {
    const record = mail.recordIds[i]!;
    if (record !== next && record !== '') return record;
  }
  return null;
}

export interface FetchedMail extends InboundMail {
  internalDate: number;
  labelIds: string[];
}

/** Reads one message as raw RFC 5322 bytes. */
export function fetchRaw(id: string): FetchedMail {
  const message = gmail().Users!.Messages!.get('me', id, { format: 'raw' });
  const raw = message.raw as unknown;
  const bytes =
    typeof raw === 'string' ? bytesFromSigned(Utilities.base64DecodeWebSafe(raw)) : bytesFromSigned(raw as number[]);
  return {
    sourceId: id,
    threadId: message.threadId ?? '',
    raw: bytes,
    internalDate: Number(message.internalDate ?? 0),
    labelIds: message.labelIds ?? [],
  };
}

/** Label ids by name, creating the plusdesk labels that are missing. */
export function ensureLabels(): Record<LabelName, string> {
  const existing = new Map<string, string>();
  for (const label of gmail().Users!.Labels!.list('me').labels ?? []) {
    if (label.name && label.id) existing.set(label.name, label.id);
  }
  const result = {} as Record<LabelName, string>;
  for (const name of Object.values(LABEL)) {
    let id = existing.get(name);
    if (id === undefined) {
      id = gmail().Users!.Labels!.create(
        { name, labelListVisibility: 'labelShow', messageListVisibility: 'show' },
        'me',
      ).id!;
    }
    result[name] = id;
  }
  return result;
}

/** Applies one label to many messages, archiving them unless they need a person's attention. */
export function labelMessages(ids: string[], labelId: string, archive: boolean): void {
  for (let start = 0; start < ids.length; start += 1000) {
    gmail().Users!.Messages!.batchModify(
      {
        ids: ids.slice(start, start + 1000),
        addLabelIds: [labelId],
        removeLabelIds: archive ? ['INBOX'] : [],
      },
      'me',
    );
  }
}

/** Sends through the Gmail advanced service, keeping a journal of keys until the run saves. */
export class GmailMailer implements Mailer {
  private readonly journal: string[] = [];
  private readonly leftover: Set<string>;

  constructor(
    private readonly properties: GoogleAppsScript.Properties.Properties,
    private readonly clock: () => Date,
    /** Keys a crashed earlier run may have sent, read from the journal at the start. */
    leftover: string[],
  ) {
    this.leftover = new Set(leftover);
    this.journal.push(...leftover);
  }

  /** Opens the mailer with the journal from a snapshot of the script properties. */
  static open(
    properties: GoogleAppsScript.Properties.Properties,
    stored: Record<string, string>,
    clock: () => Date,
  ): GmailMailer {
    const journal = stored[PROPERTY.journal] ?? '';
    return new GmailMailer(properties, clock, journal === '' ? [] : (JSON.parse(journal) as string[]));
  }

  get pendingLookups(): number {
    return this.leftover.size;
  }

  send(message: OutgoingMessage): void {
    this.journal.push(message.key);
    this.properties.setProperty(PROPERTY.journal, JSON.stringify(this.journal));
    const raw = Utilities.base64EncodeWebSafe(toMime(message, this.clock()), Utilities.Charset.UTF_8);
    const request: GoogleAppsScript.Gmail.Schema.Message = { raw };
    if (message.threadId !== '') request.threadId = message.threadId;
    gmail().Users!.Messages!.send(request, 'me');
  }

  /**
   * Only keys in the journal of an earlier run that died can have been sent already; they are
   * looked up by their X-Plusdesk-Key header, because Gmail replaces the Message-ID on send.
   */
  wasSent(message: OutgoingMessage): boolean {
    if (!this.leftover.has(message.key)) return false;
    const found =
      message.threadId !== '' && threadHasKey(message.threadId, message.key)
        ? true
        : sentSearchHasKey(message);
    if (found) this.leftover.delete(message.key);
    return found;
  }

  /** Forgets the journal once the Sheet holds everything the run did. */
  clear(): void {
    if (this.journal.length === 0) return;
    this.journal.length = 0;
    this.properties.deleteProperty(PROPERTY.journal);
  }
}

function headerValue(
  headers: GoogleAppsScript.Gmail.Schema.MessagePartHeader[] | undefined,
  name: string,
): string {
  return headers?.find((header) => header.name?.toLowerCase() === name.toLowerCase())?.value ?? '';
}

function threadHasKey(threadId: string, key: string): boolean {
  try {
    const thread = gmail().Users!.Threads!.get('me', threadId, {
      format: 'metadata',
      metadataHeaders: ['X-Plusdesk-Key'],
    });
    return (thread.messages ?? []).some(
      (message) => headerValue(message.payload?.headers, 'X-Plusdesk-Key') === key,
    );
  } catch {
    // A thread that no longer exists cannot hold the message; the sent-mail search decides.
    return false;
  }
}

function sentSearchHasKey(message: OutgoingMessage): boolean {
  const page = gmail().Users!.Messages!.list('me', {
    q: `in:sent newer_than:7d subject:"[#${message.ticket}]"`,
    maxResults: 50,
  });
  for (const candidate of page.messages ?? []) {
    const metadata = gmail().Users!.Messages!.get('me', candidate.id!, {
      format: 'metadata',
      metadataHeaders: ['X-Plusdesk-Key'],
    });
    if (headerValue(metadata.payload?.headers, 'X-Plusdesk-Key') === message.key) return true;
  }
  return false;
}
