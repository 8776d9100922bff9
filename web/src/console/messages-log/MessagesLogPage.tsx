/**
 * The hub's delivery log for mall admins: what the hub texted shoppers itself (sign-in
 * and redemption codes, lottery wins), newest first, a page at a time from the hub. Filtered
 * by kind and by status (each status with its count, for the kind chosen), with what the
 * chosen messages cost on every page together (summed by the hub) above the table. The
 * filters live in the address, so a link or a reload shows the same messages; changing
 * one starts again at the newest.
 */
import { Alert, Chip, Group, Loader, Stack, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import type { HubMessageKind, MessageStatus } from '../../gql/hub/graphql';
import { formatInteger, formatToman } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { useCursorPages } from '../../shared/ui/cursorPages';
import { NewerOlder } from '../../shared/ui/NewerOlder';
import { LogTable } from './LogTable';
import {
  countsByStatus,
  HUB_KINDS,
  kindFromParam,
  kindKey,
  MESSAGE_STATUSES,
  type StatusCount,
  statusBadge,
  statusFromParam,
} from './log';

const PAGE = 25;

const Log = graphql(`
  query ConsoleHubMessageLog($first: Int!, $after: String, $status: MessageStatus, $kind: HubMessageKind) {
    hubMessages(first: $first, after: $after, status: $status, kind: $kind) {
      items {
        id
        kind
        to
        text
        parts
        costRial
        status
        reason
        createdAt
      }
      endCursor
      hasNextPage
      counts {
        status
        count
      }
      totalCostRial
    }
  }
`);

interface Filter {
  status: MessageStatus | null;
  kind: HubMessageKind | null;
}

type Counts = ReturnType<typeof countsByStatus>;

function Rows({ filter, onCounts }: { filter: Filter; onCounts: (counts: Counts) => void }) {
  const { t, i18n } = useTranslation();
  const pages = useCursorPages();
  const [{ data, fetching, error }] = useQuery({
    query: Log,
    variables: { first: PAGE, after: pages.cursor, status: filter.status, kind: filter.kind },
    requestPolicy: 'cache-and-network',
  });
  const page = data?.hubMessages;
  // The counts belong to the filter above: handed up whenever they change.
  const counted = page ? JSON.stringify(page.counts) : null;
  useEffect(() => {
    if (counted !== null) onCounts(countsByStatus(JSON.parse(counted) as StatusCount[]));
  }, [counted, onCounts]);
  if (error) {
    return (
      <Alert color="red" role="alert">
        {t('mallMessages.failed')}
      </Alert>
    );
  }
  if (!page) return fetching ? <Loader aria-label={t('mallMessages.loading')} /> : null;
  return (
    <Stack gap="sm">
      <Text fw={600} data-testid="messages-total">
        <Trans
          i18nKey="mallMessages.total"
          values={{ amount: formatToman(page.totalCostRial, i18n.language) }}
          components={{ bdi: <bdi dir="ltr" /> }}
        />
      </Text>
      <LogTable items={page.items} />
      {page.items.length === 0 ? <Text c="dimmed">{t('mallMessages.empty')}</Text> : null}
      <NewerOlder
        pages={pages}
        page={page}
        fetching={fetching}
        newer={t('mallMessages.newer')}
        older={t('mallMessages.older')}
        olderTestId="log-older"
      />
    </Stack>
  );
}

function KindFilter({ value, onChange }: { value: HubMessageKind | null; onChange: (kind: string | null) => void }) {
  const { t } = useTranslation();
  return (
    <Group gap={6} role="radiogroup" aria-label={t('mallMessages.filter.kind')} data-testid="kind-filter">
      <Chip.Group
        value={value ?? 'all'}
        onChange={(chosen) => {
          onChange(chosen === 'all' ? null : chosen.toLowerCase());
        }}
      >
        <Chip value="all" type="radio" variant="outline">
          {t('mallMessages.filter.allKinds')}
        </Chip>
        {HUB_KINDS.map((kind) => (
          <Chip key={kind} value={kind} type="radio" variant="outline" data-testid={`kind-${kind}`}>
            {t(kindKey(kind))}
          </Chip>
        ))}
      </Chip.Group>
    </Group>
  );
}

function StatusFilter({
  value,
  counts,
  onChange,
}: {
  value: MessageStatus | null;
  counts: Counts | null;
  onChange: (status: string | null) => void;
}) {
  const { t, i18n } = useTranslation();
  const number = (n: number | undefined) => (n === undefined ? null : <Bdi>{formatInteger(n, i18n.language)}</Bdi>);
  return (
    <Group gap={6} role="radiogroup" aria-label={t('mallMessages.filter.status')} data-testid="status-filter">
      <Chip.Group
        value={value ?? 'all'}
        onChange={(chosen) => {
          onChange(chosen === 'all' ? null : chosen.toLowerCase());
        }}
      >
        <Chip value="all" type="radio" variant="outline" data-testid="status-all">
          {t('mallMessages.filter.all')} {number(counts?.all)}
        </Chip>
        {MESSAGE_STATUSES.map((status) => {
          const { icon: StatusIcon, label } = statusBadge(status);
          return (
            <Chip
              key={status}
              value={status}
              type="radio"
              variant="outline"
              icon={<StatusIcon size={14} aria-hidden />}
              data-testid={`status-${status}`}
            >
              {t(label)} {number(counts?.each.find((c) => c.status === status)?.count)}
            </Chip>
          );
        })}
      </Chip.Group>
    </Group>
  );
}

export function MessagesLogPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const filter: Filter = {
    status: statusFromParam(params.get('status')),
    kind: kindFromParam(params.get('kind')),
  };
  // The counts leave the status out: kept across a change of status (no flicker),
  // dropped when the kind changes.
  const scope = filter.kind ?? '';
  const [counted, setCounted] = useState<{ scope: string; counts: Counts } | null>(null);
  const counts = counted?.scope === scope ? counted.counts : null;
  const onCounts = useCallback(
    (found: Counts) => {
      setCounted({ scope, counts: found });
    },
    [scope],
  );
  const change = (name: 'status' | 'kind', value: string | null) => {
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
  return (
    <Stack gap="md">
      <Title order={2}>{t('mallMessages.title')}</Title>
      <Text size="sm" c="dimmed">
        {t('mallMessages.hint')}
      </Text>
      <KindFilter
        value={filter.kind}
        onChange={(kind) => {
          change('kind', kind);
        }}
      />
      <StatusFilter
        value={filter.status}
        counts={counts}
        onChange={(status) => {
          change('status', status);
        }}
      />
      <Rows key={`${filter.status ?? ''}|${filter.kind ?? ''}`} filter={filter} onCounts={onCounts} />
    </Stack>
  );
}
