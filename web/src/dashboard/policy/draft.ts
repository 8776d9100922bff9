/**
 * The club policy as its form edits it (text as typed, in any digits), back to the
 * document the node takes (snake_case keys, integer basis points, Rial and points), and
 * the node's problem paths (`policy.tiers[1].threshold`) as the form's fields. Amounts are
 * typed in toman, percents and multipliers as decimals: each converted exactly, in
 * integers, never through a floating-point sum. What spans fields (codes unique, tiers in
 * order) is the node's to say: its answer lands at the field it names.
 */
import { localDigits, normalizeDigits, parseTomanInput, RIAL_PER_TOMAN } from '../../shared/format';

export type TierBasis = 'earned_points' | 'spend_12m';

export interface GroupDraft {
  code: string;
  nameFa: string;
  nameEn: string;
  margin: string; // percent
  own: boolean; // earns by its own rule, not the shop's default
  credit: string; // percent
  points: string;
  per: string; // toman
}

export interface TierDraft {
  code: string;
  nameFa: string;
  nameEn: string;
  threshold: string; // points, or toman spent in 12 months
  multiplier: string; // ×, e.g. 1.25
}

export interface PolicyDraft {
  openClub: boolean;
  welcomePoints: string;
  welcomeCredit: string;
  groups: GroupDraft[];
  credit: string;
  points: string;
  per: string;
  maxPoints: string;
  maxCredit: string;
  maxCreditSpend: string;
  tierBasis: TierBasis;
  tiers: TierDraft[];
  punch: boolean;
  punchEvery: string;
  punchPoints: string;
  punchCredit: string;
  pointsDays: string;
  creditDays: string;
}

/** Form field → catalogue key of what is wrong with it. */
export type FieldErrors = Record<string, string>;

export type PolicyDocument = Record<string, unknown>;

