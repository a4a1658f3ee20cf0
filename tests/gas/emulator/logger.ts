/**
 * Logger and console for the emulated script, both writing into one list that tests read.
 * Logger is an Apps Script service and its calls are counted; console is part of the V8 runtime
 * and is not.
 */
import { format } from 'node:util';
import type { Runtime, Subset } from './runtime';

type LoggerApi = GoogleAppsScript.Base.Logger;

export type LogLevel = 'log' | 'info' | 'warn' | 'error';

export interface LogEntry {
  source: 'Logger' | 'console';
  level: LogLevel;
  message: string;
  /** Emulated epoch ms. */
  time: number;
}

export class LogBook {
  readonly entries: LogEntry[] = [];

  /** Messages only, in order, optionally of one level. */
  messages(level?: LogLevel): string[] {
    return this.entries.filter((entry) => level === undefined || entry.level === level).map((entry) => entry.message);
  }

  clear(): void {
    this.entries.length = 0;
  }
}

export class EmulatedLogger implements Subset<LoggerApi, 'log' | 'getLog' | 'clear'> {
  constructor(
    private readonly rt: Runtime,
    private readonly book: LogBook,
  ) {}

  /** log(data) or log(format, ...values) with %s-style placeholders. */
  log(data: unknown, ...values: unknown[]): EmulatedLogger {
    return this.rt.track('Logger.log', () => {
      const message = values.length === 0 ? String(data) : format(String(data), ...values);
      this.book.entries.push({ source: 'Logger', level: 'info', message, time: this.rt.clock.now() });
      return this;
    });
  }

  getLog(): string {
    return this.rt.track('Logger.getLog', () =>
      this.book.entries
        .filter((entry) => entry.source === 'Logger')
        .map((entry) => `${new Date(entry.time).toISOString()} INFO: ${entry.message}`)
        .join('\n'),
    );
  }

  clear(): void {
    this.rt.track('Logger.clear', () => {
      const kept = this.book.entries.filter((entry) => entry.source !== 'Logger');
      this.book.entries.length = 0;
      this.book.entries.push(...kept);
    });
  }
}

/** Creates the script's console object: log, info, warn, error, time and timeEnd. */
export function createConsole(rt: Runtime, book: LogBook): Console {
  const timers = new Map<string, number>();
  const write =
    (level: LogLevel) =>
    (...args: unknown[]): void => {
      book.entries.push({ source: 'console', level, message: format(...args), time: rt.clock.now() });
    };
  const scriptConsole = {
    log: write('log'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    time: (label: string) => {
      timers.set(label, rt.clock.now());
    },
    timeEnd: (label: string) => {
      const start = timers.get(label);
      if (start === undefined) return;
      timers.delete(label);
      write('info')(`${label}: ${rt.clock.now() - start}ms`);
    },
  };
  return scriptConsole as unknown as Console;
}
