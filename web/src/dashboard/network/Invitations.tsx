/**
 * The mall's joint campaigns and lotteries as this shop sees them: invitations to answer
 * (accept or decline, final once given), and the lotteries with their winners, where the
 * shop records handing a prize over to the winner who shows her entrant id.
 */
import { Badge, Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { Bdi, Code } from '../../shared/ui/Bdi';
import { ProblemAlert } from '../till/common';
import { refusal } from './answer';

const Invited = graphql(`
  query ShopInvitations {
    invitations {
      id
      kind
      nameFa
      shop
      status
    }
    lotteries {
      id
      nameFa
      nameEn
      status
      drawAt
      commitment
      winners {
        place
        entrantId
        prizeFa
        sponsor
        claimedByShop
      }
    }
  }
`);

const Respond = graphql(`
  mutation RespondToInvitation($id: String!, $accept: Boolean!) {
    respondToInvitation(id: $id, accept: $accept) {
      __typename
      ... on CampaignInvitation {
        id
        status
      }
      ... on HubAnswer {
        code
      }
    }
  }
`);

const Claim = graphql(`
  mutation RecordPrizeClaim($lotteryId: String!, $place: Int!) {
    recordPrizeClaim(lotteryId: $lotteryId, place: $place) {
      __typename
      ... on PrizeClaim {
        lotteryId
        place
      }
      ... on HubAnswer {
        code
      }
    }
  }
`);

export function Invitations() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [{ data, fetching }, reload] = useQuery({ query: Invited });
  const [responding, respond] = useMutation(Respond);
  const [claiming, claim] = useMutation(Claim);
  const [problem, setProblem] = useState<string | null>(null);
  const after = (answer: Parameters<typeof refusal>[0], failed: boolean) => {
    const refused = refusal(answer, failed);
    setProblem(refused);
    if (refused === null) reload({ requestPolicy: 'network-only' });
  };
  const invitations = data?.invitations ?? [];
  const lotteries = data?.lotteries ?? [];
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t('shopNetwork.invitations.title')}
        </Title>
        {fetching && !data ? <Text role="status">{t('shopNetwork.loading')}</Text> : null}
        {data && invitations.length === 0 ? (
          <Text size="sm">{t('shopNetwork.invitations.none')}</Text>
        ) : null}
        {invitations.length ? (
          <Table.ScrollContainer minWidth={600}>
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('shopNetwork.invitations.name')}</Table.Th>
                  <Table.Th>{t('shopNetwork.invitations.kind')}</Table.Th>
                  <Table.Th>{t('shopNetwork.invitations.status')}</Table.Th>
                  <Table.Th>{t('shopNetwork.invitations.answer')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {invitations.map((inv) => (
                  <Table.Tr key={inv.id} data-testid="invitation">
                    <Table.Td>
                      <Bdi dir="auto">{inv.nameFa}</Bdi>
                    </Table.Td>
                    <Table.Td>
                      {t(inv.kind === 'lottery' ? 'shopNetwork.invitations.lottery' : 'shopNetwork.invitations.campaign')}
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light">
                        {t(
                          inv.status === 'accepted'
                            ? 'shopNetwork.invitations.accepted'
                            : inv.status === 'declined'
                              ? 'shopNetwork.invitations.declined'
                              : 'shopNetwork.invitations.invited',
                        )}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      {inv.status === 'invited' ? (
                        <Group gap="xs">
                          {[true, false].map((accept) => (
                            <Button
                              key={String(accept)}
                              size="compact-sm"
                              variant={accept ? 'filled' : 'light'}
                              loading={responding.fetching}
                              onClick={() => {
                                setProblem(null);
                                void respond({ id: inv.id, accept }).then((r) => {
                                  after(r.data?.respondToInvitation, !!r.error);
                                });
                              }}
                            >
                              {t(accept ? 'shopNetwork.invitations.accept' : 'shopNetwork.invitations.decline')}
                            </Button>
                          ))}
                        </Group>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ) : null}
        <Title order={3} size="h4">
          {t('shopNetwork.lotteries.title')}
        </Title>
        {data && lotteries.length === 0 ? (
          <Text size="sm">{t('shopNetwork.lotteries.none')}</Text>
        ) : null}
        {lotteries.map((lottery) => (
          <Card key={lottery.id} withBorder padding="md" data-testid="lottery">
            <Stack gap="xs">
              <Group justify="space-between" wrap="wrap">
                <Text fw={700}>{lang === 'fa' ? lottery.nameFa : lottery.nameEn}</Text>
                <Text size="sm" c="dimmed">
                  {t('shopNetwork.lotteries.drawAt', { when: formatJalaliDateTime(lottery.drawAt, lang) })}
                </Text>
              </Group>
              {lottery.winners.length === 0 ? (
                <Text size="sm">{t('shopNetwork.lotteries.notDrawn')}</Text>
              ) : (
                <Table.ScrollContainer minWidth={560}>
                  <Table>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>{t('shopNetwork.lotteries.place')}</Table.Th>
                        <Table.Th>{t('shopNetwork.lotteries.entrant')}</Table.Th>
                        <Table.Th>{t('shopNetwork.lotteries.prize')}</Table.Th>
                        <Table.Th>{t('shopNetwork.lotteries.handOver')}</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {lottery.winners.map((w) => (
                        <Table.Tr key={w.place}>
                          <Table.Td>{formatInteger(w.place, lang)}</Table.Td>
                          <Table.Td>
                            <Code value={w.entrantId} />
                          </Table.Td>
                          <Table.Td>
                            <Bdi dir="auto">{w.prizeFa}</Bdi>
                          </Table.Td>
                          <Table.Td>
                            {w.claimedByShop ? (
                              t('shopNetwork.lotteries.handedBy', { shop: w.claimedByShop })
                            ) : (
                              <Button
                                size="compact-sm"
                                variant="light"
                                loading={claiming.fetching}
                                onClick={() => {
                                  setProblem(null);
                                  void claim({ lotteryId: lottery.id, place: w.place }).then((r) => {
                                    after(r.data?.recordPrizeClaim, !!r.error);
                                  });
                                }}
                              >
                                {t('shopNetwork.lotteries.record')}
                              </Button>
                            )}
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Stack>
          </Card>
        ))}
        <ProblemAlert code={problem} />
      </Stack>
    </Card>
  );
}
