/**
 * One member: balances, where they stand in the tiers, consents, tags (managers edit them),
 * the history of every change of points and credit, purchases here (both paged on the
 * server), a manager's manual adjustment, which needs a reason, and a link to the
 * messages sent to the member.
 */
import {
  Alert,
  Anchor,
  Badge,
  Group,
  Loader,
  Paper,
  Progress,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { IconMessages } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { DashboardMemberQuery } from '../../gql/node/graphql';
import { formatInteger, formatJalaliDate } from '../../shared/format';
import { SHOP_MANAGE } from '../../shared/scopes';
import { Bdi, Code, Phone, Toman } from '../../shared/ui/Bdi';
import { mayUse, useSession } from '../../shared/ui/session-context';
import { useLocalName } from '../till/common';
import { AdjustForm } from './AdjustForm';
import { HistoryTable, PurchaseTable } from './MemberTables';
import { TagEditor } from './TagEditor';

const MemberQuery = graphql(`
  query DashboardMember($id: ID!) {
    member(ref: { id: $id }) {
      __typename
      ... on Member {
        id
        name
        phone
        cardCode
        membershipType
        birthdayJalali
        joinedAt
        joinedVia
        tags
        consents {
          sms
          promotional
          partnerSharing
        }
        balances {
          points
          creditRial
        }
        tier {
          basis
          metric
          toNext
          current {
            code
            nameFa
            nameEn
            threshold
          }
          next {
            code
            nameFa
            nameEn
            threshold
          }
        }
      }
      ... on Problem {
        code
      }
    }
  }
`);

export type DetailMember = Extract<DashboardMemberQuery['member'], { __typename: 'Member' }>;

function Figure({ label, children, testId }: { label: string; children: ReactNode; testId: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="lg" fw={700} data-testid={testId}>
        {children}
      </Text>
    </Stack>
  );
}

function TierProgress({ member }: { member: DetailMember }) {
  const { t, i18n } = useTranslation();
  const localName = useLocalName();
  const { tier } = member;
  const lang = i18n.language;
  const unit = (value: number) =>
    tier.basis === 'spend_12m' ? (
      <Toman rial={value} />
    ) : (
      <Bdi>{t('members.detail.points', { points: formatInteger(value, lang) })}</Bdi>
    );
  const span = tier.next ? tier.next.threshold - tier.current.threshold : 0;
  const done = tier.next && span > 0 ? ((tier.metric - tier.current.threshold) / span) * 100 : 100;
  return (
    <Stack gap={4}>
      <Group justify="space-between">
        <Badge size="lg">{localName(tier.current)}</Badge>
        <Text size="sm">
          {t(tier.basis === 'spend_12m' ? 'members.detail.basisSpend' : 'members.detail.basisPoints')}:{' '}
          {unit(tier.metric)}
        </Text>
      </Group>
      <Progress
        value={Math.max(0, Math.min(100, done))}
        aria-label={t('members.detail.tierProgress')}
        data-testid="tier-progress"
      />
      <Text size="sm" c="dimmed">
        {tier.next && tier.toNext !== null ? (
          <>
            {t('members.detail.toNext', { tier: localName(tier.next) })} {unit(tier.toNext)}
          </>
        ) : (
          t('members.detail.topTier')
        )}
      </Text>
    </Stack>
  );
}

function Consents({ member }: { member: DetailMember }) {
  const { t } = useTranslation();
  const rows = [
    ['sms', member.consents.sms],
    ['promotional', member.consents.promotional],
    ['partnerSharing', member.consents.partnerSharing],
  ] as const;
  return (
    <Stack gap={4} data-testid="consents">
      {rows.map(([name, given]) => (
        <Group key={name} gap="xs">
          <Badge color={given ? 'teal' : 'gray'} variant="light">
            {t(given ? 'members.consent.yes' : 'members.consent.no')}
          </Badge>
          <Text size="sm">{t(`members.consent.${name}`)}</Text>
        </Group>
      ))}
    </Stack>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md" component="section">
      <Stack gap="sm">
        <Title order={3} size="h4">
          {title}
        </Title>
        {children}
      </Stack>
    </Paper>
  );
}

export function MemberDetail() {
  const { t, i18n } = useTranslation();
  const { id = '' } = useParams();
  const session = useSession();
  const manager = mayUse(session, SHOP_MANAGE);
  const [{ data, fetching, error }, refetch] = useQuery({ query: MemberQuery, variables: { id } });
  const result = data?.member;
  const lang = i18n.language;
  const reload = () => {
    refetch({ requestPolicy: 'network-only' });
  };

  const back = (
    <Anchor component={Link} to=".." relative="path">
      {t('members.detail.back')}
    </Anchor>
  );
  if (fetching && !result) return <Loader aria-label={t('members.loading')} />;
  if (error || !result) {
    return (
      <Stack>
        {back}
        <Alert color="red" role="alert">
          {t('members.failed')}
        </Alert>
      </Stack>
    );
  }
  if (result.__typename !== 'Member') {
    return (
      <Stack>
        {back}
        <Alert color="red" role="alert" data-testid="problem">
          {t('members.detail.notFound')}
        </Alert>
      </Stack>
    );
  }
  const member = result;
  return (
    <Stack gap="md">
      {back}
      <Group justify="space-between" align="start" wrap="wrap">
        <Stack gap={2}>
          <Title order={2} data-testid="member-name">
            {member.name ?? t('members.noName')}
          </Title>
          <Text size="sm">
            <Phone e164={member.phone} /> · {t('members.detail.card')} <Code value={member.cardCode} />
          </Text>
          <Text size="sm" c="dimmed">
            {t(`members.kind.${member.membershipType}`)} ·{' '}
            {t('members.detail.joined', { day: formatJalaliDate(member.joinedAt, lang, 'long') })}
            {member.birthdayJalali && (
              <>
                {' · '}
                {t('members.detail.birthday')} <Bdi>{member.birthdayJalali}</Bdi>
              </>
            )}
          </Text>
        </Stack>
        <Anchor
          component={Link}
          to={`/messages?member=${encodeURIComponent(member.cardCode)}`}
          data-testid="member-messages"
        >
          <Group gap={4} component="span">
            <IconMessages size={18} aria-hidden />
            {t('messaging.member.link')}
          </Group>
        </Anchor>
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
        <Section title={t('members.detail.balances')}>
          <SimpleGrid cols={2}>
            <Figure label={t('members.list.points')} testId="member-points">
              <Bdi>{formatInteger(member.balances.points, lang)}</Bdi>
            </Figure>
            <Figure label={t('members.list.credit')} testId="member-credit">
              <Toman rial={member.balances.creditRial} />
            </Figure>
          </SimpleGrid>
          <TierProgress member={member} />
        </Section>
        <Section title={t('members.detail.consents')}>
          <Consents member={member} />
          <TagEditor memberId={member.id} tags={member.tags} editable={manager} />
        </Section>
      </SimpleGrid>
      {manager && (
        <Section title={t('members.adjust.title')}>
          <AdjustForm memberId={member.id} onDone={reload} />
        </Section>
      )}
      <Section title={t('members.history.title')}>
        <HistoryTable memberId={member.id} />
      </Section>
      <Section title={t('members.purchases.title')}>
        <PurchaseTable memberId={member.id} />
      </Section>
    </Stack>
  );
}
