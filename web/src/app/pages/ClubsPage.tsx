/**
 * Clubs: the shops whose clubs she belongs to, and at each her two consents — to be
 * introduced to the shop's partners, and promotional SMS — as switches. A change is sent
 * at once (the switch waits for the hub's answer); until the shop confirms it the page
 * says it is on its way.
 */
import { Badge, Card, Group, Stack, Switch, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { problemMessage } from '../../shared/i18n/problems';
import { LoadFailed, Loading } from '../common';
import { shopName } from '../../shared/shops';

const ShopperClubs = graphql(`
  query ShopperClubs {
    me {
      pseudonym
      memberships
    }
    myConsents {
      shop
      partnerSharing
      promotionalSms
      pending
    }
    directory {
      slug
      nameFa
      nameEn
    }
  }
`);

const SetShopperConsent = graphql(`
  mutation SetShopperConsent($shop: String!, $partnerSharing: Boolean, $promotionalSms: Boolean) {
    setConsent(shop: $shop, partnerSharing: $partnerSharing, promotionalSms: $promotionalSms) {
      __typename
      ... on ShopConsent {
        shop
        partnerSharing
        promotionalSms
        pending
      }
      ... on HubProblem {
        code
      }
    }
  }
`);

type Field = 'partnerSharing' | 'promotionalSms';

export function ClubsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ShopperClubs,
    requestPolicy: 'cache-and-network',
  });
  const [, setConsent] = useMutation(SetShopperConsent);
  // The switch being changed and the value asked for, shown until the hub answers.
  const [busy, setBusy] = useState<string | null>(null);
  const [wanted, setWanted] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const names = new Map((data?.directory ?? []).map((shop) => [shop.slug, shop]));
  const consents = new Map((data?.myConsents ?? []).map((consent) => [consent.shop, consent]));

  const change = (shop: string, field: Field, on: boolean) => {
    setBusy(`${shop}:${field}`);
    setWanted(on);
    setFailure(null);
    void setConsent({ shop, [field]: on }).then((result) => {
      setBusy(null);
      const answer = result.data?.setConsent;
      if (!answer || result.error) {
        setFailure(problemMessage(t, null));
      } else if (answer.__typename !== 'ShopConsent') {
        setFailure(problemMessage(t, answer.code));
      }
      refetch({ requestPolicy: 'network-only' });
    });
  };

  const memberships = data?.me?.memberships;
  return (
    <Stack gap="md">
      <Title order={2}>{t('shopper.clubs.title')}</Title>
      <Text>{t('shopper.clubs.intro')}</Text>
      {failure ? (
        <Text c="red.9" role="alert">
          {failure}
        </Text>
      ) : null}
      {!memberships ? (
        fetching ? (
          <Loading />
        ) : error ? (
          <LoadFailed />
        ) : null
      ) : memberships.length === 0 ? (
        <Text c="dimmed">{t('shopper.clubs.empty')}</Text>
      ) : (
        memberships.map((slug) => {
          const named = names.get(slug);
          const consent = consents.get(slug);
          return (
            <Card key={slug} withBorder padding="md" component="section" data-testid="club">
              <Group justify="space-between" wrap="wrap" gap="xs" mb="xs">
                <Title order={3} size="h4">
                  {named ? shopName(named, lang) : slug}
                </Title>
                {consent?.pending ? (
                  <Badge variant="outline" tt="none" color="indigo.9">
                    {t('shopper.clubs.pending')}
                  </Badge>
                ) : null}
              </Group>
              <Stack gap="sm">
                {(['partnerSharing', 'promotionalSms'] as const).map((field) => {
                  const key = `${slug}:${field}`;
                  return (
                    <Switch
                      key={field}
                      label={t(`shopper.clubs.${field}`)}
                      description={t(`shopper.clubs.${field}Hint`)}
                      checked={busy === key ? wanted : (consent?.[field] ?? false)}
                      disabled={busy !== null || !consent}
                      aria-busy={busy === key}
                      onChange={(event) => {
                        change(slug, field, event.currentTarget.checked);
                      }}
                    />
                  );
                })}
                {busy?.startsWith(`${slug}:`) ? (
                  <Text size="sm" role="status">
                    {t('shopper.clubs.saving')}
                  </Text>
                ) : null}
              </Stack>
            </Card>
          );
        })
      )}
    </Stack>
  );
}
