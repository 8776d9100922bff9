/**
 * A member's history (every change of points and credit, with its reason) and purchases,
 * newest first, a page at a time from the server: "older" asks for the entries before
 * the last one shown; the pages seen are kept to step back.
 */
import { Button, Group, Loader, Stack, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatInteger, formatJalaliDateTime, formatToman } from '../../shared/format';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { type CursorPages, useCursorPages } from '../../shared/ui/cursorPages';

const PAGE = 10;

const History = graphql(`
  query DashboardMemberHistory($id: ID!, $first: Int!, $before: ID) {
    member(ref: { id: $id }) {
      __typename
      ... on Member {
        id
        history(first: $first, before: $before) {
          id
          at
          reason
          memo
          actor
          pointsDelta
          creditDeltaRial
        }
      }
    }
  }
`);

const Purchases = graphql(`
  query DashboardMemberPurchases($id: ID!, $first: Int!, $before: ID) {
    member(ref: { id: $id }) {
      __typename
      ... on Member {
        id
        purchases(first: $first, before: $before) {
          id
          receiptId
          occurredAt
          totalRial
          refundedRial
          earnedPoints
          earnedCreditRial
        }
      }
    }
  }
`);

function Pager(props: {
  pages: CursorPages;
  lastId: string | undefined;
  full: boolean;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  const { pages, lastId } = props;
  return (
    <Stack gap="xs">
      <Table.ScrollContainer minWidth={560}>{props.children}</Table.ScrollContainer>
      <Group justify="space-between">
        <Button variant="default" size="compact-sm" disabled={pages.first} onClick={pages.back}>
          {t('members.list.newer')}
        </Button>
        <Button
          variant="default"
          size="compact-sm"
          disabled={!props.full || lastId === undefined}
          onClick={() => {
            if (lastId) pages.forward(lastId);
          }}
        >
          {t('members.list.older')}
        </Button>
      </Group>
    </Stack>
  );
}

/** A change with its sign, in green or red; credit in toman with the sign on the number. */
function Signed({ value, toman = false }: { value: number; toman?: boolean }) {
  const { t, i18n } = useTranslation();
  if (value === 0) return <Text c="dimmed">–</Text>;
  const amount = toman ? formatToman(Math.abs(value), i18n.language) : formatInteger(Math.abs(value), i18n.language);
  return (
    <Text c={value > 0 ? 'teal.9' : 'red.9'} span>
      <Bdi>
        {value > 0 ? '+' : '−'}
        {amount}
      </Bdi>
      {toman && ` ${t('money.toman')}`}
    </Text>
  );
}

export function HistoryTable({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const pages = useCursorPages();
  const [{ data, fetching }] = useQuery({
    query: History,
    variables: { id: memberId, first: PAGE, before: pages.cursor },
  });
  const member = data?.member.__typename === 'Member' ? data.member : null;
  if (!member) return fetching ? <Loader size="sm" /> : null;
  const entries = member.history;
  if (entries.length === 0 && pages.first) return <Text c="dimmed">{t('members.history.empty')}</Text>;
  return (
    <Pager pages={pages} lastId={entries[entries.length - 1]?.id} full={entries.length === PAGE}>
      <Table data-testid="member-history">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('members.history.at')}</Table.Th>
            <Table.Th>{t('members.history.reason')}</Table.Th>
            <Table.Th>{t('members.list.points')}</Table.Th>
            <Table.Th>{t('members.list.credit')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((entry) => (
            <Table.Tr key={entry.id}>
              <Table.Td>{formatJalaliDateTime(entry.at, i18n.language)}</Table.Td>
              <Table.Td>
                {t(`members.reason.${entry.reason}`)}
                {/* A hand adjustment's memo is the staff member's reason; other memos are
                    the ledger's own English notes for the audit, not for this page. */}
                {entry.reason === 'ADJUSTMENT' && entry.memo && (
                  <Text size="xs" c="dimmed">
                    <bdi>{entry.memo}</bdi>
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Signed value={entry.pointsDelta} />
              </Table.Td>
              <Table.Td>
                <Signed value={entry.creditDeltaRial} toman />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Pager>
  );
}

export function PurchaseTable({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const pages = useCursorPages();
  const [{ data, fetching }] = useQuery({
    query: Purchases,
    variables: { id: memberId, first: PAGE, before: pages.cursor },
  });
  const member = data?.member.__typename === 'Member' ? data.member : null;
  if (!member) return fetching ? <Loader size="sm" /> : null;
  const bought = member.purchases;
  if (bought.length === 0 && pages.first) return <Text c="dimmed">{t('members.purchases.empty')}</Text>;
  return (
    <Pager pages={pages} lastId={bought[bought.length - 1]?.id} full={bought.length === PAGE}>
      <Table data-testid="member-purchases">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t('members.purchases.at')}</Table.Th>
            <Table.Th>{t('members.purchases.receipt')}</Table.Th>
            <Table.Th>{t('members.purchases.total')}</Table.Th>
            <Table.Th>{t('members.purchases.refunded')}</Table.Th>
            <Table.Th>{t('members.purchases.earned')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {bought.map((p) => (
            <Table.Tr key={p.id}>
              <Table.Td>{formatJalaliDateTime(p.occurredAt, i18n.language)}</Table.Td>
              <Table.Td>
                <Bdi>{p.receiptId}</Bdi>
              </Table.Td>
              <Table.Td>
                <Toman rial={p.totalRial} />
              </Table.Td>
              <Table.Td>{p.refundedRial > 0 ? <Toman rial={p.refundedRial} /> : '–'}</Table.Td>
              <Table.Td>
                <Bdi>{formatInteger(p.earnedPoints, i18n.language)}</Bdi> ·{' '}
                <Toman rial={p.earnedCreditRial} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Pager>
  );
}
