import { describe, expect, it } from 'vitest';

import { basisPoints, documentOf, formOf } from './policyDoc';

describe('the issuance policy form', () => {
  it('reads the hub stored document (snake_case) and writes the camelCase one back', () => {
    const form = formOf({
      pooled_share_bp: 1250,
      pooled_valid_days: 180,
      credit_rules: [
        { min_purchase_rial: 1_000_000, credit_bp: 1000, accepted_category: 'cafe', valid_days: 30 },
      ],
    });
    expect(form.pooledSharePercent).toBe(12.5);
    expect(form.creditRules[0]?.acceptedCategory).toBe('cafe');
    expect(documentOf(form)).toEqual({
      pooledShareBp: 1250,
      pooledValidDays: 180,
      creditRules: [
        { minPurchaseRial: 1_000_000, creditBp: 1000, validDays: 30, acceptedCategory: 'cafe' },
      ],
    });
  });
  it('starts empty when the shop has no policy', () => {
    expect(formOf(null)).toEqual({ pooledSharePercent: 0, pooledValidDays: 365, creditRules: [] });
  });
  it('turns typed percents into whole basis points', () => {
    expect(basisPoints(0.07 * 100)).toBe(700);
    expect(basisPoints(33.33)).toBe(3333);
  });
});
