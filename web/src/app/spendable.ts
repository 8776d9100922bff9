/**
 * What of her network value a shop takes, as the pay page shows it before she makes a
 * payment code: pooled points where the shop accepts them, and the credit spendable
 * there — general credit where the shop takes it, targeted credit where it names the
 * shop or the shop's category.
 */

export interface WalletPart {
  pooledPoints: number;
  pooledValueRial: number;
  credit: readonly {
    availableRial: number;
    everywhere: boolean;
    spendableAt: readonly { slug: string }[];
    acceptedCategory?: string | null | undefined;
  }[];
}

export interface ShopPart {
  slug: string;
  category: string;
  acceptsPooledPoints: boolean;
  acceptsGeneralCredit: boolean;
}

export interface Spendable {
  points: number;
  pointsRial: number;
  creditRial: number;
}

export function spendableAt(wallet: WalletPart, shop: ShopPart): Spendable {
  const pooled = shop.acceptsPooledPoints;
  let creditRial = 0;
  for (const credit of wallet.credit) {
    const here = credit.everywhere
      ? shop.acceptsGeneralCredit
      : credit.spendableAt.some((ref) => ref.slug === shop.slug) ||
        (credit.acceptedCategory != null && credit.acceptedCategory === shop.category);
    if (here) creditRial += credit.availableRial;
  }
  return {
    points: pooled ? wallet.pooledPoints : 0,
    pointsRial: pooled ? wallet.pooledValueRial : 0,
    creditRial,
  };
}
