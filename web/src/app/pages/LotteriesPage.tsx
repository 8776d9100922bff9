/**
 * Lotteries: each draw she has tickets in — its name, when it is drawn, her entrant id
 * (the name the published list and winners give her) and tickets — and, once drawn, her
 * place and prize, or that she did not win.
 */
import { Card, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import type { ShopperLotteriesQuery } from '../../gql/hub/graphql';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { LoadFailed, Loading } from '../common';

const ShopperLotteries = graphql(`
  query ShopperLotteries {
    me {
      pseudonym
      lotteries {
        lottery {
          id
          nameFa
          nameEn
          drawAt
          status
          winners {
            place
            prizeFa
            prizeEn
          }
        }
        entrantId
        tickets
        wonPlace
        prizeFa
      }
    }
  }
`);

type Entry = NonNullable<ShopperLotteriesQuery['me']>['lotteries'][number];

function Result({ entry }: { entry: Entry }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  if (entry.lottery.status !== 'drawn') {
    return <Text fw={600}>{t('shopper.lotteries.notDrawn')}</Text>;
  }
  if (entry.wonPlace == null) return <Text>{t('shopper.lotteries.notWon')}</Text>;
  const winner = entry.lottery.winners.find((w) => w.place === entry.wonPlace);
  const prize =
    (lang === 'fa' ? (entry.prizeFa ?? winner?.prizeFa) : winner?.prizeEn || entry.prizeFa) ?? '';
  return (
    <Stack gap={2}>
      <Text fw={700} c="teal.9">
        {t('shopper.lotteries.won', { place: formatInteger(entry.wonPlace, lang) })}
      </Text>
      {prize ? <Text>{t('shopper.lotteries.prize', { prize })}</Text> : null}
    </Stack>
  );
}

export function LotteriesPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [{ data, fetching, error }] = useQuery({
    query: ShopperLotteries,
    requestPolicy: 'cache-and-network',
  });
  const entries = data?.me?.lotteries;
  return (
    <Stack gap="md">
      <Title order={2}>{t('shopper.lotteries.title')}</Title>
      {!entries ? (
        fetching ? (
          <Loading />
        ) : error ? (
          <LoadFailed />
        ) : null
      ) : entries.length === 0 ? (
        <Text c="dimmed">{t('shopper.lotteries.empty')}</Text>
      ) : (
        entries.map((entry) => (
          <Card key={entry.lottery.id} withBorder padding="md" component="section">
            <Title order={3} size="h4">
              {(lang === 'fa' ? entry.lottery.nameFa : entry.lottery.nameEn) ||
                entry.lottery.nameFa}
            </Title>
            <Text size="sm">
              {t('shopper.lotteries.drawAt')}{' '}
              <Bdi>{formatJalaliDateTime(entry.lottery.drawAt, lang)}</Bdi>
            </Text>
            <Text size="sm" mt="xs">
              {t('shopper.lotteries.tickets')} <Bdi>{formatInteger(entry.tickets, lang)}</Bdi>
            </Text>
            <Text size="sm">{t('shopper.lotteries.entrant')}</Text>
            <Text size="xs" ff="monospace" mb="xs" style={{ wordBreak: 'break-all' }}>
              <Bdi>{entry.entrantId}</Bdi>
            </Text>
            <Result entry={entry} />
          </Card>
        ))
      )}
    </Stack>
  );
}
