/**
 * Dates on the Jalali (Persian) calendar, in Tehran time as the servers count days.
 * `Intl` only formats; reading a typed date and date arithmetic use date-fns-jalali.
 */
import { addDays as jalaliAddDays, isValid, newDate } from 'date-fns-jalali';

import { normalizeDigits } from './digits';

export const TEHRAN = 'Asia/Tehran';

type DateInput = Date | string | number;

function asDate(value: DateInput): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a date: ${String(value)}`);
  return date;
}

function calendarLocale(lang: string): string {
  return lang === 'fa' ? 'fa-IR-u-ca-persian' : 'en-GB-u-ca-persian';
}

/** A Jalali date: fa «۱۳ آذر ۱۴۰۵», en "13 Azar 1405 AP". */
export function formatJalaliDate(
  value: DateInput,
  lang: string,
  style: 'short' | 'medium' | 'long' | 'full' = 'long',
): string {
  const format = new Intl.DateTimeFormat(calendarLocale(lang), { dateStyle: style, timeZone: TEHRAN });
  return format.format(asDate(value));
}

/** A Jalali date and the time of day in Tehran: fa «۱۴۰۵/۹/۱۳, ۰۷:۰۵». */
export function formatJalaliDateTime(value: DateInput, lang: string): string {
  const format = new Intl.DateTimeFormat(calendarLocale(lang), {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: TEHRAN,
  });
  return format.format(asDate(value));
}

/**
 * A Jalali date as typed ("۱۴۰۵/۰۹/۱۳", "1405-9-13", any digits) as the local midnight
 * of that day, or null when it is no real day (۱۴۰۵/۱۲/۳۱ in a common year, say).
 */
export function parseJalaliDate(text: string): Date | null {
  const match = /^\s*([0-9]{4})\s*[/\-.]\s*([0-9]{1,2})\s*[/\-.]\s*([0-9]{1,2})\s*$/.exec(
    normalizeDigits(text),
  );
  if (!match) return null;
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const date = newDate(year, month - 1, day);
  // newDate rolls an impossible day into the next month: such a day was not typed.
  const roundTrip = new Intl.DateTimeFormat('en-u-ca-persian-nu-latn', {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(date);
  const part = (type: string) => Number(roundTrip.find((p) => p.type === type)?.value);
  if (!isValid(date) || part('month') !== month || part('day') !== day) return null;
  return date;
}

/** A day some days later (or earlier, negative): calendar days, not 24-hour steps. */
export function addDays(value: Date, days: number): Date {
  return jalaliAddDays(value, days);
}
