import { Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

/** Being built: the section's heading only. */
export function MembersPage() {
  const { t } = useTranslation();
  return <Title order={2}>{t('members.title')}</Title>;
}
