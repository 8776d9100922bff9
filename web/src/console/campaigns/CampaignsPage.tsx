/**
 * Campaigns: the mall's joint campaigns a page at a time (newest first), a form for a new
 * one, and each campaign's page — its shops' answers, its budget as it is spent (asked
 * again every few seconds), and its report against the weeks before.
 */
import { Anchor, Badge, Button, Group, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { Toman } from '../../shared/ui/Bdi';
import { CampaignDetail } from './CampaignDetail';
import { CampaignForm } from './CampaignForm';
import { NewPage, PAGE_SIZE, Pager, ProblemAlert, asProblem, spentPercent } from './common';

const CampaignList = graphql(`
  query ConsoleCampaignPage($first: Int!, $offset: Int!) {
    campaignPage(first: $first, offset: $offset) {
      __typename
      ... on CampaignPage {
        total
        items {
          id
          nameFa
          nameEn
          startsAt
          endsAt
          budgetRial
          spentRial
          status
          shops {
            shop
            status
          }
        }
      }
      ... on HubProblem {
        code
        message
        field
      }
    }
  }
`);

function List() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [page, setPage] = useState(1);
  const [{ data, fetching }] = useQuery({
    query: CampaignList,
    variables: { first: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE },
    requestPolicy: 'cache-and-network',
  });
  const result = data?.campaignPage;
  const rows = result?.__typename === 'CampaignPage' ? result.items : [];
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>{t('mallCampaigns.title')}</Title>
        <Button component={Link} to="new">
          {t('mallCampaigns.new')}
        </Button>
      </Group>
      {result && result.__typename !== 'CampaignPage' ? (
        <ProblemAlert problem={asProblem(result)} />
      ) : null}
      <ScrollTable minWidth={700} label={t('mallCampaigns.list.caption')}>
        <Table striped highlightOnHover aria-busy={fetching}>
          <Table.Caption>{t('mallCampaigns.list.caption')}</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">{t('mallCampaigns.list.name')}</Table.Th>
              <Table.Th scope="col">{t('mallCampaigns.list.when')}</Table.Th>
              <Table.Th scope="col">{t('mallCampaigns.list.shops')}</Table.Th>
              <Table.Th scope="col">{t('mallCampaigns.list.budget')}</Table.Th>
              <Table.Th scope="col">{t('mallCampaigns.list.status')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((c) => {
              const accepted = c.shops.filter((s) => s.status === 'accepted').length;
              return (
                <Table.Tr key={c.id}>
                  <Table.Td>
                    <Anchor component={Link} to={c.id}>
                      {lang === 'fa' ? c.nameFa : c.nameEn || c.nameFa}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{formatJalaliDateTime(c.startsAt, lang)}</Text>
                    <Text size="sm" c="dimmed">
                      {formatJalaliDateTime(c.endsAt, lang)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    {t('mallCampaigns.list.accepted', {
                      accepted: formatInteger(accepted, lang),
                      invited: formatInteger(c.shops.length, lang),
                    })}
                  </Table.Td>
                  <Table.Td miw={160}>
                    <Text size="sm">
                      <Toman rial={c.spentRial} /> / <Toman rial={c.budgetRial} />
                    </Text>
                    <Progress
                      value={spentPercent(c.spentRial, c.budgetRial)}
                      aria-label={t('mallCampaigns.budget.used')}
                      size="sm"
                    />
                  </Table.Td>
                  <Table.Td>
                    <Badge color={c.status === 'active' ? 'teal.9' : 'gray.8'} variant="filled">
                      {t(`mallCampaigns.status.${c.status}`, c.status)}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </ScrollTable>
      {rows.length === 0 && !fetching ? <Text c="dimmed">{t('mallCampaigns.list.none')}</Text> : null}
      <Pager page={page} total={result?.__typename === 'CampaignPage' ? result.total : 0} onPage={setPage} />
    </Stack>
  );
}

function New() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <NewPage title={t('mallCampaigns.title')} back={t('mallCampaigns.back')}>
      <CampaignForm onCreated={(id) => void navigate(`../${id}`, { relative: 'path' })} />
    </NewPage>
  );
}

export function CampaignsPage() {
  return (
    <Routes>
      <Route index element={<List />} />
      <Route path="new" element={<New />} />
      <Route path=":campaignId" element={<CampaignDetail />} />
    </Routes>
  );
}
