/**
 * A correction of a closed period, with its reason: never an edit of what closed, but a new
 * entry the next close books (naming the journal entry it corrects, when one). The
 * idempotency key is made once per correction opened: a retry posts it once.
 */
import { Button, NumberInput, Radio, Select, Stack, Group, Text, TextInput } from '@mantine/core';
import { type SubmitEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/hub';
import { formatToman, parseTomanInput } from '../../shared/format';
import { newTillKey } from '../../shared/format/shopper';
import { ProblemAlert, problemCode } from './common';

const Post = graphql(`
  mutation MallPostSettlementCorrection($input: CorrectionInput!) {
    postSettlementCorrection(input: $input) {
      __typename
      ... on SettlementCorrection {
        id
        party
        amountRial
        reason
        replayed
      }
      ... on HubProblem {
        code
      }
    }
  }
`);

type Direction = 'owed' | 'owes';

function Form(props: {
  parties: readonly string[];
  nameOf: (party: string) => string;
  onDone: (text: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const [key] = useState(() => newTillKey('correction'));
  const [party, setParty] = useState<string | null>(null);
  const [direction, setDirection] = useState<Direction>('owed');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [entry, setEntry] = useState<string | number>('');
  const [tried, setTried] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, post] = useMutation(Post);
  const rial = parseTomanInput(amount);
  const badAmount = rial === null || rial <= 0n || rial > BigInt(Number.MAX_SAFE_INTEGER);
  const badReason = reason.trim().length < 3;
  const choices = [...new Set([...props.parties, 'mall'])];

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setTried(true);
    if (party === null || badAmount || badReason) return;
    setProblem(null);
    const signed = direction === 'owed' ? rial : -rial;
    const answer = await post({
      input: {
        party,
        amountRial: Number(signed),
        reason: reason.trim(),
        idempotencyKey: key,
        correctsEntryId: typeof entry === 'number' ? entry : null,
      },
    });
    const result = answer.data?.postSettlementCorrection;
    if (result?.__typename === 'SettlementCorrection') {
      props.onDone(
        t('mallSettlement.correction.done', {
          party: props.nameOf(result.party),
          amount: formatToman(result.amountRial, i18n.language),
        }),
      );
      return;
    }
    setProblem(result ? problemCode(result) : 'UNKNOWN');
  };

  return (
    <form onSubmit={(event) => void submit(event)} noValidate aria-labelledby="correction-title">
      <Stack gap="sm" maw={560}>
        <Select
          label={t('mallSettlement.correction.party')}
          data={choices.map((p) => ({ value: p, label: props.nameOf(p) }))}
          value={party}
          onChange={setParty}
          error={tried && party === null ? t('mallSettlement.correction.partyMissing') : undefined}
          required
        />
        <Radio.Group
          label={t('mallSettlement.correction.direction')}
          value={direction}
          onChange={(value) => {
            setDirection(value === 'owes' ? 'owes' : 'owed');
          }}
        >
          <Group gap="md" mt={4}>
            <Radio value="owed" label={t('mallSettlement.correction.owed')} />
            <Radio value="owes" label={t('mallSettlement.correction.owes')} />
          </Group>
        </Radio.Group>
        <TextInput
          label={t('mallSettlement.correction.amount')}
          value={amount}
          onChange={(event) => {
            setAmount(event.currentTarget.value);
          }}
          error={tried && badAmount ? t('mallSettlement.correction.amountInvalid') : undefined}
          inputMode="decimal"
          dir="ltr"
          autoComplete="off"
          required
        />
        <TextInput
          label={t('mallSettlement.correction.reason')}
          value={reason}
          onChange={(event) => {
            setReason(event.currentTarget.value);
          }}
          error={tried && badReason ? t('mallSettlement.correction.reasonMissing') : undefined}
          autoComplete="off"
          required
        />
        <NumberInput
          label={t('mallSettlement.correction.entry')}
          description={t('mallSettlement.correction.entryHint')}
          value={entry}
          onChange={setEntry}
          min={1}
          allowDecimal={false}
          allowNegative={false}
          maw={240}
        />
        <ProblemAlert code={problem} />
        <Group>
          <Button type="submit" loading={fetching}>
            {t('mallSettlement.correction.submit')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function CorrectionForm(props: {
  parties: readonly string[];
  nameOf: (party: string) => string;
}) {
  const [round, setRound] = useState(0);
  const [done, setDone] = useState<string | null>(null);
  return (
    <Stack gap="sm">
      {done ? (
        <Text size="sm" c="teal.9" role="status" data-testid="correction-done">
          {done}
        </Text>
      ) : null}
      <Form
        key={round}
        {...props}
        onDone={(text) => {
          setDone(text);
          setRound(round + 1);
        }}
      />
    </Stack>
  );
}
