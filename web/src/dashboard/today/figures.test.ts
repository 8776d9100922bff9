import { describe, expect, it } from 'vitest';

import { percentChange, tomanOf } from './figures';

describe('percentChange', () => {
  it('is the whole percent from the period before', () => {
    expect(percentChange(150, 100)).toBe(50);
    expect(percentChange(50, 100)).toBe(-50);
    expect(percentChange(1, 3)).toBe(-67);
  });
  it('is null when there was nothing before', () => {
    expect(percentChange(10, 0)).toBeNull();
  });
});

describe('tomanOf', () => {
  it('drops the last Rial digit', () => {
    expect(tomanOf(1_234_567)).toBe(123_456);
  });
});
