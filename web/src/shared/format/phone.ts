/**
 * Iranian mobile numbers as the APIs send them (E.164, "+989121234567") shown as people
 * write them ("0912 123 4567"), in the language's digits; read back from any typed shape.
 */
import { localDigits, normalizeDigits } from './digits';

const E164_MOBILE = /^\+989([0-9]{9})$/;

/** "+989121234567" → «۰۹۱۲ ۱۲۳ ۴۵۶۷» (fa) or "0912 123 4567" (en); other text unchanged. */
export function formatPhone(phone: string, lang: string): string {
  const match = E164_MOBILE.exec(phone);
  if (!match?.[1]) return localDigits(phone, lang);
  const rest = match[1];
  return localDigits(`09${rest.slice(0, 2)} ${rest.slice(2, 5)} ${rest.slice(5)}`, lang);
}

/**
 * The mobile with its middle hidden, for paper that leaves the shop (a printed receipt):
 * "+989121234567" → «۰۹۱۲ *** ۴۵۶۷» (fa) or "0912 *** 4567" (en); other text unchanged.
 */
export function maskPhone(phone: string, lang: string): string {
  const match = E164_MOBILE.exec(phone);
  if (!match?.[1]) return localDigits(phone, lang);
  const rest = match[1];
  return localDigits(`09${rest.slice(0, 2)} *** ${rest.slice(5)}`, lang);
}

/** A typed mobile number ("۰۹۱۲ ۱۲۳ ۴۵۶۷", "+98 912-123-4567") in E.164, or null. */
export function parseMobile(text: string): string | null {
  const plain = normalizeDigits(text).replace(/[\s\u00a0\-()]/g, '');
  const match = /^(?:\+98|0098|98|0)?(9[0-9]{9})$/.exec(plain);
  return match?.[1] ? `+98${match[1]}` : null;
}
