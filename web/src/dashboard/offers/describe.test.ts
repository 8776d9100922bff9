import { describe, expect, it } from 'vitest';

import en from '../messages/offers.en.json';
import shared from '../../shared/i18n/en.json';
import { sayCondition, sayLimits, sayReward, type Words } from './describe';

function lookup(key: string): string {
  let node: unknown = { ...shared, ...en };
  for (const part of key.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'string') throw new Error(`no message ${key}`);
  return node;
}

const words: Words = {
  t: (key, values = {}) => lookup(key).replace(/\{\{(\w+)\}\}/g, (_m, name: string) => values[name] ?? ''),
  lang: 'en',
  groupName: (code) => ({ colour: 'Colour', nails: 'Nails' })[code] ?? code,
  tierName: (code) => code,
};

describe('an offer in words', () => {
  it('says the seed’s small-basket regulars offer', () => {
    const doc = {
      kind: 'one_time',
      audience: {
        kind: 'all',
        of: [
          { kind: 'visits', gt: 5 },
          { kind: 'average_basket_rial', lt: 2_000_000 },
        ],
      },
      when: { kind: 'basket_rial', gt: 3_000_000 },
      reward: { extra_credit_bp: 1_000, discount_bp: 0 },
      valid_days: 30,
      caps: {},
      control_bp: 1_000,
    };
    expect(sayCondition(doc.audience, words)).toEqual({
      text: 'All of these:',
      children: [
        { text: 'Visits (purchases here): more than 5' },
        { text: 'Average basket: less than 200,000 toman' },
      ],
    });
    expect(sayCondition(doc.when, words).text).toBe("This purchase's amount: more than 300,000 toman");
    expect(sayReward(doc.reward, words)).toBe('10% more credit');
    expect(sayLimits(doc, words)).toEqual([
      'Granted at launch; each member may use it once within 30 days.',
      '10% of the members who match are kept apart as a control group and not granted it.',
    ]);
  });

  it('says a negation, groups and days', () => {
    expect(sayCondition({ kind: 'not', condition: { kind: 'bought_group', group: 'colour' } }, words).text).toBe(
      'Not: Has bought Colour',
    );
    expect(sayCondition({ kind: 'days_since_last_visit', gt: 90 }, words).text).toBe(
      'Days since the last visit: more than 90 days',
    );
    expect(sayReward({ discount_bp: 2_000, groups: ['colour'] }, words)).toBe('20% off, on Colour only');
  });
});
