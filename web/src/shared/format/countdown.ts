/**
 * Time left until a moment (a payment code's expiry), as a clock reads it: "1:05", in the
 * language's digits; never below zero.
 */
import { localDigits } from './digits';

/** Whole seconds from `now` until `until` (an ISO date or a Date), zero once past. */
export function secondsLeft(until: Date | string, now: Date | number = Date.now()): number {
  const end = until instanceof Date ? until.getTime() : Date.parse(until);
  if (Number.isNaN(end)) return 0;
  const current = typeof now === 'number' ? now : now.getTime();
  return Math.max(0, Math.ceil((end - current) / 1000));
}

/** Seconds as minutes and seconds: 65 → «۱:۰۵» (fa), "1:05" (en); 3725 → "62:05". */
export function formatCountdown(seconds: number, lang: string): string {
  const whole = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  return localDigits(`${minutes}:${String(rest).padStart(2, '0')}`, lang);
}
