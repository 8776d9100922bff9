/**
 * What each shop sent on the mall's account today and over the last 7 Tehran days: its
 * messages (those the provider took, or may have), those refused, their SMS parts and
 * their cost in toman, the most costly shop first, and every shop together below.
 */
import { Alert, Loader, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import type { ConsoleRelayedTotalsQuery } from '../../gql/hub/graphql';
import { formatInteger } from '../../shared/format';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { sumTotals } from './relayed';

const Totals = graphql(`
  query ConsoleRelayedTotals {
    today: relayedMessageTotals(days: 1) {
      ...ConsoleRelayedTotalsFields
    }
    week: relayedMessageTotals(days: 7) {
      ...ConsoleRelayedTotalsFields
    }
  }

  fragment ConsoleRelayedTotalsFields on RelayedMessageTotalsResult {
    __typename
    ... on RelayedMessageTotals {
      shops {
        shop
        messages
        failed
        smsParts
        costRial
      }
    }
  }
`);

type Result = ConsoleRelayedTotalsQuery['today'];

function PeriodTable({
  period,
  result,
  shopName,
}: {
  period: 'today' | 'week';
  result: Result;
  shopName: (slug: string) => string;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const title = t(`mallRelayed.totals.${period}`);
  if (result.__typename !== 'RelayedMessageTotals') {
    return (
      <Alert color="red" role="alert">
        {t('mallRelayed.failed')}
      </Alert>
    );
  }
  const all = sumTotals(result.shops);
  const number = (n: number) => <Bdi>{formatInteger(n, lang)}</Bdi>;
  return (
    <Stack gap={6} data-testid={`relayed-totals-${period}`}>
      <Title order={4}>{title}</Title>
      {result.shops.length === 0 ? (
        <Text c="dimmed">{t('mallRelayed.totals.none')}</Text>
      ) : (
        <ScrollTable minWidth={320} label={t('mallRelayed.totals.label', { period: title })}>
          <Table striped withTableBorder verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('mallRelayed.totals.shop')}</Table.Th>
                <Table.Th>{t('mallRelayed.totals.messages')}</Table.Th>
                <Table.Th>{t('mallRelayed.totals.failed')}</Table.Th>
                <Table.Th>{t('mallRelayed.totals.parts')}</Table.Th>
                <Table.Th>{t('mallRelayed.totals.cost')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {result.shops.map((s) => (
                <Table.Tr key={s.shop} data-testid="relayed-shop" data-shop={s.shop}>
                  <Table.Td>{shopName(s.shop)}</Table.Td>
                  <Table.Td>{number(s.messages)}</Table.Td>
                  <Table.Td>{number(s.failed)}</Table.Td>
                  <Table.Td>{number(s.smsParts)}</Table.Td>
                  <Table.Td>
                    <Toman rial={s.costRial} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
            <Table.Tfoot>
              <Table.Tr fw={600}>
                <Table.Td>{t('mallRelayed.totals.all')}</Table.Td>
                <Table.Td>{number(all.messages)}</Table.Td>
                <Table.Td>{number(all.failed)}</Table.Td>
                <Table.Td>{number(all.smsParts)}</Table.Td>
                <Table.Td data-testid="relayed-total-cost">
                  <Toman rial={all.costRial} />
                </Table.Td>
              </Table.Tr>
            </Table.Tfoot>
          </Table>
        </ScrollTable>
      )}
    </Stack>
  );
}

export function RelayTotals({ shopName }: { shopName: (slug: string) => string }) {
  const { t } = useTranslation();
  const [{ data, fetching, error }] = useQuery({ query: Totals, requestPolicy: 'cache-and-network' });
  if (error) {
    return (
      <Alert color="red" role="alert">
        {t('mallRelayed.failed')}
      </Alert>
    );
  }
  if (!data) return fetching ? <Loader aria-label={t('mallRelayed.loading')} /> : null;
  return (
    <Stack gap="xs">
      <Title order={3}>{t('mallRelayed.totals.title')}</Title>
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <PeriodTable period="today" result={data.today} shopName={shopName} />
        <PeriodTable period="week" result={data.week} shopName={shopName} />
      </SimpleGrid>
    </Stack>
  );
}
