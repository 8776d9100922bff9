/**
 * Small pieces every page of the shopper app shares: a shop's name in the page's language,
 * a shop's category as words, and a number of points isolated in its text.
 */
import { Group, Loader, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { formatInteger } from '../shared/format';
import { Bdi } from '../shared/ui/Bdi';

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

/** A number of points with its unit: «۱٬۲۰۰ امتیاز». */
export function PointsAmount({ points }: { points: number }) {
  const { t, i18n } = useTranslation();
  return (
    <span>
      <Bdi>{formatInteger(points, i18n.language)}</Bdi> {t('money.points')}
    </span>
  );
}

/** The page's language now. */
export function useLang(): string {
  const { i18n } = useTranslation();
  return i18n.language;
}

/** A query's failure (no answer, or an error) as a sentence in a status line. */
export function LoadFailed() {
  const { t } = useTranslation();
  return (
    <Text c="red.9" role="alert">
      {t('shopper.loadFailed')}
    </Text>
  );
}

/** While a page's first answer is on its way. */
export function Loading() {
  const { t } = useTranslation();
  return (
    <Group gap="xs">
      <Loader size="sm" aria-hidden />
      <Text size="sm">{t('shopper.loading')}</Text>
    </Group>
  );
}
