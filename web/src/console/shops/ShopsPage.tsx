/**
 * Shops: the registry a page at a time (search in slug and names), registering a shop
 * (its node's client secret is shown once, with the command that connects the node),
 * suspending and reactivating, and the details the shopper app's directory shows
 * (names, category, floor, unit).
 */
import { Badge, Button, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { shopName, useCategoryName } from '../../shared/shops';
import { graphql } from '../../gql/hub';
import { localDigits } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { Dialog, DialogForm, HeadRow, NoAnswer, PAGE_SIZE, Pager, ProblemText, type Problem } from '../overview/parts';
import { RegisterShop } from './RegisterShop';
import { ShopDetails, type ShopRow } from './ShopDetails';

const ShopPageQuery = graphql(`
  query ConsoleShopPage($first: Int!, $offset: Int!, $search: String) {
    shopPage(first: $first, offset: $offset, search: $search) {
      __typename
      ... on ShopPage {
        total
        items {
          slug
          nameFa
          nameEn
          category
          floor
          unit
          nodeUrl
          status
          createdAt
        }
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

const SuspendShop = graphql(`
  mutation ConsoleSuspendShop($slug: String!) {
    suspendShop(slug: $slug) {
      __typename
      ... on Shop {
        slug
        status
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

const ReactivateShop = graphql(`
  mutation ConsoleReactivateShop($slug: String!) {
    reactivateShop(slug: $slug) {
      __typename
      ... on Shop {
        slug
        status
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

type ShopDialog = { kind: 'register' } | { kind: 'details' | 'status'; shop: ShopRow };

/** Suspend or reactivate, after the person confirms. */
function StatusChange({ shop, onClose }: { shop: ShopRow; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const [suspending, suspend] = useMutation(SuspendShop);
  const [reactivating, reactivate] = useMutation(ReactivateShop);
  const [problem, setProblem] = useState<Problem | null>(null);
  const toSuspend = shop.status === 'active';
  const name = shopName(shop, i18n.language);
  async function confirm() {
    const result = toSuspend
      ? (await suspend({ slug: shop.slug })).data?.suspendShop
      : (await reactivate({ slug: shop.slug })).data?.reactivateShop;
    if (!result) setProblem({ code: 'UNKNOWN' });
    else if (result.__typename !== 'Shop') setProblem(result);
    else onClose();
  }
  return (
    <Dialog
      onClose={onClose}
      title={t(toSuspend ? 'mallShops.suspend.title' : 'mallShops.reactivate.title', { name })}
    >
      <DialogForm
        onSubmit={() => void confirm()}
        onCancel={onClose}
        submitLabel={t(toSuspend ? 'mallShops.suspend.confirm' : 'mallShops.reactivate.confirm')}
        fetching={suspending.fetching || reactivating.fetching}
        problem={problem}
        danger={toSuspend}
      >
        <Text>{t(toSuspend ? 'mallShops.suspend.explain' : 'mallShops.reactivate.explain')}</Text>
      </DialogForm>
    </Dialog>
  );
}

export function ShopsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const categoryName = useCategoryName();
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [dialog, setDialog] = useState<ShopDialog | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: ShopPageQuery,
    variables: { first: PAGE_SIZE, offset, search: search.trim() || null },
  });
  const page = data?.shopPage;
  const closeDialog = () => {
    setDialog(null);
    refetch({ requestPolicy: 'network-only' });
  };
  return (
    <Stack gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>{t('mallShops.title')}</Title>
        <Button
          onClick={() => {
            setDialog({ kind: 'register' });
          }}
        >
          {t('mallShops.register.open')}
        </Button>
      </Group>
      <TextInput
        type="search"
        label={t('mallShops.search')}
        leftSection={<IconSearch size={16} aria-hidden />}
        value={search}
        maw={420}
        onChange={(event) => {
          setSearch(event.currentTarget.value);
          setOffset(0);
        }}
      />
      {!page ? (
        <NoAnswer fetching={fetching} failed={!!error} />
      ) : page.__typename !== 'ShopPage' ? (
        <ProblemText problem={page} />
      ) : page.total === 0 ? (
        <Text c="dimmed">{t('mallShops.none')}</Text>
      ) : (
        <>
          <ScrollTable minWidth={720} label={t('mallShops.title')}>
            <Table striped withTableBorder data-testid="shops">
              <HeadRow
                columns={[
                  t('mallShops.column.shop'),
                  t('mallShops.column.category'),
                  t('mallShops.column.place'),
                  t('mallShops.column.status'),
                  t('mallOverview.common.actions'),
                ]}
              />
              <Table.Tbody>
                {page.items.map((shop) => (
                  <Table.Tr key={shop.slug} data-testid={`shop-${shop.slug}`}>
                    <Table.Td>
                      <Text fw={600} size="sm">
                        {shopName(shop, lang)}
                      </Text>
                      <Text size="xs" c="dimmed">
                        <Bdi>{shop.slug}</Bdi>
                      </Text>
                    </Table.Td>
                    <Table.Td>{categoryName(shop.category)}</Table.Td>
                    <Table.Td>
                      {shop.floor || shop.unit
                        ? t('mallShops.place', {
                            floor: localDigits(shop.floor ?? '–', lang),
                            unit: localDigits(shop.unit ?? '–', lang),
                          })
                        : '–'}
                    </Table.Td>
                    <Table.Td>
                      <Badge
                        variant="outline"
                        tt="none"
                        color={shop.status === 'active' ? 'teal.9' : 'red.9'}
                        data-testid="status"
                      >
                        {t(shop.status === 'active' ? 'mallShops.active' : 'mallShops.suspended')}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Button
                          size="xs"
                          variant="default"
                          onClick={() => {
                            setDialog({ kind: 'details', shop });
                          }}
                          aria-label={t('mallShops.edit.label', { name: shopName(shop, lang) })}
                        >
                          {t('mallShops.edit.open')}
                        </Button>
                        <Button
                          size="xs"
                          variant="outline"
                          color={shop.status === 'active' ? 'red.9' : 'teal.9'}
                          onClick={() => {
                            setDialog({ kind: 'status', shop });
                          }}
                        >
                          {t(shop.status === 'active' ? 'mallShops.suspend.open' : 'mallShops.reactivate.open')}
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          <Pager total={page.total} offset={offset} onOffset={setOffset} />
        </>
      )}
      {dialog?.kind === 'register' ? <RegisterShop onClose={closeDialog} /> : null}
      {dialog?.kind === 'details' ? <ShopDetails shop={dialog.shop} onClose={closeDialog} /> : null}
      {dialog?.kind === 'status' ? <StatusChange shop={dialog.shop} onClose={closeDialog} /> : null}
    </Stack>
  );
}
