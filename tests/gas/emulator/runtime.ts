/**
 * The run-time model of the Apps Script emulator. It has a clock that only service calls (and
 * tests) move, and the log of counted service calls with their modelled latency. It also models
 * executions (the unit that owns locks and has a time limit), the realm that returned values are
 * adopted into, and the error objects Apps Script throws.
 */

/** Milliseconds charged for a call that has no entry in the latency table. */
export const UNKNOWN_LATENCY_MS = 100;

/** Apps Script ends an execution after six minutes. */
export const EXECUTION_LIMIT_MS = 6 * 60 * 1000;

/**
 * Modelled wall time per call, in ms. Keys are `Service.method`, `Service.method:variant` (for
 * example the Gmail `get` format) or `Class.*` for every method of a class. Where a published
 * measurement exists, the figure follows it: Sheets bulk reads and writes 300-450 ms,
 * getLastRow 160 ms, a flush of 4,000 written cells 560 ms, properties get 30 ms and set 60 ms,
 * UrlFetchApp to a Google API 500 ms. The Gmail figures are estimates anchored to about 225 ms
 * per Gmail API call measured outside Apps Script. Rows marked "estimate" have no published
 * figure at all.
 */
export const DEFAULT_LATENCY_MS: Readonly<Record<string, number>> = {
  // Gmail advanced service (estimates anchored to one Gmail API round trip).
  'Gmail.Users.getProfile': 200,
  'Gmail.Users.History.list': 200,
  'Gmail.Users.Messages.list': 250,
  'Gmail.Users.Messages.get': 250,
  'Gmail.Users.Messages.get:metadata': 200,
  'Gmail.Users.Messages.get:minimal': 200,
  'Gmail.Users.Messages.get:raw': 300,
  'Gmail.Users.Messages.send': 800,
  'Gmail.Users.Messages.modify': 150,
  'Gmail.Users.Messages.batchModify': 300,
  'Gmail.Users.Threads.get': 200,
  'Gmail.Users.Labels.list': 100,
  'Gmail.Users.Labels.create': 150,
  // GmailApp (estimates): the message read costs a round trip; metadata getters are local.
  'GmailApp.getMessageById': 200,
  'GmailApp.getUserLabelByName': 150,
  'GmailApp.createLabel': 150,
  'GmailApp.setCurrentMessageAccessToken': 1,
  'GmailMessage.*': 1,
  'GmailMessage.getRawContent': 150,
  'GmailMessage.getHeader': 150,
  'GmailThread.*': 1,
  'GmailThread.getMessages': 200,
  'GmailLabel.*': 1,
  // SpreadsheetApp.
  'SpreadsheetApp.create': 1000, // estimate: a Drive file creation
  'SpreadsheetApp.openById': 150, // estimate
  'SpreadsheetApp.openByUrl': 150, // estimate
  'SpreadsheetApp.getActiveSpreadsheet': 1,
  'SpreadsheetApp.newDataValidation': 1,
  'SpreadsheetApp.flush': 560, // with pending writes
  'SpreadsheetApp.flush:idle': 10, // estimate: nothing to commit
  'Spreadsheet.*': 1,
  'Spreadsheet.getSheetByName': 150, // estimate
  'Spreadsheet.getSheets': 150, // estimate
  'Spreadsheet.insertSheet': 300, // estimate
  'Spreadsheet.deleteSheet': 300, // estimate
  'Sheet.*': 1,
  'Sheet.getLastRow': 160,
  'Sheet.getLastColumn': 160,
  'Sheet.getMaxRows': 160,
  'Sheet.getMaxColumns': 160,
  'Sheet.getDataRange': 160,
  'Sheet.appendRow': 200, // estimate: getLastRow plus a committed one-row write
  'Sheet.insertChart': 300, // estimate
  'Sheet.insertRowsAfter': 100, // estimate
  'Sheet.deleteRows': 100, // estimate
  'Sheet.setFrozenRows': 100, // estimate
  'Sheet.setColumnWidth': 100, // estimate
  'Sheet.autoResizeColumns': 100, // estimate
  'Range.*': 1,
  'Range.getValues': 300,
  'Range.getDisplayValues': 300,
  'Range.getFormulas': 300,
  'Range.getValue': 300, // a cache miss; reads served from the read-ahead cache cost ~3 ms
  'Range.getDisplayValue': 300,
  'Range.getFormula': 300,
  'Range.setValues': 450,
  'Range.setValue': 30, // a buffered write followed later by a read or flush
  'Range.setNumberFormat': 100, // estimate
  'Range.setNumberFormats': 100, // estimate
  'Range.setDataValidation': 100, // estimate
  'Range.setFontWeight': 100, // estimate
  'Range.clearContent': 100, // estimate
  'TextFinder.*': 1,
  'TextFinder.findNext': 300, // estimate: one read round trip
  'TextFinder.findAll': 300, // estimate
  'DataValidationBuilder.*': 1,
  'DataValidation.*': 1,
  'EmbeddedChartBuilder.*': 1,
  'EmbeddedChart.*': 1,
  // Properties and cache.
  'PropertiesService.*': 1,
  'Properties.getProperty': 30,
  'Properties.getProperties': 30,
  'Properties.getKeys': 30,
  'Properties.setProperty': 60,
  'Properties.setProperties': 60,
  'Properties.deleteProperty': 60,
  'Properties.deleteAllProperties': 60,
  'CacheService.*': 1,
  'Cache.get': 5,
  'Cache.getAll': 5,
  'Cache.put': 60,
  'Cache.putAll': 60,
  'Cache.remove': 60,
  'Cache.removeAll': 60,
  // Locks (estimate: like a properties write; a contended wait adds the wait itself).
  'LockService.*': 1,
  'Lock.tryLock': 50,
  'Lock.waitLock': 50,
  'Lock.releaseLock': 1,
  'Lock.hasLock': 1,
  // In-process services (estimates).
  'Utilities.*': 1,
  'Utilities.sleep': 0,
  'Blob.*': 1,
  'Session.*': 1,
  'User.*': 1,
  'Logger.*': 0,
  'ScriptApp.*': 1,
  'ScriptApp.getProjectTriggers': 100, // estimate
  'ScriptApp.deleteTrigger': 100, // estimate
  'TriggerBuilder.*': 1,
  'ClockTriggerBuilder.*': 1,
  'ClockTriggerBuilder.create': 100, // estimate
  'Trigger.*': 1,
  // UrlFetchApp: fetchAll is charged one fetch plus this overhead, whatever the request count.
  'UrlFetchApp.fetch': 500,
  'UrlFetchApp.fetchAll': 100,
  'HTTPResponse.*': 0,
  // Start-up of an execution before its first line (estimate, charged by `execution`).
  'Execution.start': 1000,
};

