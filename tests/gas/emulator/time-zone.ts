/**
 * Wall-clock times in IANA time zones through Intl, and Java SimpleDateFormat patterns (the
 * syntax of Apps Script's `Utilities.formatDate`), for the emulated Utilities and Sheets.
 */

export interface ZonedParts {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** 0 = Sunday */
  weekday: number;
  /** Minutes east of UTC at that instant. */
  offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timeZone);
  if (cached === undefined) {
    cached = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, cached);
  }
  return cached;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Throws a RangeError for a time zone Intl does not know. */
export function zonedParts(ms: number, timeZone: string): ZonedParts {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(ms)).map((part) => [part.type, part.value]));
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  const hour = Number(parts.hour);
  const minute = Number(parts.minute);
  const second = Number(parts.second);
  const millisecond = ((ms % 1000) + 1000) % 1000;
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    millisecond,
    weekday: WEEKDAYS.indexOf(String(parts.weekday)),
    offsetMinutes: Math.round((asUtc - ms) / 60000),
  };
}

/** Epoch ms of a wall-clock time in `timeZone`. */
export function fromZoned(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  const guess = Date.UTC(year, month - 1, day, hour, minute, second);
  const first = guess - zonedParts(guess, timeZone).offsetMinutes * 60000;
  // A second pass settles times near a daylight-saving change.
  return guess - zonedParts(first, timeZone).offsetMinutes * 60000;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function offsetText(minutes: number, colon: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const absolute = Math.abs(minutes);
  return `${sign}${pad(Math.floor(absolute / 60), 2)}${colon ? ':' : ''}${pad(absolute % 60, 2)}`;
}

function field(letter: string, count: number, parts: ZonedParts): string {
  switch (letter) {
    case 'y':
      return count === 2 ? pad(parts.year % 100, 2) : pad(parts.year, count);
    case 'M':
      if (count >= 4) return MONTHS[parts.month - 1]!;
      if (count === 3) return MONTHS[parts.month - 1]!.slice(0, 3);
      return pad(parts.month, count);
    case 'd':
      return pad(parts.day, count);
    case 'H':
      return pad(parts.hour, count);
    case 'h':
      return pad(parts.hour % 12 === 0 ? 12 : parts.hour % 12, count);
    case 'm':
      return pad(parts.minute, count);
    case 's':
      return pad(parts.second, count);
    case 'S':
      return pad(parts.millisecond, 3).slice(0, Math.max(count, 3)).padEnd(count, '0');
    case 'E':
      return count >= 4 ? DAYS[parts.weekday]! : DAYS[parts.weekday]!.slice(0, 3);
    case 'u':
      return String(parts.weekday === 0 ? 7 : parts.weekday);
    case 'a':
      return parts.hour < 12 ? 'AM' : 'PM';
    case 'Z':
      return offsetText(parts.offsetMinutes, false);
    case 'X':
      if (parts.offsetMinutes === 0) return 'Z';
      return count === 1 ? offsetText(parts.offsetMinutes, false).slice(0, 3) : offsetText(parts.offsetMinutes, count >= 3);
    case 'z':
      return parts.offsetMinutes === 0 ? 'UTC' : `GMT${offsetText(parts.offsetMinutes, true)}`;
    default:
      throw new Error(`Utilities.formatDate emulation: pattern letter "${letter}" is not supported`);
  }
}

/** Formats like Java's SimpleDateFormat: letters y M d H h m s S E u a Z X z, quotes for literals. */
export function formatPattern(ms: number, timeZone: string, pattern: string): string {
  const parts = zonedParts(ms, timeZone);
  let out = '';
  for (let index = 0; index < pattern.length; ) {
    const char = pattern[index]!;
    if (char === "'") {
      const close = pattern.indexOf("'", index + 1);
      if (close === index + 1) {
        out += "'";
        index += 2;
        continue;
      }
      const end = close < 0 ? pattern.length : close;
      out += pattern.slice(index + 1, end);
      index = end + 1;
      continue;
    }
    if (/[A-Za-z]/.test(char)) {
      let count = 1;
      while (pattern[index + count] === char) count++;
      out += field(char, count, parts);
      index += count;
      continue;
    }
    out += char;
    index++;
  }
  return out;
}
