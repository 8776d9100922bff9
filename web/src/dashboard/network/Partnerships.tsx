/**
 * Partnerships: the offers shops publish to welcome each other's shoppers (a shopper of
 * the origin shops who buys enough is enrolled here with a welcome gift), this shop's own
 * and the others' it may opt in to, and a form to publish a new one.
 */
import {
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  NativeSelect,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import {
  formatInteger,
  normalizeDigits,
  parseTomanInput,
  rialForApi,
} from '../../shared/format';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { ProblemAlert } from '../till/common';
import { refusal } from './answer';
import { CATEGORIES } from '../../shared/shops';

const Offers = graphql(`
  query PartnerOffers {
    partnerOffers {
      id
      hostShop
      originShops
      originCategory
      minPurchaseRial
      firstPurchaseOnly
      monthlyCap
      welcomePoints
      welcomeCreditRial
      status
    }
    serverInfo {
      shop
    }
  }
`);

const Publish = graphql(`
  mutation PublishPartnerOffer($input: PartnerOfferInput!) {
    publishPartnerOffer(input: $input) {
      __typename
      ... on PartnerOffer {
        id
      }
      ... on HubAnswer {
        code
      }
    }
  }
`);

const OptIn = graphql(`
  mutation OptInToPartnerOffer($offerId: String!) {
    optInToPartnerOffer(offerId: $offerId) {
      __typename
      ... on PartnerOffer {
        id
        status
      }
      ... on HubAnswer {
        code
      }
    }
  }
`);

interface Draft {
  originShops: string;
  category: string;
  minPurchase: string;
  firstOnly: boolean;
  cap: string;
  points: string;
  credit: string;
}

const EMPTY: Draft = {
  originShops: '',
  category: '',
  minPurchase: '0',
  firstOnly: false,
  cap: '',
  points: '0',
  credit: '0',
};

function wholeOf(text: string): number | null {
  const plain = normalizeDigits(text.trim());
  return /^\d{1,9}$/.test(plain) ? Number(plain) : null;
}

function PublishForm({ onPublished }: { onPublished: () => void }) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [state, publish] = useMutation(Publish);
  const field = (key: keyof Draft) => ({
    value: String(draft[key]),
    error: errors[key] ? t(errors[key] as never) : null,
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => {
      setDraft({ ...draft, [key]: e.currentTarget.value });
    },
  });
  const submit = () => {
    setProblem(null);
    const wrong: Partial<Record<keyof Draft, string>> = {};
    const min = parseTomanInput(draft.minPurchase || '0');
    if (min === null) wrong.minPurchase = 'shopNetwork.issuance.badToman';
    const credit = parseTomanInput(draft.credit || '0');
    if (credit === null) wrong.credit = 'shopNetwork.issuance.badToman';
    const points = wholeOf(draft.points || '0');
    if (points === null) wrong.points = 'shopNetwork.offers.badWhole';
    const cap = draft.cap.trim() ? wholeOf(draft.cap) : null;
    if (draft.cap.trim() && cap === null) wrong.cap = 'shopNetwork.offers.badWhole';
    const shops = draft.originShops
      .split(/[\s,،]+/)
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    if (!shops.length && !draft.category) wrong.originShops = 'shopNetwork.offers.needOrigin';
    if (shops.length && draft.category) wrong.originShops = 'shopNetwork.offers.oneOrigin';
    if (points === 0 && credit === 0n) wrong.points = 'shopNetwork.offers.needGift';
    setErrors(wrong);
    if (Object.keys(wrong).length || min === null || credit === null || points === null) return;
    void publish({
      input: {
        originShops: shops,
        originCategory: draft.category || null,
        minPurchaseRial: rialForApi(min),
        firstPurchaseOnly: draft.firstOnly,
        monthlyCap: cap,
        welcomePoints: points,
        welcomeCreditRial: rialForApi(credit),
      },
    }).then((result) => {
      const refused = refusal(result.data?.publishPartnerOffer, !!result.error);
      setProblem(refused);
      if (refused === null) {
        setDraft(EMPTY);
        onPublished();
      }
    });
  };
  return (
    <Stack gap="sm">
      <Title order={4} size="h5">
        {t('shopNetwork.offers.publish')}
      </Title>
      <Group grow align="flex-start" wrap="wrap">
        <TextInput
          label={t('shopNetwork.offers.originShops')}
          description={t('shopNetwork.offers.originShopsHint')}
          {...field('originShops')}
        />
        <NativeSelect
          label={t('shopNetwork.offers.originCategory')}
          value={draft.category}
          onChange={(e) => {
            setDraft({ ...draft, category: e.currentTarget.value });
          }}
          data={[
            { value: '', label: t('shopNetwork.offers.anyCategory') },
            ...CATEGORIES.map((c) => ({ value: c, label: t(`shopper.category.${c}`) })),
          ]}
        />
      </Group>
      <Group grow align="flex-start" wrap="wrap">
        <TextInput
          label={t('shopNetwork.offers.minPurchase')}
          inputMode="decimal"
          {...field('minPurchase')}
        />
        <TextInput label={t('shopNetwork.offers.points')} inputMode="numeric" {...field('points')} />
        <TextInput label={t('shopNetwork.offers.credit')} inputMode="decimal" {...field('credit')} />
        <TextInput label={t('shopNetwork.offers.cap')} inputMode="numeric" {...field('cap')} />
      </Group>
      <Checkbox
        label={t('shopNetwork.offers.firstOnly')}
        checked={draft.firstOnly}
        onChange={(e) => {
          setDraft({ ...draft, firstOnly: e.currentTarget.checked });
        }}
      />
      <Group>
        <Button onClick={submit} loading={state.fetching}>
          {t('shopNetwork.offers.publishButton')}
        </Button>
      </Group>
      <ProblemAlert code={problem} />
    </Stack>
  );
}

