/** What the till's parts share: the member as the till shows it, names by language, problems. */
import { Alert } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { graphql } from '../../gql/node';
import type { TillMemberFragment } from '../../gql/node/graphql';
import { problemMessage } from '../../shared/i18n/problems';

export const TillMember = graphql(`
  fragment TillMember on Member {
    id
    cardCode
    phone
    name
    birthdayJalali
    consents {
      sms
      promotional
      partnerSharing
    }
    tier {
      current {
        code
        nameFa
        nameEn
      }
    }
    balances {
      points
      creditRial
    }
  }
`);

export type MemberView = TillMemberFragment;

/** A name the API gives in both languages, in the page's. */
export function useLocalName() {
  const { i18n } = useTranslation();
  return (named: { nameFa: string; nameEn: string }) =>
    i18n.language === 'fa' ? named.nameFa : named.nameEn;
}

/** A result union's problem code, when the answer is a problem. */
export function problemCode(result: { __typename?: string; code?: unknown }): string | null {
  return typeof result.code === 'string' ? result.code : null;
}

/** A problem as a plain sentence, announced to screen readers. */
export function ProblemAlert({ code }: { code: string | null | undefined }) {
  const { t } = useTranslation();
  if (code === null || code === undefined) return null;
  return (
    <Alert color="red" variant="light" role="alert" data-testid="problem">
      {problemMessage(t, code)}
    </Alert>
  );
}
