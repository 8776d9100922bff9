/**
 * How shoppers answered an offer: for a launched one-time offer, the members granted it
 * against its control group (never granted, chosen alike) over the same window — members,
 * buyers, purchases, sales per member, the lift with its 95% interval, the redemption rate
 * and the cost of each incremental toman, said in a sentence; for every offer, its uses per
 * day over the last 30 days as a chart (left to right in both languages) and a table for
 * screen readers.
 */
import { Box, Card, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { DashboardOfferResponseQuery } from '../../gql/node/graphql';
import { formatInteger, formatJalaliDate, formatToman } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { everyDay, formatDecimal, formatDecimalToman, formatRate, tehranToday } from './numbers';
import { ChartTable } from '../../shared/ui/ChartTable';

const Response = graphql(`
  query DashboardOfferResponse($id: ID!) {
    offerResponse(id: $id) {
      oneTime {
        windowStart
        windowEnd
        granted {
          ...OfferGroupFigureFields
        }
        control {
          ...OfferGroupFigureFields
        }
        redeemed
        redemptionRate
        salesLiftRial {
          value
          low
          high
        }
        visitsLift {
          value
          low
          high
        }
        costRial
        costPerIncrementalRial
      }
      days {
        day
        uses
        givenRial
        bonusPoints
      }
    }
  }
  fragment OfferGroupFigureFields on OfferGroupFigures {
    members
    buyers
    purchases
    salesRial
    salesPerMemberRial
    purchasesPerMember
  }
`);

type OneTime = NonNullable<NonNullable<DashboardOfferResponseQuery['offerResponse']>['oneTime']>;
type Side = OneTime['granted'];
type Lift = NonNullable<OneTime['salesLiftRial']>;

function Comparison({ report }: { report: OneTime }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const count = (n: number) => <Bdi>{formatInteger(n, lang)}</Bdi>;
  // Only the number is isolated: the unit follows it in the sentence's own direction.
  const toman = (shown: string) => (
    <>
      <Bdi>{shown}</Bdi> {t('money.toman')}
    </>
  );
  const rows: [string, (side: Side) => ReactNode][] = [
    ['members', (s) => count(s.members)],
    ['buyers', (s) => count(s.buyers)],
    ['purchases', (s) => count(s.purchases)],
    ['sales', (s) => toman(formatToman(s.salesRial, lang))],
    ['salesPerMember', (s) => toman(formatDecimalToman(s.salesPerMemberRial, lang))],
    ['purchasesPerMember', (s) => <Bdi>{formatDecimal(s.purchasesPerMember, lang)}</Bdi>],
  ];
  const lift = (which: 'sales' | 'visits', found: Lift | null | undefined) => {
    if (!found) return t(`offers.report.${which}LiftNone`);
    const shown = (text: string) =>
      which === 'sales' ? formatDecimalToman(text, lang) : formatDecimal(text, lang);
    const sure = Number(found.low) > 0 || Number(found.high) < 0;
    return `${t(`offers.report.${which}Lift`, {
      value: shown(found.value),
      low: shown(found.low),
      high: shown(found.high),
    })} ${t(sure ? 'offers.report.sure' : 'offers.report.unsure')}`;
  };
  return (
    <Stack gap="sm" data-testid="report-one-time">
      <Text size="sm">
        {t('offers.report.window', {
          from: formatJalaliDate(report.windowStart, lang),
          to: formatJalaliDate(report.windowEnd, lang),
        })}
      </Text>
      <Table.ScrollContainer minWidth={420}>
        <Table striped data-testid="report-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('offers.report.figure')}</Table.Th>
              <Table.Th>{t('offers.report.granted')}</Table.Th>
              <Table.Th>{t('offers.report.control')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map(([name, show]) => (
              <Table.Tr key={name} data-testid={`report-${name}`}>
                <Table.Th scope="row" fw={500}>
                  {t(`offers.report.${name}` as never)}
                </Table.Th>
                <Table.Td>{show(report.granted)}</Table.Td>
                <Table.Td>{show(report.control)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Text size="sm" data-testid="report-sales-lift">
        {lift('sales', report.salesLiftRial)}
      </Text>
      <Text size="sm">{lift('visits', report.visitsLift)}</Text>
      <Text size="sm" data-testid="report-redemption">
        {report.redemptionRate === null
          ? t('offers.report.noRedemption')
          : t('offers.report.redemption', {
              rate: formatRate(report.redemptionRate, lang),
              redeemed: formatInteger(report.redeemed, lang),
              members: formatInteger(report.granted.members, lang),
            })}
      </Text>
      <Text size="sm" data-testid="report-cost">
        {t('offers.report.cost', { cost: formatToman(report.costRial, lang) })}{' '}
        {report.costPerIncrementalRial
          ? t('offers.report.costPerIncremental', {
              ratio: formatDecimal(report.costPerIncrementalRial, lang),
            })
          : t('offers.report.costPerIncrementalNone')}
      </Text>
    </Stack>
  );
}

function Uses({ days }: { days: NonNullable<DashboardOfferResponseQuery['offerResponse']>['days'] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const rows = everyDay(days, tehranToday()).map((d) => ({
    day: formatJalaliDate(d.day, lang, 'short'),
    uses: d.uses,
    given: d.givenRial,
    points: d.bonusPoints,
  }));
  const number = (value: unknown) => formatInteger(Number(value), lang);
  const total = days.reduce((sum, d) => sum + d.uses, 0);
  const given = days.reduce((sum, d) => sum + BigInt(d.givenRial), 0n);
  return (
    <Stack gap="xs" data-testid="report-uses">
      <Title order={4} size="h5">
        {t('offers.report.uses')}
      </Title>
      <Text size="sm" data-testid="report-uses-total">
        {t('offers.report.usesTotal', {
          uses: formatInteger(total, lang),
          given: formatToman(given, lang),
        })}
      </Text>
      <Box dir="ltr" h={220} aria-hidden>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" tick={{ fontSize: 11 }} />
            <YAxis allowDecimals={false} tickFormatter={number} tick={{ fontSize: 11 }} />
            <Tooltip formatter={number} />
            <Bar isAnimationActive={false} dataKey="uses" name={t('offers.report.usesPerDay')} fill="var(--mantine-color-teal-8)" />
          </BarChart>
        </ResponsiveContainer>
      </Box>
      <ChartTable
        caption={t('offers.report.usesTable')}
        headers={[
          t('offers.report.day'),
          t('offers.report.usesPerDay'),
          t('offers.report.givenToman'),
          t('offers.report.bonusPoints'),
        ]}
        rows={rows.map((row) => ({
          key: row.day,
          cells: [row.day, number(row.uses), formatToman(row.given, lang), number(row.points)],
        }))}
      />
    </Stack>
  );
}

export function OfferReport({ id }: { id: string }) {
  const { t } = useTranslation();
  const [{ data, fetching, error }] = useQuery({
    query: Response,
    variables: { id },
    requestPolicy: 'cache-and-network',
  });
  const response = data?.offerResponse;
  return (
    <Card withBorder padding="lg" data-testid="offer-report">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t('offers.report.title')}
        </Title>
        {!response ? (
          <Text role="status">{fetching ? t('offers.loading') : error ? t('offers.failed') : ''}</Text>
        ) : (
          <SimpleGrid cols={1} spacing="lg">
            {response.oneTime ? <Comparison report={response.oneTime} /> : null}
            <Uses days={response.days} />
          </SimpleGrid>
        )}
      </Stack>
    </Card>
  );
}
