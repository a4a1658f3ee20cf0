/**
 * GmailApp over the emulated mailbox, the part a Gmail add-on uses: the opened message by id
 * (behind the per-message access token when the add-on only has the current-message scopes),
 * its headers, raw content and thread, and user labels.
 */
import type { Mailbox, StoredMessage } from './mailbox';
import { addresses, decodeHeader, headerValue } from './message-headers';
import type { Runtime, Subset } from './runtime';

type GmailAppApi = GoogleAppsScript.Gmail.GmailApp;
type GmailMessageApi = GoogleAppsScript.Gmail.GmailMessage;
type GmailThreadApi = GoogleAppsScript.Gmail.GmailThread;
type GmailLabelApi = GoogleAppsScript.Gmail.GmailLabel;

/**
 * How GmailApp may read mail: the whole mailbox (scope gmail.modify or gmail.readonly), or only
 * the message whose access token the add-on event carried (gmail.addons.current.message.*).
 */
export type GmailAccess = 'mailbox' | 'current-message';

const utf8 = new TextDecoder('utf-8');

/** Per-message access tokens, as Gmail hands them to an add-on in its event object. */
export class AccessTokens {
  private readonly byToken = new Map<string, string>();
  private counter = 0;

  issue(messageId: string): string {
    const token = `emulated-message-token-${++this.counter}-${messageId}`;
    this.byToken.set(token, messageId);
    return token;
  }

  messageFor(token: string): string | undefined {
    return this.byToken.get(token);
  }
}

export class EmulatedGmailApp
  implements Subset<GmailAppApi, 'setCurrentMessageAccessToken' | 'getMessageById' | 'getUserLabelByName' | 'createLabel'>
{
  private currentToken: string | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly mailbox: Mailbox,
    private readonly tokens: AccessTokens,
    private readonly access: GmailAccess,
  ) {}

  setCurrentMessageAccessToken(accessToken: string): void {
    this.rt.track('GmailApp.setCurrentMessageAccessToken', () => {
      if (this.tokens.messageFor(String(accessToken)) === undefined) {
        throw this.rt.exception('Invalid argument: accessToken');
      }
      this.currentToken = String(accessToken);
    });
  }

  getMessageById(id: string): EmulatedGmailMessage {
    return this.rt.track('GmailApp.getMessageById', () => {
      const stored = this.mailbox.get(String(id));
      if (this.access === 'current-message') {
        const allowed = this.currentToken === undefined ? undefined : this.tokens.messageFor(this.currentToken);
        if (allowed === undefined) {
          throw this.rt.exception(
            "Access denied: : Missing access token for per message scope authorization. Use 'GmailApp.setCurrentMessageAccessToken(String)' to set the access token.",
          );
        }
        if (allowed !== String(id)) {
          throw this.rt.exception(`Access denied: the current message access token does not cover message ${id}`);
        }
      }
      if (stored === undefined) throw this.rt.exception('Invalid argument: id');
      return new EmulatedGmailMessage(this.rt, this.mailbox, stored);
    });
  }

  getUserLabelByName(name: string): EmulatedGmailLabel | null {
    return this.rt.track('GmailApp.getUserLabelByName', () => {
      const label = this.mailbox.findLabelByName(String(name));
      return label === undefined ? null : new EmulatedGmailLabel(this.rt, label.name);
    });
  }

  createLabel(name: string): EmulatedGmailLabel {
    return this.rt.track('GmailApp.createLabel', () => {
      const existing = this.mailbox.findLabelByName(String(name));
      if (existing !== undefined) return new EmulatedGmailLabel(this.rt, existing.name);
      if (this.mailbox.isReservedLabelName(String(name))) throw this.rt.exception(`Invalid argument: ${name}`);
      return new EmulatedGmailLabel(this.rt, this.mailbox.createLabel(String(name), {}).name);
    });
  }
}

