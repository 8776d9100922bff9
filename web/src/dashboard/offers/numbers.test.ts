import { describe, expect, it } from 'vitest';

import { everyDay, formatBp, formatDecimal, formatDecimalToman, formatRate, tehranToday } from './numbers';

describe('the offer pages’ numbers', () => {
  it('shows basis points as percents', () => {
    expect(formatBp(1_250, 'en')).toBe('12.5%');
    expect(formatBp(3_000, 'fa')).toBe('۳۰٪');
    expect(formatBp(-500, 'en')).toBe('-5%');
  });

  it('shows the report’s decimals', () => {
    expect(formatDecimal('1.50', 'en')).toBe('1.5');
    expect(formatDecimalToman('1234567.80', 'en')).toBe('123,457');
    expect(formatRate('0.2500', 'en')).toBe('25%');
    expect(formatDecimal('n/a', 'en')).toBe('n/a');
  });

  it('counts days as Tehran does', () => {
    // 21:00 UTC on 5 December is 00:30 on 6 December in Tehran
    expect(tehranToday(new Date(Date.UTC(2026, 11, 5, 21, 0)))).toBe('2026-12-06');
  });

  it('fills the days without a use', () => {
    const filled = everyDay([{ day: '2026-12-05', uses: 2, givenRial: 70_000, bonusPoints: 0 }], '2026-12-06', 3);
    expect(filled.map((d) => [d.day, d.uses])).toEqual([
      ['2026-12-04', 0],
      ['2026-12-05', 2],
      ['2026-12-06', 0],
    ]);
  });
});