const MAX_AMOUNT = 10n ** 15n; // mallnet.values.MAX_RIAL and MAX_POINTS
const SEPARATORS = /[\s,\u066c\u060c_']/g;

type Doc = Record<string, unknown>;

function docOf(value: unknown): Doc {
  return typeof value === 'object' && value !== null ? (value as Doc) : {};
}

function numberOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

/** Integer units with `places` decimals as text: (1250, 2) → "12.5", (15000, 4) → "1.5". */
export function unitsText(units: number, places: number): string {
  const scale = 10 ** places;
  const whole = Math.trunc(units / scale);
  const fraction = String(units % scale)
    .padStart(places, '0')
    .replace(/0+$/, '');
  return fraction ? `${String(whole)}.${fraction}` : String(whole);
}

/** A decimal as typed to integer units of 10^-places ("12.5", 2 → 1250), or null. */
export function unitsOf(text: string, places: number): number | null {
  const plain = normalizeDigits(text.trim()).replace(/[\u066b/]/, '.');
  const match = /^(\d{1,9})(?:\.(\d*))?$/.exec(plain);
  if (!match) return null;
  const fraction = match[2] ?? '';
  if (fraction.length > places) return null;
  return Number(match[1]) * 10 ** places + Number(fraction.padEnd(places, '0') || '0');
}

function tomanText(rial: unknown): string {
  const value = numberOf(rial);
  if (value === null) return '';
  const whole = BigInt(value) / RIAL_PER_TOMAN;
  const tenth = BigInt(value) % RIAL_PER_TOMAN;
  return tenth ? `${String(whole)}.${String(tenth)}` : String(whole);
}

function countText(value: unknown): string {
  const found = numberOf(value);
  return found === null ? '' : String(found);
}

export function draftOf(document: unknown): PolicyDraft {
  const doc = docOf(document);
  const earning = docOf(doc.earning);
  const byGroup = docOf(doc.earning_by_group);
  const frequency = doc.frequency === null || doc.frequency === undefined ? null : docOf(doc.frequency);
  const basis: TierBasis = doc.tier_basis === 'spend_12m' ? 'spend_12m' : 'earned_points';
  const groups = Array.isArray(doc.product_groups) ? doc.product_groups.map(docOf) : [];
  const tiers = Array.isArray(doc.tiers) ? doc.tiers.map(docOf) : [];
  return {
    openClub: doc.open_club !== false,
    welcomePoints: countText(doc.welcome_points ?? 0),
    welcomeCredit: tomanText(doc.welcome_credit_rial ?? 0),
    groups: groups.map((g) => {
      const code = typeof g.code === 'string' ? g.code : '';
      const own = Object.hasOwn(byGroup, code) ? docOf(byGroup[code]) : null;
      const rule = own ?? earning;
      return {
        code,
        nameFa: typeof g.name_fa === 'string' ? g.name_fa : '',
        nameEn: typeof g.name_en === 'string' ? g.name_en : '',
        margin: unitsText(numberOf(g.margin_bp) ?? 3000, 2),
        own: own !== null,
        credit: unitsText(numberOf(rule.credit_bp) ?? 0, 2),
        points: countText(rule.points ?? 0),
        per: tomanText(rule.per_rial ?? 10_000),
      };
    }),
    credit: unitsText(numberOf(earning.credit_bp) ?? 0, 2),
    points: countText(earning.points ?? 0),
    per: tomanText(earning.per_rial ?? 10_000),
    maxPoints: countText(doc.max_points_per_purchase),
    maxCredit: tomanText(doc.max_credit_per_purchase_rial),
    maxCreditSpend: unitsText(numberOf(doc.max_credit_spend_bp) ?? 10_000, 2),
    tierBasis: basis,
    tiers: tiers.map((tier) => ({
      code: typeof tier.code === 'string' ? tier.code : '',
      nameFa: typeof tier.name_fa === 'string' ? tier.name_fa : '',
      nameEn: typeof tier.name_en === 'string' ? tier.name_en : '',
      threshold:
        basis === 'spend_12m' ? tomanText(tier.threshold ?? 0) : countText(tier.threshold ?? 0),
      multiplier: unitsText(numberOf(tier.multiplier_bp) ?? 10_000, 4),
    })),
    punch: frequency !== null,
    punchEvery: countText(frequency?.every_visits ?? 10),
    punchPoints: countText(frequency?.reward_points ?? 0),
    punchCredit: tomanText(frequency?.reward_credit_rial ?? 0),
    pointsDays: countText(doc.points_valid_days),
    creditDays: countText(doc.credit_valid_days),
  };
}

export const EMPTY_GROUP: GroupDraft = {
  code: '',
  nameFa: '',
  nameEn: '',
  margin: '30',
  own: false,
  credit: '0',
  points: '0',
  per: '1000',
};

export const EMPTY_TIER: TierDraft = {
  code: '',
  nameFa: '',
  nameEn: '',
  threshold: '',
  multiplier: '1',
};

/** Which catalogue sentence says what a field takes, by the field's last part. */
const ERROR_OF: Record<string, string> = {
  code: 'policy.error.code',
  nameFa: 'policy.error.name',
  nameEn: 'policy.error.name',
  margin: 'policy.error.percent',
  credit: 'policy.error.percent',
  maxCreditSpend: 'policy.error.percent',
  points: 'policy.error.points',
  welcomePoints: 'policy.error.points',
  punchPoints: 'policy.error.points',
  maxPoints: 'policy.error.points',
  per: 'policy.error.per',
  welcomeCredit: 'policy.error.toman',
  maxCredit: 'policy.error.toman',
  punchCredit: 'policy.error.toman',
  threshold: 'policy.error.threshold',
  multiplier: 'policy.error.multiplier',
  punchEvery: 'policy.error.every',
  pointsDays: 'policy.error.days',
  creditDays: 'policy.error.days',
  groups: 'policy.error.groups',
  tiers: 'policy.error.tiers',
  amount: 'policy.error.basketAmount',
  group: 'policy.error.basketGroup',
};

export function errorKeyOf(field: string): string {
  return ERROR_OF[field.split('.').at(-1) ?? ''] ?? 'policy.error.invalid';
}

function count(text: string, min: number, max = Number(MAX_AMOUNT)): number | null {
  const plain = normalizeDigits(text.trim()).replace(SEPARATORS, '');
  if (!/^\d{1,16}$/.test(plain)) return null;
  const value = Number(plain);
  return value >= min && value <= max ? value : null;
}

function toman(text: string, min = 0n): number | null {
  const rial = parseTomanInput(text);
  return rial === null || rial < min || rial > MAX_AMOUNT ? null : Number(rial);
}

function percent(text: string): number | null {
  const bp = unitsOf(text, 2);
  return bp === null || bp > 10_000 ? null : bp;
}

function multiplier(text: string): number | null {
  const bp = unitsOf(text, 4);
  return bp === null || bp > 100_000 ? null : bp;
}

/** The draft as the node's document, or each field that cannot be read (catalogue keys). */
export function documentOf(draft: PolicyDraft): { document: PolicyDocument } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  function read<T>(field: string, value: T | null): T | null {
    if (value === null) errors[field] = errorKeyOf(field);
    return value;
  }
  const optional = <T>(field: string, text: string, parse: (t: string) => T | null) =>
    text.trim() === '' ? null : read(field, parse(text));
  const name = (field: string, text: string) => {
    const trimmed = text.trim();
    return read(field, trimmed.length >= 1 && trimmed.length <= 80 ? trimmed : null);
  };
  const code = (field: string, text: string) => {
    const plain = text.trim();
    return read(field, /^[a-z0-9][a-z0-9_-]{0,39}$/.test(plain) ? plain : null);
  };
  const rule = (prefix: string, r: { credit: string; points: string; per: string }) => ({
    credit_bp: read(`${prefix}credit`, percent(r.credit)),
    points: read(`${prefix}points`, count(r.points, 0)),
    per_rial: read(`${prefix}per`, toman(r.per, 1n)),
  });
  const groups = draft.groups.map((g, i) => ({
    code: code(`groups.${String(i)}.code`, g.code),
    name_fa: name(`groups.${String(i)}.nameFa`, g.nameFa),
    name_en: name(`groups.${String(i)}.nameEn`, g.nameEn),
    margin_bp: read(`groups.${String(i)}.margin`, percent(g.margin)),
  }));
  const earningByGroup: Record<string, unknown> = {};
  draft.groups.forEach((g, i) => {
    if (g.own) earningByGroup[g.code.trim()] = rule(`groups.${String(i)}.`, g);
  });
  if (draft.groups.length === 0) errors.groups = errorKeyOf('groups');
  if (draft.tiers.length === 0) errors.tiers = errorKeyOf('tiers');
  const spend = draft.tierBasis === 'spend_12m';
  const tiers = draft.tiers.map((tier, i) => ({
    code: code(`tiers.${String(i)}.code`, tier.code),
    name_fa: name(`tiers.${String(i)}.nameFa`, tier.nameFa),
    name_en: name(`tiers.${String(i)}.nameEn`, tier.nameEn),
    threshold: read(
      `tiers.${String(i)}.threshold`,
      spend ? toman(tier.threshold) : count(tier.threshold, 0),
    ),
    multiplier_bp: read(`tiers.${String(i)}.multiplier`, multiplier(tier.multiplier)),
  }));
  const document: PolicyDocument = {
    open_club: draft.openClub,
    welcome_points: read('welcomePoints', count(draft.welcomePoints, 0)),
    welcome_credit_rial: read('welcomeCredit', toman(draft.welcomeCredit)),
    product_groups: groups,
    earning: rule('', draft),
    earning_by_group: earningByGroup,
    max_points_per_purchase: optional('maxPoints', draft.maxPoints, (t) => count(t, 0)),
    max_credit_per_purchase_rial: optional('maxCredit', draft.maxCredit, (t) => toman(t)),
    max_credit_spend_bp: read('maxCreditSpend', percent(draft.maxCreditSpend)),
    tier_basis: draft.tierBasis,
    tiers,
    frequency: draft.punch
      ? {
          every_visits: read('punchEvery', count(draft.punchEvery, 2, 1000)),
          reward_points: read('punchPoints', count(draft.punchPoints, 0)),
          reward_credit_rial: read('punchCredit', toman(draft.punchCredit)),
        }
      : null,
    points_valid_days: optional('pointsDays', draft.pointsDays, (t) => count(t, 1, 3650)),
    credit_valid_days: optional('creditDays', draft.creditDays, (t) => count(t, 1, 3650)),
  };
  return Object.keys(errors).length ? { errors } : { document };
}

