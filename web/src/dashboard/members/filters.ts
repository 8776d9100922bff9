/**
 * The member list's filter as the page holds it (what was typed: Jalali dates in any
 * digits) and as the server takes it: GraphQL variables for `memberSearch`, and the same
 * filter as the query string of the CSV/XLSX download, so a file holds exactly the list
 * on the screen.
 */
import { normalizeDigits, parseJalaliDate } from '../../shared/format';

export type MembershipKind = 'INDIVIDUAL' | 'COMPANY' | 'EMPLOYEE';

export interface FilterForm {
  search: string;
  tier: string | null;
  membershipType: MembershipKind | null;
  joinedFrom: string;
  joinedTo: string;
  lastVisitFrom: string;
  lastVisitTo: string;
  tag: string;
}

export const EMPTY_FILTER: FilterForm = {
  search: '',
  tier: null,
  membershipType: null,
  joinedFrom: '',
  joinedTo: '',
  lastVisitFrom: '',
  lastVisitTo: '',
  tag: '',
};

export const DATE_FIELDS = ['joinedFrom', 'joinedTo', 'lastVisitFrom', 'lastVisitTo'] as const;
export type DateField = (typeof DATE_FIELDS)[number];

export interface MemberFilterVariables {
  search?: string;
  tier?: string;
  membershipType?: MembershipKind;
  joinedFrom?: string;
  joinedTo?: string;
  lastVisitFrom?: string;
  lastVisitTo?: string;
  tag?: string;
}

/** A day as the API's Date: the Gregorian yyyy-mm-dd of the local day parsed. */
function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(date.getFullYear())}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The date fields typed that are no Jalali day (to show at the field). */
export function badDates(form: FilterForm): DateField[] {
  return DATE_FIELDS.filter((name) => form[name].trim() !== '' && parseJalaliDate(form[name]) === null);
}

/** The filter for the server: only what was given, dates as Gregorian days. */
export function filterVariables(form: FilterForm): MemberFilterVariables {
  const out: MemberFilterVariables = {};
  const search = normalizeDigits(form.search).trim();
  if (search) out.search = search;
  if (form.tier) out.tier = form.tier;
  if (form.membershipType) out.membershipType = form.membershipType;
  const tag = form.tag.trim();
  if (tag) out.tag = tag;
  for (const name of DATE_FIELDS) {
    const day = form[name].trim() === '' ? null : parseJalaliDate(form[name]);
    if (day) out[name] = isoDay(day);
  }
  return out;
}

/** The download's address for the filter: `/members/export.<kind>?…`. */
export function exportPath(kind: 'csv' | 'xlsx', variables: MemberFilterVariables): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value === 'string' && value !== '') params.set(name, value);
  }
  const query = params.toString();
  return `/members/export.${kind}${query ? `?${query}` : ''}`;
}
