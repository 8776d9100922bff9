/**
 * Shops: the mall's directory — each shop's name, category, floor and unit, and which
 * network value it accepts — with a search that reads ي/ی and ك/ک (and a ZWNJ or a space)
 * alike, in either language's names.
 */
import { Badge, Card, Group, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { localDigits, matchesSearch } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { LoadFailed, Loading } from '../common';
import { shopName, useCategoryName } from '../../shared/shops';

export const ShopDirectory = graphql(`
  query ShopDirectory {
    directory {
      slug
      nameFa
      nameEn
      category
      floor
      unit
      acceptsPooledPoints
      acceptsGeneralCredit
    }
  }
`);

export function ShopsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const categoryName = useCategoryName();
  const [query, setQuery] = useState('');
  const [{ data, fetching, error }] = useQuery({ query: ShopDirectory });
  const shops = data?.directory;
  const found = (shops ?? [])
    .filter((shop) =>
      [shop.nameFa, shop.nameEn, categoryName(shop.category)].some((text) =>
        matchesSearch(text, query),
      ),
    )
    .sort((a, b) => shopName(a, lang).localeCompare(shopName(b, lang), lang));
  return (
    <Stack gap="md">
      <Title order={2}>{t('shopper.shops.title')}</Title>
      <TextInput
        type="search"
        label={t('shopper.shops.search')}
        placeholder={t('shopper.shops.searchHint')}
        leftSection={<IconSearch size={16} aria-hidden />}
        value={query}
        onChange={(event) => {
          setQuery(event.currentTarget.value);
        }}
      />
      {!shops ? (
        fetching ? (
          <Loading />
        ) : error ? (
          <LoadFailed />
        ) : null
      ) : found.length === 0 ? (
        <Text c="dimmed">{t('shopper.shops.none')}</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="sm" component="ul" p={0} m={0}>
          {found.map((shop) => (
            <Card key={shop.slug} withBorder padding="sm" component="li" data-testid="shop">
              <Text fw={700} component="h3" fz="lg" m={0}>
                {shopName(shop, lang)}
              </Text>
              <Text size="sm">{categoryName(shop.category)}</Text>
              {shop.floor || shop.unit ? (
                <Text size="sm" c="dimmed">
                  {shop.floor ? (
                    <>
                      {t('shopper.shops.floor')} <Bdi>{localDigits(shop.floor, lang)}</Bdi>
                    </>
                  ) : null}
                  {shop.floor && shop.unit ? ' · ' : null}
                  {shop.unit ? (
                    <>
                      {t('shopper.shops.unit')} <Bdi>{localDigits(shop.unit, lang)}</Bdi>
                    </>
                  ) : null}
                </Text>
              ) : null}
              <Group gap={6} mt="xs" wrap="wrap">
                {shop.acceptsPooledPoints ? (
                  <Badge variant="outline" tt="none" color="teal.9">
                    {t('shopper.shops.acceptsPooled')}
                  </Badge>
                ) : null}
                {shop.acceptsGeneralCredit ? (
                  <Badge variant="outline" tt="none" color="indigo.9">
                    {t('shopper.shops.acceptsCredit')}
                  </Badge>
                ) : null}
                {!shop.acceptsPooledPoints && !shop.acceptsGeneralCredit ? (
                  <Badge variant="outline" tt="none" color="gray.8">
                    {t('shopper.shops.acceptsNone')}
                  </Badge>
                ) : null}
              </Group>
            </Card>
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}
