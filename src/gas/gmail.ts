/**
 * The support mailbox through the Gmail advanced service: new mail since the last history id
 * (with a search when the history id has expired), raw messages, labels, and sending with the
 * threading headers and thread id set.
 */
import { toMime } from '../core/mime-writer';
import type { InboundMail, Mailer, SendRejection } from '../core/ports';
import type { OutgoingMessage } from '../core/types';
import { PROPERTY } from './properties';
import { restRequest, type FetchRequest } from './rest';

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
  /** Source of the ids: 'history', or 'search' on the first run or after the history expired. */
  source: 'history' | 'search';
}

/** Returns the Gmail advanced service, which the processor's manifest enables. */
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

type HistoryPage = GoogleAppsScript.Gmail.Schema.ListHistoryResponse;

/** Options of a history listing: inbox additions only, as many as one page holds. */
function historyOptions(historyId: string): Record<string, string | number | string[]> {
  return { startHistoryId: historyId, historyTypes: ['messageAdded'], labelId: 'INBOX', maxResults: PAGE_SIZE };
}

/** Builds the REST request of the first history page, for a caller that runs it with other requests. */
export function historyRequest(token: string, historyId: string): FetchRequest {
  const query = Object.entries(historyOptions(historyId))
    .flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((item) => `${name}=${encodeURIComponent(String(item))}`))
    .join('&');
  return gmailRequest(token, `history?${query}`);
}

/**
 * Reads the response of historyRequest: the page, or 'expired' when the history id can no
 * longer be used (404 expired, 400 malformed), so the listing falls back to a search.
 */
export function readHistoryResponse(response: GoogleAppsScript.URL_Fetch.HTTPResponse): HistoryPage | 'expired' {
  const status = response.getResponseCode();
  if (status === 200) return JSON.parse(response.getContentText()) as HistoryPage;
  if (status === 404 || status === 400) return 'expired';
  throw restFailure(response, 'Listing the mailbox history');
}

/**
 * Lists inbox messages added since `historyId`; one call when nothing is new. A caller that
 * already fetched the first page passes it as `firstPage`, and then no call is made unless more
 * pages follow or the history expired.
 */
