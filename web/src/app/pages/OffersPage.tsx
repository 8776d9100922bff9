/**
 * My offers: what her shops offer her, newest first — the one-time offers a shop granted
 * her (usable once, until their deadline) and the permanent offers of the shops whose
 * clubs she belongs to — each with its shop, what it gives, and until when (a Jalali date).
 * A page at a time; "more" reads the page after the last offer shown.
 */
import { Badge, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import type { ShopperOffersQuery } from '../../gql/hub/graphql';
import { formatJalaliDate } from '../../shared/format';
import { shopName } from '../../shared/shops';
import { LoadFailed, Loading } from '../common';

const PAGE = 20;

const ShopperOffers = graphql(`
  query ShopperOffers($first: Int!, $after: String) {
    me {
      pseudonym
      offers(first: $first, after: $after) {
        __typename
        ... on ShopperOfferPage {
          hasMore
          endCursor
          items {
            id
            kind
            nameFa
            nameEn
            summaryFa
            summaryEn
            expiresAt
            shop {
              slug
              nameFa
              nameEn
            }
          }
        }
        ... on HubProblem {
          code
        }
      }
    }
  }
`);

type Answer = NonNullable<ShopperOffersQuery['me']>['offers'];
type Offer = Extract<Answer, { __typename: 'ShopperOfferPage' }>['items'][number];

/** The text in the page's language, or the other one's when that is empty. */
function inLanguage(fa: string, en: string, lang: string): string {
  const [first, second] = lang === 'fa' ? [fa, en] : [en, fa];
  return first.trim() || second.trim();
}

function OfferCard({ offer }: { offer: Offer }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const once = offer.kind === 'ONE_TIME';
  const summary = inLanguage(offer.summaryFa, offer.summaryEn, lang);
  return (
    <Card withBorder padding="md" component="li" data-testid="offer">
      <Group justify="space-between" wrap="wrap" gap="xs" mb={4}>
        <Text size="sm" fw={600}>
          {shopName(offer.shop, lang)}
        </Text>
        <Badge variant="outline" tt="none" color={once ? 'grape.9' : 'teal.9'}>
          {t(once ? 'shopper.offers.oneTime' : 'shopper.offers.permanent')}
        </Badge>
      </Group>
      <Title order={3} size="h4">
        {inLanguage(offer.nameFa, offer.nameEn, lang)}
      </Title>
      {summary ? <Text mt={4}>{summary}</Text> : null}
      <Text size="sm" mt="xs" data-testid="offer-until">
        {offer.expiresAt
          ? t(once ? 'shopper.offers.onceUntil' : 'shopper.offers.until', {
              // A date in words (۱۲ بهمن ۱۴۰۵): it flows with the sentence, unisolated.
              date: formatJalaliDate(offer.expiresAt, lang),
            })
          : t('shopper.offers.noEnd')}
      </Text>
    </Card>
  );
}

/** One page of offers; the last page offers the next. */
function OffersChunk({
  after,
  last,
  onMore,
}: {
  after: string | null;
  last: boolean;
  onMore: (after: string) => void;
}) {
  const { t } = useTranslation();
  const [{ data, fetching, error }] = useQuery({
    query: ShopperOffers,
    variables: { first: PAGE, after },
    requestPolicy: 'cache-and-network',
  });
  const answer = data?.me?.offers;
  if (!answer) return fetching ? <Loading /> : error ? <LoadFailed /> : null;
  if (answer.__typename !== 'ShopperOfferPage') return <LoadFailed />;
  const { items, hasMore, endCursor } = answer;
  return (
    <>
      {items.length === 0 && after === null ? (
        <Text data-testid="offers-empty">{t('shopper.offers.empty')}</Text>
      ) : (
        <Stack gap="sm" component="ul" p={0} m={0} style={{ listStyle: 'none' }}>
          {items.map((offer) => (
            <OfferCard key={offer.id} offer={offer} />
          ))}
        </Stack>
      )}
      {last && hasMore && endCursor ? (
        <Group justify="center">
          <Button
            variant="default"
            onClick={() => {
              onMore(endCursor);
            }}
          >
            {t('shopper.offers.more')}
          </Button>
        </Group>
      ) : null}
    </>
  );
}

export function OffersPage() {
  const { t } = useTranslation();
  const [pages, setPages] = useState<(string | null)[]>([null]);
  return (
    <Stack gap="md">
      <Title order={2}>{t('shopper.offers.title')}</Title>
      <Text>{t('shopper.offers.intro')}</Text>
      {pages.map((after, index) => (
        <OffersChunk
          key={after ?? 'first'}
          after={after}
          last={index === pages.length - 1}
          onMore={(next) => {
            setPages((current) => (current.includes(next) ? current : [...current, next]));
          }}
        />
      ))}
    </Stack>
  );
}
