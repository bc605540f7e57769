import { isIsoDate, parseDateTimeWithOffset } from '../../lib/dates';

describe('parseDateTimeWithOffset', () => {
  test.each([
    ['UTC with Z', '2024-01-01T10:00:00Z', '2024-01-01T10:00:00.000Z'],
    ['a positive offset with a colon', '2024-01-01T10:00:00+05:30', '2024-01-01T04:30:00.000Z'],
    ['a positive offset without a colon', '2024-01-01T10:00:00+0530', '2024-01-01T04:30:00.000Z'],
    ['a negative offset', '2024-01-01T10:00:00-08:00', '2024-01-01T18:00:00.000Z'],
    ['an offset that changes the day', '2024-01-01T01:00:00+05:30', '2023-12-31T19:30:00.000Z'],
    ['minutes without seconds', '2024-01-01T10:00Z', '2024-01-01T10:00:00.000Z'],
    ['milliseconds', '2024-01-01T10:00:00.250+01:00', '2024-01-01T09:00:00.250Z'],
    ['nanoseconds, kept to the millisecond', '2024-01-01T10:00:00.123456789Z', '2024-01-01T10:00:00.123Z'],
    ['29 February of a leap year', '2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['the last second of a day', '2024-12-31T23:59:59Z', '2024-12-31T23:59:59.000Z'],
  ])('reads a date-time with %s', (_label, text, iso) => {
    expect(parseDateTimeWithOffset(text)).toBe(Date.parse(iso));
  });

  test('gives the same instant for one moment written with different offsets', () => {
    expect(parseDateTimeWithOffset('2024-06-01T17:30:00+05:30')).toBe(parseDateTimeWithOffset('2024-06-01T12:00:00Z'));
  });

  test.each([
    ['no offset', '2024-01-01T10:00:00'],
    ['a date only', '2024-01-01'],
    ['a space instead of T', '2024-01-01 10:00:00Z'],
    ['an hour-only offset', '2024-01-01T10:00:00+05'],
    ['30 February', '2024-02-30T00:00:00Z'],
    ['29 February of a common year', '2023-02-29T00:00:00Z'],
    ['month 13', '2024-13-01T00:00:00Z'],
    ['day 0', '2024-01-00T00:00:00Z'],
    ['hour 24', '2024-01-01T24:00:00Z'],
    ['minute 60', '2024-01-01T10:60:00Z'],
    ['second 60', '2024-01-01T10:00:60Z'],
    ['an offset of 24 hours', '2024-01-01T10:00:00+24:00'],
    ['an offset with 60 minutes', '2024-01-01T10:00:00+05:60'],
    ['text around the date', 'on 2024-01-01T10:00:00Z'],
    ['an empty string', ''],
    ['a non-date', 'yesterday'],
  ])('refuses %s', (_label, text) => {
    expect(parseDateTimeWithOffset(text)).toBeUndefined();
  });
});

describe('isIsoDate', () => {
  test.each(['2024-01-01', '2024-02-29', '2000-02-29', '1999-12-31'])('accepts the calendar day %s', (text) => {
    expect(isIsoDate(text)).toBe(true);
  });

  test.each([
    ['a day that does not exist', '2023-02-29'],
    ['1900, which is not a leap year', '1900-02-29'],
    ['31 April', '2024-04-31'],
    ['month 0', '2024-00-10'],
    ['day 0', '2024-01-00'],
    ['a date-time', '2024-01-01T00:00:00Z'],
    ['day first', '01-01-2024'],
    ['slashes', '2024/01/01'],
    ['single-digit month and day', '2024-1-1'],
    ['an empty string', ''],
  ])('refuses %s', (_label, text) => {
    expect(isIsoDate(text)).toBe(false);
  });
});
