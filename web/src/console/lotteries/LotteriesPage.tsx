/**
 * Lotteries: the mall's lotteries a page at a time (newest first), a form for a new one,
 * and each lottery's page (commitment, public value, the draw, winners, verification).
 */
import { Anchor, Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { NewPage, PAGE_SIZE, Pager, ProblemAlert, asProblem } from '../campaigns/common';
import { LotteryDetail } from './LotteryDetail';
import { LotteryForm } from './LotteryForm';

const LotteryList = graphql(`
  query ConsoleLotteryPage($first: Int!, $offset: Int!) {
    lotteryPage(first: $first, offset: $offset) {
      __typename
      ... on LotteryPage {
        total
        items {
          id
          nameFa
          nameEn
          drawAt
          status
          stage
          progressPct
          entrants
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

const STATUS_COLOR: Record<string, string> = { open: 'blue.8', drawing: 'orange.9', drawn: 'teal.9' };

function List() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [page, setPage] = useState(1);
  const [{ data, fetching }] = useQuery({
    query: LotteryList,
    variables: { first: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE },
    requestPolicy: 'cache-and-network',
  });
  const result = data?.lotteryPage;
  const rows = result?.__typename === 'LotteryPage' ? result.items : [];
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>{t('mallLotteries.title')}</Title>
        <Button component={Link} to="new">
          {t('mallLotteries.new')}
        </Button>
      </Group>
      {result && result.__typename !== 'LotteryPage' ? <ProblemAlert problem={asProblem(result)} /> : null}
      <ScrollTable minWidth={600} label={t('mallLotteries.list.caption')}>
        <Table striped highlightOnHover aria-busy={fetching}>
          <Table.Caption>{t('mallLotteries.list.caption')}</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">{t('mallLotteries.list.name')}</Table.Th>
              <Table.Th scope="col">{t('mallLotteries.list.drawAt')}</Table.Th>
              <Table.Th scope="col">{t('mallLotteries.list.status')}</Table.Th>
              <Table.Th scope="col">{t('mallLotteries.list.entrants')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((lottery) => (
              <Table.Tr key={lottery.id}>
                <Table.Td>
                  <Anchor component={Link} to={lottery.id}>
                    {lang === 'fa' ? lottery.nameFa : lottery.nameEn || lottery.nameFa}
                  </Anchor>
                </Table.Td>
                <Table.Td>{formatJalaliDateTime(lottery.drawAt, lang)}</Table.Td>
                <Table.Td>
                  <Badge variant="filled" color={STATUS_COLOR[lottery.status] ?? 'gray.8'}>
                    {t(`mallLotteries.status.${lottery.status}`, lottery.status)}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {lottery.entrants === null ? '—' : formatInteger(lottery.entrants, lang)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollTable>
      {rows.length === 0 && !fetching ? <Text c="dimmed">{t('mallLotteries.list.none')}</Text> : null}
      <Pager page={page} total={result?.__typename === 'LotteryPage' ? result.total : 0} onPage={setPage} />
    </Stack>
  );
}

function New() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  return (
    <NewPage title={t('mallLotteries.title')} back={t('mallLotteries.back')}>
      <LotteryForm onCreated={(id) => void navigate(`../${id}`, { relative: 'path' })} />
    </NewPage>
  );
}

export function LotteriesPage() {
  return (
    <Routes>
      <Route index element={<List />} />
      <Route path="new" element={<New />} />
      <Route path=":lotteryId" element={<LotteryDetail />} />
    </Routes>
  );
}
