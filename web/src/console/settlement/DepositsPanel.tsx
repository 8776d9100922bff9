/**
 * Shops' prepaid balances with the settlement fund (prepaid funding) and recording money a
 * shop paid in: idempotent on the bank's reference, so the same transfer entered twice
 * counts once. A balance below zero means value was issued on credit (flagged).
 */
import { Badge, Button, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { type SubmitEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatToman, parseTomanInput, rialForApi } from '../../shared/format';
import { Toman } from '../../shared/ui/Bdi';
import { ProblemAlert, problemCode, useShops } from './common';

const Accounts = graphql(`
  query MallPrepaidAccounts {
    prepaidAccounts {
      shop
      balanceRial
    }
  }
`);

const Deposit = graphql(`
  mutation MallRecordPrepayment($shop: String!, $amountRial: Rial!, $reference: String!) {
    recordPrepayment(shop: $shop, amountRial: $amountRial, reference: $reference) {
      __typename
      ... on PrepaidAccount {
        shop
        balanceRial
      }
      ... on HubProblem {
        code
      }
    }
  }
`);

function DepositForm({ onDone }: { onDone: (text: string) => void }) {
  const { t, i18n } = useTranslation();
  const { shops, nameOf } = useShops();
  const [shop, setShop] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [reference, setReference] = useState('');
  const [tried, setTried] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, deposit] = useMutation(Deposit);
  const rial = parseTomanInput(amount);
  const badAmount = rial === null || rial <= 0n || rial > BigInt(Number.MAX_SAFE_INTEGER);
  const badReference = reference.trim() === '';

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setTried(true);
    if (shop === null || rial === null || badAmount || badReference) return;
    setProblem(null);
    const answer = await deposit({ shop, amountRial: rialForApi(rial), reference: reference.trim() });
    const result = answer.data?.recordPrepayment;
    if (result?.__typename === 'PrepaidAccount') {
      onDone(
        t('mallSettlement.deposits.done', {
          shop: nameOf(result.shop),
          balance: formatToman(result.balanceRial, i18n.language),
        }),
      );
      return;
    }
    setProblem(result ? problemCode(result) : 'UNKNOWN');
  };

  return (
    <form onSubmit={(event) => void submit(event)} noValidate aria-labelledby="deposit-title">
      <Stack gap="sm" maw={560}>
        <Title order={4} size="h5" id="deposit-title">
          {t('mallSettlement.deposits.record')}
        </Title>
        <Select
          label={t('mallSettlement.deposits.shop')}
          data={shops.map((s) => ({ value: s.slug, label: nameOf(s.slug) }))}
          value={shop}
          onChange={setShop}
          searchable
          error={tried && shop === null ? t('mallSettlement.deposits.shopMissing') : undefined}
          required
        />
        <TextInput
          label={t('mallSettlement.deposits.amount')}
          value={amount}
          onChange={(event) => {
            setAmount(event.currentTarget.value);
          }}
          error={tried && badAmount ? t('mallSettlement.deposits.amountInvalid') : undefined}
          inputMode="decimal"
          dir="ltr"
          autoComplete="off"
          required
        />
        <TextInput
          label={t('mallSettlement.deposits.reference')}
          description={t('mallSettlement.deposits.referenceHint')}
          value={reference}
          onChange={(event) => {
            setReference(event.currentTarget.value);
          }}
          error={tried && badReference ? t('mallSettlement.deposits.referenceMissing') : undefined}
          dir="ltr"
          autoComplete="off"
          required
        />
        <ProblemAlert code={problem} />
        <Group>
          <Button type="submit" loading={fetching}>
            {t('mallSettlement.deposits.submit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function DepositsPanel() {
  const { t } = useTranslation();
  const { nameOf } = useShops();
  const [round, setRound] = useState(0);
  const [done, setDone] = useState<string | null>(null);
  const [{ data, fetching }, reread] = useQuery({ query: Accounts, requestPolicy: 'network-only' });
  const accounts = data?.prepaidAccounts ?? [];
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="deposits-title">
      <Stack gap="md">
        <Title order={3} size="h4" id="deposits-title">
          {t('mallSettlement.deposits.title')}
        </Title>
        {accounts.length === 0 ? (
          <Text c="dimmed">
            {fetching ? t('mallSettlement.loading') : t('mallSettlement.deposits.none')}
          </Text>
        ) : (
          <Table striped data-testid="prepaid-accounts">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('mallSettlement.deposits.shop')}</Table.Th>
                <Table.Th>{t('mallSettlement.deposits.balance')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {accounts.map((a) => (
                <Table.Tr key={a.shop}>
                  <Table.Td>{nameOf(a.shop)}</Table.Td>
                  <Table.Td>
                    <Group gap="xs">
                      <Toman rial={a.balanceRial} />
                      {a.balanceRial < 0 ? (
                        <Badge color="red.9">{t('mallSettlement.deposits.onCredit')}</Badge>
                      ) : null}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {done ? (
          <Text size="sm" c="teal.9" role="status" data-testid="deposit-done">
            {done}
          </Text>
        ) : null}
        <DepositForm
          key={round}
          onDone={(text) => {
            setDone(text);
            setRound(round + 1);
            reread({ requestPolicy: 'network-only' });
          }}
        />
      </Stack>
    </Paper>
  );
}
