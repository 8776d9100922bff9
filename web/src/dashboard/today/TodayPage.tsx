/**
 * Today: the shop's figures over the last 7, 30 or 90 Tehran days, each beside the period
 * before it (sales, purchases, new and returning members, credit issued and spent, network
 * value received, refunds), and charts of sales and visits per day. The charts sit in a
 * left-to-right box (time runs left to right in both languages); their numbers are in the
 * page's digits.
 */
import {
  Box,
  Card,
  Group,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { ActivityRange, ShopActivityQuery } from '../../gql/node/graphql';
import { formatInteger, formatJalaliDate, formatToman } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { percentChange, tomanOf } from './figures';
import { ChartTable } from '../../shared/ui/ChartTable';

const ShopActivity = graphql(`
  query ShopActivity($range: ActivityRange!) {
    shopActivity(range: $range) {
      current {
        firstDay
        lastDay
        totals {
          ...ActivityFigures
        }
        days {
          day
          figures {
            ...ActivityFigures
          }
        }
      }
      previous {
        firstDay
        lastDay
        totals {
          ...ActivityFigures
        }
      }
    }
  }
  fragment ActivityFigures on ActivityFigures {
    salesRial
    purchases
    newMembers
    returningMembers
    creditIssuedRial
    creditSpentRial
    networkValueRial
    refundedRial
  }
`);

type Figures = ShopActivityQuery['shopActivity']['current']['totals'];
type FigureKey = Exclude<keyof Figures, '__typename' | ' $fragmentName'>;

const FIGURES: { key: FigureKey; money: boolean }[] = [
  { key: 'salesRial', money: true },
  { key: 'purchases', money: false },
  { key: 'newMembers', money: false },
  { key: 'returningMembers', money: false },
  { key: 'creditIssuedRial', money: true },
  { key: 'creditSpentRial', money: true },
  { key: 'networkValueRial', money: true },
  { key: 'refundedRial', money: true },
];

const RANGE_DAYS: Record<ActivityRange, number> = { DAYS_7: 7, DAYS_30: 30, DAYS_90: 90 };
const RANGES = Object.keys(RANGE_DAYS) as ActivityRange[];

function Figure({
  name,
  now,
  before,
  money,
  days,
}: {
  name: FigureKey;
  now: number;
  before: number;
  money: boolean;
  days: number;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const shown = money ? formatToman(now, lang) : formatInteger(now, lang);
  const change = percentChange(now, before);
  const beforeShown = money ? formatToman(before, lang) : formatInteger(before, lang);
  return (
    <Card withBorder padding="md" data-testid={`figure-${name}`}>
      <Text size="sm" c="dimmed">
        {t(`today.figure.${name}`)}
      </Text>
      <Group gap={6} align="baseline">
        <Text size="xl" fw={700}>
          <Bdi>{shown}</Bdi>
        </Text>
        {money ? <Text size="sm">{t('money.toman')}</Text> : null}
      </Group>
      <Text size="xs" c="dimmed">
        {change === null
          ? t('today.noBefore', { before: beforeShown, days: formatInteger(days, lang) })
          : t('today.change', {
              change: `${change > 0 ? '+' : ''}${formatInteger(change, lang)}`,
              before: beforeShown,
              days: formatInteger(days, lang),
            })}
      </Text>
    </Card>
  );
}

function Charts({ days }: { days: ShopActivityQuery['shopActivity']['current']['days'] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const rows = days.map(({ day, figures }) => ({
    day: formatJalaliDate(day, lang, 'short'),
    sales: tomanOf(figures.salesRial),
    purchases: figures.purchases,
    newMembers: figures.newMembers,
    returning: figures.returningMembers,
  }));
  const number = (value: unknown) => formatInteger(Number(value), lang);
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
      <Card withBorder padding="md">
        <Title order={3} size="h5" mb="sm">
          {t('today.chart.sales')}
        </Title>
        <Box dir="ltr" h={260} aria-hidden>
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={rows} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" tick={{ fontSize: 11 }} />
              <YAxis tickFormatter={number} width={80} tick={{ fontSize: 11 }} />
              <Tooltip formatter={number} />
              <Bar isAnimationActive={false} dataKey="sales" name={t('today.chart.salesToman')} fill="var(--mantine-color-teal-8)" />
            </BarChart>
          </ResponsiveContainer>
        </Box>
      </Card>
      <Card withBorder padding="md">
        <Title order={3} size="h5" mb="sm">
          {t('today.chart.visits')}
        </Title>
        <Box dir="ltr" h={260} aria-hidden>
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={rows} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="day" tick={{ fontSize: 11 }} />
              <YAxis allowDecimals={false} tickFormatter={number} tick={{ fontSize: 11 }} />
              <Tooltip formatter={number} />
              <Legend />
              <Line isAnimationActive={false} dataKey="purchases" name={t('today.figure.purchases')} stroke="var(--mantine-color-blue-8)" />
              <Line isAnimationActive={false} dataKey="newMembers" name={t('today.figure.newMembers')} stroke="var(--mantine-color-grape-8)" />
              <Line isAnimationActive={false} dataKey="returning" name={t('today.figure.returningMembers')} stroke="var(--mantine-color-orange-8)" />
            </LineChart>
          </ResponsiveContainer>
        </Box>
      </Card>
      <ChartTable
        caption={t('today.chart.table')}
        headers={[
          t('today.chart.day'),
          t('today.chart.salesToman'),
          t('today.figure.purchases'),
          t('today.figure.newMembers'),
          t('today.figure.returningMembers'),
        ]}
        rows={rows.map((row) => ({
          key: row.day,
          cells: [
            row.day,
            number(row.sales),
            number(row.purchases),
            number(row.newMembers),
            number(row.returning),
          ],
        }))}
      />
    </SimpleGrid>
  );
}

export function TodayPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [range, setRange] = useState<ActivityRange>('DAYS_7');
  const [{ data, fetching, error }] = useQuery({
    query: ShopActivity,
    variables: { range },
    requestPolicy: 'cache-and-network',
  });
  const activity = data?.shopActivity;
  const days = RANGE_DAYS[range];
  return (
    <Stack gap="lg">
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{t('today.title')}</Title>
        <SegmentedControl
          aria-label={t('today.range.label')}
          value={range}
          onChange={(value) => {
            setRange(value);
          }}
          data={RANGES.map((value) => ({
            value,
            label: t('today.range.days', { days: formatInteger(RANGE_DAYS[value], lang) }),
          }))}
        />
      </Group>
      {error ? (
        <Text role="alert" c="red.9">
          {t('today.failed')}
        </Text>
      ) : null}
      {!activity ? (
        <Text role="status">{fetching ? t('today.loading') : ''}</Text>
      ) : (
        <>
          <Text size="sm" c="dimmed">
            {t('today.between', {
              from: formatJalaliDate(activity.current.firstDay, lang),
              to: formatJalaliDate(activity.current.lastDay, lang),
            })}
          </Text>
          <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="md">
            {FIGURES.map(({ key, money }) => (
              <Figure
                key={key}
                name={key}
                money={money}
                now={activity.current.totals[key]}
                before={activity.previous.totals[key]}
                days={days}
              />
            ))}
          </SimpleGrid>
          <Charts days={activity.current.days} />
        </>
      )}
    </Stack>
  );
}