/** Apps Script's clock, as the emulator models it: it moves only when something advances it. */
export class EmulatedClock {
  private ms: number;

  constructor(start: Date) {
    this.ms = start.getTime();
  }

  /** Epoch milliseconds. */
  now(): number {
    return this.ms;
  }

  date(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`Clock advance must be a finite number of ms >= 0, got ${ms}`);
    }
    this.ms += ms;
  }
}

/**
 * A `Date` constructor whose `new Date()`, `Date()` and `Date.now()` read the emulated clock.
 * It shares `Date.prototype` with Node's Date, so a Date created by either side passes the
 * bundle's `instanceof Date`.
 */
export function createDateClass(clock: EmulatedClock): DateConstructor {
  const HostDate = Date;
  function EmulatedDate(this: unknown, ...args: unknown[]): unknown {
    if (new.target === undefined) return new HostDate(clock.now()).toString();
    const params = args.length === 0 ? [clock.now()] : args;
    return Reflect.construct(HostDate, params, new.target);
  }
  EmulatedDate.prototype = HostDate.prototype;
  EmulatedDate.now = (): number => clock.now();
  EmulatedDate.parse = HostDate.parse;
  EmulatedDate.UTC = HostDate.UTC;
  return EmulatedDate as unknown as DateConstructor;
}

export type CallHook = (name: string, count: number) => void;

/** The counted service calls, by `Service.method` name. */
export class CallLog {
  private readonly counts = new Map<string, number>();
  private readonly order: string[] = [];

  /**
   * Runs after each counted call took effect, with the call's name and the running total. A
   * throw from it ends the current execution there, as if the script died right after that call:
   * the error propagates, every later service call of that execution throws it again, and
   * `execution()` rejects with it. Outside `execution()` the error only propagates.
   */
  onCall: CallHook | undefined;

  /**
   * Runs before each counted call. A throw from it fails that one call without effect, as a
   * service error would, so the script may catch it. The call still counts and takes its time.
   */
  beforeCall: CallHook | undefined;

  total(): number {
    return this.order.length;
  }

