/**
 * The shop's issuance policy at the hub: the share of its club's points issued as pooled
 * points (spendable across the mall), how long they last, and its network credit rules.
 * Amounts typed in toman (any digits), percents to two decimals; each field says what is
 * wrong with it, and the hub's own refusal reads as a sentence.
 */
import {
  ActionIcon,
  Button,
  Card,
  Group,
  NativeSelect,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import type { NetworkIssuanceQuery } from '../../gql/node/graphql';
import {
  formatInteger,
  formatJalaliDate,
  normalizeDigits,
  parseTomanInput,
  rialForApi,
} from '../../shared/format';
import { ProblemAlert } from '../till/common';
import { refusal } from './answer';
import { documentOf, formOf, type IssuanceForm } from './policyDoc';
import { CATEGORIES } from '../../shared/shops';

const IssuancePolicyQuery = graphql(`
  query NetworkIssuance {
    networkIssuancePolicy {
      version
      policy
      effectiveFrom
    }
  }
`);

const SetIssuance = graphql(`
  mutation SetNetworkIssuance($policy: JSON!) {
    setNetworkIssuancePolicy(policy: $policy) {
      __typename
      ... on NetworkIssuancePolicy {
        version
        policy
        effectiveFrom
      }
      ... on HubAnswer {
        code
        message
      }
    }
  }
`);

interface RuleDraft {
  minPurchase: string;
  percent: string;
  maxCredit: string;
  validDays: string;
  category: string;
}

interface Draft {
  share: string;
  days: string;
  rules: RuleDraft[];
}

function draftOf(form: IssuanceForm): Draft {
  const toman = (rial: number) => String(Math.trunc(rial / 10));
  return {
    share: String(form.pooledSharePercent),
    days: String(form.pooledValidDays),
    rules: form.creditRules.map((r) => ({
      minPurchase: toman(r.minPurchaseRial),
      percent: String(r.creditPercent),
      maxCredit: r.maxCreditRial === null ? '' : toman(r.maxCreditRial),
      validDays: String(r.validDays),
      category: r.acceptedCategory ?? '',
    })),
  };
}

const EMPTY_RULE: RuleDraft = {
  minPurchase: '0',
  percent: '',
  maxCredit: '',
  validDays: '30',
  category: '',
};

type Errors = Record<string, string>;

function percentOf(text: string): number | null {
  const plain = normalizeDigits(text.trim());
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(plain)) return null;
  const value = Number(plain);
  return value <= 100 ? value : null;
}

function daysOf(text: string): number | null {
  const plain = normalizeDigits(text.trim());
  if (!/^\d{1,4}$/.test(plain)) return null;
  const value = Number(plain);
  return value >= 1 && value <= 3650 ? value : null;
}

/** The draft as a form the hub takes, or the fields that are wrong (catalogue keys). */
function check(draft: Draft): { form: IssuanceForm } | { errors: Errors } {
  const errors: Errors = {};
  const share = percentOf(draft.share);
  if (share === null) errors.share = 'shopNetwork.issuance.badPercent';
  const days = daysOf(draft.days);
  if (days === null) errors.days = 'shopNetwork.issuance.badDays';
  const rules = draft.rules.map((rule, i) => {
    const min = parseTomanInput(rule.minPurchase || '0');
    if (min === null) errors[`rule${String(i)}.min`] = 'shopNetwork.issuance.badToman';
    const percent = percentOf(rule.percent);
    if (percent === null || percent === 0) errors[`rule${String(i)}.percent`] = 'shopNetwork.issuance.badCredit';
    const max = rule.maxCredit.trim() ? parseTomanInput(rule.maxCredit) : null;
    if (rule.maxCredit.trim() && max === null) errors[`rule${String(i)}.max`] = 'shopNetwork.issuance.badToman';
    const valid = daysOf(rule.validDays);
    if (valid === null) errors[`rule${String(i)}.days`] = 'shopNetwork.issuance.badDays';
    return {
      minPurchaseRial: min === null ? 0 : rialForApi(min),
      creditPercent: percent ?? 0,
      maxCreditRial: max === null ? null : rialForApi(max),
      validDays: valid ?? 30,
      acceptedCategory: rule.category || null,
    };
  });
  if (Object.keys(errors).length) return { errors };
  return { form: { pooledSharePercent: share ?? 0, pooledValidDays: days ?? 365, creditRules: rules } };
}

type Current = NonNullable<NetworkIssuanceQuery['networkIssuancePolicy']>;

export function IssuancePolicy() {
  const { t } = useTranslation();
  const [{ data, fetching }, reload] = useQuery({ query: IssuancePolicyQuery });
  const [saved, setSaved] = useState(false);
  if (!data) return <Text role="status">{fetching ? t('shopNetwork.loading') : ''}</Text>;
  const current = data.networkIssuancePolicy ?? null;
  return (
    <Stack gap="sm">
      <Editor
        key={current?.version ?? 0}
        current={current}
        onSaved={() => {
          setSaved(true);
          reload({ requestPolicy: 'network-only' });
        }}
      />
      {saved ? (
        <Text role="status" c="teal.9" data-testid="issuance-saved">
          {t('shopNetwork.issuance.saved')}
        </Text>
      ) : null}
    </Stack>
  );
}