export function Partnerships() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [{ data, fetching }, reload] = useQuery({ query: Offers });
  const [joining, optIn] = useMutation(OptIn);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => {
    reload({ requestPolicy: 'network-only' });
  };
  const shop = data?.serverInfo.shop;
  const offers = data?.partnerOffers ?? [];
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t('shopNetwork.offers.title')}
        </Title>
        {fetching && !data ? <Text role="status">{t('shopNetwork.loading')}</Text> : null}
        {data && offers.length === 0 ? <Text size="sm">{t('shopNetwork.offers.none')}</Text> : null}
        {offers.length ? (
          <Table.ScrollContainer minWidth={700}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('shopNetwork.offers.host')}</Table.Th>
                  <Table.Th>{t('shopNetwork.offers.origin')}</Table.Th>
                  <Table.Th>{t('shopNetwork.offers.minPurchase')}</Table.Th>
                  <Table.Th>{t('shopNetwork.offers.gift')}</Table.Th>
                  <Table.Th>{t('shopNetwork.offers.status')}</Table.Th>
                  <Table.Th>{t('shopNetwork.offers.action')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {offers.map((offer) => (
                  <Table.Tr key={offer.id} data-testid="partner-offer">
                    <Table.Td>
                      <Bdi>{offer.hostShop}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      {offer.originCategory ? (
                        t(`shopper.category.${offer.originCategory}` as never)
                      ) : (
                        <Bdi>{offer.originShops.join(', ')}</Bdi>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Toman rial={offer.minPurchaseRial} />
                    </Table.Td>
                    <Table.Td>
                      {t('shopNetwork.offers.giftValue', {
                        points: formatInteger(offer.welcomePoints, lang),
                      })}{' '}
                      + <Toman rial={offer.welcomeCreditRial} />
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light">
                        {t(offer.status === 'active' ? 'shopNetwork.offers.active' : 'shopNetwork.offers.withdrawn')}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {offer.hostShop !== shop ? (
                        <Button
                          size="compact-sm"
                          variant="light"
                          loading={joining.fetching}
                          onClick={() => {
                            setProblem(null);
                            void optIn({ offerId: offer.id }).then((result) => {
                              const refused = refusal(result.data?.optInToPartnerOffer, !!result.error);
                              setProblem(refused);
                              if (refused === null) refresh();
                            });
                          }}
                        >
                          {t('shopNetwork.offers.optIn')}
                        </Button>
                      ) : (
                        <Text size="sm">{t('shopNetwork.offers.ours')}</Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ) : null}
        <ProblemAlert code={problem} />
        <PublishForm onPublished={refresh} />
      </Stack>
    </Card>
  );
}
