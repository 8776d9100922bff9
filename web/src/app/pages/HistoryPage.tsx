/**
 * History: every change of her network value, newest first — what happened (issued, held,
 * paid, released, expired, refunded, taken back), at which shop, how much, when — a page
 * at a time, "more" reading the next page before the last entry shown.
 */
import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import type { ShopperHistoryQuery } from '../../gql/hub/graphql';
import { formatInteger, formatJalaliDateTime, formatToman } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { LoadFailed, Loading } from '../common';
import { shopName } from '../../shared/shops';

const PAGE = 20;

const ShopperHistory = graphql(`
  query ShopperHistory($first: Int!, $before: Int) {
    me {
      pseudonym
      valueHistory(first: $first, before: $before) {
        id
        kind
        shop {
          slug
          nameFa
          nameEn
        }
        reason
        points
        creditRial
        valueRial
        at
      }
    }
  }
`);

type Entry = NonNullable<ShopperHistoryQuery['me']>['valueHistory'][number];

const KINDS = ['issue', 'hold', 'capture', 'release', 'expire', 'refund', 'clawback'] as const;
type Kind = (typeof KINDS)[number];

function isKind(value: string): value is Kind {
  return (KINDS as readonly string[]).includes(value);
}

/** A signed amount: «+۱٬۲۰۰» or «−۵۰۰», the sign inside the isolated number. */
function signed(text: string, negative: boolean, positive: boolean): string {
  if (negative) return `\u2212${text.replace(/^[-\u2212]/, '')}`;
  return positive ? `+${text}` : text;
}

function Amount({ entry }: { entry: Entry }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const parts = [];
  if (entry.points !== 0) {
    parts.push(
      <span key="points">
        <Bdi>{signed(formatInteger(entry.points, lang), entry.points < 0, entry.points > 0)}</Bdi>{' '}
        {t('money.points')}
      </span>,
    );
  }
  if (entry.creditRial !== 0) {
    parts.push(
      <span key="credit">
        <Bdi>
          {signed(formatToman(entry.creditRial, lang), entry.creditRial < 0, entry.creditRial > 0)}
        </Bdi>{' '}
        {t('money.toman')}
      </span>,
    );
  }
  if (parts.length === 0) {
    parts.push(
      <span key="value">
        <Bdi>{formatToman(entry.valueRial, lang)}</Bdi> {t('money.toman')}
      </span>,
    );
  }
  return <Group gap="sm">{parts}</Group>;
}

function EntryCard({ entry }: { entry: Entry }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const kind = isKind(entry.kind) ? entry.kind : 'other';
  return (
    <Card withBorder padding="sm" component="li" data-testid="history-entry">
      <Group justify="space-between" wrap="wrap" gap="xs" align="flex-start">
        <Stack gap={0}>
          <Text fw={700}>{t(`shopper.history.kind.${kind}`)}</Text>
          <Text size="sm">
            {entry.shop ? shopName(entry.shop, lang) : t('shopper.history.network')}
          </Text>
        </Stack>
        <Stack gap={0} align="flex-end">
          <Text fw={700}>
            <Amount entry={entry} />
          </Text>
          <Text size="xs" c="dimmed">
            <Bdi>{formatJalaliDateTime(entry.at, lang)}</Bdi>
          </Text>
        </Stack>
      </Group>
    </Card>
  );
}

/** One page of entries; the last page offers the next. */
function HistoryChunk({
  before,
  last,
  onMore,
}: {
  before: number | null;
  last: boolean;
  onMore: (before: number) => void;
}) {
  const { t } = useTranslation();
  const [{ data, fetching, error }] = useQuery({
    query: ShopperHistory,
    variables: { first: PAGE, before },
    requestPolicy: 'cache-and-network',
  });
  const entries = data?.me?.valueHistory;
  if (!entries) return fetching ? <Loading /> : error ? <LoadFailed /> : null;
  const oldest = entries.at(-1);
  return (
    <>
      {entries.length === 0 && before === null ? (
        <Text c="dimmed">{t('shopper.history.empty')}</Text>
      ) : (
        <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }}>
          {entries.map((entry) => (
            <EntryCard key={entry.id} entry={entry} />
          ))}
        </Stack>
      )}
      {last && oldest && entries.length === PAGE ? (
        <Group justify="center">
          <Button
            variant="default"
            onClick={() => {
              onMore(Number(oldest.id));
            }}
          >
            {t('shopper.history.more')}
          </Button>
        </Group>
      ) : null}
    </>
  );
}

export function HistoryPage() {
  const { t } = useTranslation();
  const [pages, setPages] = useState<(number | null)[]>([null]);
  return (
    <Stack gap="md">
      <Title order={2}>{t('shopper.history.title')}</Title>
      {pages.map((before, index) => (
        <HistoryChunk
          key={before ?? 'first'}
          before={before}
          last={index === pages.length - 1}
          onMore={(next) => {
            setPages((current) => (current.includes(next) ? current : [...current, next]));
          }}
        />
      ))}
    </Stack>
  );
}
