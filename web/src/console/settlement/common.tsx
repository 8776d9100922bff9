/** What the console's settlement parts share: problems as sentences, shop names. */
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';

import { graphql } from '../../gql/hub';

const ShopNames = graphql(`
  query MallSettlementShops {
    shops {
      slug
      nameFa
      nameEn
    }
  }
`);

export { ProblemAlert, problemCode } from '../../shared/ui/ProblemAlert';

/** The mall's shops by slug, and a party's name in the page's language ("mall", "fund" too). */
export function useShops() {
  const { t, i18n } = useTranslation();
  const [{ data }] = useQuery({ query: ShopNames });
  const shops = data?.shops ?? [];
  const nameOf = (party: string): string => {
    if (party === 'mall') return t('mallSettlement.party.mall');
    if (party === 'fund') return t('mallSettlement.party.fund');
    const shop = shops.find((s) => s.slug === party);
    if (!shop) return party;
    return i18n.language === 'fa' ? shop.nameFa : shop.nameEn;
  };
  return { shops, nameOf };
}

/** A period the worker has still to close: its end has passed, it is not closed yet. */
export function isClosing(period: { status: string; endsAt: string }, now: number): boolean {
  return period.status === 'open' && Date.parse(period.endsAt) <= now;
}
