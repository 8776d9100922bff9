/** The member at the till: name, phone, card, tier, points and credit. */
import { Badge, Button, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { formatInteger } from '../../shared/format';
import { Bdi, Code, Phone, Toman } from '../../shared/ui/Bdi';
import { type MemberView, useLocalName } from './common';

function Figure(props: { label: string; children: React.ReactNode; testId: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {props.label}
      </Text>
      <Text size="lg" fw={700} data-testid={props.testId}>
        {props.children}
      </Text>
    </Stack>
  );
}

export function MemberPanel(props: { member: MemberView; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const localName = useLocalName();
  const { member } = props;
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="member-title">
      <Stack gap="sm">
        <Group justify="space-between" align="start" wrap="nowrap">
          <Stack gap={2}>
            <Title order={2} size="h4" id="member-title" data-testid="member-name">
              {member.name ?? t('till.member.noName')}
            </Title>
            <Text size="sm">
              <Phone e164={member.phone} /> · {t('till.member.card')} <Code value={member.cardCode} />
            </Text>
          </Stack>
          <Badge size="lg" variant="filled" data-testid="member-tier">
            {localName(member.tier.current)}
          </Badge>
        </Group>
        <SimpleGrid cols={2}>
          <Figure label={t('till.member.points')} testId="member-points">
            <Bdi>{formatInteger(member.balances.points, i18n.language)}</Bdi>
          </Figure>
          <Figure label={t('till.member.credit')} testId="member-credit">
            <Toman rial={member.balances.creditRial} />
          </Figure>
        </SimpleGrid>
        <Group>
          <Button variant="subtle" size="compact-sm" onClick={props.onClose}>
            {t('till.member.next')}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
