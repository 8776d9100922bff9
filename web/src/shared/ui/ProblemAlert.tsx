/**
 * A problem code from the APIs as a plain sentence in the reader's language, announced to
 * screen readers; nothing when there is none.
 */
import { Alert } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { problemMessage } from '../i18n/problems';

/** A result union's problem code, when the answer is a problem. */
export function problemCode(result: { __typename?: string; code?: unknown }): string | null {
  return typeof result.code === 'string' ? result.code : null;
}

export function ProblemAlert({ code }: { code: string | null | undefined }) {
  const { t } = useTranslation();
  if (code === null || code === undefined) return null;
  return (
    <Alert color="red" variant="light" role="alert" data-testid="problem">
      {problemMessage(t, code)}
    </Alert>
  );
}
