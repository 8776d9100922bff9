import { Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** Being built: the section's heading only. */
export function ShopsPage() {
  const { t } = useTranslation();
  return <Title order={2}>{t('mallShops.title')}</Title>;
}
