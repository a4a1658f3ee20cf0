/** The emulated Session service: who runs the script and in which time zone. */
import type { Runtime, Subset } from './runtime';

type SessionApi = GoogleAppsScript.Base.Session;
type UserApi = GoogleAppsScript.Base.User;

export class EmulatedUser implements Subset<UserApi, 'getEmail'> {
  constructor(
    private readonly rt: Runtime,
    private readonly email: string,
  ) {}

  getEmail(): string {
    return this.rt.track('User.getEmail', () => this.email);
  }
}

export interface SessionOptions {
  /** The account the script runs as (the trigger owner, or the add-on user). */
  effectiveUser: string;
  /** The user at the keyboard; '' when Apps Script does not reveal them. */
  activeUser: string;
  timeZone: string;
  locale: string;
}

export class EmulatedSession
  implements
    Subset<
      SessionApi,
      'getActiveUser' | 'getEffectiveUser' | 'getScriptTimeZone' | 'getActiveUserLocale' | 'getTemporaryActiveUserKey'
    >
{
  constructor(
    private readonly rt: Runtime,
    private readonly options: SessionOptions,
  ) {}

  getActiveUser(): EmulatedUser {
    return this.rt.track('Session.getActiveUser', () => new EmulatedUser(this.rt, this.options.activeUser));
  }

  getEffectiveUser(): EmulatedUser {
    return this.rt.track('Session.getEffectiveUser', () => new EmulatedUser(this.rt, this.options.effectiveUser));
  }

  getScriptTimeZone(): string {
    return this.rt.track('Session.getScriptTimeZone', () => this.options.timeZone);
  }

  getActiveUserLocale(): string {
    return this.rt.track('Session.getActiveUserLocale', () => this.options.locale);
  }

  getTemporaryActiveUserKey(): string {
    return this.rt.track('Session.getTemporaryActiveUserKey', () =>
      Buffer.from(`temporary-key:${this.options.activeUser}`).toString('base64url'),
    );
  }
}
