/**
 * The processor's two jobs in the support account: setup() prepares the Sheet, labels, secret
 * and trigger; processInbox() runs every minute over new mail.
 */
import type { Clock, Log, LogFields } from '../core/ports';
import { Run, type MessageOutcome } from '../core/process';
import {
  BACKLOG_QUERY,
  checkpointAfter,
  ensureLabels,
  FETCH_BATCH,
  fetchRawBatch,
  GmailMailer,
  historyRequest,
  LABEL,
  labelMessages,
  listNewMail,
  readHistoryResponse,
  type LabelName,
  type NewMail,
} from './gmail';
import { ensureLayout } from './layout';
import { PROPERTY, readMessagesLastRow, requireProperty, requireStored } from './properties';
import { PENDING_SAVE_LIMIT_BYTES, SheetStore, utf8Length } from './sheet-store';
import { messagesAfterRequest, readMessagesAfter } from './sheets-api';
import { utilitiesSigner } from './signer';

/** A run starts no new message after this long; the rest of the six minutes is for saving. */
export const RUN_BUDGET_MS = 4 * 60 * 1000 + 30 * 1000;
/** Time kept free for the save at the end of a run: a few Sheet calls and a label call. */
const SAVE_ESTIMATE_MS = 10_000;
const TRIGGER_FUNCTION = 'processInbox';
const SHEET_NAME = 'plusdesk tickets';

export const consoleLog: Log = {
  info: (event, fields) => console.log(JSON.stringify({ event, ...fields })),
  error: (event, fields) => console.error(JSON.stringify({ event, ...fields })),
};

const systemClock: Clock = { now: () => new Date() };

export interface SetupReport {
  sheetUrl: string;
  actions: string[];
}

function openOrCreateSheet(sheetId: string | null, actions: string[]) {
  if (sheetId !== null && sheetId !== '') {
    try {
      return SpreadsheetApp.openById(sheetId);
    } catch (error) {
      actions.push(`could not open Sheet ${sheetId} (${String(error)}); created a new one`);
    }
  }
  const spreadsheet = SpreadsheetApp.create(SHEET_NAME);
  actions.push(`created Sheet "${SHEET_NAME}"`);
  return spreadsheet;
}

/** Prepares everything the processor needs; running it again adds only what is missing. */
export function setup(): SetupReport {
  const properties = PropertiesService.getScriptProperties();
  const stored = properties.getProperties();
  const actions: string[] = [];
  const supportAddress = Session.getEffectiveUser().getEmail();

  const spreadsheet = openOrCreateSheet(stored[PROPERTY.sheetId] ?? null, actions);
  if (stored[PROPERTY.sheetId] !== spreadsheet.getId()) {
    properties.setProperty(PROPERTY.sheetId, spreadsheet.getId());
  }
  actions.push(...ensureLayout(spreadsheet, supportAddress));
  const labelIds = ensureLabels();
  if (stored[PROPERTY.labels] !== JSON.stringify(labelIds)) properties.setProperty(PROPERTY.labels, JSON.stringify(labelIds));
  if (stored[PROPERTY.support] !== supportAddress) properties.setProperty(PROPERTY.support, supportAddress);

  if ((stored[PROPERTY.secret] ?? '') === '') {
    properties.setProperty(PROPERTY.secret, `${Utilities.getUuid()}${Utilities.getUuid()}`);
    actions.push('stored a new signing secret');
  }

  const triggers = ScriptApp.getProjectTriggers().filter(
    (trigger) => trigger.getHandlerFunction() === TRIGGER_FUNCTION,
  );
  if (triggers.length === 0) {
    ScriptApp.newTrigger(TRIGGER_FUNCTION).timeBased().everyMinutes(1).create();
    actions.push(`installed a one-minute trigger for ${TRIGGER_FUNCTION}`);
  }
  for (const extra of triggers.slice(1)) {
    ScriptApp.deleteTrigger(extra);
    actions.push(`deleted a duplicate ${TRIGGER_FUNCTION} trigger`);
  }

  const report = { sheetUrl: spreadsheet.getUrl(), actions };
  consoleLog.info('setup', { sheetUrl: report.sheetUrl, actions: actions.join('; ') || 'nothing to do' });
  return report;
}

/** Returns the label ids setup() stored, or null when some are missing so they are listed again. */
function storedLabels(stored: Record<string, string>): Record<LabelName, string> | null {
  try {
    const ids = JSON.parse(stored[PROPERTY.labels] ?? '') as Record<string, string>;
    return Object.values(LABEL).every((name) => typeof ids[name] === 'string') ? (ids as Record<LabelName, string>) : null;
  } catch {
    return null;
  }
}

export interface InboxRunSummary {
  status: 'idle' | 'busy' | 'done' | 'partial';
  found: number;
  handled: number;
  sent: number;
  reason: string;
}

/**
 * A run saves before its unsaved changes may pass this many bytes, so that each save fits in the
 * pending-save properties (the estimate counts each touched ticket twice).
 */
