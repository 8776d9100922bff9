/**
 * Who refers to whom, as a table: a row per origin shop, a column per host shop, each
 * cell the shoppers the origin introduced to the host, marked when an opt-in between
 * them stands now (a table is what a screen reader reads well; the hub bounds the pairs).
 */
import { Stack, Table, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatInteger } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { NoAnswer } from '../overview/parts';

const ReferralMapQuery = graphql(`
  query ConsoleReferralMap {
    referralMap {
      originShop
      hostShop
      active
      referrals
    }
  }
`);

interface Link {
  originShop: string;
  hostShop: string;
  active: boolean;
  referrals: number;
}

export function matrixOf(links: readonly Link[]) {
  const origins = [...new Set(links.map((link) => link.originShop))].sort();
  const hosts = [...new Set(links.map((link) => link.hostShop))].sort();
  const cells = new Map(links.map((link) => [`${link.originShop} ${link.hostShop}`, link]));
  return { origins, hosts, cell: (origin: string, host: string) => cells.get(`${origin} ${host}`) };
}

export function ReferralMatrix() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [{ data, fetching, error }] = useQuery({ query: ReferralMapQuery });
  const links = data?.referralMap;
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        {t('mallPartnerships.map.title')}
      </Title>
      <Text size="sm" c="dimmed">
        {t('mallPartnerships.map.explain')}
      </Text>
      {!links ? (
        <NoAnswer fetching={fetching} failed={!!error} />
      ) : links.length === 0 ? (
        <Text c="dimmed">{t('mallPartnerships.map.none')}</Text>
      ) : (
        <MatrixTable links={links} lang={lang} />
      )}
    </Stack>
  );
}

function MatrixTable({ links, lang }: { links: readonly Link[]; lang: string }) {
  const { t } = useTranslation();
  const { origins, hosts, cell } = matrixOf(links);
  return (
    <ScrollTable minWidth={Math.min(1200, 160 + hosts.length * 110)} label={t('mallPartnerships.map.title')}>
      <Table withTableBorder withColumnBorders data-testid="referral-map">
        <caption>{t('mallPartnerships.map.caption')}</caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">{t('mallPartnerships.map.corner')}</Table.Th>
            {hosts.map((host) => (
              <Table.Th key={host} scope="col">
                <Bdi>{host}</Bdi>
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {origins.map((origin) => (
            <Table.Tr key={origin}>
              <Table.Th scope="row">
                <Bdi>{origin}</Bdi>
              </Table.Th>
              {hosts.map((host) => {
                const link = cell(origin, host);
                return (
                  <Table.Td key={host} {...(link?.active ? { bg: 'teal.0' } : {})}>
                    {link ? (
                      <Text size="sm" fw={link.active ? 700 : 400}>
                        {link.active
                          ? t('mallPartnerships.map.activeCell', { n: formatInteger(link.referrals, lang) })
                          : t('mallPartnerships.map.endedCell', { n: formatInteger(link.referrals, lang) })}
                      </Text>
                    ) : (
                      <Text size="sm" c="dimmed" aria-label={t('mallPartnerships.map.noLink')}>
                        –
                      </Text>
                    )}
                  </Table.Td>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollTable>
  );
}
