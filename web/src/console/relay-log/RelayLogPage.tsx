/**
 * What each shop sent on the mall's account (its SMS lines and Telegram bot), for mall
 * admins: the mall pays for these. Each shop's totals today and over the last 7 days, then
 * the messages themselves, newest first, a page at a time from the hub, filtered by shop
 * and by status. The filters live in the address, so a link or a reload shows the same
 * messages; changing one starts again at the newest.
 */
import { Alert, Chip, Group, Loader, Select, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import type { RelayedMessageStatus } from '../../gql/hub/graphql';
import { shopName } from '../../shared/shops';
import { useCursorPages } from '../../shared/ui/cursorPages';
import { NewerOlder } from '../../shared/ui/NewerOlder';
import { statusBadge } from '../messages-log/log';
import { relayedStatusFromParam, RELAYED_STATUSES } from './relayed';
import { RelayTable } from './RelayTable';
import { RelayTotals } from './RelayTotals';

const PAGE = 25;

const Shops = graphql(`
  query ConsoleRelayShops {
    shops {
      slug
      nameFa
      nameEn
    }
  }
`);

const Log = graphql(`
  query ConsoleRelayedMessages($first: Int!, $after: String, $shop: String, $status: RelayedMessageStatus) {
    relayedMessages(first: $first, after: $after, shop: $shop, status: $status) {
      items {
        id
        shop
        kind
        medium
        to
        parts
        costRial
        status
        reason
        createdAt
      }
      endCursor
      hasNextPage
    }
  }
`);

interface Filter {
  shop: string | null;
  status: RelayedMessageStatus | null;
}

function Rows({ filter, nameOf }: { filter: Filter; nameOf: (slug: string) => string }) {
  const { t } = useTranslation();
  const pages = useCursorPages();
  const [{ data, fetching, error }] = useQuery({
    query: Log,
    variables: { first: PAGE, after: pages.cursor, shop: filter.shop, status: filter.status },
    requestPolicy: 'cache-and-network',
  });
  const page = data?.relayedMessages;
  if (error) {
    return (
      <Alert color="red" role="alert">
        {t('mallRelayed.failed')}
      </Alert>
    );
  }
  if (!page) return fetching ? <Loader aria-label={t('mallRelayed.loading')} /> : null;
  return (
    <Stack gap="sm">
      <RelayTable items={page.items} shopName={nameOf} />
      {page.items.length === 0 ? <Text c="dimmed">{t('mallRelayed.empty')}</Text> : null}
      <NewerOlder
        pages={pages}
        page={page}
        fetching={fetching}
        newer={t('mallMessages.newer')}
        older={t('mallMessages.older')}
        olderTestId="relayed-older"
      />
    </Stack>
  );
}

function StatusFilter({
  value,
  onChange,
}: {
  value: RelayedMessageStatus | null;
  onChange: (status: string | null) => void;
}) {
  const { t } = useTranslation();
  return (
    <Group gap={6} role="radiogroup" aria-label={t('mallRelayed.filter.status')} data-testid="relayed-status-filter">
      <Chip.Group
        value={value ?? 'all'}
        onChange={(chosen) => {
          onChange(chosen === 'all' ? null : chosen.toLowerCase());
        }}
      >
        <Chip value="all" type="radio" variant="outline" data-testid="relayed-status-all">
          {t('mallRelayed.filter.all')}
        </Chip>
        {RELAYED_STATUSES.map((status) => {
          const { icon: StatusIcon, label } = statusBadge(status);
          return (
            <Chip
              key={status}
              value={status}
              type="radio"
              variant="outline"
              icon={<StatusIcon size={14} aria-hidden />}
              data-testid={`relayed-status-${status}`}
            >
              {t(label)}
            </Chip>
          );
        })}
      </Chip.Group>
    </Group>
  );
}

export function RelayLogPage() {
  const { t, i18n } = useTranslation();
  const [params, setParams] = useSearchParams();
  const [{ data: registry }] = useQuery({ query: Shops });
  const shops = registry?.shops ?? [];
  const nameOf = (slug: string): string => {
    const shop = shops.find((s) => s.slug === slug);
    return shop ? shopName(shop, i18n.language) : slug;
  };
  const filter: Filter = {
    shop: params.get('shop') || null,
    status: relayedStatusFromParam(params.get('status')),
  };
  const change = (name: 'status' | 'shop', value: string | null) => {
    setParams(
      (before) => {
        const next = new URLSearchParams(before);
        if (value === null) next.delete(name);
        else next.set(name, value);
        return next;
      },
      { replace: true },
    );
  };
  const choices = [
    { value: '', label: t('mallRelayed.filter.allShops') },
    ...shops.map((s) => ({ value: s.slug, label: shopName(s, i18n.language) })),
  ];
  return (
    <Stack gap="md">
      <Title order={2}>{t('mallRelayed.title')}</Title>
      <Text size="sm" c="dimmed">
        {t('mallRelayed.hint')}
      </Text>
      <RelayTotals shopName={nameOf} />
      <Title order={3}>{t('mallRelayed.log.title')}</Title>
      <Select
        label={t('mallRelayed.filter.shop')}
        data={choices}
        value={filter.shop ?? ''}
        allowDeselect={false}
        maw={320}
        onChange={(slug) => {
          change('shop', slug || null);
        }}
        data-testid="relayed-shop-filter"
      />
      <StatusFilter
        value={filter.status}
        onChange={(status) => {
          change('status', status);
        }}
      />
      <Rows key={`${filter.shop ?? ''}|${filter.status ?? ''}`} filter={filter} nameOf={nameOf} />
    </Stack>
  );
}
