/**
 * An offer as its editor's form holds it (text as typed, in any digits; amounts in toman,
 * shares in percent) and the offer document the node takes (docs/offer.schema.json:
 * snake_case keys, Rial, basis points), both ways. Each condition list is one `all` or
 * `any` of rows, each row one condition, optionally negated; a list of one row is that
 * condition alone, as a person would write it. A condition the rows cannot show (a deeper
 * nesting, two bounds on one number) stays a row of its own JSON text, so nothing is lost.
 *
 * The page reads only what it must to build the document (a number is a number, toman
 * become Rial exactly, percents at most 100): the node says the rest, each problem at its
 * path, and `paths.ts` puts it at its field.
 */
import { localDigits, normalizeDigits, parseTomanInput, RIAL_PER_TOMAN } from '../../shared/format';
import { parseJalaliDate } from '../../shared/format/dates';
import { unitsOf, unitsText } from '../policy/draft';

export const COMPARE_KINDS = [
  'visits',
  'total_spend_rial',
  'average_basket_rial',
  'days_since_last_visit',
  'visit_gap_days',
  'basket_rial',
] as const;
export const MONEY_KINDS: readonly string[] = ['total_spend_rial', 'average_basket_rial', 'basket_rial'];
/** Conditions on the member's own history here (a one-time offer's audience). */
export const MEMBER_KINDS = [
  'visits',
  'total_spend_rial',
  'average_basket_rial',
  'days_since_last_visit',
  'visit_gap_days',
  'tier',
  'membership_type',
  'tag',
  'bought_group',
  'never_bought_group',
  'birthday_within',
  'joined',
] as const;
/** Conditions on the purchase itself. */
export const PURCHASE_KINDS = ['basket_rial', 'basket_has_group', 'weekday', 'hours'] as const;
export const OPS = ['gt', 'gte', 'lt', 'lte'] as const;
export const MEMBERSHIP_TYPES = ['individual', 'company', 'employee'] as const;

export type LeafKind = (typeof MEMBER_KINDS)[number] | (typeof PURCHASE_KINDS)[number];
export type RowKind = LeafKind | 'json';
export type Op = (typeof OPS)[number];
export type OfferKind = 'permanent' | 'one_time';
export type Combine = 'all' | 'any';
export type Part = 'audience' | 'when';

export interface ConditionRow {
  kind: RowKind;
  not: boolean;
  op: Op;
  value: string; // a count, or toman for the money kinds
  lastVisits: string; // average basket: over the last N visits (empty: all)
  choices: string[]; // tier codes, membership types, weekdays (0 Saturday), product groups
  tags: string; // comma separated
  group: string;
  withinDays: string;
  daysBefore: string;
  daysAfter: string;
  after: string; // Jalali date, joined on or after
  before: string; // Jalali date, joined before
  start: string; // HH:MM
  end: string;
  json: string;
}

export interface ConditionGroup {
  combine: Combine;
  rows: ConditionRow[];
}

export interface OfferForm {
  kind: OfferKind;
  nameFa: string;
  nameEn: string;
  audience: ConditionGroup;
  when: ConditionGroup;
  extraCredit: string; // percent
  discount: string; // percent
  bonusPoints: string;
  fixedCredit: string; // toman
  rewardGroups: string[];
  validDays: string;
  perMember: string;
  totalUses: string;
  budget: string; // toman
  controlShare: string; // percent
  priority: number | null; // kept as it came; the form does not edit it
}

export type OfferDocument = Record<string, unknown>;

/** A field's problem: a catalogue key (the page's own check) or the node's sentence. */
export type FieldError = { key: string } | { en: string; fa: string };
export type FieldErrors = Record<string, FieldError>;

export const EMPTY_ROW: ConditionRow = {
  kind: 'visits',
  not: false,
  op: 'gt',
  value: '',
  lastVisits: '',
  choices: [],
  tags: '',
  group: '',
  withinDays: '',
  daysBefore: '0',
  daysAfter: '0',
  after: '',
  before: '',
  start: '',
  end: '',
  json: '',
};

export function emptyForm(): OfferForm {
  return {
    kind: 'permanent',
    nameFa: '',
    nameEn: '',
    audience: { combine: 'all', rows: [] },
    when: { combine: 'all', rows: [] },
    extraCredit: '',
    discount: '',
    bonusPoints: '',
    fixedCredit: '',
    rewardGroups: [],
    validDays: '',
    perMember: '',
    totalUses: '',
    budget: '',
    controlShare: '10',
    priority: null,
  };
}

