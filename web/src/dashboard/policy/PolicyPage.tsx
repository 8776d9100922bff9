/**
 * The club policy (managers): the version in force edited as one form — the club open or
 * closed, the welcome gift, earning per product group with margins, caps, tiers and their
 * multipliers, the punch card, how long points and credit last — with what a basket earns
 * under the draft before it is saved, and the versions saved so far. Each field says what
 * is wrong with it, whether the page or the node found it; saving makes a new version.
 */
import { Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';

import { graphql } from '../../gql/node';
import { formatInteger } from '../../shared/format';
import { ProblemAlert } from '../../shared/ui/ProblemAlert';
import {
  documentOf,
  draftOf,
  errorsOfProblems,
  type FieldErrors,
  inLocalDigits,
  type PolicyDraft,
} from './draft';
import { PolicyFields } from './PolicyFields';
import { PolicyHistory } from './PolicyHistory';
import { PolicyPreview } from './PolicyPreview';

const CurrentPolicy = graphql(`
  query DashboardClubPolicy {
    clubPolicy {
      version
      document
    }
  }
`);

const SavePolicy = graphql(`
  mutation DashboardSaveClubPolicy($document: JSON!) {
    updateClubPolicy(document: $document) {
      __typename
      ... on PolicyUpdated {
        policy {
          version
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

export function PolicyPage() {
  const { t, i18n } = useTranslation();
  const [{ data, fetching, error }, reload] = useQuery({ query: CurrentPolicy });
  const [historyKey, setHistoryKey] = useState(0);
  const [savedVersion, setSavedVersion] = useState<number | null>(null);
  const current = data?.clubPolicy;
  return (
    <Stack gap="lg">
      <Title order={2}>{t('policy.title')}</Title>
      {current ? (
        <>
          <Text size="sm" c="dimmed" data-testid="policy-version">
            {t('policy.inForce', { version: formatInteger(current.version, i18n.language) })}
          </Text>
          {/* Not remounted on a new version: after saving, the draft is what was saved. */}
          <Editor
            document={current.document}
            onSaved={(version) => {
              setSavedVersion(version);
              setHistoryKey((n) => n + 1);
              reload({ requestPolicy: 'network-only' });
            }}
          />
          {savedVersion !== null ? (
            <Text role="status" c="teal.9" data-testid="policy-saved">
              {t('policy.saved', { version: formatInteger(savedVersion, i18n.language) })}
            </Text>
          ) : null}
          <PolicyHistory key={historyKey} />
        </>
      ) : (
        <Text role="status">{fetching ? t('policy.loading') : error ? t('policy.failed') : ''}</Text>
      )}
    </Stack>
  );
}

function Editor({
  document,
  onSaved,
}: {
  document: unknown;
  onSaved: (version: number) => void;
}) {
  const { t, i18n } = useTranslation();
  const [draft, setDraft] = useState<PolicyDraft>(() =>
    inLocalDigits(draftOf(document), i18n.language),
  );
  const [errors, setErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, save] = useMutation(SavePolicy);
  const change = (next: PolicyDraft) => {
    setDraft(next);
  };
  const submit = () => {
    setProblem(null);
    const checked = documentOf(draft);
    if ('errors' in checked) {
      setErrors(checked.errors);
      setProblem('INVALID_INPUT');
      return;
    }
    void save({ document: checked.document }).then((result) => {
      const answer = result.data?.updateClubPolicy;
      if (answer?.__typename === 'PolicyUpdated') {
        setErrors({});
        onSaved(answer.policy.version);
      } else if (answer?.__typename === 'InvalidInput') {
        setErrors(errorsOfProblems(answer.problems, draft));
        setProblem(answer.code);
      } else {
        setProblem('UNKNOWN');
      }
    });
  };
  return (
    <Stack gap="lg">
      <PolicyFields draft={draft} errors={errors} onChange={change} />
      <PolicyPreview
        draft={draft}
        onProblems={(found) => {
          setErrors(found);
          // A draft the preview found sound leaves no refusal of an earlier save standing.
          if (Object.keys(found).length === 0) setProblem(null);
        }}
      />
      <Card withBorder padding="lg">
        <Stack gap="sm">
          {errors.form ? (
            <Text c="red.9" size="sm" role="alert">
              {t(errors.form as never)}
            </Text>
          ) : null}
          <Group>
            <Button onClick={submit} loading={saving.fetching} data-testid="policy-save">
              {t('policy.save')}
            </Button>
            <Text size="sm" c="dimmed">
              {t('policy.saveHint')}
            </Text>
          </Group>
          <ProblemAlert code={problem} />
        </Stack>
      </Card>
    </Stack>
  );
}
