/**
 * An emulated Apps Script project for loading the built bundles in a Node `vm` context.
 * `createAppsScript` returns the globals a bundle gets (GmailApp, Gmail, SpreadsheetApp, ...,
 * and a Date on the emulated clock) and the state tests inspect (mailbox, spreadsheets,
 * properties, triggers, logs). Every service call is counted and charged its modelled latency.
 */
import { AccessTokens, EmulatedGmailApp, type GmailAccess } from './gmail-app';
import { createGmailService, GmailBackend, type EmulatedGmail } from './gmail';
import { CacheStore, EmulatedCacheService } from './cache';
import { CARD_CLASS_NAMES, EmulatedCardService } from './cards';
import { EmulatedLockService, LockTable } from './lock';
import { createConsole, EmulatedLogger, LogBook } from './logger';
import { Mailbox } from './mailbox';
import { EmulatedPropertiesService, PropertyStore } from './properties';
import {
  ADOPT_REALM,
  createDateClass,
  EmulatedClock,
  Runtime,
  type CallLog,
  type ExecutionHandle,
  type ExecutionOptions,
  type RealmConstructors,
} from './runtime';
import { EmulatedScriptApp, TriggerStore } from './script';
import { EmulatedSession } from './session';
import { createSheetsService, type EmulatedSheets } from './sheets-api';
import { EmulatedSpreadsheetApp, SpreadsheetStore, createSpreadsheetApp } from './sheets';
import { zonedParts } from './time-zone';
import { EmulatedUrlFetchApp } from './urlfetch';
import { EmulatedUtilities } from './utilities';

export { ADOPT_REALM, DEFAULT_LATENCY_MS, EXECUTION_LIMIT_MS, UNKNOWN_LATENCY_MS } from './runtime';
export type { CallLog, ExecutionHandle, ExecutionOptions } from './runtime';
export { Mailbox, type DeliverOptions, type MailboxMessage, type ParsedMailboxMessage } from './mailbox';
export { SpreadsheetStore } from './sheets';
export { PropertyStore } from './properties';
export type { LogEntry } from './logger';
export type { TriggerRecord } from './script';

export interface AppsScriptOptions {
  /** The account the project runs as, such as 'support@example.com'; it owns the mailbox. */
  user: string;
  /** The emulated clock's start; 2026-01-05T09:00:00Z by default. */
  start?: Date;
  /** Latency overrides in ms by call name (see DEFAULT_LATENCY_MS). */
  latency?: Record<string, number>;
  /** Session.getActiveUser(); the same as `user` by default. */
  activeUser?: string;
  /** Script and new spreadsheets' time zone; Etc/UTC by default. */
  timeZone?: string;
  locale?: string;
  /** How long the mailbox keeps history records; seven days by default. */
  historyRetentionMs?: number;
  /** How Gmail.Users.Messages.get returns `raw` through the advanced service; 'bytes' by default. */
  gmailRawFormat?: 'bytes' | 'base64url';
  /** 'current-message' for an add-on with only the per-message Gmail scopes; 'mailbox' by default. */
  gmailAccess?: GmailAccess;
  /** Verified send-as aliases of the account. */
  sendAs?: string[];
  /** A spreadsheet store shared with another emulated project (the add-on and the processor). */
  spreadsheets?: SpreadsheetStore;
  /** The spreadsheet a container-bound script belongs to. */
  boundSpreadsheetId?: string;
  /** An add-on project, which may only create hourly or slower time-driven triggers. */
  addOn?: boolean;
  scriptId?: string;
}

/** The global names a bundle gets, with the emulated services. */
export interface AppsScriptGlobals {
  GmailApp: EmulatedGmailApp;
  Gmail: EmulatedGmail;
  SpreadsheetApp: EmulatedSpreadsheetApp;
  /** The Sheets advanced service (API v4 values), over the same spreadsheets as SpreadsheetApp. */
  Sheets: EmulatedSheets;
  PropertiesService: EmulatedPropertiesService;
  CacheService: EmulatedCacheService;
  LockService: EmulatedLockService;
  ScriptApp: EmulatedScriptApp;
  Utilities: EmulatedUtilities;
  Session: EmulatedSession;
  CardService: EmulatedCardService;
  Logger: EmulatedLogger;
  console: Console;
  UrlFetchApp: EmulatedUrlFetchApp;
  Charts: { ChartType: Readonly<Record<string, string>> };
  MimeType: Readonly<Record<string, string>>;
  Date: DateConstructor;
  /** Called by loadBundle with the vm realm's constructors; values handed to the bundle are built in it. */
  [ADOPT_REALM]: (realm: RealmConstructors) => void;
}

