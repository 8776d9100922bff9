import { describe, expect, it } from 'vitest';

import { type ConditionRow, EMPTY_ROW, emptyForm, type OfferForm } from './form';
import { errorsOfProblems, errorText, fieldOfPath, isShown, pathParts } from './paths';

function row(patch: Partial<ConditionRow>): ConditionRow {
  return { ...EMPTY_ROW, ...patch };
}

const TWO_ROWS: OfferForm = {
  ...emptyForm(),
  kind: 'one_time',
  audience: {
    combine: 'all',
    rows: [row({ kind: 'visits' }), row({ kind: 'average_basket_rial', not: true })],
  },
  when: { combine: 'all', rows: [row({ kind: 'basket_has_group' })] },
};

describe('a problem path at its field', () => {
  it('splits a path', () => {
    expect(pathParts('offer.audience.of[1].condition.gt')).toEqual(['audience', 'of', 1, 'condition', 'gt']);
  });

  it.each([
    ['offer.audience.of[0].gt', 'audience.0.value'],
    ['offer.audience.of[1].condition.last_visits', 'audience.1.lastVisits'],
    ['offer.audience.of[1].condition.lt', 'audience.1.value'],
    ['offer.audience.of[1]', 'audience.1'],
    ['offer.audience.of[0]', 'audience.0'],
    ['offer.audience.of[7].gt', 'audience'],
    ['offer.audience', 'audience'],
    ['offer.when.groups[0]', 'when.0.choices'],
    ['offer.when', 'when.0'],
    ['offer.reward', 'reward'],
    ['offer.reward.extra_credit_bp', 'reward.extraCredit'],
    ['offer.reward.groups[1]', 'reward.groups'],
    ['offer.caps.per_member', 'caps.perMember'],
    ['offer.caps.budget_rial', 'caps.budget'],
    ['offer.valid_days', 'validDays'],
    ['offer.control_bp', 'controlShare'],
    ['offer.name_fa', 'nameFa'],
    ['offer.priority', 'form'],
    ['offer', 'form'],
  ])('%s → %s', (path, field) => {
    expect(fieldOfPath(path, TWO_ROWS)).toBe(field);
  });

  it('reads a single negated row, and a JSON row as a whole', () => {
    const single: OfferForm = {
      ...emptyForm(),
      audience: { combine: 'any', rows: [row({ kind: 'tag', not: true })] },
      when: { combine: 'all', rows: [row({ kind: 'json' }), row({ kind: 'visits' })] },
    };
    expect(fieldOfPath('offer.audience.condition.any_of', single)).toBe('audience.0.tags');
    expect(fieldOfPath('offer.audience.any_of', single)).toBe('audience.0');
    expect(fieldOfPath('offer.when.of[0].of[2].gt', single)).toBe('when.0.json');
    expect(fieldOfPath('offer.audience', emptyForm())).toBe('audience');
  });

  it('keeps both languages, two problems at one field one after the other', () => {
    const errors = errorsOfProblems(
      [
        { path: 'offer.audience.of[1].condition.last_visits', messageEn: 'at least 1', messageFa: 'دست‌کم ۱' },
        { path: 'offer.valid_days', messageEn: 'needed', messageFa: 'لازم 1' },
        { path: 'offer.valid_days', messageEn: 'twice', messageFa: 'دوباره' },
      ],
      TWO_ROWS,
    );
    expect(errors).toEqual({
      'audience.1.lastVisits': { en: 'at least 1', fa: 'دست‌کم ۱' },
      validDays: { en: 'needed twice', fa: 'لازم 1 دوباره' },
    });
    const t = (key: string) => `«${key}»`;
    expect(errorText(errors.validDays, 'fa', t)).toBe('لازم ۱ دوباره');
    expect(errorText(errors.validDays, 'en', t)).toBe('needed twice');
    expect(errorText({ key: 'offers.error.whole' }, 'en', t)).toBe('«offers.error.whole»');
  });

  it('shows an error once its field, or something inside it, was touched', () => {
    const touched = new Set(['audience.1.value']);
    expect(isShown('audience.1.value', touched, false)).toBe(true);
    expect(isShown('audience.1', touched, false)).toBe(true);
    expect(isShown('audience', touched, false)).toBe(true);
    expect(isShown('audience.0.value', touched, false)).toBe(false);
    expect(isShown('nameFa', touched, false)).toBe(false);
    expect(isShown('nameFa', touched, true)).toBe(true);
  });
});
