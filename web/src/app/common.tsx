/**
 * Small pieces every page of the shopper app shares: a number of points isolated in its
 * text, the page's language, and the loading and failed lines. (Shop names and categories:
 * shared/shops.)
 */
import { Group, Loader, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { formatInteger } from '../shared/format';
import { Bdi } from '../shared/ui/Bdi';

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