/** The event object Gmail passes to an add-on's contextual trigger and card actions. */
export interface GmailAddonEvent {
  commonEventObject: {
    hostApp: 'GMAIL';
    platform: 'WEB';
    userLocale: string;
    timeZone: { id: string; offset: number };
    parameters?: Record<string, string>;
    formInputs?: Record<string, { stringInputs: { value: string[] } }>;
  };
  gmail: { messageId: string; threadId: string; accessToken: string };
  /** The legacy Gmail add-on fields, which Apps Script still fills in. */
  messageMetadata: { messageId: string; accessToken: string };
  parameters: Record<string, string>;
  formInput: Record<string, string>;
  formInputs: Record<string, string[]>;
}

export interface AddonEventOptions {
  /** The opened message; its access token is issued for this event. */
  messageId: string;
  /** Action parameters (Action.setParameters). */
  parameters?: Record<string, string>;
  /** Form input values by field name. */
  formInputs?: Record<string, string | string[]>;
}

export interface AppsScript {
  globals: AppsScriptGlobals;
  mailbox: Mailbox;
  spreadsheets: SpreadsheetStore;
  properties: { script: PropertyStore; user: PropertyStore };
  cache: { script: CacheStore; user: CacheStore };
  clock: EmulatedClock;
  calls: CallLog;
  locks: LockTable;
  triggers: TriggerStore;
  logs: LogBook;
  runtime: Runtime;
  /** The token ScriptApp.getOAuthToken() returns and the Gmail REST emulation accepts. */
  oauthToken: string;
  /** Runs `fn` as one Apps Script execution: its locks are released when it settles. */
  execution<T>(name: string, fn: () => T, options?: ExecutionOptions): Promise<Awaited<T>>;
  /** Starts an execution that a test runs code in and ends itself (to hold a lock meanwhile). */
  beginExecution(name: string, options?: ExecutionOptions): ExecutionHandle;
  /** Builds a Gmail add-on event for an opened message, issuing its access token. */
  addonEvent(options: AddonEventOptions): GmailAddonEvent;
}

const names = (...values: string[]): Readonly<Record<string, string>> =>
  Object.freeze(Object.fromEntries(values.map((value) => [value, value])));

const CHART_TYPES = names(
  'TIMELINE',
  'AREA',
  'BAR',
  'BUBBLE',
  'CANDLESTICK',
  'COLUMN',
  'COMBO',
  'GAUGE',
  'GEO',
  'HISTOGRAM',
  'RADAR',
  'LINE',
  'ORG',
  'PIE',
  'SCATTER',
  'SPARKLINE',
  'STEPPED_AREA',
  'TABLE',
  'TREEMAP',
  'WATERFALL',
);

const MIME_TYPES = Object.freeze({
  PLAIN_TEXT: 'text/plain',
  HTML: 'text/html',
  CSV: 'text/csv',
  JSON: 'application/json',
  PDF: 'application/pdf',
  ZIP: 'application/zip',
});

export const DEFAULT_START = new Date('2026-01-05T09:00:00Z');

