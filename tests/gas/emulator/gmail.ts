/**
 * The Gmail API over the emulated mailbox, and the `Gmail` advanced service built on it.
 * `GmailBackend` implements the API's behaviour: responses, errors, threading on send and the
 * Message-ID Gmail writes. The advanced service and the REST emulation in urlfetch.ts call it.
 */
import { randomBytes } from 'node:crypto';
import type { HistoryEvent, Mailbox, StoredMessage } from './mailbox';
import {
  addresses,
  decodeHeader,
  headerValue,
  messageIds,
  normalizeMessageId,
  normalizeSubject,
  readHeaders,
  replaceHeader,
} from './message-headers';
import { bytesOf, signedBytes, type Runtime } from './runtime';

type Message = GoogleAppsScript.Gmail.Schema.Message;
type MessagePartHeader = GoogleAppsScript.Gmail.Schema.MessagePartHeader;
type History = GoogleAppsScript.Gmail.Schema.History;
type Label = GoogleAppsScript.Gmail.Schema.Label;

/** A Gmail API error before it is shaped for a transport (advanced service or HTTP). */
export class GmailApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }

  get status(): string {
    const statuses: Record<number, string> = {
      400: 'INVALID_ARGUMENT',
      401: 'UNAUTHENTICATED',
      403: 'PERMISSION_DENIED',
      404: 'NOT_FOUND',
      409: 'ABORTED',
    };
    return statuses[this.code] ?? 'UNKNOWN';
  }
}

function notFound(): GmailApiError {
  return new GmailApiError(404, 'Requested entity was not found.', 'notFound');
}

function invalid(message: string): GmailApiError {
  return new GmailApiError(400, message, 'invalidArgument');
}

export interface GmailBackendOptions {
  /**
   * How `messages.get` with format raw returns `raw` through the advanced service: a byte array
   * (signed bytes) or a base64url string. The REST API always returns base64url.
   */
  rawFormat: 'bytes' | 'base64url';
  /** Verified send-as aliases; any other From address is rewritten to the account's address. */
  sendAs: string[];
}

/** Which API surface a response is for: the values of byte fields differ between them. */
export type Transport = 'advanced' | 'rest';

/** Reads a property of an options object from the script (any realm). */
function option(args: unknown, name: string): unknown {
  if (args === null || typeof args !== 'object') return undefined;
  return (args as Record<string, unknown>)[name];
}

function stringList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String);
  return [String(value)];
}

function pageSize(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 1) throw invalid(`Invalid maxResults: ${String(value)}`);
  return Math.min(size, 500);
}

function pageOffset(token: unknown, kind: string): number {
  if (token === undefined || token === null || token === '') return 0;
  const match = new RegExp(`^${kind}-(\\d+)$`).exec(String(token));
  if (!match) throw invalid(`Invalid pageToken: ${String(token)}`);
  return Number(match[1]);
}

