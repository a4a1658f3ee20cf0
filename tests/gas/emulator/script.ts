/**
 * The emulated ScriptApp: the project's installable time-driven triggers, their builder, and the
 * OAuth token the script's UrlFetchApp calls carry.
 */
import { randomBytes } from 'node:crypto';
import type { Runtime, Subset } from './runtime';

type ScriptAppApi = GoogleAppsScript.Script.ScriptApp;
type TriggerApi = GoogleAppsScript.Script.Trigger;
type TriggerBuilderApi = GoogleAppsScript.Script.TriggerBuilder;
type ClockTriggerBuilderApi = GoogleAppsScript.Script.ClockTriggerBuilder;

/** Apps Script allows 20 triggers per user per script. */
export const TRIGGER_LIMIT = 20;
const EVERY_MINUTES = [1, 5, 10, 15, 30];
const EVERY_HOURS = [1, 2, 4, 6, 8, 12];

function names<T extends string>(...values: T[]): Readonly<Record<T, T>> {
  return Object.freeze(Object.fromEntries(values.map((value) => [value, value])) as Record<T, T>);
}

export const EVENT_TYPE = names('CLOCK', 'ON_OPEN', 'ON_EDIT', 'ON_FORM_SUBMIT', 'ON_CHANGE', 'ON_EVENT_UPDATED');
export const TRIGGER_SOURCE = names('SPREADSHEETS', 'CLOCK', 'FORMS', 'DOCUMENTS', 'CALENDAR');
export const AUTH_MODE = names('NONE', 'CUSTOM_FUNCTION', 'LIMITED', 'FULL');
export const WEEK_DAY = names('MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY');

/** A time-driven trigger as stored, for tests. */
export interface TriggerRecord {
  id: string;
  handler: string;
  eventType: 'CLOCK';
  everyMinutes?: number;
  everyHours?: number;
  everyDays?: number;
  atHour?: number;
  nearMinute?: number;
  /** Epoch ms of a one-off trigger (`after` or `at`). */
  at?: number;
  timeZone?: string;
}

/** The project's triggers for the user the emulated project runs as. */
export class TriggerStore {
  readonly triggers: TriggerRecord[] = [];

  list(): TriggerRecord[] {
    return this.triggers.map((trigger) => ({ ...trigger }));
  }
}

export interface ScriptAppOptions {
  /** Add-on projects may not create time-driven triggers that run more often than hourly. */
  addOn: boolean;
  scriptId: string;
}

export class EmulatedScriptApp
  implements Subset<ScriptAppApi, 'getProjectTriggers' | 'newTrigger' | 'deleteTrigger' | 'getOAuthToken' | 'getScriptId'>
{
  readonly EventType = EVENT_TYPE;
  readonly TriggerSource = TRIGGER_SOURCE;
  readonly AuthMode = AUTH_MODE;
  readonly WeekDay = WEEK_DAY;

  constructor(
    private readonly rt: Runtime,
    private readonly store: TriggerStore,
    private readonly options: ScriptAppOptions,
    readonly oauthToken: string = `ya29.emulated-${randomBytes(16).toString('hex')}`,
  ) {}

  getProjectTriggers(): EmulatedTrigger[] {
    return this.rt.track('ScriptApp.getProjectTriggers', () =>
      this.store.triggers.map((trigger) => new EmulatedTrigger(this.rt, trigger)),
    );
  }

  newTrigger(functionName: string): EmulatedTriggerBuilder {
    return this.rt.track('ScriptApp.newTrigger', () => {
      if (typeof functionName !== 'string' || functionName === '') {
        throw this.rt.exception('Invalid argument: functionName');
      }
      return new EmulatedTriggerBuilder(this.rt, this.store, this.options, functionName);
    });
  }

  deleteTrigger(trigger: TriggerApi): void {
    this.rt.track('ScriptApp.deleteTrigger', () => {
      if (!(trigger instanceof EmulatedTrigger)) throw new Error('ScriptApp emulation: expected a Trigger from this emulator');
      const index = this.store.triggers.findIndex((candidate) => candidate.id === trigger.record.id);
      if (index < 0) throw this.rt.exception('Invalid argument: trigger');
      this.store.triggers.splice(index, 1);
    });
  }

  getOAuthToken(): string {
    return this.rt.track('ScriptApp.getOAuthToken', () => this.oauthToken);
  }

  getScriptId(): string {
    return this.rt.track('ScriptApp.getScriptId', () => this.options.scriptId);
  }
}

export class EmulatedTriggerBuilder implements Subset<TriggerBuilderApi, 'timeBased'> {
  constructor(
    private readonly rt: Runtime,
    private readonly store: TriggerStore,
    private readonly options: ScriptAppOptions,
    private readonly handler: string,
  ) {}

  timeBased(): EmulatedClockTriggerBuilder {
    return this.rt.track(
      'TriggerBuilder.timeBased',
      () => new EmulatedClockTriggerBuilder(this.rt, this.store, this.options, this.handler),
    );
  }
}

