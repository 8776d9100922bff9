/**
 * Partnerships: every offer of the network a page at a time — its host, the shops (or
 * category) whose customers it welcomes, conditions and welcome reward, status, each
 * origin shop's opt-in and the shoppers introduced — and a map of who refers to whom:
 * a table of origin shops (rows) by host shops (columns), each cell the shoppers
 * introduced, marked when an opt-in between them stands.
 */
import { Badge, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatInteger, formatJalaliDate } from '../../shared/format';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { ScrollTable } from '../../shared/settlement/ScrollTable';
import { Count, HeadRow, NoAnswer, PAGE_SIZE, Pager, ProblemText } from '../overview/parts';
import { ReferralMatrix } from './ReferralMatrix';

const OfferPageQuery = graphql(`
  query ConsolePartnerOfferPage($first: Int!, $offset: Int!) {
    partnerOfferPage(first: $first, offset: $offset) {
      __typename
      ... on PartnerOfferPage {
        total
        items {
          referrals
          offer {
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
          optIns {
            originShop
            optedInAt
            withdrawnAt
          }
        }
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

export function PartnershipsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [offset, setOffset] = useState(0);
  const [{ data, fetching, error }] = useQuery({
    query: OfferPageQuery,
    variables: { first: PAGE_SIZE, offset },
  });
  const page = data?.partnerOfferPage;
  return (
    <Stack gap="md">
      <Title order={2}>{t('mallPartnerships.title')}</Title>
      <Title order={3} size="h4">
        {t('mallPartnerships.offers')}
      </Title>
      {!page ? (
        <NoAnswer fetching={fetching} failed={!!error} />
      ) : page.__typename !== 'PartnerOfferPage' ? (
        <ProblemText problem={page} />
      ) : page.total === 0 ? (
        <Text c="dimmed">{t('mallPartnerships.noOffers')}</Text>
      ) : (
        <>
          <ScrollTable minWidth={900} label={t('mallPartnerships.offers')}>
            <Table striped withTableBorder data-testid="offers" verticalSpacing="xs">
              <HeadRow
                columns={[
                  t('mallPartnerships.column.host'),
                  t('mallPartnerships.column.origin'),
                  t('mallPartnerships.column.conditions'),
                  t('mallPartnerships.column.welcome'),
                  t('mallPartnerships.column.status'),
                  t('mallPartnerships.column.optIns'),
                  t('mallPartnerships.column.referrals'),
                ]}
              />
              <Table.Tbody>
                {page.items.map(({ offer, optIns, referrals }) => (
                  <Table.Tr key={offer.id}>
                    <Table.Td>
                      <Bdi>{offer.hostShop}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      {offer.originShops.length > 0 ? (
                        <Bdi>{offer.originShops.join(', ')}</Bdi>
                      ) : offer.originCategory ? (
                        t('mallPartnerships.category', {
                          category: t(`shopper.category.${offer.originCategory}`, {
                            defaultValue: offer.originCategory,
                          }),
                        })
                      ) : (
                        t('mallPartnerships.anyShop')
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Stack gap={2}>
                        {offer.minPurchaseRial > 0 ? (
                          <Text size="sm">
                            {t('mallPartnerships.minPurchase')} <Toman rial={offer.minPurchaseRial} />
                          </Text>
                        ) : null}
                        {offer.firstPurchaseOnly ? (
                          <Text size="sm">{t('mallPartnerships.firstPurchaseOnly')}</Text>
                        ) : null}
                        {offer.monthlyCap != null ? (
                          <Text size="sm">
                            {t('mallPartnerships.monthlyCap', { n: formatInteger(offer.monthlyCap, lang) })}
                          </Text>
                        ) : null}
                      </Stack>
                    </Table.Td>
                    <Table.Td>
                      <Stack gap={2}>
                        {offer.welcomePoints > 0 ? (
                          <Text size="sm">
                            {t('mallPartnerships.points', { n: formatInteger(offer.welcomePoints, lang) })}
                          </Text>
                        ) : null}
                        {offer.welcomeCreditRial > 0 ? (
                          <Text size="sm">
                            <Toman rial={offer.welcomeCreditRial} />
                          </Text>
                        ) : null}
                      </Stack>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="outline" tt="none" color={offer.status === 'active' ? 'teal.9' : 'gray.8'}>
                        {t(offer.status === 'active' ? 'mallPartnerships.active' : 'mallPartnerships.withdrawn')}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {optIns.length === 0 ? (
                        t('mallPartnerships.noOptIns')
                      ) : (
                        <Group gap={4}>
                          {optIns.map((optIn) => (
                            <Badge
                              key={optIn.originShop}
                              variant="outline"
                              tt="none"
                              color={optIn.withdrawnAt ? 'gray.8' : 'teal.9'}
                              title={
                                optIn.withdrawnAt
                                  ? t('mallPartnerships.optInWithdrawn', {
                                      when: formatJalaliDate(optIn.withdrawnAt, lang, 'medium'),
                                    })
                                  : t('mallPartnerships.optInSince', {
                                      when: formatJalaliDate(optIn.optedInAt, lang, 'medium'),
                                    })
                              }
                            >
                              <Bdi>{optIn.originShop}</Bdi>
                              {optIn.withdrawnAt ? ` (${t('mallPartnerships.withdrawn')})` : null}
                            </Badge>
                          ))}
                        </Group>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Count value={referrals} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
          <Pager total={page.total} offset={offset} onOffset={setOffset} />
        </>
      )}
      <ReferralMatrix />
    </Stack>
  );
}