export function createAppsScript(options: AppsScriptOptions): AppsScript {
  const user = options.user.toLowerCase();
  const timeZone = options.timeZone ?? 'Etc/UTC';
  const clock = new EmulatedClock(options.start ?? DEFAULT_START);
  const cardLatency = Object.fromEntries(CARD_CLASS_NAMES.map((name) => [`${name}.*`, 1]));
  const rt = new Runtime(clock, { ...cardLatency, ...options.latency });

  const mailboxOptions = { user, now: () => clock.now() };
  const mailbox = new Mailbox(
    options.historyRetentionMs === undefined
      ? mailboxOptions
      : { ...mailboxOptions, historyRetentionMs: options.historyRetentionMs },
  );
  const backend = new GmailBackend(mailbox, {
    rawFormat: options.gmailRawFormat ?? 'bytes',
    sendAs: options.sendAs ?? [],
  });
  const tokens = new AccessTokens();
  const spreadsheets = options.spreadsheets ?? new SpreadsheetStore(timeZone);
  const properties = { script: new PropertyStore(), user: new PropertyStore() };
  const cache = { script: new CacheStore(), user: new CacheStore() };
  const locks = new LockTable(rt);
  const triggers = new TriggerStore();
  const logs = new LogBook();
  const scriptApp = new EmulatedScriptApp(rt, triggers, {
    addOn: options.addOn ?? false,
    scriptId: options.scriptId ?? 'emulated-script-id',
  });

  const globals: AppsScriptGlobals = {
    GmailApp: new EmulatedGmailApp(rt, mailbox, tokens, options.gmailAccess ?? 'mailbox'),
    Gmail: createGmailService(rt, backend),
    SpreadsheetApp: createSpreadsheetApp(
      rt,
      spreadsheets,
      options.boundSpreadsheetId === undefined ? {} : { boundSpreadsheetId: options.boundSpreadsheetId },
    ),
    Sheets: createSheetsService(rt, spreadsheets),
    PropertiesService: new EmulatedPropertiesService(rt, properties.script, properties.user),
    CacheService: new EmulatedCacheService(rt, cache.script, cache.user),
    LockService: new EmulatedLockService(rt, locks, user),
    ScriptApp: scriptApp,
    Utilities: new EmulatedUtilities(rt),
    Session: new EmulatedSession(rt, {
      effectiveUser: user,
      activeUser: options.activeUser ?? user,
      timeZone,
      locale: options.locale ?? 'en',
    }),
    CardService: new EmulatedCardService(rt),
    Logger: new EmulatedLogger(rt, logs),
    console: createConsole(rt, logs),
    UrlFetchApp: new EmulatedUrlFetchApp(rt, backend, scriptApp.oauthToken, spreadsheets),
    Charts: { ChartType: CHART_TYPES },
    MimeType: MIME_TYPES,
    Date: createDateClass(clock),
    [ADOPT_REALM]: (realm) => rt.setRealm(realm),
  };

  return {
    globals,
    mailbox,
    spreadsheets,
    properties,
    cache,
    clock,
    calls: rt.calls,
    locks,
    triggers,
    logs,
    runtime: rt,
    oauthToken: scriptApp.oauthToken,
    execution: (name, fn, executionOptions) => rt.execution(name, fn, executionOptions),
    beginExecution: (name, executionOptions) => rt.beginExecution(name, executionOptions),
    addonEvent: (event) => addonEvent(mailbox, tokens, event, options.locale ?? 'en', timeZone, clock.now()),
  };
}

function addonEvent(
  mailbox: Mailbox,
  tokens: AccessTokens,
  options: AddonEventOptions,
  locale: string,
  timeZone: string,
  now: number,
): GmailAddonEvent {
  const message = mailbox.get(options.messageId);
  if (message === undefined) throw new Error(`addonEvent: no message ${options.messageId} in ${mailbox.user}'s mailbox`);
  const accessToken = tokens.issue(message.id);
  const parameters = { ...options.parameters };
  const inputs = Object.fromEntries(
    Object.entries(options.formInputs ?? {}).map(([name, value]) => [name, Array.isArray(value) ? value : [value]]),
  );
  const commonEventObject: GmailAddonEvent['commonEventObject'] = {
    hostApp: 'GMAIL',
    platform: 'WEB',
    userLocale: locale,
    timeZone: { id: timeZone, offset: zonedParts(now, timeZone).offsetMinutes * 60_000 },
  };
  if (options.parameters !== undefined) commonEventObject.parameters = parameters;
  if (options.formInputs !== undefined) {
    commonEventObject.formInputs = Object.fromEntries(
      Object.entries(inputs).map(([name, values]) => [name, { stringInputs: { value: values } }]),
    );
  }
  return {
    commonEventObject,
    gmail: { messageId: message.id, threadId: message.threadId, accessToken },
    messageMetadata: { messageId: message.id, accessToken },
    parameters,
    formInput: Object.fromEntries(Object.entries(inputs).map(([name, values]) => [name, values[0] ?? ''])),
    formInputs: inputs,
  };
}
