/**
 * Overview: the network now — shops (active, suspended), shoppers, memberships, the value
 * outstanding (what the network owes its shoppers, in toman), cross-shop enrolments — and
 * its last 7, 30 or 90 days as charts (redemptions, growth), then each shop's node health
 * (last contact, outbox depth, lag, inbox depth), the most lagging first.
 */
import { Badge, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
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

import { graphql } from '../../gql/hub';
import { formatInteger, formatJalaliDate, formatJalaliDateTime, formatToman } from '../../shared/format';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { ChartBox, Count, HeadRow, NoAnswer, ProblemText } from './parts';

const MallOverviewQuery = graphql(`
  query MallOverview($days: Int!) {
    mallOverview(days: $days) {
      __typename
      ... on MallOverview {
        days
        firstDay
        lastDay
        shopsActive
        shopsSuspended
        shoppers
        memberships
        crossShopEnrolments
        liability {
          totalRial
          pooledPoints
          pooledPointsRial
          generalCreditRial
          targetedCreditRial
        }
        series {
          day
          newShoppers
          newMemberships
          crossShopEnrolments
          redemptions
          redeemedRial
        }
        health {
          slug
          nameFa
          nameEn
          status
          lastContactAt
          pendingEvents
          oldestPendingS
          inboxDepth
        }
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

const RANGES = ['7', '30', '90'] as const;
/** Room above and below the plot (its sides are the axes'). */
const CHART_MARGIN = { top: 8, bottom: 8 };
/** A node whose oldest undelivered event is older than this is lagging. */
const LAG_WARNING_S = 300;

function Figure({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Card withBorder padding="sm">
      <Text size="sm" c="dimmed" component="h3" m={0} fw={400}>
        {label}
      </Text>
      <Text fz="xl" fw={700}>
        {children}
      </Text>
    </Card>
  );
}

export function OverviewPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [days, setDays] = useState<(typeof RANGES)[number]>('30');
  const [{ data, fetching, error }] = useQuery({
    query: MallOverviewQuery,
    variables: { days: Number(days) },
  });
  const found = data?.mallOverview;
  const integer = (value: unknown) => formatInteger(Number(value), lang);
  const day = (value: unknown) => formatJalaliDate(String(value), lang, 'short');
  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{t('mallOverview.title')}</Title>
        <SegmentedControl
          aria-label={t('mallOverview.range')}
          value={days}
          onChange={(value) => {
            setDays(value);
          }}
          data={RANGES.map((value) => ({
            value,
            label: t('mallOverview.days', { n: formatInteger(Number(value), lang) }),
          }))}
        />
      </Group>
      {!found ? (
        <NoAnswer fetching={fetching} failed={!!error} />
      ) : found.__typename !== 'MallOverview' ? (
        <ProblemText problem={found} />
      ) : (
        <>
          <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} spacing="sm">
            <Figure label={t('mallOverview.shops')}>
              <Count value={found.shopsActive} />
              {found.shopsSuspended > 0 ? (
                <Text span size="sm" c="dimmed" ms="xs">
                  {t('mallOverview.suspended', { n: formatInteger(found.shopsSuspended, lang) })}
                </Text>
              ) : null}
            </Figure>
            <Figure label={t('mallOverview.shoppers')}>
              <Count value={found.shoppers} />
            </Figure>
            <Figure label={t('mallOverview.memberships')}>
              <Count value={found.memberships} />
            </Figure>
            <Figure label={t('mallOverview.crossShop')}>
              <Count value={found.crossShopEnrolments} />
            </Figure>
            <Figure label={t('mallOverview.liability')}>
              <span data-testid="liability">
                <Toman rial={found.liability.totalRial} />
              </span>
            </Figure>
            <Figure label={t('mallOverview.pooledPoints')}>
              <Count value={found.liability.pooledPoints} />
            </Figure>
          </SimpleGrid>
          <Text size="sm" c="dimmed">
            {t('mallOverview.liabilityParts', {
              pooled: formatToman(found.liability.pooledPointsRial, lang),
              general: formatToman(found.liability.generalCreditRial, lang),
              targeted: formatToman(found.liability.targetedCreditRial, lang),
            })}
          </Text>
          <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
            <Card withBorder padding="sm">
              <Title order={3} size="h4" mb="xs">
                {t('mallOverview.redemptionsChart')}
              </Title>
              <ChartBox
                label={t('mallOverview.redemptionsSummary', {
                  n: integer(found.series.reduce((sum, d) => sum + d.redemptions, 0)),
                  from: day(found.firstDay),
                  to: day(found.lastDay),
                })}
              >
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart data={found.series} margin={CHART_MARGIN}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="day" tickFormatter={day} minTickGap={16} />
                    <YAxis yAxisId="count" allowDecimals={false} tickFormatter={integer} width={40} />
                    <YAxis
                      yAxisId="rial"
                      orientation="right"
                      tickFormatter={(value: number) => formatToman(value, lang)}
                      width={72}
                    />
                    <Tooltip
                      labelFormatter={day}
                      formatter={(value, name) =>
                        name === t('mallOverview.redeemedToman')
                          ? formatToman(Number(value), lang)
                          : integer(value)
                      }
                    />
                    <Legend />
                    <Bar
                      yAxisId="count"
                      dataKey="redemptions"
                      name={t('mallOverview.redemptions')}
                      fill="#0b7285"
                      isAnimationActive={false}
                    />
                    <Bar
                      yAxisId="rial"
                      dataKey="redeemedRial"
                      name={t('mallOverview.redeemedToman')}
                      fill="#e8590c"
                      isAnimationActive={false}
                    />
                  </BarChart>
                </ResponsiveContainer>
              </ChartBox>
            </Card>
            <Card withBorder padding="sm">
              <Title order={3} size="h4" mb="xs">
                {t('mallOverview.growthChart')}
              </Title>
              <ChartBox
                label={t('mallOverview.growthSummary', {
                  shoppers: integer(found.series.reduce((sum, d) => sum + d.newShoppers, 0)),
                  memberships: integer(found.series.reduce((sum, d) => sum + d.newMemberships, 0)),
                  crossShop: integer(found.series.reduce((sum, d) => sum + d.crossShopEnrolments, 0)),
                })}
              >
                <ResponsiveContainer width="100%" height="100%">
                  <LineChart data={found.series} margin={CHART_MARGIN}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="day" tickFormatter={day} minTickGap={16} />
                    <YAxis allowDecimals={false} tickFormatter={integer} width={40} />
                    <Tooltip labelFormatter={day} formatter={(value) => integer(value)} />
                    <Legend />
                    <Line
                      dataKey="newShoppers"
                      name={t('mallOverview.newShoppers')}
                      stroke="#1864ab"
                      dot={false}
                      isAnimationActive={false}
                    />
                    <Line
                      dataKey="newMemberships"
                      name={t('mallOverview.newMemberships')}
                      stroke="#2b8a3e"
                      dot={false}
                      isAnimationActive={false}
                    />
                    <Line
                      dataKey="crossShopEnrolments"
                      name={t('mallOverview.crossShop')}
                      stroke="#c2255c"
                      dot={false}
                      isAnimationActive={false}
                    />
                  </LineChart>
                </ResponsiveContainer>
              </ChartBox>
            </Card>
          </SimpleGrid>
          <Title order={3} size="h4">
            {t('mallOverview.health.title')}
          </Title>
          <ScrollTable minWidth={640} label={t('mallOverview.health.title')}>
            <Table striped withTableBorder data-testid="health">
              <HeadRow
                columns={[
                  t('mallOverview.health.shop'),
                  t('mallOverview.health.status'),
                  t('mallOverview.health.lastContact'),
                  t('mallOverview.health.outbox'),
                  t('mallOverview.health.lag'),
                  t('mallOverview.health.inbox'),
                ]}
              />
              <Table.Tbody>
                {found.health.map((shop) => (
                  <Table.Tr key={shop.slug}>
                    <Table.Td>
                      {lang === 'fa' ? shop.nameFa : shop.nameEn}{' '}
                      <Text span size="xs" c="dimmed">
                        <Bdi>{shop.slug}</Bdi>
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="outline" color={shop.status === 'active' ? 'teal.9' : 'gray.8'} tt="none">
                        {t(shop.status === 'active' ? 'mallOverview.health.active' : 'mallOverview.health.suspended')}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {shop.lastContactAt ? (
                        <Bdi>{formatJalaliDateTime(shop.lastContactAt, lang)}</Bdi>
                      ) : (
                        t('mallOverview.health.never')
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Count value={shop.pendingEvents} />
                    </Table.Td>
                    <Table.Td>
                      {shop.oldestPendingS > LAG_WARNING_S ? (
                        <Badge color="red.9" variant="outline" tt="none">
                          {t('mallOverview.health.lagMinutes', {
                            n: formatInteger(Math.round(shop.oldestPendingS / 60), lang),
                          })}
                        </Badge>
                      ) : (
                        t('mallOverview.health.lagSeconds', { n: formatInteger(shop.oldestPendingS, lang) })
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Count value={shop.inboxDepth} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        </>
      )}
    </Stack>
  );
}
