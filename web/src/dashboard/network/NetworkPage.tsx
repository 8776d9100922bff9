/**
 * The shop in the mall's network (managers): what it issues to the network, its
 * partnerships with other shops, and the mall's campaigns and lotteries it is invited to.
 */
import { Stack, Tabs, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { Invitations } from './Invitations';
import { IssuancePolicy } from './IssuancePolicy';
import { Partnerships } from './Partnerships';

export function NetworkPage() {
  const { t } = useTranslation();
  return (
    <Stack gap="lg">
      <Title order={2}>{t('shopNetwork.title')}</Title>
      <Tabs defaultValue="issuance" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="issuance">{t('shopNetwork.tab.issuance')}</Tabs.Tab>
          <Tabs.Tab value="offers">{t('shopNetwork.tab.offers')}</Tabs.Tab>
          <Tabs.Tab value="invitations">{t('shopNetwork.tab.invitations')}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="issuance" pt="md">
          <IssuancePolicy />
        </Tabs.Panel>
        <Tabs.Panel value="offers" pt="md">
          <Partnerships />
        </Tabs.Panel>
        <Tabs.Panel value="invitations" pt="md">
          <Invitations />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
