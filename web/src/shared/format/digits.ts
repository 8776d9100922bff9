/**
 * Digits as people type and read them. Persian text shows Persian digits (۰–۹); people
 * type Persian, Arabic-Indic (٠–٩, on some keyboards) or Latin digits, and every parser of
 * their input first turns all of them into Latin digits with {@link normalizeDigits}.
 */

const PERSIAN_ZERO = 0x06f0;
const ARABIC_INDIC_ZERO = 0x0660;

/** Persian (۰–۹) and Arabic-Indic (٠–٩) digits as Latin ones; everything else unchanged. */
export function normalizeDigits(text: string): string {
  return text.replace(/[\u06f0-\u06f9\u0660-\u0669]/g, (digit) => {
    const code = digit.charCodeAt(0);
    const zero = code >= PERSIAN_ZERO ? PERSIAN_ZERO : ARABIC_INDIC_ZERO;
    return String(code - zero);
  });
}

/** Latin digits as Persian ones (for codes and numbers not formatted by `Intl`). */
export function toPersianDigits(text: string): string {
  return text.replace(/[0-9]/g, (digit) => String.fromCharCode(PERSIAN_ZERO + Number(digit)));
}

/** Digits in the script of the language: Persian in `fa`, Latin otherwise. */
export function localDigits(text: string, lang: string): string {
  return lang === 'fa' ? toPersianDigits(text) : normalizeDigits(text);
}
