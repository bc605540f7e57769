// ISO 8601 dates as the API exchanges them.

const DATE_TIME_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))$/;
const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds since the epoch of an ISO 8601 date-time with an offset, or undefined. */
export function parseDateTimeWithOffset(text: string): number | undefined {
  const match = DATE_TIME_WITH_OFFSET.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s = '0', , oh = '0', om = '0'] = match;
  if (!isCalendarDate(+y, +mo, +d) || +h > 23 || +mi > 59 || +s > 59 || +oh > 23 || +om > 59) return undefined;
  const millis = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(millis) ? undefined : millis;
}

/** True for `YYYY-MM-DD` naming a real day. */
export function isIsoDate(text: string): boolean {
  const match = CALENDAR_DATE.exec(text);
  return match !== null && isCalendarDate(+match[1], +match[2], +match[3]);
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
