/**
 * The live check of an offer while its form changes: a moment after the last change, the
 * node prices the document (margin per product group, a basket with and without it, a
 * backtest over its own purchases); an answer for an older state of the form is dropped.
 */
import { useEffect, useMemo, useState } from 'react';
import { useClient } from 'urql';

import { graphql } from '../../gql/node';
import type { DashboardOfferCheckQuery } from '../../gql/node/graphql';
import { parseTomanInput } from '../../shared/format';
import { type FieldErrors, type OfferDocument, wholeOf } from './form';
import type { OfferProblem } from './paths';

const Check = graphql(`
  query DashboardOfferCheck($document: JSON!, $basket: [PreviewLineInput!]!, $days: Int!) {
    offerCheck(document: $document, basket: $basket, days: $days) {
      __typename
      ... on OfferCheck {
        belowMarginGroups
        groupMargins {
          group
          marginBp
          clubCreditBp
          offerBp
          leftBp
          belowMargin
        }
        basketWithout {
          ...OfferBasketFigures
        }
        basketWith {
          ...OfferBasketFigures
        }
        basketCostRial
        backtest {
          days
          purchasesSeen
          membersReached
          purchasesAffected
          salesAffectedRial
          discountRial
          creditRial
          bonusPoints
          marginLeftRial
        }
      }
      ... on InvalidOffer {
        code
        problems {
          path
          code
          messageEn
          messageFa
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
  fragment OfferBasketFigures on BasketEconomics {
    basketRial
    marginRial
    discountRial
    clubCreditRial
    offerCreditRial
    bonusPoints
    leftRial
  }
`);

export type CheckResult = Extract<DashboardOfferCheckQuery['offerCheck'], { __typename: 'OfferCheck' }>;

export const DEFAULT_BASKET_TOMAN = '600000';
export const DEFAULT_DAYS = '90';
const DEBOUNCE_MS = 400;

export interface BasketForm {
  amount: string; // toman
  group: string; // empty: the first product group
  days: string;
}

export type CheckState =
  | { state: 'incomplete' }
  | { state: 'checking' }
  | { state: 'failed' }
  | { state: 'problems'; problems: readonly OfferProblem[] }
  | { state: 'refused'; code: string }
  | { state: 'done'; result: CheckResult };

interface Request {
  document: OfferDocument;
  basket: { productGroup: string; amountRial: number }[];
  days: number;
}

/** The basket's own fields that cannot be read (catalogue keys). */
export function basketErrors(basket: BasketForm): FieldErrors {
  const errors: FieldErrors = {};
  const rial = parseTomanInput(basket.amount);
  if (rial === null || rial <= 0n || rial > BigInt(Number.MAX_SAFE_INTEGER)) {
    errors.amount = { key: 'offers.error.basket' };
  }
  const days = wholeOf(basket.days);
  if (days === null || days < 1 || days > 365) errors.days = { key: 'offers.error.backtestDays' };
  return errors;
}

function requestOf(
  document: OfferDocument | null,
  basket: BasketForm,
  firstGroup: string | undefined,
): Request | null {
  const group = basket.group || firstGroup;
  const rial = parseTomanInput(basket.amount);
  const days = wholeOf(basket.days);
  if (document === null || group === undefined || rial === null || days === null) return null;
  if (Object.keys(basketErrors(basket)).length > 0) return null;
  return { document, basket: [{ productGroup: group, amountRial: Number(rial) }], days };
}

export function useOfferCheck(
  document: OfferDocument | null,
  basket: BasketForm,
  firstGroup: string | undefined,
): CheckState {
  const client = useClient();
  const request = useMemo(() => requestOf(document, basket, firstGroup), [document, basket, firstGroup]);
  const key = request === null ? null : JSON.stringify(request);
  const [answer, setAnswer] = useState<{ key: string; state: CheckState } | null>(null);
  useEffect(() => {
    if (key === null) return;
    let live = true;
    const timer = setTimeout(() => {
      const variables = JSON.parse(key) as Request;
      void client
        .query(Check, variables, { requestPolicy: 'network-only' })
        .toPromise()
        .then((result) => {
          if (!live) return;
          const found = result.data?.offerCheck;
          let state: CheckState = { state: 'failed' };
          if (found?.__typename === 'OfferCheck') state = { state: 'done', result: found };
          else if (found?.__typename === 'InvalidOffer') state = { state: 'problems', problems: found.problems };
          else if (found?.__typename === 'InvalidInput') state = { state: 'refused', code: found.code };
          setAnswer({ key, state });
        });
    }, DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, key]);
  if (key === null) return { state: 'incomplete' };
  return answer?.key === key ? answer.state : { state: 'checking' };
}
