/**
 * An offer document in words, for its page: who gets it and on which purchase (nested
 * lists for all / any), what it gives, and its limits — amounts in toman, numbers in the
 * reader's digits, product groups and tiers by their names.
 */
import { formatInteger, formatJalaliDate, formatToman, localDigits } from '../../shared/format';
import { MEMBERSHIP_TYPES, MONEY_KINDS, OPS } from './form';
import { formatBp } from './numbers';

export type Say = (key: string, values?: Record<string, string>) => string;

export interface Words {
  t: Say;
  lang: string;
  groupName: (code: string) => string;
  tierName: (code: string) => string;
}

/** A condition in words; all / any carry their conditions as children. */
export interface Said {
  text: string;
  children?: Said[];
}

type Doc = Record<string, unknown>;

function docOf(value: unknown): Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Doc) : {};
}

function listOf(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

const DAY_KINDS: readonly string[] = ['days_since_last_visit', 'visit_gap_days'];

function compare(doc: Doc, kind: string, w: Words): string {
  const { t, lang } = w;
  const shown = (value: number) => {
    if (MONEY_KINDS.includes(kind)) return `${formatToman(value, lang)} ${t('money.toman')}`;
    if (DAY_KINDS.includes(kind)) return t('offers.say.days', { n: formatInteger(value, lang) });
    return formatInteger(value, lang);
  };
  const bounds = OPS.filter((op) => typeof doc[op] === 'number')
    .map((op) => `${t(`offers.op.${op}`)} ${shown(doc[op] as number)}`)
    .join(t('offers.say.and'));
  const what =
    kind === 'average_basket_rial' && typeof doc.last_visits === 'number'
      ? t('offers.say.averageLast', { n: formatInteger(doc.last_visits, lang) })
      : t(`offers.condition.${kind}`);
  return t('offers.say.compare', { what, bounds });
}

function leaf(doc: Doc, w: Words): string {
  const { t, lang } = w;
  const kind = String(doc.kind);
  const list = (items: string[]) =>
    t('offers.say.list', { what: t(`offers.condition.${kind}`), list: items.join(t('offers.listSeparator')) });
  const days = (value: unknown) => formatInteger(typeof value === 'number' ? value : 0, lang);
  switch (kind) {
    case 'tier':
      return list(listOf(doc.codes).map(w.tierName));
    case 'membership_type':
      return list(
        listOf(doc.types).map((type) =>
          (MEMBERSHIP_TYPES as readonly string[]).includes(type) ? t(`offers.membership.${type}`) : type,
        ),
      );
    case 'tag':
      return list(listOf(doc.any_of));
    case 'basket_has_group':
      return list(listOf(doc.groups).map(w.groupName));
    case 'weekday':
      return list(listOf(doc.days).map((day) => t(`offers.weekday.${day}`)));
    case 'bought_group':
      return typeof doc.within_days === 'number'
        ? t('offers.say.boughtWithin', { group: w.groupName(String(doc.group)), days: days(doc.within_days) })
        : t('offers.say.bought', { group: w.groupName(String(doc.group)) });
    case 'never_bought_group':
      return t('offers.say.neverBought', { group: w.groupName(String(doc.group)) });
    case 'birthday_within':
      return t('offers.say.birthday', { before: days(doc.days_before), after: days(doc.days_after) });
    case 'joined': {
      const parts: string[] = [];
      if (typeof doc.on_or_after === 'string') {
        parts.push(t('offers.say.joinedAfter', { date: formatJalaliDate(doc.on_or_after, lang) }));
      }
      if (typeof doc.before === 'string') {
        parts.push(t('offers.say.joinedBefore', { date: formatJalaliDate(doc.before, lang) }));
      }
      return parts.join(t('offers.say.and'));
    }
    case 'hours':
      return t('offers.say.hours', {
        start: localDigits(String(doc.start), lang),
        end: localDigits(String(doc.end), lang),
      });
  }
  if ((OPS as readonly string[]).some((op) => op in doc)) return compare(doc, kind, w);
  return t('offers.say.json', { json: JSON.stringify(doc) });
}

export function sayCondition(value: unknown, w: Words): Said {
  const doc = docOf(value);
  if ((doc.kind === 'all' || doc.kind === 'any') && Array.isArray(doc.of)) {
    return { text: w.t(`offers.say.${doc.kind}`), children: doc.of.map((c) => sayCondition(c, w)) };
  }
  if (doc.kind === 'not') {
    const inner = sayCondition(doc.condition, w);
    return inner.children
      ? { text: w.t('offers.say.notAll'), children: [inner] }
      : { text: w.t('offers.say.not', { what: inner.text }) };
  }
  return { text: leaf(doc, w) };
}

/** What the offer gives, in one sentence. */
export function sayReward(value: unknown, w: Words): string {
  const { t, lang } = w;
  const reward = docOf(value);
  const number = (key: string) => (typeof reward[key] === 'number' ? reward[key] : 0);
  const gives: string[] = [];
  if (number('extra_credit_bp')) gives.push(t('offers.say.extraCredit', { p: formatBp(number('extra_credit_bp'), lang) }));
  if (number('discount_bp')) gives.push(t('offers.say.discount', { p: formatBp(number('discount_bp'), lang) }));
  if (number('bonus_points')) gives.push(t('offers.say.bonusPoints', { n: formatInteger(number('bonus_points'), lang) }));
  if (number('fixed_credit_rial')) {
    gives.push(t('offers.say.fixedCredit', { amount: formatToman(number('fixed_credit_rial'), lang) }));
  }
  const sentence = gives.join(t('offers.say.and'));
  const groups = listOf(reward.groups);
  return groups.length
    ? t('offers.say.onGroups', { gives: sentence, groups: groups.map(w.groupName).join(t('offers.listSeparator')) })
    : sentence;
}

/** Its limits, each a sentence: the one-time grant's days, the caps, the control group. */
export function sayLimits(document: unknown, w: Words): string[] {
  const { t, lang } = w;
  const doc = docOf(document);
  const caps = docOf(doc.caps);
  const said: string[] = [];
  if (doc.kind === 'one_time' && typeof doc.valid_days === 'number') {
    said.push(t('offers.say.validDays', { days: formatInteger(doc.valid_days, lang) }));
  }
  if (typeof caps.per_member === 'number') {
    said.push(t('offers.say.perMember', { n: formatInteger(caps.per_member, lang) }));
  }
  if (typeof caps.total_uses === 'number') {
    said.push(t('offers.say.totalUses', { n: formatInteger(caps.total_uses, lang) }));
  }
  if (typeof caps.budget_rial === 'number') {
    said.push(t('offers.say.budget', { amount: formatToman(caps.budget_rial, lang) }));
  }
  if (doc.kind === 'one_time') {
    const control = typeof doc.control_bp === 'number' ? doc.control_bp : 1_000;
    said.push(t('offers.say.control', { p: formatBp(control, lang) }));
  }
  return said;
}
