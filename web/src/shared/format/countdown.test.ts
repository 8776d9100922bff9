import { describe, expect, it } from 'vitest';

import { formatCountdown, secondsLeft } from './index';

describe('countdown', () => {
  it('counts whole seconds left, rounding up, never below zero', () => {
    const now = Date.parse('2026-12-05T10:00:00Z');
    expect(secondsLeft('2026-12-05T10:02:00Z', now)).toBe(120);
    expect(secondsLeft('2026-12-05T10:00:00.300Z', now)).toBe(1);
    expect(secondsLeft('2026-12-05T09:59:00Z', now)).toBe(0);
    expect(secondsLeft(new Date(now + 5_000), new Date(now))).toBe(5);
    expect(secondsLeft('not a date', now)).toBe(0);
  });
  it('reads as a clock in the language', () => {
    expect(formatCountdown(65, 'en')).toBe('1:05');
    expect(formatCountdown(65, 'fa')).toBe('۱:۰۵');
    expect(formatCountdown(0, 'en')).toBe('0:00');
    expect(formatCountdown(3725, 'en')).toBe('62:05');
    expect(formatCountdown(-3, 'en')).toBe('0:00');
  });
});
