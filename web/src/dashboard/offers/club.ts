/**
 * The club's product groups and tiers, as the offer pages name them: codes from the policy
 * in force, shown by their names in the reader's language.
 */
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/node';

const ClubNames = graphql(`
  query DashboardOfferClub {
    clubPolicy {
      version
      productGroups {
        code
        nameFa
        nameEn
      }
      tiers {
        code
        nameFa
        nameEn
      }
    }
  }
`);

export interface Named {
  code: string;
  nameFa: string;
  nameEn: string;
}

export interface Club {
  groups: readonly Named[];
  tiers: readonly Named[];
  /** A group's name (its code when the policy no longer has it). */
  groupName: (code: string) => string;
  tierName: (code: string) => string;
}

export function useClub(): Club {
  const { i18n } = useTranslation();
  const [{ data }] = useQuery({ query: ClubNames });
  const groups = data?.clubPolicy.productGroups ?? [];
  const tiers = data?.clubPolicy.tiers ?? [];
  const nameIn = (list: readonly Named[]) => (code: string) => {
    const found = list.find((item) => item.code === code);
    if (!found) return code;
    return i18n.language === 'fa' ? found.nameFa : found.nameEn;
  };
  return { groups, tiers, groupName: nameIn(groups), tierName: nameIn(tiers) };
}