const SEPARATORS = /[\s,\u066c\u060c_']/g;
const MAX_AMOUNT = 10n ** 15n; // mallnet.values.MAX_RIAL
const MAX_DISCOUNT_BP = 9_000; // the node's: a discount leaves something to pay

export function isCompare(kind: RowKind): kind is (typeof COMPARE_KINDS)[number] {
  return (COMPARE_KINDS as readonly string[]).includes(kind);
}

/** A whole number as typed (any digits, grouped), or null. */
export function wholeOf(text: string): number | null {
  const plain = normalizeDigits(text.trim()).replace(SEPARATORS, '');
  return /^\d{1,15}$/.test(plain) ? Number(plain) : null;
}

/** Toman as typed, as Rial (exact, in integers), or null. */
export function rialOf(text: string): number | null {
  const rial = parseTomanInput(text);
  return rial === null || rial > MAX_AMOUNT ? null : Number(rial);
}

/** Rial as toman text ("2000000" → "200000", 15 → "1.5"). */
export function tomanText(rial: number): string {
  const whole = BigInt(rial) / RIAL_PER_TOMAN;
  const tenth = BigInt(rial) % RIAL_PER_TOMAN;
  return tenth ? `${String(whole)}.${String(tenth)}` : String(whole);
}

/** A percent as typed ("12.5") in basis points (1250), at most 100%, or null. */
export function basisPointsOf(text: string): number | null {
  const bp = unitsOf(text, 2);
  return bp === null || bp > 10_000 ? null : bp;
}

/** A Jalali date as typed as the ISO Gregorian day the document takes, or null. */
export function isoDayOf(text: string): string | null {
  const date = parseJalaliDate(text);
  if (date === null) return null;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(date.getFullYear())}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** An ISO Gregorian day as the Jalali date a person types ("2026-12-06" → "1405/09/15"). */
export function jalaliText(iso: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) return iso;
  const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 12));
  const parts = new Intl.DateTimeFormat('en-u-ca-persian-nu-latn', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    timeZone: 'UTC',
  }).formatToParts(day);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}/${part('month')}/${part('day')}`;
}

export function tagsOf(text: string): string[] {
  return text
    .split(/[,\u060c]/)
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

type Read = <T>(field: string, value: T | null, key: string) => T | null;

function leafOf(row: ConditionRow, at: string, read: Read): OfferDocument | null {
  const optionalWhole = (field: string, text: string) =>
    text.trim() === '' ? undefined : read(`${at}.${field}`, wholeOf(text), 'offers.error.whole');
  if (row.kind === 'json') {
    try {
      return JSON.parse(row.json) as OfferDocument;
    } catch {
      return read<OfferDocument>(`${at}.json`, null, 'offers.error.json');
    }
  }
  if (isCompare(row.kind)) {
    const money = MONEY_KINDS.includes(row.kind);
    const value =
      row.value.trim() === ''
        ? read<number>(`${at}.value`, null, 'offers.error.value')
        : read(`${at}.value`, money ? rialOf(row.value) : wholeOf(row.value), money ? 'offers.error.toman' : 'offers.error.whole');
    const doc: OfferDocument = { kind: row.kind, [row.op]: value };
    if (row.kind === 'average_basket_rial') {
      const last = optionalWhole('lastVisits', row.lastVisits);
      if (last !== undefined) doc.last_visits = last;
    }
    return doc;
  }
  switch (row.kind) {
    case 'tier':
      return { kind: row.kind, codes: row.choices };
    case 'membership_type':
      return { kind: row.kind, types: row.choices };
    case 'tag':
      return { kind: row.kind, any_of: tagsOf(row.tags) };
    case 'basket_has_group':
      return { kind: row.kind, groups: row.choices };
    case 'weekday':
      return { kind: row.kind, days: row.choices.map(Number) };
    case 'never_bought_group':
      return { kind: row.kind, group: row.group };
    case 'bought_group': {
      const within = optionalWhole('withinDays', row.withinDays);
      return within === undefined
        ? { kind: row.kind, group: row.group }
        : { kind: row.kind, group: row.group, within_days: within };
    }
    case 'birthday_within':
      return {
        kind: row.kind,
        days_before: read(`${at}.daysBefore`, wholeOf(row.daysBefore || '0'), 'offers.error.whole'),
        days_after: read(`${at}.daysAfter`, wholeOf(row.daysAfter || '0'), 'offers.error.whole'),
      };
    case 'joined': {
      const doc: OfferDocument = { kind: row.kind };
      if (row.after.trim()) doc.on_or_after = read(`${at}.after`, isoDayOf(row.after), 'offers.error.date');
      if (row.before.trim()) doc.before = read(`${at}.before`, isoDayOf(row.before), 'offers.error.date');
      return doc;
    }
    case 'hours':
      return {
        kind: row.kind,
        start: normalizeDigits(row.start.trim()),
        end: normalizeDigits(row.end.trim()),
      };
  }
  return null;
}

function conditionOf(group: ConditionGroup, part: Part, read: Read): OfferDocument | null {
  const conditions = group.rows.map((row, i) => {
    const leaf = leafOf(row, `${part}.${String(i)}`, read);
    return row.not ? { kind: 'not', condition: leaf } : leaf;
  });
  if (conditions.length === 0) return null;
  if (conditions.length === 1) return conditions[0] ?? null;
  return { kind: group.combine, of: conditions };
}

/** The form as the offer document, or each field that cannot be read (catalogue keys). */
export function documentOf(form: OfferForm): { document: OfferDocument } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const read: Read = (field, value, key) => {
    if (value === null) errors[field] = { key };
    return value;
  };
  const whole = (field: string, text: string) =>
    text.trim() === '' ? null : read(field, wholeOf(text), 'offers.error.whole');
  const toman = (field: string, text: string) =>
    text.trim() === '' ? null : read(field, rialOf(text), 'offers.error.toman');
  const percent = (field: string, text: string) =>
    text.trim() === '' ? null : read(field, basisPointsOf(text), 'offers.error.percent');

  const document: OfferDocument = {
    kind: form.kind,
    name_fa: form.nameFa.trim(),
    name_en: form.nameEn.trim(),
  };
  const audience = conditionOf(form.audience, 'audience', read);
  if (audience !== null) document.audience = audience;
  const when = conditionOf(form.when, 'when', read);
  if (when !== null) document.when = when;

  const reward: OfferDocument = {};
  const gives: [string, number | null][] = [
    ['extra_credit_bp', percent('reward.extraCredit', form.extraCredit)],
    ['discount_bp', percent('reward.discount', form.discount)],
    ['bonus_points', whole('reward.bonusPoints', form.bonusPoints)],
    ['fixed_credit_rial', toman('reward.fixedCredit', form.fixedCredit)],
  ];
  // Nothing given is left out: the document says only what the offer gives.
  for (const [key, value] of gives) if (value) reward[key] = value;
  if (typeof reward.discount_bp === 'number' && reward.discount_bp > MAX_DISCOUNT_BP) {
    errors['reward.discount'] = { key: 'offers.error.discount' };
  }
  if (form.rewardGroups.length > 0) reward.groups = form.rewardGroups;
  document.reward = reward;

  const caps: OfferDocument = {};
  const perMember = whole('caps.perMember', form.perMember);
  const totalUses = whole('caps.totalUses', form.totalUses);
  const budget = toman('caps.budget', form.budget);
  if (perMember !== null) caps.per_member = perMember;
  if (totalUses !== null) caps.total_uses = totalUses;
  if (budget !== null) caps.budget_rial = budget;
  if (Object.keys(caps).length > 0) document.caps = caps;

  if (form.kind === 'one_time') {
    const days = whole('validDays', form.validDays);
    if (days !== null) document.valid_days = days;
    const control = percent('controlShare', form.controlShare);
    if (control !== null && control > 5_000) errors.controlShare = { key: 'offers.error.control' };
    if (control !== null) document.control_bp = control;
  }
  if (form.priority !== null) document.priority = form.priority;
  return Object.keys(errors).length ? { errors } : { document };
}

// --- a document back into the form -------------------------------------------------

type Doc = Record<string, unknown>;

function docOf(value: unknown): Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Doc) : {};
}

function numberOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

function strings(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')
    ? value.map(String)
    : null;
}

const LEAF_KEYS: Record<string, readonly string[]> = {
  tier: ['codes'],
  membership_type: ['types'],
  tag: ['any_of'],
  basket_has_group: ['groups'],
  weekday: ['days'],
  bought_group: ['group', 'within_days'],
  never_bought_group: ['group'],
  birthday_within: ['days_before', 'days_after'],
  joined: ['on_or_after', 'before'],
  hours: ['start', 'end'],
};

/** One condition as a row, or null when a row cannot show it. */
function rowOf(doc: Doc, lang: string): ConditionRow | null {
  const kind = String(doc.kind);
  const row: ConditionRow = { ...EMPTY_ROW, kind: 'visits' };
  const keys = Object.keys(doc).filter((k) => k !== 'kind' && doc[k] !== null);
  const number = (value: unknown) => {
    const n = numberOf(value);
    return n === null ? '' : localDigits(String(n), lang);
  };
  if ((COMPARE_KINDS as readonly string[]).includes(kind)) {
    const bounds = keys.filter((k) => (OPS as readonly string[]).includes(k));
    const others = keys.filter((k) => !bounds.includes(k) && k !== 'last_visits');
    const [op] = bounds;
    const value = op === undefined ? null : numberOf(doc[op]);
    if (bounds.length !== 1 || others.length > 0 || value === null || value < 0) return null;
    row.kind = kind as RowKind;
    row.op = op as Op;
    row.value = localDigits(MONEY_KINDS.includes(kind) ? tomanText(value) : String(value), lang);
    row.lastVisits = number(doc.last_visits);
    return row;
  }
  const allowed = LEAF_KEYS[kind];
  if (allowed === undefined || keys.some((k) => !allowed.includes(k))) return null;
  row.kind = kind as RowKind;
  const list = strings(doc.codes ?? doc.types ?? doc.groups ?? doc.days ?? doc.any_of);
  if (kind === 'tag') row.tags = (list ?? []).join(lang === 'fa' ? '، ' : ', ');
  else row.choices = list ?? [];
  row.group = typeof doc.group === 'string' ? doc.group : '';
  row.withinDays = number(doc.within_days);
  row.daysBefore = number(doc.days_before ?? 0);
  row.daysAfter = number(doc.days_after ?? 0);
  row.after = typeof doc.on_or_after === 'string' ? localDigits(jalaliText(doc.on_or_after), lang) : '';
  row.before = typeof doc.before === 'string' ? localDigits(jalaliText(doc.before), lang) : '';
  row.start = typeof doc.start === 'string' ? localDigits(doc.start, lang) : '';
  row.end = typeof doc.end === 'string' ? localDigits(doc.end, lang) : '';
  return row;
}

function anyRowOf(value: unknown, lang: string): ConditionRow {
  const doc = docOf(value);
  if (doc.kind === 'not') {
    const inner = rowOf(docOf(doc.condition), lang);
    if (inner !== null) return { ...inner, not: true };
  } else {
    const row = rowOf(doc, lang);
    if (row !== null) return row;
  }
  return { ...EMPTY_ROW, kind: 'json', json: JSON.stringify(value) };
}

function groupOf(value: unknown, lang: string): ConditionGroup {
  if (value === null || value === undefined) return { combine: 'all', rows: [] };
  const doc = docOf(value);
  if ((doc.kind === 'all' || doc.kind === 'any') && Array.isArray(doc.of)) {
    return { combine: doc.kind, rows: doc.of.map((c) => anyRowOf(c, lang)) };
  }
  return { combine: 'all', rows: [anyRowOf(value, lang)] };
}

/** A saved document as the form shows it, numbers in the page's digits. */
export function formOf(document: unknown, lang: string): OfferForm {
  const doc = docOf(document);
  const reward = docOf(doc.reward);
  const caps = docOf(doc.caps);
  const local = (text: string) => localDigits(text, lang);
  const count = (value: unknown) => {
    const n = numberOf(value);
    return n === null || n === 0 ? '' : local(String(n));
  };
  const percent = (value: unknown) => {
    const n = numberOf(value);
    return n === null || n === 0 ? '' : local(unitsText(n, 2));
  };
  const toman = (value: unknown) => {
    const n = numberOf(value);
    return n === null || n === 0 ? '' : local(tomanText(n));
  };
  const control = numberOf(doc.control_bp);
  return {
    kind: doc.kind === 'one_time' ? 'one_time' : 'permanent',
    nameFa: typeof doc.name_fa === 'string' ? doc.name_fa : '',
    nameEn: typeof doc.name_en === 'string' ? doc.name_en : '',
    audience: groupOf(doc.audience, lang),
    when: groupOf(doc.when, lang),
    extraCredit: percent(reward.extra_credit_bp),
    discount: percent(reward.discount_bp),
    bonusPoints: count(reward.bonus_points),
    fixedCredit: toman(reward.fixed_credit_rial),
    rewardGroups: strings(reward.groups) ?? [],
    validDays: count(doc.valid_days),
    perMember: count(caps.per_member),
    totalUses: count(caps.total_uses),
    budget: caps.budget_rial === 0 ? local('0') : toman(caps.budget_rial),
    controlShare: local(unitsText(control ?? 1_000, 2)),
    priority: numberOf(doc.priority),
  };
}
