/**
 * The processor's two jobs in the support account: setup() prepares the Sheet, labels, secret
 * and trigger; processInbox() runs every minute over new mail.
 */
import type { Clock, Log, LogFields } from '../core/ports';
import { Run, type MessageOutcome } from '../core/process';
import {
  BACKLOG_QUERY,
  ensureLabels,
  fetchRaw,
  GmailMailer,
  LABEL,
  labelMessages,
  listNewMail,
  type LabelName,
} from './gmail';
import { ensureLayout } from './layout';
import { PROPERTY, requireProperty } from './properties';
import { SheetStore } from './sheet-store';
import { utilitiesSigner } from './signer';

/** A run starts no new message after this long; the rest of the six minutes is for saving. */
export const RUN_BUDGET_MS = 4 * 60 * 1000 + 30 * 1000;
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
  ensureLabels();

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

export interface InboxRunSummary {
  status: 'idle' | 'busy' | 'done' | 'partial';
  found: number;
  handled: number;
  sent: number;
  reason: string;
}

function labelFor(outcome: MessageOutcome): { label: LabelName; archive: boolean } | null {
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

/** One run of the trigger: new mail since the stored history id, through the core. */
export async function processInbox(): Promise<InboxRunSummary> {
  const started = systemClock.now().getTime();
  const properties = PropertiesService.getScriptProperties();
  let stored = properties.getProperties();
  let mail = listNewMail(stored[PROPERTY.historyId] ?? null);
  const journalPending = (stored[PROPERTY.journal] ?? '') !== '';
  if (mail.ids.length === 0 && !journalPending) {
    if (mail.historyId !== '' && mail.historyId !== stored[PROPERTY.historyId]) {
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
    // Another run may have finished while this one waited: list again from its checkpoint.
    const fresh = properties.getProperties();
    if (fresh[PROPERTY.historyId] !== stored[PROPERTY.historyId]) {
      stored = fresh;
      mail = listNewMail(stored[PROPERTY.historyId] ?? null);
    }
    return await processLocked(properties, stored, mail, started);
  } finally {
    lock.releaseLock();
  }
}

async function processLocked(
  properties: GoogleAppsScript.Properties.Properties,
  stored: Record<string, string>,
  mail: ReturnType<typeof listNewMail>,
  started: number,
): Promise<InboxRunSummary> {
  const spreadsheet = SpreadsheetApp.openById(requireProperty(properties, PROPERTY.sheetId));
  const secret = stored[PROPERTY.secret] ?? requireProperty(properties, PROPERTY.secret);
  const store = new SheetStore(spreadsheet, Session.getEffectiveUser().getEmail());
  const mailer = GmailMailer.open(properties, () => systemClock.now());
  const run = await Run.start({
    store,
    mailer,
    signer: utilitiesSigner(secret),
    clock: systemClock,
    log: consoleLog,
  });

  let stopReason = '';
  if (!(await run.handleQueued())) stopReason = 'a send failed; the next run retries';
  const labels: Record<string, { ids: string[]; archive: boolean }> = {};
  const mark = (id: string, label: LabelName, archive: boolean) => {
    const entry = (labels[label] ??= { ids: [], archive });
    entry.ids.push(id);
  };

  let handled = 0;
  for (const id of stopReason === '' ? mail.ids : []) {
    if (systemClock.now().getTime() - started >= RUN_BUDGET_MS) {
      stopReason = 'time budget used up; the next run continues';
      break;
    }
    let fetched;
    try {
      fetched = fetchRaw(id);
    } catch (error) {
      // A message deleted since it was listed has nothing left to process.
      consoleLog.error('fetch_failed', { messageId: id, error: String(error) } satisfies LogFields);
      handled++;
      continue;
    }
    const own = Object.values(LABEL) as string[];
    if (fetched.labelIds.some((label) => own.includes(label))) {
      handled++;
      continue;
    }
    const before = run.outcomeCount;
    const goOn = await run.handle(fetched);
    for (const outcome of run.outcomesSince(before)) {
      const target = labelFor(outcome);
      if (target !== null) mark(id, target.label, target.archive);
    }
    if (!goOn) {
      stopReason = 'a send failed; the next run retries';
      break;
    }
    handled++;
  }

  const report = await run.finish(stopReason);
  mailer.clear();
  if (Object.keys(labels).length > 0) {
    const labelIds = ensureLabels();
    for (const [name, entry] of Object.entries(labels)) {
      labelMessages(entry.ids, labelIds[name as LabelName], entry.archive);
    }
  }
  if (handled === mail.ids.length && mail.historyId !== '') {
    properties.setProperty(PROPERTY.historyId, mail.historyId);
  }
  const summary: InboxRunSummary = {
    status: stopReason === '' ? 'done' : 'partial',
    found: mail.ids.length,
    handled,
    sent: report.sent.length,
    reason: stopReason,
  };
  consoleLog.info('run', { ...summary, source: mail.source, query: mail.source === 'search' ? BACKLOG_QUERY : '' });
  return summary;
}
