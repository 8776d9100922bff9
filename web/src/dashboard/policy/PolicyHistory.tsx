/**
 * The club policy's saved versions, newest first, a page at a time from the node: when,
 * by whom, and the gist of each (club open or closed, welcome gift, groups, tiers).
 */
import { Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { Code } from '../../shared/ui/Bdi';
import { draftOf } from './draft';

const Versions = graphql(`
  query DashboardClubPolicyVersions($first: Int!, $before: Int) {
    clubPolicyVersions(first: $first, before: $before) {
      totalCount
      nextBefore
      items {
        version
        createdAt
        createdBy
        document
      }
    }
  }
`);

const PAGE = 5;

export function PolicyHistory() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  // The cursors of the pages before this one: the first page has none.
  const [cursors, setCursors] = useState<(number | null)[]>([null]);
  const before = cursors.at(-1) ?? null;
  const [{ data, fetching, error }] = useQuery({
    query: Versions,
    variables: { first: PAGE, before },
    requestPolicy: 'cache-and-network',
  });
  const page = data?.clubPolicyVersions;
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t('policy.section.history')}
        </Title>
        {!page ? (
          <Text role="status">{fetching ? t('policy.loading') : error ? t('policy.failed') : ''}</Text>
        ) : (
          <>
            <Text size="sm" c="dimmed">
              {t('policy.historyCount', { n: formatInteger(page.totalCount, lang) })}
            </Text>
            <Table.ScrollContainer minWidth={640}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('policy.history.version')}</Table.Th>
                    <Table.Th>{t('policy.history.when')}</Table.Th>
                    <Table.Th>{t('policy.history.who')}</Table.Th>
                    <Table.Th>{t('policy.history.gist')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((item) => {
                    const draft = draftOf(item.document);
                    return (
                      <Table.Tr key={item.version} data-testid="policy-history-row">
                        <Table.Td>{formatInteger(item.version, lang)}</Table.Td>
                        <Table.Td>{formatJalaliDateTime(item.createdAt, lang)}</Table.Td>
                        <Table.Td>
                          <Code value={item.createdBy} />
                        </Table.Td>
                        <Table.Td>
                          {t('policy.history.summary', {
                            club: t(draft.openClub ? 'policy.history.open' : 'policy.history.closed'),
                            welcome: formatInteger(Number(draft.welcomePoints || 0), lang),
                            groups: formatInteger(draft.groups.length, lang),
                            tiers: formatInteger(draft.tiers.length, lang),
                          })}
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Group>
              <Button
                variant="default"
                disabled={cursors.length <= 1}
                onClick={() => {
                  setCursors(cursors.slice(0, -1));
                }}
              >
                {t('policy.history.newer')}
              </Button>
              <Button
                variant="default"
                disabled={page.nextBefore == null}
                onClick={() => {
                  setCursors([...cursors, page.nextBefore ?? null]);
                }}
              >
                {t('policy.history.older')}
              </Button>
            </Group>
          </>
        )}
      </Stack>
    </Card>
  );
}
