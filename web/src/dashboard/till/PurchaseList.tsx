/**
 * The member's purchases here, newest first, each refundable in full or in part (what is
 * left of it): the refund id is made once per refund opened, so a retry refunds once.
 */
import {
  Button,
  Group,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { type SubmitEvent, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { TillPurchasesQuery } from '../../gql/node/graphql';
import {
  formatInteger,
  formatJalaliDateTime,
  formatToman,
  parseTomanInput,
} from '../../shared/format';
import { newTillKey } from '../../shared/format/shopper';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { type MemberView, ProblemAlert, problemCode } from './common';

const Purchases = graphql(`
  query TillPurchases($ref: MemberRefInput!, $first: Int!) {
    member(ref: $ref) {
      __typename
      ... on Member {
        id
        purchases(first: $first) {
          id
          receiptId
          occurredAt
          totalRial
          refundedRial
        }
      }
    }
  }
`);

const Refund = graphql(`
  mutation TillRefundPurchase($input: RefundPurchaseInput!) {
    refundPurchase(input: $input) {
      __typename
      ... on RefundRecorded {
        refund {
          refundId
          receiptId
          amountRial
          reversedPoints
          reversedCreditRial
          returnedCreditRial
          networkReturnedRial
        }
        member {
          ...TillMember
        }
      }
      ... on Problem {
        code
      }
    }
  }
`);

type Listed = Extract<TillPurchasesQuery['member'], { __typename: 'Member' }>['purchases'][number];
type Refunded = {
  amountRial: number;
  reversedPoints: number;
  reversedCreditRial: number;
  returnedCreditRial: number;
  networkReturnedRial: number;
};

const PAGE = 10;

function RefundForm(props: {
  purchase: Listed;
  shop: string;
  onDone: (refunded: Refunded, member: MemberView) => void;
  onCancel: () => void;
}) {
  const { t, i18n } = useTranslation();
  const left = props.purchase.totalRial - props.purchase.refundedRial;
  const [refundId] = useState(() => newTillKey(props.shop));
  const [amount, setAmount] = useState(formatToman(left, 'en').replace(/,/g, ''));
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, refund] = useMutation(Refund);
  const rial = parseTomanInput(amount);
  const bad = rial === null || rial <= 0n || rial > BigInt(left);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (bad) return;
    setProblem(null);
    const answer = await refund({
      input: {
        refundId,
        receiptId: props.purchase.receiptId,
        amountRial: Number(rial),
        reason: reason.trim() === '' ? null : reason.trim(),
      },
    });
    const result = answer.data?.refundPurchase;
    if (result?.__typename === 'RefundRecorded') {
      props.onDone(result.refund, result.member);
      return;
    }
    setProblem(result ? problemCode(result) : 'UNKNOWN');
  };

  return (
    <form onSubmit={(event) => void submit(event)} noValidate aria-labelledby="refund-title">
      <Stack gap="sm">
        <Text fw={600} id="refund-title">
          <Trans
            i18nKey="till.refund.of"
            values={{
              receipt: props.purchase.receiptId,
              rest: formatToman(left, i18n.language),
            }}
            components={{ bdi: <bdi dir="ltr" /> }}
          />
        </Text>
        <Group gap="sm" align="end" wrap="wrap">
          <TextInput
            label={t('till.refund.amount')}
            value={amount}
            onChange={(event) => {
              setAmount(event.currentTarget.value);
            }}
            error={bad ? t('till.refund.amountInvalid') : undefined}
            inputMode="decimal"
            dir="ltr"
            autoComplete="off"
            data-autofocus
            data-testid="refund-amount"
          />
          <TextInput
            label={t('till.refund.reason')}
            value={reason}
            onChange={(event) => {
              setReason(event.currentTarget.value);
            }}
            autoComplete="off"
            style={{ flexGrow: 1 }}
          />
        </Group>
        <ProblemAlert code={problem} />
        <Group gap="sm">
          <Button type="submit" color="red.9" loading={fetching}>
            {t('till.refund.submit')}
          </Button>
          <Button variant="default" onClick={props.onCancel}>
            {t('till.cancel')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function PurchaseList(props: {
  member: MemberView;
  shop: string;
  onMember: (member: MemberView) => void;
}) {
  const { t, i18n } = useTranslation();
  const [refunding, setRefunding] = useState<Listed | null>(null);
  const [done, setDone] = useState<Refunded | null>(null);
  const [{ data, fetching }, reread] = useQuery({
    query: Purchases,
    variables: { ref: { phone: props.member.phone }, first: PAGE },
    requestPolicy: 'network-only',
  });
  const found = data?.member;
  const purchases = found?.__typename === 'Member' ? found.purchases : [];

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="purchases-title">
      <Stack gap="sm">
        <Title order={2} size="h4" id="purchases-title">
          {t('till.purchases.title')}
        </Title>
        {done ? (
          <Text size="sm" role="status" c="teal.9" data-testid="refund-done">
            <Trans
              i18nKey="till.refund.done"
              values={{
                amount: formatToman(done.amountRial, i18n.language),
                points: formatInteger(done.reversedPoints, i18n.language),
                credit: formatToman(done.reversedCreditRial, i18n.language),
              }}
              components={{ bdi: <bdi dir="ltr" /> }}
            />
            {done.returnedCreditRial > 0 ? (
              <>
                {' '}
                <Trans
                  i18nKey="till.refund.creditBack"
                  values={{ credit: formatToman(done.returnedCreditRial, i18n.language) }}
                  components={{ bdi: <bdi dir="ltr" /> }}
                />
              </>
            ) : null}
            {done.networkReturnedRial > 0 ? (
              <>
                {' '}
                <Trans
                  i18nKey="till.refund.networkBack"
                  values={{ value: formatToman(done.networkReturnedRial, i18n.language) }}
                  components={{ bdi: <bdi dir="ltr" /> }}
                />
              </>
            ) : null}
          </Text>
        ) : null}
        {purchases.length === 0 ? (
          <Text size="sm" c="dimmed">
            {fetching ? t('till.loading') : t('till.purchases.none')}
          </Text>
        ) : (
          <Table striped highlightOnHover verticalSpacing="xs" data-testid="purchase-list">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('till.purchases.when')}</Table.Th>
                <Table.Th>{t('till.purchases.receipt')}</Table.Th>
                <Table.Th>{t('till.purchases.total')}</Table.Th>
                <Table.Th>{t('till.purchases.refunded')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('till.purchases.actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {purchases.map((purchase) => (
                <Table.Tr key={purchase.id}>
                  <Table.Td>
                    <Bdi>{formatJalaliDateTime(purchase.occurredAt, i18n.language)}</Bdi>
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs">
                      <Bdi>{purchase.receiptId}</Bdi>
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Toman rial={purchase.totalRial} />
                  </Table.Td>
                  <Table.Td>
                    {purchase.refundedRial > 0 ? <Toman rial={purchase.refundedRial} /> : null}
                  </Table.Td>
                  <Table.Td>
                    {purchase.refundedRial < purchase.totalRial ? (
                      <Button
                        size="compact-sm"
                        variant="outline"
                        color="red.9"
                        onClick={() => {
                          setDone(null);
                          setRefunding(purchase);
                        }}
                        aria-label={t('till.refund.open', { receipt: purchase.receiptId })}
                      >
                        {t('till.refund.button')}
                      </Button>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {refunding ? (
          <RefundForm
            key={refunding.id}
            purchase={refunding}
            shop={props.shop}
            onCancel={() => {
              setRefunding(null);
            }}
            onDone={(refunded, member) => {
              setRefunding(null);
              setDone(refunded);
              props.onMember(member);
              reread({ requestPolicy: 'network-only' });
            }}
          />
        ) : null}
      </Stack>
    </Paper>
  );
}