export class EmulatedGmailMessage
  implements
    Subset<
      GmailMessageApi,
      | 'getId'
      | 'getThread'
      | 'getHeader'
      | 'getRawContent'
      | 'getSubject'
      | 'getFrom'
      | 'getTo'
      | 'getCc'
      | 'getBcc'
      | 'getReplyTo'
      | 'getDate'
      | 'isInInbox'
      | 'isUnread'
    >
{
  constructor(
    private readonly rt: Runtime,
    private readonly mailbox: Mailbox,
    private readonly stored: StoredMessage,
  ) {}

  getId(): string {
    return this.rt.track('GmailMessage.getId', () => this.stored.id);
  }

  getThread(): EmulatedGmailThread {
    return this.rt.track('GmailMessage.getThread', () => new EmulatedGmailThread(this.rt, this.mailbox, this.stored.threadId));
  }

  /**
   * Returns the unfolded value of the first field with this name, or '' when there is none. The
   * value is assumed to come back as written, without decoding encoded words.
   */
  getHeader(name: string): string {
    return this.rt.track('GmailMessage.getHeader', () => headerValue(this.stored.headers, String(name)) ?? '');
  }

  /** Returns the raw message read as UTF-8 (an assumption for bytes in other charsets). */
  getRawContent(): string {
    return this.rt.track('GmailMessage.getRawContent', () => utf8.decode(this.stored.raw));
  }

  getSubject(): string {
    return this.rt.track('GmailMessage.getSubject', () => decodeHeader(headerValue(this.stored.headers, 'Subject')));
  }

  getFrom(): string {
    return this.rt.track('GmailMessage.getFrom', () => decodeHeader(headerValue(this.stored.headers, 'From')));
  }

  getTo(): string {
    return this.rt.track('GmailMessage.getTo', () => decodeHeader(headerValue(this.stored.headers, 'To')));
  }

  getCc(): string {
    return this.rt.track('GmailMessage.getCc', () => decodeHeader(headerValue(this.stored.headers, 'Cc')));
  }

  getBcc(): string {
    return this.rt.track('GmailMessage.getBcc', () => decodeHeader(headerValue(this.stored.headers, 'Bcc')));
  }

  getReplyTo(): string {
    return this.rt.track('GmailMessage.getReplyTo', () =>
      addresses(headerValue(this.stored.headers, 'Reply-To')).join(', '),
    );
  }

  getDate(): Date {
    return this.rt.track('GmailMessage.getDate', () => new Date(this.stored.internalDate));
  }

  isInInbox(): boolean {
    return this.rt.track('GmailMessage.isInInbox', () => this.stored.labelIds.has('INBOX'));
  }

  isUnread(): boolean {
    return this.rt.track('GmailMessage.isUnread', () => this.stored.labelIds.has('UNREAD'));
  }
}

export class EmulatedGmailThread
  implements Subset<GmailThreadApi, 'getId' | 'getMessages' | 'getMessageCount' | 'getFirstMessageSubject'>
{
  constructor(
    private readonly rt: Runtime,
    private readonly mailbox: Mailbox,
    private readonly threadId: string,
  ) {}

  getId(): string {
    return this.rt.track('GmailThread.getId', () => this.threadId);
  }

  getMessages(): EmulatedGmailMessage[] {
    return this.rt.track('GmailThread.getMessages', () =>
      this.mailbox.threadMessages(this.threadId).map((stored) => new EmulatedGmailMessage(this.rt, this.mailbox, stored)),
    );
  }

  getMessageCount(): number {
    return this.rt.track('GmailThread.getMessageCount', () => this.mailbox.threadMessages(this.threadId).length);
  }

  getFirstMessageSubject(): string {
    return this.rt.track('GmailThread.getFirstMessageSubject', () => {
      const first = this.mailbox.threadMessages(this.threadId)[0];
      return first === undefined ? '' : decodeHeader(headerValue(first.headers, 'Subject'));
    });
  }
}

export class EmulatedGmailLabel implements Subset<GmailLabelApi, 'getName'> {
  constructor(
    private readonly rt: Runtime,
    private readonly name: string,
  ) {}

  getName(): string {
    return this.rt.track('GmailLabel.getName', () => this.name);
  }
}
