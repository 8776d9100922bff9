import { describe, expect, it } from 'vitest';

import {
  documentOf,
  draftOf,
  errorKeyOf,
  fieldOfPath,
  inLocalDigits,
  unitsOf,
  unitsText,
} from './draft';

// The node's test policy (tests/node_client.py), as the node stores it.
const STORED = {
  open_club: true,
  welcome_points: 20,
  welcome_credit_rial: 10_005,
  product_groups: [
    { code: 'books', name_fa: 'کتاب', name_en: 'Books', margin_bp: 2500 },
    { code: 'stationery', name_fa: 'لوازم‌التحریر', name_en: 'Stationery', margin_bp: 3000 },
  ],
  earning: { credit_bp: 500, points: 1, per_rial: 10_000 },
  earning_by_group: { books: { credit_bp: 1250, points: 2, per_rial: 10_000 } },
  max_points_per_purchase: null,
  max_credit_per_purchase_rial: 2_000_000,
  max_credit_spend_bp: 10_000,
  tier_basis: 'earned_points',
  tiers: [
    { code: 'bronze', name_fa: 'برنزی', name_en: 'Bronze', threshold: 0, multiplier_bp: 10_000 },
    { code: 'silver', name_fa: 'نقره‌ای', name_en: 'Silver', threshold: 100, multiplier_bp: 12_500 },
  ],
  frequency: { every_visits: 3, reward_points: 10, reward_credit_rial: 0 },
  points_valid_days: 365,
  credit_valid_days: null,
};

describe('the policy draft', () => {
  it('reads a stored policy as the form shows it and gives the same document back', () => {
    const draft = draftOf(STORED);
    expect(draft.welcomeCredit).toBe('1000.5');
    expect(draft.groups[0]).toMatchObject({ own: true, credit: '12.5', points: '2', per: '1000' });
    expect(draft.groups[1]).toMatchObject({ own: false, margin: '30', credit: '5' });
    expect(draft.tiers[1]?.multiplier).toBe('1.25');
    expect(draft.maxCredit).toBe('200000');
    expect(documentOf(draft)).toEqual({ document: STORED });
  });

  it('reads Persian and Arabic digits, toman to Rial and percents to basis points exactly', () => {
    const draft = draftOf(STORED);
    draft.welcomeCredit = '۵۰٬۰۰۰';
    draft.credit = '٢.٥';
    draft.tiers[1] = { ...draft.tiers[1]!, threshold: '۲۰۰', multiplier: '۱.۵' };
    const result = documentOf(draft);
    if (!('document' in result)) throw new Error(JSON.stringify(result.errors));
    expect(result.document.welcome_credit_rial).toBe(500_000);
    expect(result.document.earning).toEqual({ credit_bp: 250, points: 1, per_rial: 10_000 });
    expect(result.document.tiers).toContainEqual(
      expect.objectContaining({ code: 'silver', threshold: 200, multiplier_bp: 15_000 }),
    );
  });

  it('takes thresholds in toman when tiers go by spending', () => {
    const draft = { ...draftOf(STORED), tierBasis: 'spend_12m' as const };
    draft.tiers = draft.tiers.map((t, i) => ({ ...t, threshold: i ? '۵۰۰٬۰۰۰' : '0' }));
    const result = documentOf(draft);
    expect('document' in result && result.document.tiers).toEqual([
      expect.objectContaining({ threshold: 0 }),
      expect.objectContaining({ threshold: 5_000_000 }),
    ]);
  });

  it('names each field it cannot read', () => {
    const draft = draftOf(STORED);
    draft.welcomePoints = 'بیست';
    draft.groups[0] = { ...draft.groups[0]!, credit: '101', code: 'Books' };
    draft.tiers[1] = { ...draft.tiers[1]!, multiplier: '1.00001' };
    draft.punchEvery = '1';
    draft.pointsDays = '0';
    expect(documentOf(draft)).toEqual({
      errors: {
        welcomePoints: 'policy.error.points',
        'groups.0.code': 'policy.error.code',
        'groups.0.credit': 'policy.error.percent',
        'tiers.1.multiplier': 'policy.error.multiplier',
        punchEvery: 'policy.error.every',
        pointsDays: 'policy.error.days',
      },
    });
  });

  it("puts the node's problem at the field it names", () => {
    const draft = draftOf(STORED);
    expect(fieldOfPath('policy.tiers[1].threshold', draft)).toBe('tiers.1.threshold');
    expect(fieldOfPath('policy.product_groups[2].code', draft)).toBe('groups.2.code');
    expect(fieldOfPath('policy.earning_by_group.books.credit_bp', draft)).toBe('groups.0.credit');
    expect(fieldOfPath('policy.earning_by_group.toys', draft)).toBe('groups');
    expect(fieldOfPath('policy.earning.per_rial', draft)).toBe('per');
    expect(fieldOfPath('policy.frequency.every_visits', draft)).toBe('punchEvery');
    expect(fieldOfPath('policy.welcome_credit_rial', draft)).toBe('welcomeCredit');
    expect(fieldOfPath('policy.tiers', draft)).toBe('tiers');
    expect(fieldOfPath('policy', draft)).toBe('form');
    expect(fieldOfPath('policy.extra', draft)).toBe('form');
    expect(errorKeyOf('tiers.1.threshold')).toBe('policy.error.threshold');
    expect(errorKeyOf('form')).toBe('policy.error.invalid');
  });

  it('shows numbers in Persian digits and reads them back to the same document', () => {
    const draft = inLocalDigits(draftOf(STORED), 'fa');
    expect(draft.welcomeCredit).toBe('۱۰۰۰.۵');
    expect(draft.tiers[1]).toMatchObject({ code: 'silver', threshold: '۱۰۰', multiplier: '۱.۲۵' });
    expect(draft.tierBasis).toBe('earned_points');
    expect(documentOf(draft)).toEqual({ document: STORED });
    expect(inLocalDigits(draftOf(STORED), 'en')).toEqual(draftOf(STORED));
  });

  it('converts decimals in integers', () => {
    expect(unitsOf('0.1', 2)).toBe(10);
    expect(unitsOf('12.34', 2)).toBe(1234);
    expect(unitsOf('12.345', 2)).toBeNull();
    expect(unitsOf('-1', 2)).toBeNull();
    expect(unitsText(1234, 2)).toBe('12.34');
    expect(unitsText(12_500, 4)).toBe('1.25');
    expect(unitsText(0, 2)).toBe('0');
  });
});