export class EmulatedClockTriggerBuilder
  implements
    Subset<
      ClockTriggerBuilderApi,
      'everyMinutes' | 'everyHours' | 'everyDays' | 'atHour' | 'nearMinute' | 'after' | 'at' | 'inTimezone' | 'create'
    >
{
  private readonly schedule: Omit<TriggerRecord, 'id' | 'handler' | 'eventType'> = {};

  constructor(
    private readonly rt: Runtime,
    private readonly store: TriggerStore,
    private readonly options: ScriptAppOptions,
    private readonly handler: string,
  ) {}

  everyMinutes(n: number): EmulatedClockTriggerBuilder {
    return this.rt.track('ClockTriggerBuilder.everyMinutes', () => {
      if (!EVERY_MINUTES.includes(n)) {
        throw this.rt.exception(`Invalid argument: everyMinutes(${String(n)}); the minutes must be 1, 5, 10, 15 or 30.`);
      }
      if (this.options.addOn) {
        throw this.rt.exception('Add-ons can only create time-based triggers that run at most once per hour.');
      }
      this.schedule.everyMinutes = n;
      return this;
    });
  }

  everyHours(n: number): EmulatedClockTriggerBuilder {
    return this.rt.track('ClockTriggerBuilder.everyHours', () => {
      if (!EVERY_HOURS.includes(n)) {
        throw this.rt.exception(`Invalid argument: everyHours(${String(n)}); the hours must be 1, 2, 4, 6, 8 or 12.`);
      }
      this.schedule.everyHours = n;
      return this;
    });
  }

  everyDays(n: number): EmulatedClockTriggerBuilder {
    return this.rt.track('ClockTriggerBuilder.everyDays', () => {
      if (!Number.isInteger(n) || n < 1) throw this.rt.exception(`Invalid argument: everyDays(${String(n)})`);
      this.schedule.everyDays = n;
      return this;
    });
  }

  atHour(hour: number): EmulatedClockTriggerBuilder {
    return this.rt.track('ClockTriggerBuilder.atHour', () => {
      if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw this.rt.exception(`Invalid argument: atHour(${String(hour)})`);
      this.schedule.atHour = hour;
      return this;
    });
  }

  nearMinute(minute: number): EmulatedClockTriggerBuilder {
    return this.rt.track('ClockTriggerBuilder.nearMinute', () => {
      if (!Number.isInteger(minute) || minute < 0 || minute > 59) {
        throw this.rt.exception(`Invalid argument: nearMinute(${String(minute)})`);
      }
      this.schedule.nearMinute = minute;
      return this;
    });
  }

  after(durationMilliseconds: number): EmulatedClockTriggerBuilder {
    return this.rt.track('ClockTriggerBuilder.after', () => {
      this.schedule.at = this.rt.clock.now() + durationMilliseconds;
      return this;
    });
  }

  at(date: GoogleAppsScript.Base.Date): EmulatedClockTriggerBuilder {
    return this.rt.track('ClockTriggerBuilder.at', () => {
      this.schedule.at = (date as unknown as Date).getTime();
      return this;
    });
  }

  inTimezone(timezone: string): EmulatedClockTriggerBuilder {
    return this.rt.track('ClockTriggerBuilder.inTimezone', () => {
      this.schedule.timeZone = String(timezone);
      return this;
    });
  }

  create(): EmulatedTrigger {
    return this.rt.track('ClockTriggerBuilder.create', () => {
      const { everyMinutes, everyHours, everyDays, at } = this.schedule;
      if (everyMinutes === undefined && everyHours === undefined && everyDays === undefined && at === undefined) {
        throw this.rt.exception('The trigger has no schedule: call everyMinutes, everyHours, everyDays, after or at first.');
      }
      if (this.store.triggers.length >= TRIGGER_LIMIT) {
        throw this.rt.exception('This script has too many triggers. Triggers must be deleted from the script before more can be added.');
      }
      const record: TriggerRecord = {
        id: BigInt(`0x${randomBytes(8).toString('hex')}`).toString().slice(0, 19),
        handler: this.handler,
        eventType: 'CLOCK',
        ...this.schedule,
      };
      this.store.triggers.push(record);
      return new EmulatedTrigger(this.rt, record);
    });
  }
}

export class EmulatedTrigger
  implements Subset<TriggerApi, 'getHandlerFunction' | 'getUniqueId' | 'getEventType' | 'getTriggerSource' | 'getTriggerSourceId'>
{
  constructor(
    private readonly rt: Runtime,
    readonly record: TriggerRecord,
  ) {}

  getHandlerFunction(): string {
    return this.rt.track('Trigger.getHandlerFunction', () => this.record.handler);
  }

  getUniqueId(): string {
    return this.rt.track('Trigger.getUniqueId', () => this.record.id);
  }

  getEventType(): GoogleAppsScript.Script.EventType {
    return this.rt.track('Trigger.getEventType', () => EVENT_TYPE.CLOCK as unknown as GoogleAppsScript.Script.EventType);
  }

  getTriggerSource(): GoogleAppsScript.Script.TriggerSource {
    return this.rt.track(
      'Trigger.getTriggerSource',
      () => TRIGGER_SOURCE.CLOCK as unknown as GoogleAppsScript.Script.TriggerSource,
    );
  }

  /** Null for a time-driven trigger. */
  getTriggerSourceId(): string {
    return this.rt.track('Trigger.getTriggerSourceId', () => null as unknown as string);
  }
}
