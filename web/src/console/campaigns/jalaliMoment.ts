/**
 * The arithmetic behind the console's Jalali date-time picker: days of the Jalali calendar
 * (date-fns-jalali), a time of day in Tehran, the text the hub reads
 * (`1405/09/14 10:00`, Tehran time) and the instant it means. Days are abstract calendar
 * days (held at local noon, so no time zone or daylight-saving change moves them); only
 * `tehranInstant` and `jalaliInTehran` deal in instants, always in Tehran, whatever the
 * browser's own zone.
 */
import { getDate, getDay, getDaysInMonth, getMonth, getYear, newDate } from 'date-fns-jalali';

import { normalizeDigits } from '../../shared/format';

export interface JalaliDay {
  year: number;
  month: number; // 1-12
  day: number;
}

export interface Moment extends JalaliDay {
  hour: number;
  minute: number;
}

const TEHRAN = 'Asia/Tehran';

function noon({ year, month, day }: JalaliDay): Date {
  return newDate(year, month - 1, day, 12);
}

function dayOf(date: Date): JalaliDay {
  return { year: getYear(date), month: getMonth(date) + 1, day: getDate(date) };
}

/** Whether the day exists (۱۴۰۵/۱۲/۳۰ does only in a leap year). */
export function isRealDay(day: JalaliDay): boolean {
  return (
    day.month >= 1 && day.month <= 12 && day.day >= 1 && day.day <= daysInMonth(day.year, day.month)
  );
}

export function daysInMonth(year: number, month: number): number {
  return getDaysInMonth(newDate(year, month - 1, 1, 12));
}

/** The month before or after, as the picker pages. */
export function shiftMonth(year: number, month: number, by: number): { year: number; month: number } {
  const index = year * 12 + (month - 1) + by;
  return { year: Math.floor(index / 12), month: (index % 12) + 1 };
}

/**
 * The month as weeks of 7 cells, Saturday first as Iranian calendars are; null cells
 * before the 1st and after the last day.
 */
export function monthGrid(year: number, month: number): (number | null)[][] {
  const lead = (getDay(newDate(year, month - 1, 1, 12)) + 1) % 7; // Saturday → 0
  const cells: (number | null)[] = Array.from({ length: lead }, () => null);
  for (let day = 1; day <= daysInMonth(year, month); day += 1) cells.push(day);
  while (cells.length % 7) cells.push(null);
  const weeks: (number | null)[][] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

/** The Gregorian date of a Jalali day: 1405/09/14 → 2026-12-05. */
export function gregorianOf(day: JalaliDay): string {
  const date = noon(day);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** What the hub's `parse_moment` reads: `1405/09/14 10:00`, meant in Tehran. */
export function momentText(moment: Moment): string {
  return `${moment.year}/${pad2(moment.month)}/${pad2(moment.day)} ${pad2(moment.hour)}:${pad2(moment.minute)}`;
}

/** A time of day as typed (`9:05`, `۰۹:۰۵`), or null. */
export function parseClock(text: string): { hour: number; minute: number } | null {
  const match = /^\s*([0-9]{1,2}):([0-9]{2})\s*$/.exec(normalizeDigits(text));
  if (!match) return null;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  return hour <= 23 && minute <= 59 ? { hour, minute } : null;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

function tehranFields(at: Date): Fields {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: TEHRAN,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(at);
  const field = (type: keyof Fields) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: field('year'),
    month: field('month'),
    day: field('day'),
    hour: field('hour'),
    minute: field('minute'),
  };
}

/** The instant a Jalali day and time in Tehran is (Iran's past summer time included). */
export function tehranInstant(moment: Moment): Date {
  const [year, month, day] = gregorianOf(moment).split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(year, month - 1, day, moment.hour, moment.minute);
  let guess = wall - 210 * 60_000; // +03:30, corrected below where the rules differed
  for (let i = 0; i < 2; i += 1) {
    const f = tehranFields(new Date(guess));
    const shown = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute);
    guess += wall - shown;
  }
  return new Date(guess);
}

/** The Jalali day and time in Tehran of an instant (a default a few days ahead, say). */
export function jalaliInTehran(at: Date): Moment {
  const f = tehranFields(at);
  const day = dayOf(new Date(f.year, f.month - 1, f.day, 12));
  return { ...day, hour: f.hour, minute: f.minute };
}
