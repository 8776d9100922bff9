/**
 * Shops as every face names them: a shop's name in the page's language, and the mall
 * registry's categories as words (the hub's registry.CATEGORIES).
 */
import { useTranslation } from 'react-i18next';

export interface Named {
  slug: string;
  nameFa: string;
  nameEn: string;
}

/** The shop's name in the language (the other language's, or its slug, when empty). */
export function shopName(shop: Named, lang: string): string {
  const [first, second] = lang === 'fa' ? [shop.nameFa, shop.nameEn] : [shop.nameEn, shop.nameFa];
  return first.trim() || second.trim() || shop.slug;
}

/** The registry's shop categories (RegisterShopInput.category). */
export const CATEGORIES = [
  'fashion',
  'shoes',
  'books',
  'food',
  'cafe',
  'electronics',
  'jewellery',
  'beauty',
  'home',
  'kids',
  'sports',
  'services',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

export function isCategory(value: string | null | undefined): value is Category {
  return (CATEGORIES as readonly (string | null | undefined)[]).includes(value);
}

/** A category as words; one the app does not know reads as "other". */
export function useCategoryName(): (category: string | null | undefined) => string {
  const { t } = useTranslation();
  return (category) => t(`shopper.category.${isCategory(category) ? category : 'other'}`);
}
