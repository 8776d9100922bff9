/**
 * The delivery log: every message the club sent or holds, newest first, a page at a time
 * from the node. Filtered by status (each choice with its count, from the same answer),
 * by member (a card number, typed or from the member's page: ?member=) and by one send to
 * a list (?batch=, the link from a send's progress). The filters live in the address, so
 * a link or a reload shows the same messages; changing one starts again at the newest.
 */
import { Alert, Button, Chip, CloseButton, Group, Loader, Paper, Stack, Text, TextInput } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { type SubmitEvent, useCallback, useEffect, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { MessageStatus } from '../../gql/node/graphql';
import { formatInteger, localDigits, normalizeDigits } from '../../shared/format';
import { isCardCode } from '../../shared/format/shopper';
import { Bdi } from '../../shared/ui/Bdi';
import { useCursorPages } from '../../shared/ui/cursorPages';
import { NewerOlder } from '../../shared/ui/NewerOlder';
import { LogTable } from './LogTable';
import { countsByStatus, MESSAGE_STATUSES, type StatusCount, statusBadge, statusFromParam } from './status';

const PAGE = 25;

const Log = graphql(`
  query DashboardMessageLog(
    $first: Int!
    $after: String
    $status: MessageStatus
    $memberCardCode: String
    $batchId: String
  ) {
    messages(first: $first, after: $after, status: $status, memberCardCode: $memberCardCode, batchId: $batchId) {
      items {
        id
        kind
        medium
        line
        to
        member {
          cardCode
          name
        }
        text
        parts
        costRial
        status
        reason
        attempts
        createdAt
        sentAt
        settledAt
      }
      endCursor
      hasNextPage
      counts {
        status
        count
      }
    }
  }
`);

interface Filter {
  status: MessageStatus | null;
  member: string | null;
  batch: string | null;
}

function Rows({ filter, onCounts }: { filter: Filter; onCounts: (counts: Counts) => void }) {
  const { t } = useTranslation();
  const pages = useCursorPages();
  const [{ data, fetching, error }] = useQuery({
    query: Log,
    variables: {
      first: PAGE,
      after: pages.cursor,
      status: filter.status,
      memberCardCode: filter.member,
      batchId: filter.batch,
    },
    requestPolicy: 'cache-and-network',
  });
  const page = data?.messages;
  // The counts belong to the filter above the table: handed up whenever they change.
  const counted = page ? JSON.stringify(page.counts) : null;
  useEffect(() => {
    if (counted !== null) onCounts(countsByStatus(JSON.parse(counted) as StatusCount[]));
  }, [counted, onCounts]);
  if (error) {
    return (
      <Alert color="red" role="alert">
        {t('messaging.failed')}
      </Alert>
    );
  }
  if (!page) return fetching ? <Loader aria-label={t('messaging.loading')} /> : null;
  return (
    <Stack gap="sm">
      <LogTable items={page.items} />
      {page.items.length === 0 ? <Text c="dimmed">{t('messaging.log.empty')}</Text> : null}
      <NewerOlder
        pages={pages}
        page={page}
        fetching={fetching}
        newer={t('messaging.log.newer')}
        older={t('messaging.log.older')}
        olderTestId="log-older"
      />
    </Stack>
  );
}

type Counts = ReturnType<typeof countsByStatus>;

function StatusFilter({
  value,
  counts,
  onChange,
}: {
  value: MessageStatus | null;
  counts: Counts | null;
  onChange: (status: MessageStatus | null) => void;
}) {
  const { t, i18n } = useTranslation();
  const number = (n: number | undefined) => (n === undefined ? null : <Bdi>{formatInteger(n, i18n.language)}</Bdi>);
  return (
    <Group gap={6} role="radiogroup" aria-label={t('messaging.log.filter')} data-testid="status-filter">
      <Chip.Group
        value={value ?? 'all'}
        onChange={(chosen) => {
          onChange(chosen === 'all' ? null : statusFromParam(chosen));
        }}
      >
        <Chip value="all" type="radio" variant="outline" wrapperProps={{ 'data-testid': 'status-all' }}>
          {t('messaging.log.all')} {number(counts?.all)}
        </Chip>
        {MESSAGE_STATUSES.map((status) => {
          const count = counts?.each.find((c) => c.status === status)?.count;
          const { icon: StatusIcon, label } = statusBadge(status);
          return (
            <Chip
              key={status}
              value={status}
              type="radio"
              variant="outline"
              icon={<StatusIcon size={14} aria-hidden />}
              wrapperProps={{ 'data-testid': `status-${status}` }}
            >
              {t(label)} {number(count)}
            </Chip>
          );
        })}
      </Chip.Group>
    </Group>
  );
}

function MemberFilter({ card, onApply }: { card: string | null; onApply: (card: string | null) => void }) {
  const { t, i18n } = useTranslation();
  const [typed, setTyped] = useState(card ?? '');
  const [wrong, setWrong] = useState(false);
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const plain = normalizeDigits(typed).replace(/[\s-]/g, '');
    if (plain === '') {
      setWrong(false);
      onApply(null);
      return;
    }
    setWrong(!isCardCode(plain));
    if (isCardCode(plain)) onApply(plain);
  };
  return (
    <Group component="form" onSubmit={submit} role="search" align="end" gap="xs" wrap="wrap">
      <TextInput
        style={{ flex: '1 1 14rem' }}
        label={t('messaging.log.member')}
        description={t('messaging.log.memberHint')}
        value={typed}
        onChange={(event) => {
          setTyped(event.currentTarget.value);
        }}
        error={wrong ? t('messaging.log.memberInvalid') : null}
        inputMode="numeric"
        dir="ltr"
        data-testid="log-member"
      />
      <Button type="submit" variant="default" leftSection={<IconSearch size={18} aria-hidden />}>
        {t('messaging.log.memberApply')}
      </Button>
      {card ? (
        <Button
          variant="subtle"
          onClick={() => {
            setTyped('');
            setWrong(false);
            onApply(null);
          }}
        >
          {t('messaging.log.memberClear')}
        </Button>
      ) : null}
      {card ? (
        <Text size="sm" w="100%" data-testid="log-member-shown">
          <Trans
            i18nKey="messaging.log.memberShown"
            values={{ card: localDigits(card, i18n.language) }}
            components={{ bdi: <bdi dir="ltr" /> }}
          />
        </Text>
      ) : null}
    </Group>
  );
}

