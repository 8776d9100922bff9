/**
 * The node's problems with an offer document land at the form's fields: a path such as
 * `offer.audience.of[1].gt` names the second row of the audience, its value. Which row a
 * path names depends on the form the document was built from: a list of one row is that
 * condition alone (`offer.audience.gt`), a negated row sits under `condition`. A path the
 * form has no field for lands on the form as a whole.
 */
import { toPersianDigits } from '../../shared/format';
import type { FieldError, FieldErrors, OfferForm, Part } from './form';

const PATH_PART = /\.([^.[\]]+)|\[(\d+)\]/g;

/** `offer.audience.of[1].gt` → ['audience', 'of', 1, 'gt']. */
export function pathParts(path: string): (string | number)[] {
  return [...path.replace(/^offer/, '').matchAll(PATH_PART)].map((m) =>
    m[2] === undefined ? (m[1] ?? '') : Number(m[2]),
  );
}

/** A condition's key in the document → the row's field. */
const ROW_FIELD: Record<string, string> = {
  gt: 'value',
  gte: 'value',
  lt: 'value',
  lte: 'value',
  last_visits: 'lastVisits',
  codes: 'choices',
  types: 'choices',
  days: 'choices',
  groups: 'choices',
  any_of: 'tags',
  group: 'group',
  within_days: 'withinDays',
  days_before: 'daysBefore',
  days_after: 'daysAfter',
  on_or_after: 'after',
  before: 'before',
  start: 'start',
  end: 'end',
};

const REWARD_FIELD: Record<string, string> = {
  extra_credit_bp: 'reward.extraCredit',
  discount_bp: 'reward.discount',
  bonus_points: 'reward.bonusPoints',
  fixed_credit_rial: 'reward.fixedCredit',
  groups: 'reward.groups',
};

const CAPS_FIELD: Record<string, string> = {
  per_member: 'caps.perMember',
  total_uses: 'caps.totalUses',
  budget_rial: 'caps.budget',
};

const TOP_FIELD: Record<string, string> = {
  kind: 'kind',
  name_fa: 'nameFa',
  name_en: 'nameEn',
  valid_days: 'validDays',
  control_bp: 'controlShare',
};

function conditionField(part: Part, rest: (string | number)[], form: OfferForm): string {
  const rows = form[part].rows;
  let index = 0;
  let inRow = rest;
  if (rows.length > 1) {
    // all/any of the rows: `of[i]` names the row
    if (rest[0] !== 'of' || typeof rest[1] !== 'number') return part;
    index = rest[1];
    inRow = rest.slice(2);
  }
  const row = rows[index];
  if (row === undefined) return part;
  const at = `${part}.${String(index)}`;
  if (row.kind === 'json') return `${at}.json`;
  if (row.not) {
    if (inRow[0] !== 'condition') return at;
    inRow = inRow.slice(1);
  }
  const key = inRow[0];
  const field = typeof key === 'string' ? ROW_FIELD[key] : undefined;
  return field === undefined ? at : `${at}.${field}`;
}

/** The form field a problem's path names (`form`: none the form shows). */
export function fieldOfPath(path: string, form: OfferForm): string {
  const [head, ...rest] = pathParts(path);
  if (head === 'audience' || head === 'when') return conditionField(head, rest, form);
  const second = rest[0];
  if (head === 'reward') {
    return (typeof second === 'string' ? REWARD_FIELD[second] : undefined) ?? 'reward';
  }
  if (head === 'caps') return (typeof second === 'string' ? CAPS_FIELD[second] : undefined) ?? 'form';
  return (typeof head === 'string' ? TOP_FIELD[head] : undefined) ?? 'form';
}

export interface OfferProblem {
  path: string;
  messageEn: string;
  messageFa: string;
}

/** The node's problems as the form's errors; two at one field read one after the other. */
export function errorsOfProblems(problems: readonly OfferProblem[], form: OfferForm): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const field = fieldOfPath(problem.path, form);
    const before = errors[field];
    errors[field] =
      before && 'en' in before
        ? { en: `${before.en} ${problem.messageEn}`, fa: `${before.fa} ${problem.messageFa}` }
        : { en: problem.messageEn, fa: problem.messageFa };
  }
  return errors;
}

/** An error as the reader's sentence (the node's Persian with Persian digits). */
export function errorText(
  error: FieldError | undefined,
  lang: string,
  t: (key: string) => string,
): string | null {
  if (error === undefined) return null;
  if ('key' in error) return t(error.key);
  return lang === 'fa' ? toPersianDigits(error.fa) : error.en;
}

/** Whether an error at `field` is for the person to see yet: once they touched the field
 * (or, for a row or a section, anything in it) or tried to save. */
export function isShown(field: string, touched: ReadonlySet<string>, submitted: boolean): boolean {
  if (submitted || touched.has(field)) return true;
  const inside = `${field}.`;
  for (const seen of touched) if (seen.startsWith(inside)) return true;
  return false;
}

/** The errors to show now. */
export function shownErrors(
  errors: FieldErrors,
  touched: ReadonlySet<string>,
  submitted: boolean,
): FieldErrors {
  return Object.fromEntries(
    Object.entries(errors).filter(([field]) => isShown(field, touched, submitted)),
  );
}
