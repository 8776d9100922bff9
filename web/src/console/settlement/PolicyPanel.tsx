/**
 * The network's settlement policy, versioned: the version in force (who set it, when) and a
 * form that saves a new version. Periods close under the version in force when they close.
 * Agreements (fee per issuer and redeeming shop) are edited as rows; joint campaigns' cost
 * sharing is kept as it is.
 */
import {
  ActionIcon,
  Button,
  Group,
  NumberInput,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { type SubmitEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/hub';
import { formatInteger, formatJalaliDateTime } from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { ProblemAlert, problemCode, useShops } from './common';
import {
  type Agreement,
  fieldOfMessage,
  type PolicyDoc,
  policyError,
  type PolicyField,
  readPolicy,
} from './policyDoc';
import { ScrollTable } from '../../shared/settlement/ScrollTable';

const Policy = graphql(`
  query MallSettlementPolicy {
    settlementPolicy {
      version
      policy
      setBy
      createdAt
    }
  }
`);

const Save = graphql(`
  mutation MallSetSettlementPolicy($policy: JSON!) {
    setSettlementPolicy(policy: $policy) {
      __typename
      ... on SettlementPolicy {
        version
        policy
        setBy
        createdAt
      }
      ... on InvalidInput {
        code
        message
      }
    }
  }
`);

const ANY = '*';
type Option =
  | 'postpaid'
  | 'prepaid'
  | 'refuse'
  | 'flag'
  | 'issuer'
  | 'fund'
  | 'daily'
  | 'weekly'
  | 'monthly';

function PolicyForm({
  initial,
  onSaved,
}: {
  initial: PolicyDoc;
  onSaved: (version: number) => void;
}) {
  const { t, i18n } = useTranslation();
  const { shops, nameOf } = useShops();
  const [doc, setDoc] = useState<PolicyDoc>(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const [serverField, setServerField] = useState<PolicyField | null>(null);
  const [{ fetching }, save] = useMutation(Save);
  const local = policyError(doc);
  const field = local ?? serverField;
  const shopChoices = [
    { value: ANY, label: t('mallSettlement.policy.anyShop') },
    ...shops.map((s) => ({ value: s.slug, label: nameOf(s.slug) })),
  ];
  const set = (change: Partial<PolicyDoc>) => {
    setServerField(null);
    setDoc({ ...doc, ...change });
  };
  const setAgreement = (index: number, change: Partial<Agreement>) => {
    set({ agreements: doc.agreements.map((a, i) => (i === index ? { ...a, ...change } : a)) });
  };
  const fieldError = (name: PolicyField) =>
    field === name ? t(`mallSettlement.policy.invalid.${name}`) : undefined;

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (local !== null) return;
    setProblem(null);
    const answer = await save({ policy: doc });
    const result = answer.data?.setSettlementPolicy;
    if (result?.__typename === 'SettlementPolicy') {
      onSaved(result.version);
      return;
    }
    if (result?.__typename === 'InvalidInput') {
      // The server names the part at fault first: "fee_bp: …", "agreements.0.fee_bp: …".
      setServerField(fieldOfMessage(result.message));
    }
    setProblem(result ? problemCode(result) : 'UNKNOWN');
  };

  const select = (
    name: 'funding' | 'when_prepaid_exhausted' | 'breakage' | 'period',
    options: readonly Option[],
  ) => (
    <Select
      label={t(`mallSettlement.policy.${name}`)}
      data={options.map((o) => ({ value: o, label: t(`mallSettlement.policy.option.${o}`) }))}
      value={doc[name]}
      onChange={(value) => {
        if (value !== null) set({ [name]: value });
      }}
      allowDeselect={false}
    />
  );

  return (
    <form onSubmit={(event) => void submit(event)} noValidate aria-labelledby="policy-form-title">
      <Stack gap="sm">
        <Title order={4} size="h5" id="policy-form-title">
          {t('mallSettlement.policy.edit')}
        </Title>
        <Group grow align="start" wrap="wrap">
          {select('funding', ['postpaid', 'prepaid'])}
          {select('when_prepaid_exhausted', ['refuse', 'flag'])}
        </Group>
        <Group grow align="start" wrap="wrap">
          {select('breakage', ['issuer', 'fund'])}
          {select('period', ['daily', 'weekly', 'monthly'])}
        </Group>
        <NumberInput
          label={t('mallSettlement.policy.fee_bp')}
          description={t('mallSettlement.policy.bpHint')}
          value={doc.fee_bp}
          onChange={(value) => {
            set({ fee_bp: typeof value === 'number' ? value : Number.NaN });
          }}
          allowDecimal={false}
          error={fieldError('fee_bp')}
          maw={260}
          data-testid="policy-fee"
        />
        <Text size="sm" fw={600}>
          {t('mallSettlement.policy.agreements')}
        </Text>
        {doc.agreements.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t('mallSettlement.policy.noAgreements')}
          </Text>
        ) : (
          <ScrollTable minWidth={560} label={t('mallSettlement.policy.agreements')}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('mallSettlement.policy.issuer')}</Table.Th>
                  <Table.Th>{t('mallSettlement.policy.redeemer')}</Table.Th>
                  <Table.Th>{t('mallSettlement.policy.fee_bp')}</Table.Th>
                  <Table.Th>{t('mallSettlement.policy.remove')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {doc.agreements.map((a, index) => (
                  <Table.Tr key={index}>
                    <Table.Td>
                      <Select
                        aria-label={t('mallSettlement.policy.issuer')}
                        data={shopChoices}
                        value={a.issuer ?? ANY}
                        onChange={(v) => {
                          setAgreement(index, { issuer: v === ANY || v === null ? null : v });
                        }}
                        allowDeselect={false}
                      />
                    </Table.Td>
                    <Table.Td>
                      <Select
                        aria-label={t('mallSettlement.policy.redeemer')}
                        data={shopChoices}
                        value={a.redeemer ?? ANY}
                        onChange={(v) => {
                          setAgreement(index, { redeemer: v === ANY || v === null ? null : v });
                        }}
                        allowDeselect={false}
                      />
                    </Table.Td>
                    <Table.Td>
                      <NumberInput
                        aria-label={t('mallSettlement.policy.fee_bp')}
                        value={a.fee_bp}
                        onChange={(v) => {
                          setAgreement(index, { fee_bp: typeof v === 'number' ? v : Number.NaN });
                        }}
                        allowDecimal={false}
                        maw={140}
                      />
                    </Table.Td>
                    <Table.Td>
                      <ActionIcon
                        variant="subtle"
                        color="red.9"
                        aria-label={t('mallSettlement.policy.remove')}
                        onClick={() => {
                          set({ agreements: doc.agreements.filter((_, i) => i !== index) });
                        }}
                      >
                        <IconTrash size={16} aria-hidden />
                      </ActionIcon>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
        {field === 'agreements' ? (
          <Text size="sm" c="red.9" role="alert">
            {t('mallSettlement.policy.invalid.agreements')}
          </Text>
        ) : null}
        <Group>
          <Button
            variant="subtle"
            onClick={() => {
              set({ agreements: [...doc.agreements, { issuer: null, redeemer: null, fee_bp: 0 }] });
            }}
          >
            {t('mallSettlement.policy.addAgreement')}
          </Button>
        </Group>
        {doc.cost_sharing.length > 0 ? (
          <Text size="sm" c="dimmed">
            {t('mallSettlement.policy.costSharing', {
              n: formatInteger(doc.cost_sharing.length, i18n.language),
            })}
          </Text>
        ) : null}
        <ProblemAlert code={problem} />
        <Group>
          <Button type="submit" loading={fetching} disabled={local !== null}>
            {t('mallSettlement.policy.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function PolicyPanel() {
  const { t, i18n } = useTranslation();
  const [saved, setSaved] = useState<number | null>(null);
  const [{ data, fetching }, reread] = useQuery({ query: Policy, requestPolicy: 'network-only' });
  const current = data?.settlementPolicy;
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="policy-title">
      <Stack gap="md">
        <Title order={3} size="h4" id="policy-title">
          {t('mallSettlement.policy.title')}
        </Title>
        {saved !== null ? (
          <Text size="sm" c="teal.9" role="status" data-testid="policy-saved">
            {t('mallSettlement.policy.saved', { version: formatInteger(saved, i18n.language) })}
          </Text>
        ) : null}
        {current ? (
          <>
            <Text size="sm" data-testid="policy-version">
              {current.version === 0
                ? t('mallSettlement.policy.defaults')
                : t('mallSettlement.policy.version', {
                    version: formatInteger(current.version, i18n.language),
                    when: current.createdAt
                      ? formatJalaliDateTime(current.createdAt, i18n.language)
                      : '',
                  })}{' '}
              {current.setBy ? <Bdi>{current.setBy}</Bdi> : null}
            </Text>
            <PolicyForm
              key={current.version}
              initial={readPolicy(current.policy)}
              onSaved={(version) => {
                setSaved(version);
                reread({ requestPolicy: 'network-only' });
              }}
            />
          </>
        ) : (
          <Text c="dimmed">{fetching ? t('mallSettlement.loading') : null}</Text>
        )}
      </Stack>
    </Paper>
  );
}
