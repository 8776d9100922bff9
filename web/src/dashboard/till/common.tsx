/** What the till's parts share: the member as the till shows it, names by language, problems. */
import { useTranslation } from 'react-i18next';

import { graphql } from '../../gql/node';
import type { TillMemberFragment } from '../../gql/node/graphql';

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

export { ProblemAlert, problemCode } from '../../shared/ui/ProblemAlert';
