import { describe, expect, it } from 'vitest';

import { spendableAt, type WalletPart } from './spendable';

const wallet: WalletPart = {
  pooledPoints: 1_200,
  pooledValueRial: 1_200_000,
  credit: [
    { availableRial: 500_000, everywhere: true, spendableAt: [], acceptedCategory: null },
    { availableRial: 300_000, everywhere: false, spendableAt: [{ slug: 'kafsh-arya' }] },
    { availableRial: 70_000, everywhere: false, spendableAt: [], acceptedCategory: 'books' },
  ],
};
const shop = (slug: string, category: string, pooled = true, general = true) => ({
  slug,
  category,
  acceptsPooledPoints: pooled,
  acceptsGeneralCredit: general,
});

describe('what a shop takes of her value', () => {
  it('counts pooled points, general credit and the credit naming the shop', () => {
    expect(spendableAt(wallet, shop('kafsh-arya', 'shoes'))).toEqual({
      points: 1_200,
      pointsRial: 1_200_000,
      creditRial: 800_000,
    });
  });
  it('counts credit for the shop’s category, not another shop’s', () => {
    expect(spendableAt(wallet, shop('ketab-sara', 'books')).creditRial).toBe(570_000);
  });
  it('leaves out what the shop does not accept', () => {
    expect(spendableAt(wallet, shop('cafe-nur', 'cafe', false, false))).toEqual({
      points: 0,
      pointsRial: 0,
      creditRial: 0,
    });
  });
});