const PENDING_SAVE_BUDGET_BYTES = Math.floor(PENDING_SAVE_LIMIT_BYTES * 0.75);

function labelFor(outcome: MessageOutcome): { label: LabelName; archive: boolean } | null {
  // A message whose send failed is not recorded; it stays unlabelled for the next run.
  if (outcome.outcome === 'failed') return null;
  switch (outcome.state) {
    case 'processed':
    case 'duplicate':
      return { label: LABEL.processed, archive: true };
    case 'skipped':
      return { label: LABEL.skipped, archive: true };
    case 'held':
      return { label: LABEL.held, archive: false };
    case 'quarantined':
      return { label: LABEL.error, archive: false };
    default:
      return null;
  }
}

/** Result of one poll: new mail, and whether the sidebar queued work. */
interface Poll {
  mail: NewMail;
  queued: boolean;
}

/**
 * Looks for new mail and for work queued in the sidebar in one UrlFetchApp.fetchAll: the first
 * page of the Gmail history and the Messages rows from the last one a run read. Without a
 * stored history id or row, it falls back to a search or reports queued work, so that one full
 * run stores them.
 */
function poll(stored: Record<string, string>): Poll {
  const historyId = stored[PROPERTY.historyId] ?? '';
  const sheetId = stored[PROPERTY.sheetId] ?? '';
  // The add-on is another Apps Script project and cannot signal the processor, so a filled row
  // below the last one a run read means the sidebar queued a comment or an open request.
  const lastRow = readMessagesLastRow(stored);
  const token = ScriptApp.getOAuthToken();
  const requests: GoogleAppsScript.URL_Fetch.URLFetchRequest[] = [];
  if (historyId !== '') requests.push(historyRequest(token, historyId));
  const probe = sheetId !== '' && lastRow !== null;
  if (probe) requests.push(messagesAfterRequest(token, sheetId, lastRow));
  const responses = requests.length === 0 ? [] : UrlFetchApp.fetchAll(requests);
  const firstPage = historyId === '' ? undefined : readHistoryResponse(responses[0]!);
  const mail = listNewMail(historyId === '' ? null : historyId, firstPage);
  const queued = sheetId !== '' && (probe ? readMessagesAfter(responses[responses.length - 1]!) : true);
  return { mail, queued };
}

/** Reports whether the script properties hold work an earlier run left unfinished. */
function hasUnfinishedWork(stored: Record<string, string>): boolean {
  return (stored[PROPERTY.journal] ?? '') !== '' || (stored[PROPERTY.pendingSave] ?? '') !== '';
}

/**
 * Runs the trigger once: hands the mail that arrived since the stored history id to the core.
 * A run that finds nothing new makes two calls: one properties read and one fetchAll.
 */
export async function processInbox(): Promise<InboxRunSummary> {
  const started = systemClock.now().getTime();
  const properties = PropertiesService.getScriptProperties();
  const stored = properties.getProperties();
  let { mail, queued } = poll(stored);
  const digestDue = Number.parseInt(stored[PROPERTY.digestDue] ?? '', 10);
  const digest = Number.isFinite(digestDue) && digestDue <= started;
  if (mail.ids.length === 0 && !hasUnfinishedWork(stored) && !queued && !digest) {
    // After a search the stored id is missing or expired, so the new one saves the next search.
    if (mail.source === 'search' && mail.historyId !== '') {
      properties.setProperty(PROPERTY.historyId, mail.historyId);
    }
    return { status: 'idle', found: 0, handled: 0, sent: 0, reason: '' };
  }

  const lock = LockService.getScriptLock();
  if (!lock.tryLock(1000)) {
    consoleLog.info('run_skipped', { reason: 'another run holds the lock' });
    return { status: 'busy', found: mail.ids.length, handled: 0, sent: 0, reason: 'another run holds the lock' };
  }
  try {
    // Another run may have finished or died while this one waited: read its properties again,
    // and list again from its checkpoint.
    const fresh = properties.getProperties();
    if (fresh[PROPERTY.historyId] !== stored[PROPERTY.historyId]) {
      mail = listNewMail(fresh[PROPERTY.historyId] ?? null);
    }
    return await processLocked(properties, fresh, mail, started);
  } finally {
    lock.releaseLock();
  }
}

