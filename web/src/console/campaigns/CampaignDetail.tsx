/**
 * One campaign: its dates and rewards, who pays for them (its sponsors, if any), each
 * invited shop's answer, its budget as it is spent (asked again every 10 s while it runs),
 * and its report — sales at the participating shops against the same weekdays of the four
 * weeks before — as figures and charts in left-to-right boxes: the totals, then each day
 * so far.
 */
import {
  Anchor,
  Badge,
  Card,
  Group,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import type { TFunction } from 'i18next';
import { useCallback } from 'react';
import { useTranslation } from 'react-i18next';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Link, useParams } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatInteger, formatJalaliDateTime, formatToman } from '../../shared/format';
import { Toman } from '../../shared/ui/Bdi';
import { ChartBox } from '../overview/parts';
import { spentPercent, useShopNames, usePolling } from './common';
import { ReportDays } from './ReportDays';
import { ChartTable } from '../../shared/ui/ChartTable';

const CampaignQuery = graphql(`
  query ConsoleCampaign($id: String!) {
    campaign(campaignId: $id) {
      id
      nameFa
      nameEn
      startsAt
      endsAt
      reward
      budgetRial
      spentRial
      costRule
      sponsors
      status
      shops {
        shop
        status
      }
    }
  }
`);

const ReportQuery = graphql(`
  query ConsoleCampaignReport($id: String!) {
    campaignReport(campaignId: $id) {
      participants
      rewards
      costRial
      salesRial
      baselineRial
      incrementalRial
      costPerIncrementalRial
      days {
        day
        salesRial
        baselineRial
        rewards
        costRial
      }
    }
  }
`);

const LIVE_MS = 10_000;
const ANSWER_COLOR: Record<string, string> = { accepted: 'teal.9', declined: 'red.9', invited: 'gray.8' };

function Report({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [{ data, error }] = useQuery({ query: ReportQuery, variables: { id } });
  const report = data?.campaignReport;
  if (error) return <Text c="red.9">{t('mallCampaigns.report.failed')}</Text>;
  if (!report) return null;
  const toman = (rial: number) => Number(BigInt(rial) / 10n);
  const rows = [
    { name: t('mallCampaigns.report.baseline'), value: toman(report.baselineRial) },
    { name: t('mallCampaigns.report.sales'), value: toman(report.salesRial) },
    { name: t('mallCampaigns.report.incremental'), value: toman(report.incrementalRial) },
    { name: t('mallCampaigns.report.cost'), value: toman(report.costRial) },
  ];
  const number = (value: unknown) => formatInteger(Number(value), lang);
  return (
    <Card withBorder padding="md" data-testid="campaign-report">
      <Title order={3} size="h4" mb="sm">
        {t('mallCampaigns.report.title')}
      </Title>
      <SimpleGrid cols={{ base: 2, md: 4 }} mb="md">
        <Figure label={t('mallCampaigns.report.participants')} value={formatInteger(report.participants, lang)} />
        <Figure label={t('mallCampaigns.report.rewards')} value={formatInteger(report.rewards, lang)} />
        <Figure
          label={t('mallCampaigns.report.incremental')}
          value={`${formatToman(report.incrementalRial, lang)} ${t('money.toman')}`}
        />
        <Figure
          label={t('mallCampaigns.report.costPerIncremental')}
          value={
            report.costPerIncrementalRial === null
              ? t('mallCampaigns.report.noIncremental')
              : new Intl.NumberFormat(lang === 'fa' ? 'fa-IR' : 'en-US', { maximumFractionDigits: 4 }).format(
                  Number(report.costPerIncrementalRial),
                )
          }
        />
      </SimpleGrid>
      <Text size="sm" c="dimmed" mb="xs">
        {t('mallCampaigns.report.explain')}
      </Text>
      <ChartBox
        label={t('mallCampaigns.report.chart', {
          sales: formatToman(report.salesRial, lang),
          baseline: formatToman(report.baselineRial, lang),
        })}
      >
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="name" tick={{ fontSize: 11 }} />
            <YAxis tickFormatter={number} width={90} tick={{ fontSize: 11 }} />
            <Tooltip formatter={number} />
            <Bar isAnimationActive={false} dataKey="value" name={t('mallCampaigns.report.toman')} fill="var(--mantine-color-indigo-8)" />
          </BarChart>
        </ResponsiveContainer>
      </ChartBox>
      <ChartTable
        caption={t('mallCampaigns.report.table')}
        rows={rows.map((row) => ({ key: row.name, cells: [row.name, number(row.value)] }))}
      />
      <ReportDays days={report.days} />
    </Card>
  );
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700}>
        <bdi>{value}</bdi>
      </Text>
    </div>
  );
}

