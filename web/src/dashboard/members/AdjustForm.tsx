/**
 * A manager gives or takes points or credit by hand. The reason is mandatory: refused at
 * its field before anything is sent, and the server's own problems are shown at their
 * fields too. One idempotency key per adjustment, so a retried click records it once.
 */
import { Alert, Button, Group, SegmentedControl, Stack, Textarea, TextInput } from '@mantine/core';
import { type SubmitEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/node';
import { problemMessage } from '../../shared/i18n/problems';
import { newTillKey } from '../../shared/format/shopper';
import { type AdjustAsset, parseAdjustment } from './adjust';

const Adjust = graphql(`
  mutation DashboardAdjustBalance($input: AdjustBalanceInput!) {
    adjustBalance(input: $input) {
      __typename
      ... on AdjustmentRecorded {
        transactionId
        balances {
          points
          creditRial
        }
      }
      ... on InvalidInput {
        problems {
          field
        }
      }
      ... on Problem {
        code
      }
    }
  }
`);

type FieldError = 'amount' | 'reason';

export function AdjustForm({ memberId, onDone }: { memberId: string; onDone: () => void }) {
  const { t } = useTranslation();
  const [asset, setAsset] = useState<AdjustAsset>('POINTS');
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [key, setKey] = useState(() => newTillKey('adjust'));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [{ fetching }, adjust] = useMutation(Adjust);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setSaved(false);
    setProblem(null);
    const value = parseAdjustment(asset, amount);
    const wrong: FieldError[] = [];
    if (value === null) wrong.push('amount');
    if (reason.trim().length < 3) wrong.push('reason');
    setErrors(wrong);
    if (value === null || wrong.length > 0) return;
    // The answer names no Member: say so, so that every open query of a member (its
    // figures, its history, the list) is fetched again.
    const answer = await adjust(
      { input: { member: { id: memberId }, asset, amount: value, reason: reason.trim(), idempotencyKey: key } },
      { additionalTypenames: ['Member'] },
    );
    const result = answer.data?.adjustBalance;
    if (result?.__typename === 'AdjustmentRecorded') {
      setAmount('');
      setReason('');
      setKey(newTillKey('adjust'));
      setSaved(true);
      onDone();
      return;
    }
    if (result?.__typename === 'InvalidInput') {
      const fields = result.problems.map((p) => p.field);
      setErrors((['amount', 'reason'] as const).filter((f) => fields.includes(f)));
    }
    setProblem(result && 'code' in result ? result.code : 'UNKNOWN');
  };

  return (
    <form onSubmit={(event) => void submit(event)} noValidate data-testid="adjust-form">
      <Stack gap="sm">
        <SegmentedControl
          value={asset}
          onChange={(value) => {
            setAsset(value);
          }}
          data={[
            { value: 'POINTS', label: t('members.adjust.points') },
            { value: 'CREDIT', label: t('members.adjust.credit') },
          ]}
          aria-label={t('members.adjust.asset')}
        />
        <TextInput
          label={t(asset === 'POINTS' ? 'members.adjust.amountPoints' : 'members.adjust.amountToman')}
          description={t('members.adjust.amountHint')}
          dir="ltr"
          inputMode="numeric"
          value={amount}
          onChange={(e) => {
            setAmount(e.currentTarget.value);
          }}
          error={errors.includes('amount') ? t('members.adjust.badAmount') : null}
          data-testid="adjust-amount"
        />
        <Textarea
          label={t('members.adjust.reason')}
          description={t('members.adjust.reasonHint')}
          required
          autosize
          minRows={2}
          value={reason}
          onChange={(e) => {
            setReason(e.currentTarget.value);
          }}
          error={errors.includes('reason') ? t('members.adjust.reasonRequired') : null}
          data-testid="adjust-reason"
        />
        <Group>
          <Button type="submit" loading={fetching} data-testid="adjust-submit">
            {t('members.adjust.submit')}
          </Button>
        </Group>
        {problem && (
          <Alert color="red" variant="light" role="alert" data-testid="problem">
            {problemMessage(t, problem)}
          </Alert>
        )}
        {saved && (
          <Alert color="teal" variant="light" role="status" data-testid="adjust-saved">
            {t('members.adjust.saved')}
          </Alert>
        )}
      </Stack>
    </form>
  );
}