async function processLocked(
  properties: GoogleAppsScript.Properties.Properties,
  stored: Record<string, string>,
  mail: NewMail,
  started: number,
): Promise<InboxRunSummary> {
  const sheetId = requireStored(stored, PROPERTY.sheetId);
  const secret = stored[PROPERTY.secret] ?? requireProperty(properties, PROPERTY.secret);
  const supportAddress = stored[PROPERTY.support] || Session.getEffectiveUser().getEmail();
  const store = new SheetStore(sheetId, () => SpreadsheetApp.openById(sheetId), supportAddress, properties, stored, consoleLog);
  const mailer = GmailMailer.open(properties, stored, () => systemClock.now());
  const run = await Run.start({
    store,
    mailer,
    signer: utilitiesSigner(secret),
    clock: systemClock,
    log: consoleLog,
  });
  const recorded = (key: string) => run.state.hasOutgoing(key);
  const labelIds = mail.ids.length > 0 ? storedLabels(stored) ?? ensureLabels() : null;
  const ownLabelIds = labelIds === null ? [] : Object.values(labelIds);

  let stopReason = '';
  if (!(await run.handleWaiting())) stopReason = 'a send failed; the next run retries';
  const labels: Record<string, { ids: string[]; archive: boolean }> = {};
  const mark = (id: string, label: LabelName, archive: boolean) => {
    const entry = (labels[label] ??= { ids: [], archive });
    entry.ids.push(id);
  };

  let handled = 0;
  let saves = 0;
  let pendingBytes = 0;
  const ids = stopReason === '' ? mail.ids : [];
  // The next batch is assumed to take as long as the last one, so a run stops in time to save.
  let lastBatchMs = 0;
  for (let start = 0; start < ids.length; start += FETCH_BATCH) {
    const batchStarted = systemClock.now().getTime();
    if (batchStarted - started + lastBatchMs + SAVE_ESTIMATE_MS >= RUN_BUDGET_MS) {
      stopReason = 'time budget used up; the next run continues';
      break;
    }
    if (pendingBytes >= PENDING_SAVE_BUDGET_BYTES) {
      // One save must fit in the pending-save properties, so a long run saves as it goes. Its
      // labels and history id are written at the end. A run that dies before then finds the
      // saved messages already recorded and only labels them.
      await run.save();
      mailer.settle(recorded, false);
      saves++;
      pendingBytes = 0;
    }
    const batch = ids.slice(start, start + FETCH_BATCH);
    let fetched: ReturnType<typeof fetchRawBatch>;
    try {
      fetched = fetchRawBatch(batch);
    } catch (error) {
      consoleLog.error('fetch_failed', { messages: batch.length, error: String(error) } satisfies LogFields);
      stopReason = 'reading messages failed; the next run retries';
      break;
    }
    // Messages deleted since they were listed have nothing left to process.
    for (const id of fetched.gone) consoleLog.info('message_gone', { messageId: id });
    // Messages labelled by an earlier run that stopped before it stored its history id are done.
    const fresh = fetched.mails.filter((item) => !item.labelIds.some((label) => ownLabelIds.includes(label)));

    const before = run.outcomeCount;
    const recordsBefore = run.state.recordCount;
    try {
      await run.handleBatch(fresh);
    } catch (error) {
      // The batch is applied in memory but not all of its mail went out: save nothing more, so
      // the next run repeats this batch with the same keys and the send journal.
      consoleLog.error('send_failed', { messages: fresh.length, error: String(error) } satisfies LogFields);
      return {
        status: 'partial',
        found: mail.ids.length,
        handled: 0,
        sent: 0,
        reason: 'a send failed; the next run retries',
      };
    }
    for (const outcome of run.outcomesSince(before)) {
      const target = labelFor(outcome);
      if (target !== null) mark(outcome.sourceId, target.label, target.archive);
    }
    pendingBytes += unsavedBytes(run, before, recordsBefore);
    handled += batch.length;
    lastBatchMs = systemClock.now().getTime() - batchStarted;
  }

  const report = await run.finish(stopReason);
  if (labelIds !== null) {
    for (const [name, entry] of Object.entries(labels)) {
      labelMessages(entry.ids, labelIds[name as LabelName], entry.archive);
    }
  }
  // One write clears the pending save and the send journal, and stores how far the inbox was
  // read and the Messages row the sidebar appends after.
  const checkpoint = checkpointAfter(mail, handled);
  const progress: Record<string, string> = {
    ...store.settle(),
    ...mailer.settle(recorded, stopReason === ''),
    [PROPERTY.queueCheck]: JSON.stringify({ rows: store.messagesLastRow }),
    [PROPERTY.digestDue]: String(run.digestDue() ?? ''),
  };
  if (checkpoint !== null && checkpoint !== stored[PROPERTY.historyId]) progress[PROPERTY.historyId] = checkpoint;
  properties.setProperties(progress);
  const summary: InboxRunSummary = {
    status: stopReason === '' ? 'done' : 'partial',
    found: mail.ids.length,
    handled,
    sent: report.sent.length,
    reason: stopReason,
  };
  consoleLog.info('run', {
    ...summary,
    saves: saves + 1,
    source: mail.source,
    query: mail.source === 'search' ? BACKLOG_QUERY : '',
  });
  return summary;
}
/** Estimates the bytes one message added to the run's save: its rows and its ticket, twice. */
function unsavedBytes(run: Run, outcomesBefore: number, recordsBefore: number): number {
  let bytes = utf8Length(JSON.stringify(Array.from(run.state.records(recordsBefore), (row) => row.record)));
  for (const outcome of run.outcomesSince(outcomesBefore)) {
    const ticket = outcome.ticket === null ? undefined : run.state.tickets.get(outcome.ticket);
    if (ticket !== undefined) bytes += 2 * utf8Length(JSON.stringify(ticket));
  }
  return bytes;
}