const PATH_PART = /\.([^.[\]]+)|\[(\d+)\]/g;

/** The form field a node problem names: `policy.tiers[1].threshold` → `tiers.1.threshold`;
 * `form` when it names none the form shows. */
export function fieldOfPath(path: string, draft: PolicyDraft): string {
  const parts = [...path.replace(/^policy/, '').matchAll(PATH_PART)].map(
    (m) => m[1] ?? m[2] ?? '',
  );
  const [head, second, third] = parts;
  const simple: Record<string, string> = {
    welcome_points: 'welcomePoints',
    welcome_credit_rial: 'welcomeCredit',
    max_points_per_purchase: 'maxPoints',
    max_credit_per_purchase_rial: 'maxCredit',
    max_credit_spend_bp: 'maxCreditSpend',
    points_valid_days: 'pointsDays',
    credit_valid_days: 'creditDays',
  };
  const ruleField: Record<string, string> = { credit_bp: 'credit', points: 'points', per_rial: 'per' };
  const listField: Record<string, string> = {
    code: 'code',
    name_fa: 'nameFa',
    name_en: 'nameEn',
    margin_bp: 'margin',
    threshold: 'threshold',
    multiplier_bp: 'multiplier',
  };
  const frequencyField: Record<string, string> = {
    every_visits: 'punchEvery',
    reward_points: 'punchPoints',
    reward_credit_rial: 'punchCredit',
  };
  if (head === undefined) return 'form';
  if (head in simple) return simple[head] ?? 'form';
  if (head === 'earning') return (second && ruleField[second]) ?? 'form';
  if (head === 'frequency') return (second && frequencyField[second]) ?? 'form';
  if ((head === 'product_groups' || head === 'tiers') && second !== undefined) {
    const list = head === 'tiers' ? 'tiers' : 'groups';
    if (third === undefined) return list;
    return third in listField ? `${list}.${second}.${listField[third] ?? ''}` : list;
  }
  if (head === 'product_groups' || head === 'tiers') return head === 'tiers' ? 'tiers' : 'groups';
  if (head === 'earning_by_group' && second !== undefined) {
    const index = draft.groups.findIndex((g) => g.code.trim() === second);
    if (index < 0) return 'groups';
    return `groups.${String(index)}.${(third && ruleField[third]) ?? 'code'}`;
  }
  return 'form';
}

/** The node's field problems as the form's errors (a path the form has no field for: `form`). */
export function errorsOfProblems(
  problems: readonly { field: string }[],
  draft: PolicyDraft,
): FieldErrors {
  const errors: FieldErrors = {};
  for (const problem of problems) {
    const field = fieldOfPath(problem.field, draft);
    errors[field] ??= errorKeyOf(field);
  }
  return errors;
}

const NOT_NUMBERS = new Set(['code', 'nameFa', 'nameEn']);

/** The draft's numbers in the page's digits (Persian in Persian); codes and names as they are. */
export function inLocalDigits(draft: PolicyDraft, lang: string): PolicyDraft {
  const local = <T extends object>(item: T): T =>
    Object.fromEntries(
      Object.entries(item).map(([key, value]) => [
        key,
        typeof value === 'string' && !NOT_NUMBERS.has(key) ? localDigits(value, lang) : value,
      ]),
    ) as T;
  return { ...local(draft), groups: draft.groups.map(local), tiers: draft.tiers.map(local) };
}
