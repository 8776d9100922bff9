import { describe, expect, it } from 'vitest';

import {
  gregorianOf,
  isRealDay,
  jalaliInTehran,
  momentText,
  monthGrid,
  parseClock,
  shiftMonth,
  tehranInstant,
} from './jalaliMoment';

describe('the Jalali date-time picker arithmetic', () => {
  it('converts Jalali days to Gregorian and back', () => {
    expect(gregorianOf({ year: 1405, month: 9, day: 14 })).toBe('2026-12-05');
    expect(gregorianOf({ year: 1405, month: 1, day: 1 })).toBe('2026-03-21');
    expect(gregorianOf({ year: 1403, month: 12, day: 30 })).toBe('2025-03-20'); // a leap year
    expect(isRealDay({ year: 1403, month: 12, day: 30 })).toBe(true);
    expect(isRealDay({ year: 1404, month: 12, day: 30 })).toBe(false);
    expect(isRealDay({ year: 1405, month: 7, day: 31 })).toBe(false); // autumn months have 30
  });

  it('writes what the hub reads and gives the Tehran instant it means', () => {
    const moment = { year: 1405, month: 9, day: 14, hour: 10, minute: 0 };
    expect(momentText(moment)).toBe('1405/09/14 10:00');
    expect(tehranInstant(moment).toISOString()).toBe('2026-12-05T06:30:00.000Z');
    // Before 2022 Iran kept summer time: +04:30 in Tir 1400.
    const summer = { year: 1400, month: 4, day: 10, hour: 12, minute: 0 };
    expect(tehranInstant(summer).toISOString()).toBe('2021-07-01T07:30:00.000Z');
    // Midnight in Tehran is the evening before in UTC, and comes back to the same day.
    const midnight = { year: 1405, month: 1, day: 1, hour: 0, minute: 0 };
    expect(tehranInstant(midnight).toISOString()).toBe('2026-03-20T20:30:00.000Z');
    expect(jalaliInTehran(tehranInstant(midnight))).toEqual(midnight);
    expect(jalaliInTehran(new Date('2026-12-05T21:00:00Z'))).toEqual({
      year: 1405,
      month: 9,
      day: 15,
      hour: 0,
      minute: 30,
    });
  });

  it('reads a typed time in any digits and refuses an impossible one', () => {
    expect(parseClock('۰۹:۰۵')).toEqual({ hour: 9, minute: 5 });
    expect(parseClock('23:59')).toEqual({ hour: 23, minute: 59 });
    expect(parseClock('24:00')).toBeNull();
    expect(parseClock('9')).toBeNull();
  });

  it('lays a month out in weeks from Saturday and pages across years', () => {
    // 1 Azar 1405 is a Sunday (22 November 2026): one blank Saturday before it.
    const azar = monthGrid(1405, 9);
    expect(azar[0]?.slice(0, 2)).toEqual([null, 1]);
    expect(azar.flat().filter((d) => d !== null)).toHaveLength(30);
    // 1 Dey 1405 is a Tuesday (22 December 2026): three blanks before it.
    expect(monthGrid(1405, 10)[0]?.slice(0, 4)).toEqual([null, null, null, 1]);
    expect(shiftMonth(1405, 12, 1)).toEqual({ year: 1406, month: 1 });
    expect(shiftMonth(1405, 1, -1)).toEqual({ year: 1404, month: 12 });
  });
});