  byName(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Returns every counted call name, in call order. */
  list(): string[] {
    return [...this.order];
  }

  count(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  reset(): void {
    this.counts.clear();
    this.order.length = 0;
  }

  record(name: string): number {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    this.order.push(name);
    return this.order.length;
  }
}

/** Constructors of the realm that receives values returned by emulated services. */
export interface RealmConstructors {
  Array: ArrayConstructor;
  Object: ObjectConstructor;
  Error: ErrorConstructor;
}

/** Symbol under which `createAppsScript`'s globals carry the function that sets the realm. */
export const ADOPT_REALM = Symbol.for('plusdesk.gas-emulator.adopt-realm');

/** One Apps Script execution: a trigger run or an add-on callback. */
export class Execution {
  ended = false;
  /** Set once the execution died (time limit or injected crash); later calls throw it. */
  terminatedBy: unknown = undefined;

  constructor(
    readonly name: string,
    readonly startedAt: number,
    readonly limitMs: number,
  ) {}

  get terminated(): boolean {
    return this.terminatedBy !== undefined;
  }
}

export interface ExecutionOptions {
  /** Time limit in ms: six minutes by default; add-on callbacks get about 30 s. */
  limitMs?: number;
  /** Charge the start-up latency (`Execution.start`) before the first line; true by default. */
  chargeStart?: boolean;
}

/** A running execution that a test controls: run code inside it, and end it. */
export interface ExecutionHandle {
  readonly execution: Execution;
  /** Runs `fn` as this execution; a returned promise keeps the execution current until it settles. */
  run<T>(fn: () => T): Promise<Awaited<T>>;
  /** Ends the execution: its locks are released, as Apps Script does when a script returns. */
  end(): void;
}

export interface TrackOptions {
  /** Looks up `name:variant` in the latency table before `name`. */
  variant?: string;
  /** Charges exactly this many ms instead of the table's figure. */
  latencyMs?: number;
}

type JsonErrorDetails = {
  code: number;
  message: string;
  errors: { reason: string; domain: string; message: string }[];
};

/** Everything the service emulations share: clock, call log, executions and realm. */
export class Runtime {
  readonly calls = new CallLog();
  readonly latency: Record<string, number>;
  private readonly stack: Execution[] = [];
  private readonly defaultExecution: Execution;
  private readonly endListeners: ((execution: Execution) => void)[] = [];
  private realm: RealmConstructors = { Array, Object, Error };

  constructor(
    readonly clock: EmulatedClock,
    latency: Record<string, number> = {},
  ) {
    this.latency = { ...DEFAULT_LATENCY_MS, ...latency };
    this.defaultExecution = new Execution('default', clock.now(), Number.POSITIVE_INFINITY);
  }

  latencyOf(name: string, variant?: string): number {
    if (variant !== undefined) {
      const specific = this.latency[`${name}:${variant}`];
      if (specific !== undefined) return specific;
    }
    const exact = this.latency[name];
    if (exact !== undefined) return exact;
    const dot = name.lastIndexOf('.');
    const wildcard = dot > 0 ? this.latency[`${name.slice(0, dot)}.*`] : undefined;
    return wildcard ?? UNKNOWN_LATENCY_MS;
  }

  /**
   * Performs one counted service call: checks that the execution is alive, runs the hooks around
   * `action`, counts the call and advances the clock by its latency. The result is adopted into
   * the bundle's realm.
   */
  track<T>(name: string, action: () => T, options: TrackOptions = {}): T {
    const execution = this.current();
    this.assertAlive(execution);
    let result: T | undefined;
    let failure: unknown;
    let failed = false;
    try {
      this.calls.beforeCall?.(name, this.calls.total() + 1);
      result = action();
    } catch (error) {
      failed = true;
      failure = error;
    }
    const total = this.calls.record(name);
    this.clock.advance(options.latencyMs ?? this.latencyOf(name, options.variant));
    try {
      this.calls.onCall?.(name, total);
    } catch (crash) {
      // The default execution never ends, so a crash there only propagates.
      if (execution !== this.defaultExecution) execution.terminatedBy = crash;
      throw crash;
    }
    if (failed) throw failure;
    return this.adopt(result as T);
  }

  current(): Execution {
    return this.stack[this.stack.length - 1] ?? this.defaultExecution;
  }

  onExecutionEnd(listener: (execution: Execution) => void): void {
    this.endListeners.push(listener);
  }

  beginExecution(name: string, options: ExecutionOptions = {}): ExecutionHandle {
    if (options.chargeStart ?? true) this.clock.advance(this.latencyOf('Execution.start'));
    const execution = new Execution(name, this.clock.now(), options.limitMs ?? EXECUTION_LIMIT_MS);
    const enter = (): void => {
      if (execution.ended) throw new Error(`Execution "${name}" has ended; begin a new one`);
      this.stack.push(execution);
    };
    const leave = (): void => {
      const index = this.stack.lastIndexOf(execution);
      if (index >= 0) this.stack.splice(index, 1);
    };
    return {
      execution,
      run: async <T>(fn: () => T): Promise<Awaited<T>> => {
        enter();
        try {
          const result = await fn();
          this.assertAlive(execution);
          return result;
        } catch (error) {
          // A script that swallowed the error of its own death still died.
          if (execution.terminated) throw execution.terminatedBy;
          throw error;
        } finally {
          leave();
        }
      },
      end: () => {
        if (execution.ended) return;
        execution.ended = true;
        leave();
        for (const listener of this.endListeners) listener(execution);
      },
    };
  }

  /** Runs `fn` as a new execution that ends (releasing its locks) when `fn` settles. */
  async execution<T>(name: string, fn: () => T, options: ExecutionOptions = {}): Promise<Awaited<T>> {
    const handle = this.beginExecution(name, options);
    try {
      return await handle.run(fn);
    } finally {
      handle.end();
    }
  }

  /** Sets the realm whose Array, Object and Error build the values handed to the bundle. */
  setRealm(realm: RealmConstructors): void {
    this.realm = realm;
  }

  /** Copies host arrays and plain objects into the bundle's realm; other values pass through. */
  adopt<T>(value: T): T {
    if (this.realm.Array === Array) return value;
    return adoptValue(value, this.realm, new Map()) as T;
  }

  /** Creates an Apps Script service error: an Error named `Exception`, as V8 Apps Script throws. */
  exception(message: string): Error {
    const error = new this.realm.Error(message);
    error.name = 'Exception';
    return error;
  }

  /**
   * Creates an advanced-service error as Apps Script throws it: an Error named
   * GoogleJsonResponseException, message `API call to <method> failed with error: <text>` and a
   * `details` object `{code, message, errors: [{reason, domain, message}]}`.
   */
  jsonError(method: string, code: number, message: string, reason: string): Error {
    const error = new this.realm.Error(`API call to ${method} failed with error: ${message}`);
    error.name = 'GoogleJsonResponseException';
    const details: JsonErrorDetails = { code, message, errors: [{ reason, domain: 'global', message }] };
    Object.assign(error, { details: this.adopt(details) });
    return error;
  }

  private assertAlive(execution: Execution): void {
    if (execution.terminated) throw execution.terminatedBy;
    if (this.clock.now() - execution.startedAt > execution.limitMs) {
      execution.terminatedBy = this.exception('Exceeded maximum execution time');
      throw execution.terminatedBy;
    }
  }
}

function adoptValue(value: unknown, realm: RealmConstructors, seen: Map<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const copy = new realm.Array<unknown>();
    seen.set(value, copy);
    for (const item of value) copy.push(adoptValue(item, realm, seen));
    return copy;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy = new realm.Object() as Record<string, unknown>;
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) copy[key] = adoptValue(item, realm, seen);
  return copy;
}

/**
 * The methods `K` of a real Apps Script type with their parameter lists, for `implements`
 * clauses: a method name the real type lacks fails to compile. Return types are kept when they
 * are primitives or arrays of primitives. Object return types are loosened to `unknown`, because
 * an emulated method returns the emulated class, which implements only a subset of the real
 * interface. Overloaded methods are checked against their last overload.
 */
export type Subset<T, K extends keyof T> = {
  [P in K]: T[P] extends (...args: infer A) => infer R ? (...args: A) => Loose<R> : T[P];
};

type Loose<R> = R extends readonly (infer E)[]
  ? E extends object
    ? unknown
    : R
  : R extends object
    ? unknown
    : R;

/** Reports whether a value is a Date from any realm. */
export function isDate(value: unknown): value is Date {
  return Object.prototype.toString.call(value) === '[object Date]';
}

/** Converts a `Byte[]` from the script (signed or unsigned numbers) to a Uint8Array. */
export function bytesOf(values: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(Array.from(values, (byte) => byte & 0xff));
}

/** Converts bytes to the form Apps Script hands to scripts: an array of signed numbers (-128..127). */
export function signedBytes(bytes: Uint8Array): number[] {
  return Array.from(bytes, (byte) => (byte > 127 ? byte - 256 : byte));
}
