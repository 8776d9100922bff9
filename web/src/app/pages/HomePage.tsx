/**
 * Home: what she holds across the mall. The pooled points first, big, in points and toman;
 * then network credit grouped by where it can be spent; each shop's own club balance and
 * tier with the way to the next one; and what expires in the next 30 days.
 */
import { Anchor, Card, Group, Progress, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import type { ShopperHomeQuery } from '../../gql/hub/graphql';
import { formatInteger, formatJalaliDate } from '../../shared/format';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { LoadFailed, Loading, PointsAmount } from '../common';
import { shopName, useCategoryName } from '../../shared/shops';

const ShopperHome = graphql(`
  query ShopperHome {
    me {
      pseudonym
      wallet {
        pooledPoints
        pooledPointsHeld
        pooledValueRial
        pointValueRial
        creditRial
        totalValueRial
        credit {
          kind
          availableRial
          heldRial
          everywhere
          spendableAt {
            slug
            nameFa
            nameEn
          }
          acceptedCategory
        }
        localBalances {
          shop {
            slug
            nameFa
            nameEn
          }
          points
          creditRial
          updatedAt
          tier {
            code
            nameFa
            nameEn
            basis
            metric
            nextNameFa
            nextNameEn
            nextThreshold
          }
        }
        expiring {
          kind
          issuer {
            slug
            nameFa
            nameEn
          }
          amount
          valueRial
          expiresAt
        }
      }
    }
  }
`);

type Wallet = NonNullable<ShopperHomeQuery['me']>['wallet'];
type Credit = Wallet['credit'][number];
type Tier = NonNullable<Wallet['localBalances'][number]['tier']>;

/** A tier's measure in its unit: spending in toman, anything else as a count. */
function Measure({ basis, value }: { basis: string; value: number }) {
  const { i18n } = useTranslation();
  if (/spend|rial|amount/i.test(basis)) return <Toman rial={value} />;
  if (/point/i.test(basis)) return <PointsAmount points={value} />;
  return <Bdi>{formatInteger(value, i18n.language)}</Bdi>;
}

/** Her level at a shop's club and the way to the next one. */
function TierLine({ tier }: { tier: Tier }) {
  const { t, i18n } = useTranslation();
  const fa = i18n.language === 'fa';
  const name = (fa ? tier.nameFa : tier.nameEn) || tier.nameFa || tier.code;
  const next = (fa ? tier.nextNameFa : tier.nextNameEn) || tier.nextNameFa;
  const threshold = tier.nextThreshold;
  const percent =
    threshold != null && threshold > 0
      ? Math.min(100, Math.max(0, Math.floor((tier.metric * 100) / threshold)))
      : 100;
  return (
    <Stack gap={4} mt="xs">
      <Text size="sm" fw={600}>
        {t('shopper.home.tier', { tier: name })}
      </Text>
      {next && threshold != null ? (
        <>
          <Progress
            value={percent}
            color="teal.9"
            size="md"
            aria-label={t('shopper.home.tierProgress')}
          />
          <Text size="xs">
            {t('shopper.home.nextTier', { tier: next })}{' '}
            <Measure basis={tier.basis} value={threshold} />
            {t('shopper.home.tierNow')} <Measure basis={tier.basis} value={tier.metric} />
          </Text>
        </>
      ) : (
        <Text size="xs">{t('shopper.home.topTier')}</Text>
      )}
    </Stack>
  );
}

function Pooled({ wallet }: { wallet: Wallet }) {
  const { t, i18n } = useTranslation();
  return (
    <Card withBorder padding="lg" data-testid="pooled">
      <Stack gap={4}>
        <Text size="sm" fw={600}>
          {t('shopper.home.pooled')}
        </Text>
        <Text fz={40} fw={800} lh={1.1} c="teal.9">
          <Bdi>{formatInteger(wallet.pooledPoints, i18n.language)}</Bdi>{' '}
          <Text span fz="lg" fw={600}>
            {t('money.points')}
          </Text>
        </Text>
        <Text fz="xl" fw={700}>
          <Toman rial={wallet.pooledValueRial} />
        </Text>
        {wallet.pooledPointsHeld > 0 ? (
          <Text size="sm" c="dimmed">
            {t('shopper.home.held')} <PointsAmount points={wallet.pooledPointsHeld} />
          </Text>
        ) : null}
        <Text size="sm" c="dimmed">
          {t('shopper.home.pointValue')} <Toman rial={wallet.pointValueRial} />
        </Text>
      </Stack>
      <Group mt="md" justify="space-between" wrap="wrap" gap="xs">
        <Text fw={600}>
          {t('shopper.home.total')} <Toman rial={wallet.totalValueRial} />
        </Text>
        <Group gap="xs">
          <Anchor component={Link} to="/pay" fw={600}>
            {t('shopper.home.payLink')}
          </Anchor>
          <Anchor component={Link} to="/card" fw={600}>
            {t('shopper.home.cardLink')}
          </Anchor>
        </Group>
      </Group>
    </Card>
  );
}

function CreditPlace({ credit }: { credit: Credit }) {
  const { t, i18n } = useTranslation();
  const categoryName = useCategoryName();
  if (credit.everywhere) return <>{t('shopper.home.creditEverywhere')}</>;
  if (credit.acceptedCategory)
    return <>{t('shopper.home.creditCategory', { category: categoryName(credit.acceptedCategory) })}</>;
  const names = credit.spendableAt.map((shop) => shopName(shop, i18n.language));
  return <>{t('shopper.home.creditShops', { shops: names.join(t('shopper.listSeparator')) })}</>;
}

function Credits({ credit }: { credit: Credit[] }) {
  const { t } = useTranslation();
  return (
    <Stack gap="xs" component="section" aria-labelledby="home-credit">
      <Title order={3} id="home-credit">
        {t('shopper.home.creditTitle')}
      </Title>
      {credit.length === 0 ? (
        <Text c="dimmed">{t('shopper.home.noCredit')}</Text>
      ) : (
        credit.map((item, index) => (
          <Card key={index} withBorder padding="sm">
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Text>
                <CreditPlace credit={item} />
              </Text>
              <Text fw={700}>
                <Toman rial={item.availableRial} />
              </Text>
            </Group>
            {item.heldRial > 0 ? (
              <Text size="sm" c="dimmed">
                {t('shopper.home.held')} <Toman rial={item.heldRial} />
              </Text>
            ) : null}
          </Card>
        ))
      )}
    </Stack>
  );
}

function Clubs({ balances }: { balances: Wallet['localBalances'] }) {
  const { t, i18n } = useTranslation();
  return (
    <Stack gap="xs" component="section" aria-labelledby="home-clubs">
      <Title order={3} id="home-clubs">
        {t('shopper.home.clubsTitle')}
      </Title>
      {balances.length === 0 ? (
        <Text c="dimmed">{t('shopper.home.noClubs')}</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
          {balances.map((balance) => (
            <Card key={balance.shop.slug} withBorder padding="sm" data-testid="club-balance">
              <Text fw={700}>{shopName(balance.shop, i18n.language)}</Text>
              <Group gap="md" wrap="wrap">
                <PointsAmount points={balance.points} />
                {balance.creditRial > 0 ? <Toman rial={balance.creditRial} /> : null}
              </Group>
              {balance.tier ? <TierLine tier={balance.tier} /> : null}
              <Text size="xs" c="dimmed">
                {t('shopper.home.asOf', { date: formatJalaliDate(balance.updatedAt, i18n.language) })}
              </Text>
            </Card>
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}

function Expiring({ expiring }: { expiring: Wallet['expiring'] }) {
  const { t, i18n } = useTranslation();
  return (
    <Stack gap="xs" component="section" aria-labelledby="home-expiring">
      <Title order={3} id="home-expiring">
        {t('shopper.home.expiringTitle')}
      </Title>
      {expiring.length === 0 ? (
        <Text c="dimmed">{t('shopper.home.nothingExpiring')}</Text>
      ) : (
        expiring.map((item, index) => (
          <Group key={index} justify="space-between" wrap="wrap" gap="xs">
            <Text>
              {item.kind === 'POOLED_POINTS' ? (
                <PointsAmount points={item.amount} />
              ) : (
                <Toman rial={item.valueRial} />
              )}{' '}
              <Text span c="dimmed" size="sm">
                {t('shopper.home.from', { shop: shopName(item.issuer, i18n.language) })}
              </Text>
            </Text>
            <Text size="sm" fw={600} c="red.9">
              {t('shopper.home.expiresOn', { date: formatJalaliDate(item.expiresAt, i18n.language) })}
            </Text>
          </Group>
        ))
      )}
    </Stack>
  );
}

export function HomePage() {
  const { t } = useTranslation();
  // Balances are never read from a cache: the answer shown is the hub's now.
  const [{ data, fetching, error }] = useQuery({
    query: ShopperHome,
    requestPolicy: 'network-only',
  });
  const wallet = data?.me?.wallet;
  return (
    <Stack gap="lg">
      <Title order={2}>{t('shopper.home.title')}</Title>
      {wallet ? (
        <>
          <Pooled wallet={wallet} />
          <Credits credit={wallet.credit} />
          <Clubs balances={wallet.localBalances} />
          <Expiring expiring={wallet.expiring} />
        </>
      ) : fetching ? (
        <Loading />
      ) : error || !data?.me ? (
        <LoadFailed />
      ) : null}
    </Stack>
  );
}