/** Base64url with padding, as the Gmail API returns raw messages. */
export function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Decodes base64 or base64url, with or without padding; rejects other characters. */
export function decodeBase64Any(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact)) throw invalid('Invalid value for ByteString: raw');
  return new Uint8Array(Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

function rfc2822Date(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

/** Creates a Message-ID in the form Gmail gives the mail it sends. */
function gmailMessageId(): string {
  const token = randomBytes(30).toString('base64').replace(/\//g, '_');
  return `<CA${token}@mail.gmail.com>`;
}

/** Shapes one history event as a History record of the API. */
function historyRecord(event: HistoryEvent): History {
  const message = { id: event.messageId, threadId: event.threadId };
  const record: History = { id: String(event.id), messages: [{ ...message }] };
  if (event.type === 'messageAdded') {
    record.messagesAdded = [{ message: { ...message, labelIds: [...event.labelIds] } }];
  } else if (event.type === 'messageDeleted') {
    record.messagesDeleted = [{ message: { ...message } }];
  } else {
    const change = { message: { ...message, labelIds: [...event.messageLabels] }, labelIds: [...event.labelIds] };
    if (event.type === 'labelAdded') record.labelsAdded = [change];
    else record.labelsRemoved = [change];
  }
  return record;
}

export class GmailBackend {
  constructor(
    readonly mailbox: Mailbox,
    private readonly options: GmailBackendOptions,
  ) {}

  /** Rejects a userId other than 'me' or the account's own address. */
  checkUser(userId: unknown): void {
    const id = String(userId);
    if (id === 'me' || id.toLowerCase() === this.mailbox.user) return;
    throw new GmailApiError(403, `Delegation denied for ${this.mailbox.user}`, 'forbidden');
  }

  profile(): GoogleAppsScript.Gmail.Schema.Profile {
    const all = this.mailbox.newestFirst();
    return {
      emailAddress: this.mailbox.user,
      messagesTotal: all.length,
      threadsTotal: new Set(all.map((message) => message.threadId)).size,
      historyId: String(this.mailbox.historyId),
    };
  }

  listHistory(args: unknown): GoogleAppsScript.Gmail.Schema.ListHistoryResponse {
    const start = this.startHistoryId(option(args, 'startHistoryId'));
    const types = stringList(option(args, 'historyTypes'));
    const labelId = option(args, 'labelId');
    const after = Math.max(start, pageOffset(option(args, 'pageToken'), 'history'));
    const size = pageSize(option(args, 'maxResults'), 100);

    const events = this.mailbox
      .historySince(after)
      .filter((event) => types.length === 0 || types.includes(event.type))
      .filter(
        (event) =>
          labelId === undefined ||
          labelId === null ||
          event.messageLabels.includes(String(labelId)) ||
          event.labelIds.includes(String(labelId)),
      );
    const page = events.slice(0, size);

    const response: GoogleAppsScript.Gmail.Schema.ListHistoryResponse = {
      historyId: String(this.mailbox.historyId),
    };
    if (page.length > 0) response.history = page.map(historyRecord);
    if (events.length > size) response.nextPageToken = `history-${page[page.length - 1]!.id}`;
    return response;
  }

  /** Checks a startHistoryId the way the API does: 400 when malformed, 404 when not usable. */
  private startHistoryId(value: unknown): number {
    if (value === undefined || value === null || value === '') {
      // The real API's text for a missing startHistoryId is not known; this one is made up.
      throw new GmailApiError(400, 'Required parameter: startHistoryId', 'required');
    }
    const text = String(value);
    if (!/^\d+$/.test(text)) {
      throw new GmailApiError(400, `Invalid value at 'start_history_id' (TYPE_UINT64), "${text}"`, 'invalid');
    }
    const start = Number(text);
    // An expired position and one ahead of the mailbox both get a 404.
    if (start < this.mailbox.historyFloor || start > this.mailbox.historyId) throw notFound();
    return start;
  }

  listMessages(args: unknown): GoogleAppsScript.Gmail.Schema.ListMessagesResponse {
    const query = String(option(args, 'q') ?? '');
    const compiled = this.mailbox.compileQuery(query);
    const labelIds = stringList(option(args, 'labelIds'));
    const includeSpamTrash = option(args, 'includeSpamTrash') === true || compiled.searchesSpamOrTrash;
    const matches = this.mailbox.newestFirst().filter(
      (message) =>
        labelIds.every((label) => message.labelIds.has(label)) &&
        (includeSpamTrash || (!message.labelIds.has('SPAM') && !message.labelIds.has('TRASH'))) &&
        compiled.matches(message),
    );
    const offset = pageOffset(option(args, 'pageToken'), 'messages');
    const size = pageSize(option(args, 'maxResults'), 100);
    const page = matches.slice(offset, offset + size);
    const response: GoogleAppsScript.Gmail.Schema.ListMessagesResponse = { resultSizeEstimate: matches.length };
    if (page.length > 0) response.messages = page.map((message) => ({ id: message.id, threadId: message.threadId }));
    if (offset + size < matches.length) response.nextPageToken = `messages-${offset + size}`;
    return response;
  }

  getMessage(id: unknown, args: unknown, transport: Transport): Message {
    const message = this.mailbox.get(String(id));
    if (message === undefined) throw notFound();
    return this.render(message, this.format(args), stringList(option(args, 'metadataHeaders')), transport);
  }

  getThread(id: unknown, args: unknown, transport: Transport): GoogleAppsScript.Gmail.Schema.Thread {
    const messages = this.mailbox.threadMessages(String(id));
    if (messages.length === 0) throw notFound();
    const format = this.format(args);
    const headers = stringList(option(args, 'metadataHeaders'));
    return {
      id: String(id),
      historyId: String(Math.max(...messages.map((message) => message.historyId))),
      messages: messages.map((message) => this.render(message, format, headers, transport)),
    };
  }

  /** Sends a message: the From and Message-ID Gmail writes, threading, the SENT label. */
  send(resource: unknown, media: unknown): Message {
    let bytes = this.rawOf(resource, media);
    let headers = readHeaders(bytes);
    const recipients = ['To', 'Cc', 'Bcc'].flatMap((name) => addresses(headerValue(headers, name)));
    if (recipients.length === 0) throw invalid('Recipient address required');
    bytes = this.rewriteFrom(bytes, headerValue(headers, 'From'));
    // Gmail replaces any Message-ID the client wrote with its own and keeps the other fields.
    bytes = replaceHeader(bytes, 'Message-ID', gmailMessageId());
    if (headerValue(headers, 'Date') === undefined) bytes = replaceHeader(bytes, 'Date', rfc2822Date(this.mailbox.now()));
    headers = readHeaders(bytes);
    const threadId = this.sendThread(option(resource, 'threadId'), headers);
    const stored = this.mailbox.storeSent(bytes, threadId);
    return { id: stored.id, threadId: stored.threadId, labelIds: [...stored.labelIds] };
  }

  modify(id: unknown, body: unknown): Message {
    const message = this.mailbox.get(String(id));
    if (message === undefined) throw notFound();
    const add = stringList(option(body, 'addLabelIds'));
    const remove = stringList(option(body, 'removeLabelIds'));
    this.checkLabels([...add, ...remove]);
    const changed = this.mailbox.modify(message.id, add, remove);
    return { id: changed.id, threadId: changed.threadId, labelIds: [...changed.labelIds] };
  }

  batchModify(body: unknown): void {
    const ids = stringList(option(body, 'ids'));
    if (ids.length === 0) throw invalid('ids must not be empty');
    if (ids.length > 1000) throw invalid(`Too many ids: ${ids.length}; batchModify takes at most 1000`);
    const add = stringList(option(body, 'addLabelIds'));
    const remove = stringList(option(body, 'removeLabelIds'));
    this.checkLabels([...add, ...remove]);
    // Assumed atomic: an unknown id fails the whole request before any change.
    if (ids.some((messageId) => this.mailbox.get(messageId) === undefined)) throw notFound();
    for (const messageId of ids) this.mailbox.modify(messageId, add, remove);
  }

  listLabels(): GoogleAppsScript.Gmail.Schema.ListLabelsResponse {
    return {
      labels: this.mailbox.labels().map((label) => {
        const out: Label = { id: label.id, name: label.name, type: label.type };
        if (label.labelListVisibility !== undefined) out.labelListVisibility = label.labelListVisibility;
        if (label.messageListVisibility !== undefined) out.messageListVisibility = label.messageListVisibility;
        return out;
      }),
    };
  }

  createLabel(body: unknown): Label {
    const name = String(option(body, 'name') ?? '');
    if (name.trim() === '' || this.mailbox.isReservedLabelName(name)) throw invalid('Invalid label name');
    if (this.mailbox.findLabelByName(name) !== undefined) {
      throw new GmailApiError(409, 'Label name exists or conflicts', 'aborted');
    }
    const visibility: { labelListVisibility?: string; messageListVisibility?: string } = {};
    const list = option(body, 'labelListVisibility');
    const inMessages = option(body, 'messageListVisibility');
    if (list !== undefined) visibility.labelListVisibility = String(list);
    if (inMessages !== undefined) visibility.messageListVisibility = String(inMessages);
    const label = this.mailbox.createLabel(name, visibility);
    // labels.create returns no `type`.
    return {
      id: label.id,
      name: label.name,
      labelListVisibility: label.labelListVisibility!,
      messageListVisibility: label.messageListVisibility!,
    };
  }

  private format(args: unknown): 'raw' | 'metadata' | 'minimal' {
    const format = String(option(args, 'format') ?? 'full');
    if (format === 'raw' || format === 'metadata' || format === 'minimal') return format;
    throw new Error(
      `Gmail emulator: format "${format}" is not emulated (the API's default is "full"); pass format raw, metadata or minimal`,
    );
  }

  private render(message: StoredMessage, format: string, wantedHeaders: string[], transport: Transport): Message {
    const out: Message = {
      id: message.id,
      threadId: message.threadId,
      labelIds: [...message.labelIds],
      historyId: String(message.historyId),
      internalDate: String(message.internalDate),
      sizeEstimate: message.raw.length,
    };
    if (format === 'raw') {
      const raw = transport === 'advanced' && this.options.rawFormat === 'bytes' ? signedBytes(message.raw) : base64Url(message.raw);
      // NOTE: through the advanced service a byte field is assumed to arrive as a byte array.
      out.raw = raw as unknown as string;
    } else if (format === 'metadata') {
      const wanted = wantedHeaders.map((name) => name.toLowerCase());
      const headers: MessagePartHeader[] = message.headers
        .filter((field) => wanted.length === 0 || wanted.includes(field.name.toLowerCase()))
        // Header values are assumed to come back with RFC 2047 encoded words decoded.
        .map((field) => ({ name: field.name, value: decodeHeader(field.value) }));
      const contentType = headerValue(message.headers, 'Content-Type') ?? 'text/plain';
      out.payload = { mimeType: contentType.split(';')[0]!.trim().toLowerCase(), headers };
    }
    return out;
  }

  private rawOf(resource: unknown, media: unknown): Uint8Array {
    const raw = option(resource, 'raw');
    if (typeof raw === 'string' && raw !== '') return decodeBase64Any(raw);
    if (Array.isArray(raw)) return bytesOf(raw as number[]);
    if (media !== undefined && media !== null && typeof (media as { getBytes?: unknown }).getBytes === 'function') {
      return bytesOf((media as { getBytes(): number[] }).getBytes());
    }
    throw invalid("'raw' RFC822 payload message string or uploading message via /upload/* URL required");
  }

  private rewriteFrom(bytes: Uint8Array, from: string | undefined): Uint8Array {
    const user = this.mailbox.user;
    const allowed = [user, ...this.options.sendAs.map((alias) => alias.toLowerCase())];
    const address = addresses(from)[0]?.toLowerCase();
    if (address !== undefined && allowed.includes(address)) return bytes;
    // Gmail sends from the account's address when From is not the account or a verified alias.
    const value = from !== undefined && /<[^>]*>/.test(from) ? from.replace(/<[^>]*>/, `<${user}>`) : user;
    return replaceHeader(bytes, 'From', value);
  }

  /** Picks the thread a sent message joins: the requested one only when headers and subject agree. */
  private sendThread(requested: unknown, headers: ReturnType<typeof readHeaders>): string | undefined {
    if (requested === undefined || requested === null || requested === '') return undefined;
    const thread = this.mailbox.threadMessages(String(requested));
    if (thread.length === 0) return undefined;
    const referenced = new Set(
      [...messageIds(headerValue(headers, 'In-Reply-To')), ...messageIds(headerValue(headers, 'References'))].map(
        normalizeMessageId,
      ),
    );
    const subject = normalizeSubject(headerValue(headers, 'Subject'));
    const joins = thread.some(
      (message) =>
        referenced.has(normalizeMessageId(headerValue(message.headers, 'Message-ID') ?? '')) &&
        normalizeSubject(headerValue(message.headers, 'Subject')) === subject,
    );
    return joins ? String(requested) : undefined;
  }

  private checkLabels(ids: string[]): void {
    for (const id of ids) {
      if (id === 'SENT' || id === 'DRAFT' || id === 'CHAT') throw invalid(`Invalid label: ${id}`);
      if (this.mailbox.labelById(id) !== undefined) continue;
      throw /^Label_\d+$/.test(id) ? invalid('labelId not found') : invalid(`Invalid label: ${id}`);
    }
  }
}

type MessagesCollection = Pick<
  GoogleAppsScript.Gmail.Collection.Users.MessagesCollection,
  'get' | 'list' | 'send' | 'modify' | 'batchModify'
>;
type HistoryCollection = Pick<GoogleAppsScript.Gmail.Collection.Users.HistoryCollection, 'list'>;
type ThreadsCollection = Pick<GoogleAppsScript.Gmail.Collection.Users.ThreadsCollection, 'get'>;
type LabelsCollection = Pick<GoogleAppsScript.Gmail.Collection.Users.LabelsCollection, 'list' | 'create'>;

/** The part of the `Gmail` advanced service the emulator provides. */
export interface EmulatedGmail
  extends Pick<
    GoogleAppsScript.Gmail,
    'newMessage' | 'newLabel' | 'newModifyMessageRequest' | 'newBatchModifyMessagesRequest'
  > {
  Users: Pick<GoogleAppsScript.Gmail.Collection.UsersCollection, 'getProfile'> & {
    Messages: MessagesCollection;
    History: HistoryCollection;
    Threads: ThreadsCollection;
    Labels: LabelsCollection;
  };
}

/** Builds the `Gmail` global: every method counts as `Gmail.Users.<Collection>.<method>`. */
export function createGmailService(rt: Runtime, backend: GmailBackend): EmulatedGmail {
  const call = <T>(name: string, method: string, userId: unknown, action: () => T, variant?: string): T =>
    rt.track(
      name,
      () => {
        try {
          backend.checkUser(userId);
          return action();
        } catch (error) {
          if (error instanceof GmailApiError) throw rt.jsonError(method, error.code, error.message, error.reason);
          throw error;
        }
      },
      variant === undefined ? {} : { variant },
    );
  const formatOf = (args: unknown): string => String(option(args, 'format') ?? 'full');
  return {
    newMessage: () => ({}),
    newLabel: () => ({}),
    newModifyMessageRequest: () => ({}),
    newBatchModifyMessagesRequest: () => ({}),
    Users: {
      getProfile: (userId: string) =>
        call('Gmail.Users.getProfile', 'gmail.users.getProfile', userId, () => backend.profile()),
      History: {
        list: (userId: string, optionalArgs?: object) =>
          call('Gmail.Users.History.list', 'gmail.users.history.list', userId, () =>
            backend.listHistory(optionalArgs),
          ),
      },
      Messages: {
        list: (userId: string, optionalArgs?: object) =>
          call('Gmail.Users.Messages.list', 'gmail.users.messages.list', userId, () =>
            backend.listMessages(optionalArgs),
          ),
        get: (userId: string, id: string, optionalArgs?: object) =>
          call(
            'Gmail.Users.Messages.get',
            'gmail.users.messages.get',
            userId,
            () => backend.getMessage(id, optionalArgs, 'advanced'),
            formatOf(optionalArgs),
          ),
        send: (resource: GoogleAppsScript.Gmail.Schema.Message, userId: string, mediaData?: unknown) =>
          call('Gmail.Users.Messages.send', 'gmail.users.messages.send', userId, () =>
            backend.send(resource, mediaData),
          ),
        modify: (resource: GoogleAppsScript.Gmail.Schema.ModifyMessageRequest, userId: string, id: string) =>
          call('Gmail.Users.Messages.modify', 'gmail.users.messages.modify', userId, () =>
            backend.modify(id, resource),
          ),
        batchModify: (resource: GoogleAppsScript.Gmail.Schema.BatchModifyMessagesRequest, userId: string) =>
          call('Gmail.Users.Messages.batchModify', 'gmail.users.messages.batchModify', userId, () =>
            backend.batchModify(resource),
          ),
      },
      Threads: {
        get: (userId: string, id: string, optionalArgs?: object) =>
          call(
            'Gmail.Users.Threads.get',
            'gmail.users.threads.get',
            userId,
            () => backend.getThread(id, optionalArgs, 'advanced'),
            formatOf(optionalArgs),
          ),
      },
      Labels: {
        list: (userId: string) =>
          call('Gmail.Users.Labels.list', 'gmail.users.labels.list', userId, () => backend.listLabels()),
        create: (resource: GoogleAppsScript.Gmail.Schema.Label, userId: string) =>
          call('Gmail.Users.Labels.create', 'gmail.users.labels.create', userId, () =>
            backend.createLabel(resource),
          ),
      },
    },
  };
}
