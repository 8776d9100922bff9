import { describe, expect, it } from 'vitest';

import { parseAdjustment } from './adjust';

describe('an adjustment amount', () => {
  it('reads signed whole numbers in any digits; credit is typed in toman', () => {
    expect(parseAdjustment('POINTS', '۵۰')).toBe(50);
    expect(parseAdjustment('POINTS', '−20')).toBe(-20);
    expect(parseAdjustment('CREDIT', '12,500')).toBe(125_000);
    expect(parseAdjustment('CREDIT', '-۱۰۰')).toBe(-1000);
  });

  it('refuses nothing, zero, fractions and words', () => {
    for (const text of ['', '0', '1.5', 'ten', '--3']) {
      expect(parseAdjustment('POINTS', text)).toBeNull();
    }
  });
});
