/**
 * What a basket (600,000 toman of one product group, unless the manager types another)
 * earns under the draft, before it is saved: the node prices it with the arithmetic a
 * recorded purchase uses, for each tier, with the punch card's reward and the welcome gift.
 */
import { Button, Card, Group, NativeSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useClient } from 'urql';

import { graphql } from '../../gql/node';
import type { DashboardClubPolicyPreviewQuery } from '../../gql/node/graphql';
import {
  formatInteger,
  formatToman,
  localDigits,
  parseTomanInput,
  rialForApi,
} from '../../shared/format';
import { Bdi } from '../../shared/ui/Bdi';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';
import { useLocalName } from '../till/common';
import { documentOf, errorKeyOf, errorsOfProblems, type FieldErrors, type PolicyDraft } from './draft';

const Preview = graphql(`
  query DashboardClubPolicyPreview($document: JSON!, $basket: [PreviewLineInput!]!) {
    clubPolicyPreview(document: $document, basket: $basket) {
      __typename
      ... on ClubPolicyPreview {
        totalRial
        byTier {
          tier {
            code
            nameFa
            nameEn
          }
          earning {
            points
            creditRial
          }
        }
        punchCardEveryVisits
        punchCardReward {
          points
          creditRial
        }
        welcome {
          points
          creditRial
        }
      }
      ... on InvalidInput {
        code
        problems {
          field
          message
        }
      }
    }
  }
`);

type Result = Extract<
  DashboardClubPolicyPreviewQuery['clubPolicyPreview'],
  { __typename: 'ClubPolicyPreview' }
>;

export const DEFAULT_BASKET_TOMAN = '600000';

export function PolicyPreview({
  draft,
  onProblems,
}: {
  draft: PolicyDraft;
  onProblems: (errors: FieldErrors) => void;
}) {
  const { t, i18n } = useTranslation();
  const client = useClient();
  const localName = useLocalName();
  const [amount, setAmount] = useState(() => localDigits(DEFAULT_BASKET_TOMAN, i18n.language));
  const [group, setGroup] = useState('');
  const [basketErrors, setBasketErrors] = useState<FieldErrors>({});
  const [result, setResult] = useState<Result | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const groups = draft.groups.filter((g) => g.code.trim() !== '');
  const chosen = groups.some((g) => g.code === group) ? group : (groups[0]?.code ?? '');
  const run = () => {
    setProblem(null);
    setResult(null);
    const rial = parseTomanInput(amount);
    const checked = documentOf(draft);
    const basket: FieldErrors = {};
    if (rial === null || rial <= 0n || rial > BigInt(Number.MAX_SAFE_INTEGER)) {
      basket.amount = errorKeyOf('amount');
    }
    setBasketErrors(basket);
    onProblems('errors' in checked ? checked.errors : {});
    if ('errors' in checked || rial === null || basket.amount) {
      setProblem('INVALID_INPUT');
      return;
    }
    setBusy(true);
    const lines = [{ productGroup: chosen.trim(), amountRial: rialForApi(rial) }];
    void client
      .query(Preview, { document: checked.document, basket: lines }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((answer) => {
        setBusy(false);
        const found = answer.data?.clubPolicyPreview;
        if (found?.__typename === 'ClubPolicyPreview') {
          setResult(found);
        } else if (found?.__typename === 'InvalidInput') {
          const policyProblems = found.problems.filter((p) => !p.field.startsWith('basket'));
          onProblems(errorsOfProblems(policyProblems, draft));
          setBasketErrors(
            found.problems.some((p) => p.field.startsWith('basket'))
              ? { group: errorKeyOf('group') }
              : {},
          );
          setProblem(found.code);
        } else {
          setProblem('UNKNOWN');
        }
      });
  };
  const lang = i18n.language;
  return (
    <Card withBorder padding="lg">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t('policy.section.preview')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('policy.previewHint')}
        </Text>
        <Group align="flex-start" grow wrap="wrap">
          <TextInput
            label={t('policy.basketAmount')}
            description={t('policy.inToman')}
            inputMode="decimal"
            value={amount}
            error={basketErrors.amount ? t(basketErrors.amount as never) : null}
            onChange={(e) => {
              setAmount(e.currentTarget.value);
            }}
          />
          <NativeSelect
            label={t('policy.basketGroup')}
            value={chosen}
            error={basketErrors.group ? t(basketErrors.group as never) : null}
            onChange={(e) => {
              setGroup(e.currentTarget.value);
            }}
            data={groups.map((g) => ({
              value: g.code,
              label: (lang === 'fa' ? g.nameFa : g.nameEn) || g.code,
            }))}
          />
        </Group>
        <div>
          <Button variant="default" onClick={run} loading={busy} data-testid="policy-preview">
            {t('policy.preview')}
          </Button>
        </div>
        <ProblemAlert code={problem} />
        {result ? (
          <Stack gap="xs" data-testid="policy-preview-result">
            <Text fw={600}>
              {t('policy.previewOf', { amount: formatToman(result.totalRial, lang) })}
            </Text>
            <Table.ScrollContainer minWidth={420}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('policy.previewTier')}</Table.Th>
                    <Table.Th>{t('policy.previewPoints')}</Table.Th>
                    <Table.Th>{t('policy.previewCredit')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {result.byTier.map((row) => (
                    <Table.Tr key={row.tier.code} data-testid="preview-tier">
                      <Table.Td>{localName(row.tier)}</Table.Td>
                      <Table.Td>
                        <Bdi>{formatInteger(row.earning.points, lang)}</Bdi>
                      </Table.Td>
                      <Table.Td>
                        <Bdi>{formatToman(row.earning.creditRial, lang)}</Bdi>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {result.punchCardReward && result.punchCardEveryVisits ? (
              <Text size="sm">
                {t('policy.previewPunch', {
                  every: formatInteger(result.punchCardEveryVisits, lang),
                  points: formatInteger(result.punchCardReward.points, lang),
                  credit: formatToman(result.punchCardReward.creditRial, lang),
                })}
              </Text>
            ) : null}
            <Text size="sm">
              {t('policy.previewWelcome', {
                points: formatInteger(result.welcome.points, lang),
                credit: formatToman(result.welcome.creditRial, lang),
              })}
            </Text>
          </Stack>
        ) : null}
      </Stack>
    </Card>
  );
}