function rewardLines(reward: unknown, t: TFunction, lang: string) {
  const r = (reward ?? {}) as Record<string, number | null>;
  const lines: string[] = [];
  const multiplier = (r.pooled_multiplier_bp ?? 10_000) / 10_000;
  if (multiplier > 1) lines.push(t('mallCampaigns.reward.multiplier', { times: formatInteger(multiplier, lang) }));
  if (r.visit_bonus_shops && r.visit_bonus_points) {
    lines.push(
      t('mallCampaigns.reward.visits', {
        shops: formatInteger(r.visit_bonus_shops, lang),
        points: formatInteger(r.visit_bonus_points, lang),
      }),
    );
  }
  if (r.spend_min_rial && r.spend_credit_rial) {
    lines.push(
      t('mallCampaigns.reward.spend', {
        min: formatToman(r.spend_min_rial, lang),
        credit: formatToman(r.spend_credit_rial, lang),
        days: formatInteger(r.credit_valid_days ?? 30, lang),
      }),
    );
  }
  return lines;
}

export function CampaignDetail() {
  const { campaignId = '' } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { name } = useShopNames();
  const [{ data, fetching }, reexecute] = useQuery({ query: CampaignQuery, variables: { id: campaignId } });
  const campaign = data?.campaign;
  const refresh = useCallback(() => { reexecute({ requestPolicy: 'network-only' }); }, [reexecute]);
  usePolling(campaign?.status === 'active', refresh, LIVE_MS);
  if (!campaign) {
    return fetching ? null : <Text>{t('mallCampaigns.notFound')}</Text>;
  }
  const percent = spentPercent(campaign.spentRial, campaign.budgetRial);
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>{lang === 'fa' ? campaign.nameFa : campaign.nameEn || campaign.nameFa}</Title>
        <Anchor component={Link} to="..">
          {t('mallCampaigns.back')}
        </Anchor>
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder padding="md">
          <Title order={3} size="h4" mb="xs">
            {t('mallCampaigns.detail.about')}
          </Title>
          <Text size="sm">
            {t('mallCampaigns.detail.when', {
              starts: formatJalaliDateTime(campaign.startsAt, lang),
              ends: formatJalaliDateTime(campaign.endsAt, lang),
            })}
          </Text>
          <Text size="sm">
            {t(
              `mallCampaigns.${campaign.sponsors.length ? 'sponsorRule' : 'costRule'}.${campaign.costRule}`,
              campaign.costRule,
            )}
          </Text>
          {campaign.costRule === 'mall' ? null : (
            <Text size="sm" data-testid="campaign-sponsors">
              {campaign.sponsors.length
                ? t('mallCampaigns.detail.sponsors', {
                    shops: new Intl.ListFormat(lang === 'fa' ? 'fa' : 'en').format(campaign.sponsors.map(name)),
                  })
                : t('mallCampaigns.detail.noSponsors')}
            </Text>
          )}
          {rewardLines(campaign.reward, t, lang).map((line) => (
            <Text size="sm" key={line}>
              {line}
            </Text>
          ))}
        </Card>
        <Card withBorder padding="md" data-testid="campaign-budget">
          <Title order={3} size="h4" mb="xs">
            {t('mallCampaigns.budget.title')}
          </Title>
          <Text size="sm">
            <Toman rial={campaign.spentRial} /> / <Toman rial={campaign.budgetRial} />
          </Text>
          <Progress value={percent} aria-label={t('mallCampaigns.budget.used')} my="xs" />
          <Text size="xs" c="dimmed" aria-live="polite">
            {t('mallCampaigns.budget.live', { percent: formatInteger(percent, lang) })}{' '}
            <Badge color={campaign.status === 'active' ? 'teal.9' : 'gray.8'} variant="filled">
              {t(`mallCampaigns.status.${campaign.status}`, campaign.status)}
            </Badge>
          </Text>
        </Card>
      </SimpleGrid>
      <Card withBorder padding="md">
        <Title order={3} size="h4" mb="xs">
          {t('mallCampaigns.detail.invitations')}
        </Title>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">{t('mallCampaigns.detail.shop')}</Table.Th>
              <Table.Th scope="col">{t('mallCampaigns.detail.answer')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {campaign.shops.map((s) => (
              <Table.Tr key={s.shop}>
                <Table.Td>{name(s.shop)}</Table.Td>
                <Table.Td>
                  <Badge color={ANSWER_COLOR[s.status] ?? 'gray.8'} variant="filled">
                    {t(`mallCampaigns.answer.${s.status}`, s.status)}
                  </Badge>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Card>
      <Report id={campaign.id} />
    </Stack>
  );
}
