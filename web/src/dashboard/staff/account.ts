/**
 * A new staff account as the form checks it before asking (the hub's own rules, so most
 * mistakes are shown at their field at once), and the hub's answers as catalogue keys.
 */
import { normalizeDigits } from '../../shared/format';
import { isKnownProblem } from '../../shared/i18n/problems';

export const ROLES = ['MANAGER', 'OPERATOR', 'AUDITOR'] as const;
export type Role = (typeof ROLES)[number];

export interface NewAccount {
  username: string;
  password: string;
  role: Role;
}

export type AccountErrors = Partial<Record<'username' | 'password', string>>;

// hub.services.staff: _USERNAME, PASSWORD_MIN, PASSWORD_MAX.
const USERNAME = /^[a-z0-9][a-z0-9._-]{2,59}$/;
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;

/** The username as the hub keeps it (trimmed, lower case, Latin digits). */
export function cleanUsername(text: string): string {
  return normalizeDigits(text.trim()).toLowerCase();
}

export function checkAccount(account: NewAccount): AccountErrors {
  const errors: AccountErrors = {};
  if (!USERNAME.test(cleanUsername(account.username))) errors.username = 'staff.error.username';
  // Code points, as the hub counts them (Python len).
  const length = Array.from(account.password).length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) errors.password = 'staff.error.password';
  return errors;
}

/** What the node said when it could not act: a sentence's catalogue key. The hub's own
 * codes read as the shared problem sentences; the node's ways of not reaching it, as ours. */
export function answerKey(code: string | null | undefined): string {
  if (code === 'HUB_UNAVAILABLE' || code === 'NOT_CONNECTED') return `staff.problem.${code}`;
  if (code === 'FORBIDDEN') return 'staff.problem.FORBIDDEN';
  if (code === 'USERNAME_TAKEN') return 'staff.error.taken';
  return code && isKnownProblem(code) ? `problem.${code}` : 'problem.UNKNOWN';
}
