import { describe, expect, it } from 'vitest';

import {
  type ConditionRow,
  documentOf,
  EMPTY_ROW,
  emptyForm,
  formOf,
  isoDayOf,
  jalaliText,
  type OfferForm,
  rialOf,
  tomanText,
} from './form';

const NAMES = { name_fa: 'آفر', name_en: 'Offer' };

function row(patch: Partial<ConditionRow>): ConditionRow {
  return { ...EMPTY_ROW, ...patch };
}

function form(patch: Partial<OfferForm>): OfferForm {
  return { ...emptyForm(), nameFa: 'آفر', nameEn: 'Offer', ...patch };
}

function documentFrom(state: OfferForm): Record<string, unknown> {
  const built = documentOf(state);
  if ('errors' in built) throw new Error(JSON.stringify(built.errors));
  return built.document;
}

// Seed 001's offers as tests/unit/test_offer_seed_examples.py writes them (toman × 10 is
// Rial); a one-time offer also says its control share, the node's default of 10%.
const SEEDS: [string, OfferForm, Record<string, unknown>][] = [
  [
    'more than 10 visits → 10% more credit',
    form({
      audience: { combine: 'all', rows: [row({ kind: 'visits', op: 'gt', value: '10' })] },
      extraCredit: '10',
    }),
    { kind: 'permanent', audience: { kind: 'visits', gt: 10 }, reward: { extra_credit_bp: 1_000 } },
  ],
  [
    'over 5,000,000 toman spent → 5% off and 5% more credit',
    form({
      audience: {
        combine: 'all',
        rows: [row({ kind: 'total_spend_rial', op: 'gt', value: '۵٬۰۰۰٬۰۰۰' })],
      },
      discount: '۵',
      extraCredit: '5',
    }),
    {
      kind: 'permanent',
      audience: { kind: 'total_spend_rial', gt: 50_000_000 },
      reward: { discount_bp: 500, extra_credit_bp: 500 },
    },
  ],
  [
    'silver tier → 15% more credit',
    form({
      audience: { combine: 'all', rows: [row({ kind: 'tier', choices: ['silver'] })] },
      extraCredit: '15',
    }),
    { kind: 'permanent', audience: { kind: 'tier', codes: ['silver'] }, reward: { extra_credit_bp: 1_500 } },
  ],
  [
    'more than 5 visits averaging under 200,000 toman → 10% more credit over 300,000 toman',
    form({
      kind: 'one_time',
      audience: {
        combine: 'all',
        rows: [
          row({ kind: 'visits', op: 'gt', value: '5' }),
          row({ kind: 'average_basket_rial', op: 'lt', value: '200,000' }),
        ],
      },
      when: { combine: 'all', rows: [row({ kind: 'basket_rial', op: 'gt', value: '۳۰۰۰۰۰' })] },
      extraCredit: '10',
      validDays: '30',
    }),
    {
      kind: 'one_time',
      audience: {
        kind: 'all',
        of: [
          { kind: 'visits', gt: 5 },
          { kind: 'average_basket_rial', lt: 2_000_000 },
        ],
      },
      when: { kind: 'basket_rial', gt: 3_000_000 },
      reward: { extra_credit_bp: 1_000 },
      valid_days: 30,
      control_bp: 1_000,
    },
  ],
  [
    'nails but never colour → 20% off colour within 30 days',
    form({
      kind: 'one_time',
      audience: {
        combine: 'all',
        rows: [
          row({ kind: 'bought_group', group: 'nails' }),
          row({ kind: 'never_bought_group', group: 'colour' }),
        ],
      },
      when: { combine: 'all', rows: [row({ kind: 'basket_has_group', choices: ['colour'] })] },
      discount: '20',
      rewardGroups: ['colour'],
      validDays: '۳۰',
    }),
    {
      kind: 'one_time',
      audience: {
        kind: 'all',
        of: [
          { kind: 'bought_group', group: 'nails' },
          { kind: 'never_bought_group', group: 'colour' },
        ],
      },
      when: { kind: 'basket_has_group', groups: ['colour'] },
      reward: { discount_bp: 2_000, groups: ['colour'] },
      valid_days: 30,
      control_bp: 1_000,
    },
  ],
  [
    'more than 4 purchases and no visit for 3 months → 35% more credit within 7 days',
    form({
      kind: 'one_time',
      audience: {
        combine: 'all',
        rows: [
          row({ kind: 'visits', op: 'gt', value: '4' }),
          row({ kind: 'days_since_last_visit', op: 'gt', value: '90' }),
        ],
      },
      extraCredit: '35',
      validDays: '7',
    }),
    {
      kind: 'one_time',
      audience: {
        kind: 'all',
        of: [
          { kind: 'visits', gt: 4 },
          { kind: 'days_since_last_visit', gt: 90 },
        ],
      },
      reward: { extra_credit_bp: 3_500 },
      valid_days: 7,
      control_bp: 1_000,
    },
  ],
];

describe('seed 001 offers built in the form', () => {
  it.each(SEEDS)('%s', (_name, state, seed) => {
    expect(documentFrom(state)).toEqual({ ...NAMES, ...seed });
  });

  it.each(SEEDS)('%s reads back into the same form state', (_name, _state, seed) => {
    const stored = { ...NAMES, ...seed, priority: 100, caps: {} };
    const back = formOf(stored, 'en');
    expect(documentFrom(back)).toEqual({ ...NAMES, ...seed, priority: 100 });
  });
});

