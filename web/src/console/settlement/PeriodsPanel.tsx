/**
 * The settlement calendar, newest first, a page at a time from the server (newer and older
 * pages): the open period, any period a worker is closing, the closed ones. Closing the open period
 * ends it now; a worker settles it. While one is being closed the page asks the server
 * again every two seconds, so leaving the page and coming back shows where the close is.
 */
import { Alert, Badge, Button, Group, Progress, Stack, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { PeriodSpan } from '../../shared/settlement/StatementView';
import { Bdi } from '../../shared/ui/Bdi';
import { isClosing, ProblemAlert, problemCode } from './common';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { NewerOlder, Section } from '../../shared/settlement/Section';

const Periods = graphql(`
  query MallSettlementPeriods($first: Int!, $offset: Int!) {
    settlementPeriods(first: $first, offset: $offset) {
      id
      startsAt
      endsAt
      length
      status
      closedAt
      captures
      closedBy
      cutBy
    }
  }
`);

const Close = graphql(`
  mutation MallCloseSettlementPeriod {
    closeSettlementPeriod {
      __typename
      ... on SettlementPeriod {
        id
        endsAt
        status
      }
      ... on NothingToClose {
        code
      }
    }
  }
`);

const PAGE = 10;
const POLL_MS = 2000;

function useNow(every: number | null) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (every === null) return;
    const timer = setInterval(() => {
      setNow(Date.now());
    }, every);
    return () => {
      clearInterval(timer);
    };
  }, [every]);
  return now;
}

export function PeriodsPanel() {
  const { t, i18n } = useTranslation();
  const [offset, setOffset] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [{ data, fetching, error }, reread] = useQuery({
    query: Periods,
    // One more than shown: whether older periods exist.
    variables: { first: PAGE + 1, offset },
    requestPolicy: 'cache-and-network',
  });
  const [{ fetching: closingNow }, close] = useMutation(Close);
  const answered = data?.settlementPeriods ?? [];
  const periods = answered.slice(0, PAGE);
  // The clock ticks while a period is open: its end may pass, and then the close shows.
  const now = useNow(periods.some((p) => p.status === 'open') ? 1000 : null);
  const waiting = periods.filter((p) => isClosing(p, now));

  useEffect(() => {
    if (waiting.length === 0) return;
    const timer = setInterval(() => {
      reread({ requestPolicy: 'network-only' });
    }, POLL_MS);
    return () => {
      clearInterval(timer);
    };
  }, [waiting.length, reread]);

  const closeNow = async () => {
    setProblem(null);
    setConfirming(false);
    const answer = await close({});
    const result = answer.data?.closeSettlementPeriod;
    if (result?.__typename === 'SettlementPeriod') {
      // The newest page shows the close under way.
      if (offset === 0) reread({ requestPolicy: 'network-only' });
      else setOffset(0);
      return;
    }
    setProblem(result ? problemCode(result) : 'UNKNOWN');
  };

  const statusOf = (period: (typeof periods)[number]) => {
    if (period.status === 'closed') return <Badge color="teal.9">{t('mallSettlement.closed')}</Badge>;
    if (isClosing(period, now)) return <Badge color="orange.9">{t('mallSettlement.closing')}</Badge>;
    return <Badge color="gray.7">{t('mallSettlement.open')}</Badge>;
  };

  return (
    <Stack gap="md">
      <Section id="close-title" title={t('mallSettlement.close.title')}>
        <Text size="sm">{t('mallSettlement.close.explain')}</Text>
        {waiting.map((period) => (
          <Stack gap={4} key={period.id} data-testid="close-progress" role="status">
            <Text size="sm" fw={600}>
              {t('mallSettlement.close.running', {
                id: formatInteger(period.id, i18n.language),
                seconds: formatInteger(
                  Math.max(0, Math.round((now - Date.parse(period.endsAt)) / 1000)),
                  i18n.language,
                ),
              })}
            </Text>
            <Progress
              value={100}
              striped
              animated
              aria-label={t('mallSettlement.close.progress')}
            />
          </Stack>
        ))}
        {confirming ? (
          <Alert color="orange" variant="light" title={t('mallSettlement.close.sure')}>
            <Group gap="sm" mt="xs">
              <Button color="orange.9" loading={closingNow} onClick={() => void closeNow()}>
                {t('mallSettlement.close.confirm')}
              </Button>
              <Button
                variant="default"
                onClick={() => {
                  setConfirming(false);
                }}
              >
                {t('mallSettlement.cancel')}
              </Button>
            </Group>
          </Alert>
        ) : (
          <Group>
            <Button
              onClick={() => {
                setConfirming(true);
              }}
              disabled={waiting.length > 0}
            >
              {t('mallSettlement.close.button')}
            </Button>
          </Group>
        )}
        <ProblemAlert code={problem} />
      </Section>

      <Section id="periods-title" title={t('mallSettlement.periods')}>
        {error ? <ProblemAlert code="UNKNOWN" /> : null}
        {periods.length === 0 ? (
          <Text c="dimmed">
            {fetching ? t('mallSettlement.loading') : t('mallSettlement.noPeriods')}
          </Text>
        ) : (
          <ScrollTable minWidth={640} label={t('mallSettlement.periods')}>
            <Table striped highlightOnHover data-testid="periods">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('mallSettlement.number')}</Table.Th>
                  <Table.Th>{t('mallSettlement.period')}</Table.Th>
                  <Table.Th>{t('mallSettlement.status')}</Table.Th>
                  <Table.Th>{t('mallSettlement.captures')}</Table.Th>
                  <Table.Th>{t('mallSettlement.closedAt')}</Table.Th>
                  <Table.Th>{t('mallSettlement.details')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {periods.map((period) => (
                  <Table.Tr key={period.id} data-period={period.id} data-status={period.status}>
                    <Table.Td>
                      <Bdi>{formatInteger(period.id, i18n.language)}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      <PeriodSpan startsAt={period.startsAt} endsAt={period.endsAt} />
                    </Table.Td>
                    <Table.Td>{statusOf(period)}</Table.Td>
                    <Table.Td>
                      <Bdi>{formatInteger(period.captures, i18n.language)}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      {period.closedAt ? (
                        <Bdi>{formatJalaliDateTime(period.closedAt, i18n.language)}</Bdi>
                      ) : null}
                    </Table.Td>
                    <Table.Td>
                      {period.status === 'closed' ? (
                        <Button
                          component={Link}
                          to={`periods/${String(period.id)}`}
                          size="compact-sm"
                          variant="outline"
                          aria-label={t('mallSettlement.openPeriod', {
                            id: formatInteger(period.id, i18n.language),
                          })}
                        >
                          {t('mallSettlement.open_details')}
                        </Button>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
        <NewerOlder
          offset={offset}
          pageSize={PAGE}
          answered={answered.length}
          fetching={fetching}
          labels={{
            newer: t('mallSettlement.newer'),
            older: t('mallSettlement.older'),
            group: t('mallSettlement.periodPages'),
          }}
          onOffset={setOffset}
        />
      </Section>
    </Stack>
  );
}
