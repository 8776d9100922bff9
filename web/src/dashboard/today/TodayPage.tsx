import { Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** Being built: the section's heading only. */
export function TodayPage() {
  const { t } = useTranslation();
  return <Title order={2}>{t('today.title')}</Title>;
}