describe('toman and Rial', () => {
  it('multiplies toman typed in any digits by ten, exactly', () => {
    expect(rialOf('۲۰۰٬۰۰۰')).toBe(2_000_000);
    expect(rialOf('1,234.5')).toBe(12_345);
    expect(rialOf('٣٠٠')).toBe(3_000);
    expect(rialOf('12.34')).toBeNull();
    expect(rialOf('abc')).toBeNull();
    expect(rialOf('-5')).toBeNull();
  });

  it('shows Rial as toman', () => {
    expect(tomanText(2_000_000)).toBe('200000');
    expect(tomanText(15)).toBe('1.5');
  });

  it('puts money in the reward, the caps and the conditions in Rial', () => {
    const doc = documentFrom(
      form({
        when: {
          combine: 'any',
          rows: [
            row({ kind: 'basket_rial', op: 'gte', value: '600000' }),
            row({ kind: 'average_basket_rial', op: 'lte', value: '50000', lastVisits: '۳' }),
          ],
        },
        fixedCredit: '20,000',
        budget: '1000000',
        perMember: '2',
      }),
    );
    expect(doc.when).toEqual({
      kind: 'any',
      of: [
        { kind: 'basket_rial', gte: 6_000_000 },
        { kind: 'average_basket_rial', lte: 500_000, last_visits: 3 },
      ],
    });
    expect(doc.reward).toEqual({ fixed_credit_rial: 200_000 });
    expect(doc.caps).toEqual({ per_member: 2, budget_rial: 10_000_000 });
    expect(doc).not.toHaveProperty('valid_days');
    expect(doc).not.toHaveProperty('control_bp');
  });

  it('shows saved Rial as toman in Persian digits', () => {
    const back = formOf(
      {
        kind: 'permanent',
        ...NAMES,
        audience: { kind: 'total_spend_rial', gt: 50_000_000 },
        reward: { fixed_credit_rial: 200_000, extra_credit_bp: 1_250 },
        caps: { budget_rial: 10_000_000 },
      },
      'fa',
    );
    expect(back.audience.rows[0]?.value).toBe('۵۰۰۰۰۰۰');
    expect(back.fixedCredit).toBe('۲۰۰۰۰');
    expect(back.extraCredit).toBe('۱۲.۵');
    expect(back.budget).toBe('۱۰۰۰۰۰۰');
  });
});

describe('the other rows', () => {
  it('negates a row, and keeps what the rows cannot show as JSON', () => {
    const nested = { kind: 'any', of: [{ kind: 'tag', any_of: ['vip'] }, { kind: 'visits', gt: 3 }] };
    const stored = {
      kind: 'permanent',
      ...NAMES,
      audience: {
        kind: 'all',
        of: [{ kind: 'not', condition: { kind: 'tag', any_of: ['vip', 'staff'] } }, nested],
      },
      when: { kind: 'visits', gt: 1, lt: 9 },
      reward: { bonus_points: 50 },
    };
    const back = formOf(stored, 'en');
    expect(back.audience.rows.map((r) => [r.kind, r.not])).toEqual([
      ['tag', true],
      ['json', false],
    ]);
    expect(back.audience.rows[0]?.tags).toBe('vip, staff');
    expect(back.when.rows[0]?.kind).toBe('json');
    expect(documentFrom(back)).toEqual(stored);
  });

  it('builds the time, birthday, joined and membership rows', () => {
    const doc = documentFrom(
      form({
        audience: {
          combine: 'all',
          rows: [
            row({ kind: 'birthday_within', daysBefore: '3', daysAfter: '۷' }),
            row({ kind: 'joined', after: '۱۴۰۴/۱۰/۱۱', before: '' }),
            row({ kind: 'membership_type', choices: ['company'] }),
            row({ kind: 'bought_group', group: 'hair', withinDays: '30' }),
          ],
        },
        when: {
          combine: 'all',
          rows: [
            row({ kind: 'weekday', choices: ['0', '6'] }),
            row({ kind: 'hours', start: '۱۰:۰۰', end: '12:30' }),
          ],
        },
        bonusPoints: '100',
      }),
    );
    expect(doc.audience).toEqual({
      kind: 'all',
      of: [
        { kind: 'birthday_within', days_before: 3, days_after: 7 },
        { kind: 'joined', on_or_after: '2026-01-01' },
        { kind: 'membership_type', types: ['company'] },
        { kind: 'bought_group', group: 'hair', within_days: 30 },
      ],
    });
    expect(doc.when).toEqual({
      kind: 'all',
      of: [
        { kind: 'weekday', days: [0, 6] },
        { kind: 'hours', start: '10:00', end: '12:30' },
      ],
    });
  });

  it('turns days both ways between the calendars', () => {
    expect(isoDayOf('1405/09/15')).toBe('2026-12-06');
    expect(jalaliText('2026-12-06')).toBe('1405/09/15');
    expect(isoDayOf('1404/12/31')).toBeNull();
  });

  it('names each field it cannot read, and builds nothing', () => {
    const built = documentOf(
      form({
        kind: 'one_time',
        audience: { combine: 'all', rows: [row({ kind: 'visits', value: 'five' }), row({ kind: 'joined', after: 'x' })] },
        extraCredit: '101',
        discount: '95',
        fixedCredit: '1.25',
        controlShare: '60',
      }),
    );
    expect(built).toEqual({
      errors: {
        'audience.0.value': { key: 'offers.error.whole' },
        'audience.1.after': { key: 'offers.error.date' },
        'reward.extraCredit': { key: 'offers.error.percent' },
        'reward.discount': { key: 'offers.error.discount' },
        'reward.fixedCredit': { key: 'offers.error.toman' },
        controlShare: { key: 'offers.error.control' },
      },
    });
  });
});