function Editor({ current, onSaved }: { current: Current | null; onSaved: () => void }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [saving, save] = useMutation(SetIssuance);
  const [draft, setDraft] = useState<Draft>(() => draftOf(formOf(current?.policy)));
  const [errors, setErrors] = useState<Errors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const error = (key: string) => (errors[key] ? t(errors[key] as never) : null);
  const setRule = (i: number, patch: Partial<RuleDraft>) => {
    setDraft({ ...draft, rules: draft.rules.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  };
  const submit = () => {
    setProblem(null);
    const checked = check(draft);
    if ('errors' in checked) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    void save({ policy: documentOf(checked.form) }).then((result) => {
      const refused = refusal(result.data?.setNetworkIssuancePolicy, !!result.error);
      setProblem(refused);
      if (refused === null) onSaved();
    });
  };
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t('shopNetwork.issuance.title')}
        </Title>
        <Text size="sm" c="dimmed" data-testid="issuance-version">
          {current
            ? t('shopNetwork.issuance.version', {
                version: formatInteger(current.version, lang),
                since: formatJalaliDate(current.effectiveFrom, lang),
              })
            : t('shopNetwork.issuance.none')}
        </Text>
        <Group grow align="flex-start" wrap="wrap">
          <TextInput
            label={t('shopNetwork.issuance.share')}
            description={t('shopNetwork.issuance.shareHint')}
            inputMode="decimal"
            value={draft.share}
            error={error('share')}
            onChange={(e) => {
              setDraft({ ...draft, share: e.currentTarget.value });
            }}
          />
          <TextInput
            label={t('shopNetwork.issuance.days')}
            inputMode="numeric"
            value={draft.days}
            error={error('days')}
            onChange={(e) => {
              setDraft({ ...draft, days: e.currentTarget.value });
            }}
          />
        </Group>
        <Title order={4} size="h5">
          {t('shopNetwork.issuance.rules')}
        </Title>
        {draft.rules.length === 0 ? (
          <Text size="sm">{t('shopNetwork.issuance.noRules')}</Text>
        ) : (
          <Table.ScrollContainer minWidth={700}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('shopNetwork.issuance.minPurchase')}</Table.Th>
                  <Table.Th>{t('shopNetwork.issuance.percent')}</Table.Th>
                  <Table.Th>{t('shopNetwork.issuance.maxCredit')}</Table.Th>
                  <Table.Th>{t('shopNetwork.issuance.validDays')}</Table.Th>
                  <Table.Th>{t('shopNetwork.issuance.where')}</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>{t('shopNetwork.issuance.remove')}</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {draft.rules.map((rule, i) => {
                  const n = String(i);
                  const row = formatInteger(i + 1, lang);
                  return (
                    <Table.Tr key={n}>
                      <Table.Td>
                        <TextInput
                          aria-label={t('shopNetwork.issuance.minPurchaseOf', { row })}
                          inputMode="decimal"
                          value={rule.minPurchase}
                          error={error(`rule${n}.min`)}
                          onChange={(e) => {
                            setRule(i, { minPurchase: e.currentTarget.value });
                          }}
                        />
                      </Table.Td>
                      <Table.Td>
                        <TextInput
                          aria-label={t('shopNetwork.issuance.percentOf', { row })}
                          inputMode="decimal"
                          value={rule.percent}
                          error={error(`rule${n}.percent`)}
                          onChange={(e) => {
                            setRule(i, { percent: e.currentTarget.value });
                          }}
                        />
                      </Table.Td>
                      <Table.Td>
                        <TextInput
                          aria-label={t('shopNetwork.issuance.maxCreditOf', { row })}
                          inputMode="decimal"
                          value={rule.maxCredit}
                          error={error(`rule${n}.max`)}
                          onChange={(e) => {
                            setRule(i, { maxCredit: e.currentTarget.value });
                          }}
                        />
                      </Table.Td>
                      <Table.Td>
                        <TextInput
                          aria-label={t('shopNetwork.issuance.validDaysOf', { row })}
                          inputMode="numeric"
                          value={rule.validDays}
                          error={error(`rule${n}.days`)}
                          onChange={(e) => {
                            setRule(i, { validDays: e.currentTarget.value });
                          }}
                        />
                      </Table.Td>
                      <Table.Td>
                        <NativeSelect
                          aria-label={t('shopNetwork.issuance.whereOf', { row })}
                          value={rule.category}
                          onChange={(e) => {
                            setRule(i, { category: e.currentTarget.value });
                          }}
                          data={[
                            { value: '', label: t('shopNetwork.issuance.everywhere') },
                            ...CATEGORIES.map((c) => ({
                              value: c,
                              label: t(`shopper.category.${c}`),
                            })),
                          ]}
                        />
                      </Table.Td>
                      <Table.Td>
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          aria-label={t('shopNetwork.issuance.removeOf', { row })}
                          onClick={() => {
                            setDraft({ ...draft, rules: draft.rules.filter((_, j) => j !== i) });
                          }}
                        >
                          <IconTrash size={18} aria-hidden />
                        </ActionIcon>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Group>
          <Button
            variant="light"
            onClick={() => {
              setDraft({ ...draft, rules: [...draft.rules, { ...EMPTY_RULE }] });
            }}
          >
            {t('shopNetwork.issuance.addRule')}
          </Button>
          <Button onClick={submit} loading={saving.fetching}>
            {t('shopNetwork.issuance.save')}
          </Button>
        </Group>
        <ProblemAlert code={problem} />
      </Stack>
    </Card>
  );
}