export function listNewMail(historyId: string | null, firstPage?: HistoryPage | 'expired'): NewMail {
  if (historyId !== null && historyId !== '' && firstPage !== 'expired') {
    try {
      const ids: string[] = [];
      const recordIds: string[] = [];
      const seen = new Set<string>();
      let pageToken: string | undefined;
      let latest = historyId;
      let page = firstPage;
      do {
        page ??= gmail().Users!.History!.list('me', {
          ...historyOptions(historyId),
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
        page = undefined;
      } while (pageToken !== undefined);
      return { ids, historyId: latest, recordIds, source: 'history' };
    } catch (error) {
      // 404: the history id expired. 400: the stored id is malformed. A search recovers both.
      if (!isNotFound(error) && errorCode(error) !== 400) throw error;
      console.warn(JSON.stringify({ event: 'history_expired', historyId, error: String(error) }));
    }
  } else if (firstPage === 'expired') {
    console.warn(JSON.stringify({ event: 'history_expired', historyId }));
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


const REST_BASE = 'https://gmail.googleapis.com/gmail/v1/users/me';
/** Requests per UrlFetchApp.fetchAll: they run in parallel, so one call costs about one request. */
export const FETCH_BATCH = 25;

/** Builds a request to the Gmail REST API for the support mailbox. */
function gmailRequest(token: string, path: string, payload?: object): FetchRequest {
  return restRequest(token, `${REST_BASE}/${path}`, payload);
}

/** Runs requests in parallel through the Gmail REST API, FETCH_BATCH at a time. */
function fetchAllRest(requests: FetchRequest[]): GoogleAppsScript.URL_Fetch.HTTPResponse[] {
  const responses: GoogleAppsScript.URL_Fetch.HTTPResponse[] = [];
  for (let start = 0; start < requests.length; start += FETCH_BATCH) {
    responses.push(...UrlFetchApp.fetchAll(requests.slice(start, start + FETCH_BATCH)));
  }
  return responses;
}

export class GmailRestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GmailRestError';
  }
}

function restFailure(response: GoogleAppsScript.URL_Fetch.HTTPResponse, what: string): GmailRestError {
  const text = response.getContentText();
  let detail = text.slice(0, 300);
  try {
    detail = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? detail;
  } catch {
    // The body was not JSON; its start is reason enough.
  }
  return new GmailRestError(response.getResponseCode(), `${what} failed with HTTP ${response.getResponseCode()}: ${detail}`);
}

/**
 * Reads many messages as raw RFC 5322 bytes in parallel. Messages deleted since they were listed
 * (HTTP 404) come back in `gone`; any other failure throws so the run can stop and retry later.
 */
export function fetchRawBatch(ids: string[]): { mails: FetchedMail[]; gone: string[] } {
  if (ids.length === 0) return { mails: [], gone: [] };
  const token = ScriptApp.getOAuthToken();
  const responses = fetchAllRest(ids.map((id) => gmailRequest(token, `messages/${encodeURIComponent(id)}?format=raw`)));
  const mails: FetchedMail[] = [];
  const gone: string[] = [];
  responses.forEach((response, index) => {
    const id = ids[index]!;
    const status = response.getResponseCode();
    if (status === 404) {
      gone.push(id);
      return;
    }
    if (status !== 200) throw restFailure(response, `Reading message ${id}`);
    const message = JSON.parse(response.getContentText()) as GoogleAppsScript.Gmail.Schema.Message;
    // Gmail's internalDate is when Gmail accepted the message, which dates a message without a
    // Date header.
    const internalDate = Number(message.internalDate ?? 0);
    mails.push({
      sourceId: id,
      threadId: message.threadId ?? '',
      raw: bytesFromSigned(Utilities.base64DecodeWebSafe(String(message.raw ?? ''))),
      internalDate,
      labelIds: message.labelIds ?? [],
      ...(internalDate > 0 ? { date: new Date(internalDate).toISOString() } : {}),
    });
  });
  return { mails, gone };
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
  /** True once this run wrote the journal property. */
  private wroteJournal = false;
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

  private writeJournal(): void {
    this.properties.setProperty(PROPERTY.journal, JSON.stringify(this.journal));
    this.wroteJournal = true;
  }

  get pendingLookups(): number {
    return this.leftover.size;
  }

  send(message: OutgoingMessage): void {
    this.journal.push(message.key);
    this.writeJournal();
    const raw = Utilities.base64EncodeWebSafe(toMime(message, this.clock()), Utilities.Charset.UTF_8);
    const request: GoogleAppsScript.Gmail.Schema.Message = { raw };
    if (message.threadId !== '') request.threadId = message.threadId;
    gmail().Users!.Messages!.send(request, 'me');
  }

  /**
   * Sends messages in parallel through the Gmail REST API after one journal write for all of
   * them, and returns the ones Gmail rejected as invalid. Throws when any other send fails; the
   * journal then lets the next run find the ones that went.
   */
  sendAll(messages: OutgoingMessage[]): SendRejection[] {
    const unsent = messages.filter((message) => !this.wasSent(message));
    if (unsent.length === 0) return [];
    this.journal.push(...unsent.map((message) => message.key));
    this.writeJournal();
    const token = ScriptApp.getOAuthToken();
    const requests = unsent.map((message) => {
      const body: { raw: string; threadId?: string } = {
        raw: Utilities.base64EncodeWebSafe(toMime(message, this.clock()), Utilities.Charset.UTF_8),
      };
      if (message.threadId !== '') body.threadId = message.threadId;
      return gmailRequest(token, 'messages/send', body);
    });
    const responses = fetchAllRest(requests);
    const rejections: SendRejection[] = [];
    responses.forEach((response, index) => {
      const status = response.getResponseCode();
      if (status === 200) return;
      const key = unsent[index]!.key;
      const error = restFailure(response, `Sending message ${key}`);
      // Retrying cannot help a message Gmail rejects as invalid, and would block every later
      // run on it. So it is logged, its Messages row gives the reason, and the run goes on. Quota (429)
      // and server errors are retried.
      if (status >= 400 && status < 500 && status !== 429) {
        console.error(JSON.stringify({ event: 'send_rejected', key, status, error: error.message }));
        rejections.push({ key, reason: `Gmail rejected it (${error.message})` });
        return;
      }
      throw error;
    });
    return rejections;
  }

  /**
   * Only keys in the journal of an earlier run that died can have been sent already; they are
   * looked up by their X-Plusdesk-Key header, because Gmail replaces the Message-ID on send.
   * Each is looked up once: a message not found is sent by this run, under its own journal entry.
   */
  wasSent(message: OutgoingMessage): boolean {
    if (!this.leftover.has(message.key)) return false;
    const found =
      message.threadId !== '' && threadHasKey(message.threadId, message.key)
        ? true
        : sentSearchHasKey(message);
    this.leftover.delete(message.key);
    return found;
  }

  /**
   * Empties the journal once the Sheet contains everything this run sent, and returns the property
   * value to store, for the caller to write with its other properties. Keys of an earlier run
   * that this run has not planned again stay while their messages may still come. `recorded`
   * drops the keys found in the Sheet. `listingDone` means the run handled all the mail it
   * listed, which includes the mail of the run that died, so the remaining keys are dropped.
   */
  settle(recorded: (key: string) => boolean, listingDone: boolean): Record<string, string> {
    for (const key of this.leftover) if (listingDone || recorded(key)) this.leftover.delete(key);
    const stored = this.journal.length > 0 || this.wroteJournal || this.leftover.size > 0;
    this.journal.length = 0;
    this.journal.push(...this.leftover);
    this.wroteJournal = false;
    if (!stored) return {};
    return { [PROPERTY.journal]: this.journal.length === 0 ? '' : JSON.stringify(this.journal) };
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
    // A digest covers several tickets and has no ticket number in its subject.
    q: `in:sent newer_than:7d subject:"${message.ticket > 0 ? `[#${message.ticket}]` : 'plusdesk digest'}"`,
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