export function MessageLog() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const filter: Filter = {
    status: statusFromParam(params.get('status')),
    member: params.get('member'),
    batch: params.get('batch'),
  };
  // The counts leave the status filter out: kept across a change of status (no flicker),
  // dropped when the member or the send changes.
  const scope = `${filter.member ?? ''}|${filter.batch ?? ''}`;
  const [counted, setCounted] = useState<{ scope: string; counts: Counts } | null>(null);
  const counts = counted?.scope === scope ? counted.counts : null;
  const onCounts = useCallback(
    (found: Counts) => {
      setCounted({ scope, counts: found });
    },
    [scope],
  );
  const change = (name: 'status' | 'member' | 'batch', value: string | null) => {
    setParams(
      (before) => {
        const next = new URLSearchParams(before);
        if (value === null) next.delete(name);
        else next.set(name, value);
        return next;
      },
      { replace: name === 'status' },
    );
  };
  return (
    <Stack gap="md">
      <Text size="sm" c="dimmed">
        {t('messaging.log.hint')}
      </Text>
      <MemberFilter key={filter.member ?? ''} card={filter.member} onApply={(card) => { change('member', card); }} />
      {filter.batch ? (
        <Paper withBorder p="xs" radius="md" data-testid="log-batch">
          <Group justify="space-between" gap="xs" wrap="nowrap">
            <Text size="sm">{t('messaging.log.batchShown')}</Text>
            <CloseButton
              aria-label={t('messaging.log.batchClear')}
              onClick={() => {
                change('batch', null);
              }}
            />
          </Group>
        </Paper>
      ) : null}
      <StatusFilter
        value={filter.status}
        counts={counts}
        onChange={(status) => {
          change('status', status === null ? null : status.toLowerCase());
        }}
      />
      <Rows
        key={`${filter.status ?? ''}|${filter.member ?? ''}|${filter.batch ?? ''}`}
        filter={filter}
        onCounts={onCounts}
      />
    </Stack>
  );
}
