/**
 * A sale at the till, keyboard first: the amount has the focus when the member is found;
 * Enter shows what the member will earn (the node's purchasePreview: the same arithmetic
 * recordPurchase uses); Enter again records it. A simple sale is one line of the default
 * product group; more lines, credit and network value are there when needed.
 *
 * The receipt id is made once per sale and sent again on every retry, so a sale is
 * recorded once whatever happens to the network.
 */
import {
  ActionIcon,
  Button,
  Divider,
  Group,
  Paper,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { type SubmitEvent, useEffect, useRef, useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { useClient, useMutation } from 'urql';

import { graphql } from '../../gql/node';
import type { PurchasePreviewQuery, TillRecordPurchaseMutation } from '../../gql/node/graphql';
import { formatInteger, formatToman } from '../../shared/format';
import { newTillKey } from '../../shared/format/shopper';
import { Bdi, Toman } from '../../shared/ui/Bdi';
import { type MemberView, ProblemAlert, problemCode, useLocalName } from './common';
import { type LineDraft, readBasket, readCredit } from './basket';
import { type Hold, NetworkValue } from './NetworkValue';

const PreviewPurchase = graphql(`
  query PurchasePreview(
    $ref: MemberRefInput!
    $totalRial: Rial!
    $lines: [PurchaseLineInput!]!
    $creditToSpendRial: Rial!
    $networkRial: Rial!
  ) {
    purchasePreview(
      ref: $ref
      totalRial: $totalRial
      lines: $lines
      creditToSpendRial: $creditToSpendRial
      networkRial: $networkRial
    ) {
      __typename
      ... on PurchasePreview {
        tier {
          code
          nameFa
          nameEn
        }
        visitNumber
        earnedPoints
        earnedCreditRial
        frequencyPoints
        frequencyCreditRial
        totalPoints
        totalCreditRial
        availableCreditRial
        spendableRial
      }
      ... on Problem {
        code
      }
    }
  }
`);

const RecordPurchase = graphql(`
  mutation TillRecordPurchase($input: RecordPurchaseInput!) {
    recordPurchase(input: $input) {
      __typename
      ... on PurchaseRecorded {
        replayed
        purchase {
          id
          receiptId
          totalRial
          creditSpentRial
          networkPaidRial
          occurredAt
          earnedPoints
          earnedCreditRial
          frequencyPoints
          frequencyCreditRial
          tierCode
          lines {
            productGroup
            amountRial
          }
        }
        member {
          ...TillMember
        }
      }
      ... on NetworkValueProblem {
        localValueOnly
      }
      ... on Problem {
        code
      }
    }
  }
`);

const VoidHold = graphql(`
  mutation TillVoidNetworkHold($holdId: String!) {
    voidNetworkHold(holdId: $holdId) {
      __typename
    }
  }
`);

type PreviewData = Extract<
  PurchasePreviewQuery['purchasePreview'],
  { __typename: 'PurchasePreview' }
>;
export type Recorded = Extract<
  TillRecordPurchaseMutation['recordPurchase'],
  { __typename: 'PurchaseRecorded' }
>;

export interface ProductGroupView {
  code: string;
  nameFa: string;
  nameEn: string;
}

let nextLineKey = 1;

function newLine(group: string): LineDraft {
  nextLineKey += 1;
  return { key: nextLineKey, group, amount: '' };
}

export function SaleForm(props: {
  member: MemberView;
  shop: string;
  groups: ProductGroupView[];
  onRecorded: (recorded: Recorded) => void;
  onCancel: () => void;
}) {
  const { t, i18n } = useTranslation();
  const localName = useLocalName();
  const client = useClient();
  const defaultGroup = props.groups[0]?.code ?? '';
  const [receiptId] = useState(() => newTillKey(props.shop));
  const [lines, setLines] = useState<LineDraft[]>(() => [newLine(defaultGroup)]);
  const [credit, setCredit] = useState('');
  const [hold, setHold] = useState<Hold | null>(null);
  const [preview, setPreview] = useState<{ key: string; data: PreviewData } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [checked, setChecked] = useState(false);
  const [previewing, setPreviewing] = useState(false);
  const [{ fetching: recording }, record] = useMutation(RecordPurchase);
  const [{ fetching: releasing }, voidHold] = useMutation(VoidHold);
  const amountInput = useRef<HTMLInputElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const openHold = useRef<string | null>(null);

  useEffect(() => {
    amountInput.current?.focus();
  }, []);
  // A hold the sale never used is released when the till moves on (abandoned sale).
  useEffect(() => {
    openHold.current = hold?.id ?? null;
  }, [hold]);
  useEffect(
    () => () => {
      if (openHold.current) void voidHold({ holdId: openHold.current });
    },
    [voidHold],
  );

  const basket = readBasket(lines);
  const creditRial = readCredit(credit);
  const due = basket && creditRial !== null ? basket.totalRial - creditRial : null;
  const networkRial = hold && due !== null ? Math.max(0, Math.min(hold.heldRial, due)) : 0;
  const basketKey = JSON.stringify([basket, creditRial, networkRial]);
  const current = preview?.key === basketKey ? preview.data : null;

  useEffect(() => {
    if (current) confirmButton.current?.focus();
  }, [current]);

  const ref = { phone: props.member.phone };

  const showPreview = async () => {
    if (!basket || creditRial === null) return;
    setPreviewing(true);
    try {
      const answer = await client
        .query(
          PreviewPurchase,
          {
            ref,
            totalRial: basket.totalRial,
            lines: basket.lines,
            creditToSpendRial: creditRial,
            networkRial,
          },
          { requestPolicy: 'network-only' },
        )
        .toPromise();
      const result = answer.data?.purchasePreview;
      if (result?.__typename === 'PurchasePreview') {
        setPreview({ key: basketKey, data: result });
      } else {
        setProblem(result ? problemCode(result) : 'UNKNOWN');
      }
    } finally {
      setPreviewing(false);
    }
  };

  const confirm = async () => {
    if (!basket || creditRial === null || !current) return;
    setProblem(null);
    const answer = await record({
      input: {
        receiptId,
        phone: props.member.phone,
        totalRial: basket.totalRial,
        lines: basket.lines,
        creditToSpendRial: creditRial,
        ...(hold && networkRial > 0 ? { networkHoldId: hold.id, networkRial } : {}),
      },
    });
    const result = answer.data?.recordPurchase;
    if (result?.__typename === 'PurchaseRecorded') {
      openHold.current = null; // captured by the purchase
      props.onRecorded(result);
      return;
    }
    // The receipt id stays: trying again cannot record the sale twice.
    setProblem(result ? problemCode(result) : 'UNKNOWN');
  };

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    setChecked(true);
    setProblem(null);
    if (current) void confirm();
    else void showPreview();
  };

  const release = async () => {
    if (!hold) return;
    await voidHold({ holdId: hold.id });
    openHold.current = null;
    setHold(null);
  };

  const cancel = async () => {
    await release();
    props.onCancel(); // a fresh sale, with a new receipt id
  };

  const setLine = (key: number, change: Partial<LineDraft>) => {
    setLines((all) => all.map((line) => (line.key === key ? { ...line, ...change } : line)));
  };
  const groupOptions = props.groups.map((g) => ({ value: g.code, label: localName(g) }));
  const spendable = current?.spendableRial ?? props.member.balances.creditRial;

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="sale-title">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={2} size="h4" id="sale-title">
            {t('till.sale.title')}
          </Title>
          <Text size="xs" c="dimmed">
            {t('till.sale.receipt')} <Bdi>{receiptId}</Bdi>
          </Text>
        </Group>
        <form onSubmit={submit} noValidate>
          <Stack gap="sm">
            {lines.map((line, index) => (
              <Group key={line.key} gap="sm" align="end" wrap="nowrap">
                <TextInput
                  ref={index === 0 ? amountInput : undefined}
                  label={index === 0 ? t('till.sale.amount') : t('till.sale.lineAmount')}
                  value={line.amount}
                  onChange={(event) => {
                    setLine(line.key, { amount: event.currentTarget.value });
                  }}
                  error={
                    checked && readBasket([line]) === null ? t('till.sale.amountInvalid') : undefined
                  }
                  inputMode="decimal"
                  autoComplete="off"
                  dir="ltr"
                  size={index === 0 ? 'lg' : 'sm'}
                  style={{ flexGrow: 1 }}
                  data-testid={index === 0 ? 'sale-amount' : undefined}
                />
                <Select
                  label={t('till.sale.group')}
                  data={groupOptions}
                  value={line.group}
                  onChange={(value) => {
                    if (value) setLine(line.key, { group: value });
                  }}
                  allowDeselect={false}
                  size={index === 0 ? 'lg' : 'sm'}
                  w={200}
                />
                {index > 0 ? (
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    size="lg"
                    aria-label={t('till.sale.removeLine')}
                    onClick={() => {
                      setLines((all) => all.filter((other) => other.key !== line.key));
                    }}
                  >
                    <IconTrash size={18} aria-hidden />
                  </ActionIcon>
                ) : null}
              </Group>
            ))}
            <Group gap="sm">
              <Button
                variant="subtle"
                size="compact-sm"
                leftSection={<IconPlus size={16} aria-hidden />}
                onClick={() => {
                  setLines((all) => [...all, newLine(defaultGroup)]);
                }}
              >
                {t('till.sale.addLine')}
              </Button>
              {basket && lines.length > 1 ? (
                <Text size="sm">
                  {t('till.sale.total')} <Toman rial={basket.totalRial} />
                </Text>
              ) : null}
            </Group>
            <Group gap="sm" align="end">
              <TextInput
                label={t('till.sale.credit')}
                description={
                  <Trans
                    i18nKey="till.sale.creditUpTo"
                    values={{ amount: formatToman(spendable, i18n.language) }}
                    components={{ bdi: <bdi dir="ltr" /> }}
                  />
                }
                value={credit}
                onChange={(event) => {
                  setCredit(event.currentTarget.value);
                }}
                error={creditRial === null ? t('till.sale.amountInvalid') : undefined}
                inputMode="decimal"
                autoComplete="off"
                dir="ltr"
                style={{ flexGrow: 1 }}
              />
              <Button
                variant="default"
                disabled={spendable <= 0}
                onClick={() => {
                  setCredit(formatToman(spendable, 'en').replace(/,/g, ''));
                }}
              >
                {t('till.sale.creditAll')}
              </Button>
            </Group>
            <Group gap="sm">
              <Button type="submit" variant={current ? 'default' : 'filled'} loading={previewing}>
                {t('till.sale.preview')}
              </Button>
              <Button variant="subtle" color="gray" onClick={() => void cancel()}>
                {t('till.sale.cancel')}
              </Button>
            </Group>
          </Stack>
        </form>
        <Divider />
        <NetworkValue
          phone={props.member.phone}
          receiptId={receiptId}
          dueRial={due !== null && due > 0 ? due : null}
          hold={hold}
          onHold={setHold}
          onRelease={() => void release()}
          releasing={releasing}
        />
        <ProblemAlert code={problem} />
        {current && basket ? (
          <Paper withBorder p="sm" radius="md" bg="teal.0" data-testid="sale-preview">
            <Stack gap={4} aria-live="polite">
              <Text fw={700}>
                <Trans
                  i18nKey="till.sale.earns"
                  values={{
                    points: formatInteger(current.totalPoints, i18n.language),
                    credit: formatToman(current.totalCreditRial, i18n.language),
                  }}
                  components={{ bdi: <bdi dir="ltr" /> }}
                />
              </Text>
              <Text size="sm">
                <Trans
                  i18nKey="till.sale.atTier"
                  values={{
                    tier: localName(current.tier),
                    visit: formatInteger(current.visitNumber, i18n.language),
                  }}
                  components={{ bdi: <bdi dir="ltr" /> }}
                />
              </Text>
              {current.frequencyPoints > 0 || current.frequencyCreditRial > 0 ? (
                <Text size="sm">{t('till.sale.punchCard')}</Text>
              ) : null}
              <Text size="sm">
                {t('till.sale.toPay')}{' '}
                <Toman rial={basket.totalRial - (creditRial ?? 0) - networkRial} />
              </Text>
              <Group mt="xs">
                <Button
                  ref={confirmButton}
                  onClick={() => void confirm()}
                  loading={recording}
                  size="md"
                >
                  {t('till.sale.confirm')}
                </Button>
              </Group>
            </Stack>
          </Paper>
        ) : null}
      </Stack>
    </Paper>
  );
}
