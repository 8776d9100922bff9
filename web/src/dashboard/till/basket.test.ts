import { describe, expect, it } from 'vitest';

import { readBasket, readCredit } from './basket';

describe('readBasket', () => {
  it('reads toman in any digits as Rial lines and their total', () => {
    const basket = readBasket([
      { key: 1, group: 'books', amount: '۲۵۰٬۰۰۰' },
      { key: 2, group: 'stationery', amount: '12.5' },
    ]);
    expect(basket).toEqual({
      lines: [
        { productGroup: 'books', amountRial: 2_500_000 },
        { productGroup: 'stationery', amountRial: 125 },
      ],
      totalRial: 2_500_125,
    });
  });

  it('is null while a line is empty, zero or not an amount', () => {
    expect(readBasket([{ key: 1, group: 'books', amount: '' }])).toBeNull();
    expect(readBasket([{ key: 1, group: 'books', amount: '0' }])).toBeNull();
    expect(readBasket([{ key: 1, group: 'books', amount: '12a' }])).toBeNull();
    expect(readBasket([])).toBeNull();
  });
});

describe('readCredit', () => {
  it('reads empty as none and toman as Rial', () => {
    expect(readCredit(' ')).toBe(0);
    expect(readCredit('۱۰۰۰')).toBe(10_000);
    expect(readCredit('x')).toBeNull();
  });
});
