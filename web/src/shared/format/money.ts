/**
 * Money: the APIs send integer Rial (the `Rial` scalar, a JSON integer up to 2^53-1);
 * people read toman (10 Rial). Display divides once, in integers (BigInt), never in
 * floating point: whole toman, cut toward zero as the servers' `toman_fa` does, so a
 * refund shows the same toman as the capture it reverses.
 */
import { normalizeDigits } from './digits';

export const RIAL_PER_TOMAN = 10n;

/** An amount of Rial as the API gives it (a safe integer), or as a BigInt or digit string. */
export type RialAmount = number | bigint | string;

export class InvalidAmount extends Error {
  override name = 'InvalidAmount';
}

/** Any accepted form of a Rial amount as a BigInt; throws on a fraction or non-number. */
export function toRial(amount: RialAmount): bigint {
  if (typeof amount === 'bigint') return amount;
  if (typeof amount === 'number') {
    if (!Number.isSafeInteger(amount)) {
      throw new InvalidAmount(`a Rial amount must be a safe integer, got ${amount}`);
    }
    return BigInt(amount);
  }
  if (!/^-?[0-9]+$/.test(amount)) {
    throw new InvalidAmount(`a Rial amount must be whole digits, got ${JSON.stringify(amount)}`);
  }
  return BigInt(amount);
}

function numberLocale(lang: string): string {
  return lang === 'fa' ? 'fa-IR' : 'en-US';
}

/** A whole number grouped in the language's digits: fa «۱٬۲۳۴٬۵۶۷», en "1,234,567". */
export function formatInteger(value: number | bigint, lang: string): string {
  return new Intl.NumberFormat(numberLocale(lang)).format(value);
}

/** Rial shown as whole toman: 12_345_675 → «۱٬۲۳۴٬۵۶۷» (fa) or "1,234,567" (en). */
export function formatToman(rial: RialAmount, lang: string): string {
  // BigInt division truncates toward zero.
  return formatInteger(toRial(rial) / RIAL_PER_TOMAN, lang);
}

/** Exact Rial, where the last Rial matters (a statement's totals). */
export function formatRial(rial: RialAmount, lang: string): string {
  return formatInteger(toRial(rial), lang);
}

const SEPARATORS = /[\s,\u066c\u060c_']/g; // spaces, commas (Latin, Arabic ٬ and ،), _ and '
const DECIMAL_POINT = /[\u066b/.]/; // ٫ (Arabic decimal separator), / (typed for it), .

/**
 * A toman amount as typed (any digits, grouped or not, at most one decimal: 0.1 toman is
 * one Rial) as integer Rial, or null when it is not one. "۱۲٬۵۰۰" → 125000.
 */
export function parseTomanInput(text: string): bigint | null {
  const plain = normalizeDigits(text.trim()).replace(SEPARATORS, '');
  const [whole, fraction = '', ...rest] = plain.split(DECIMAL_POINT);
  if (rest.length > 0 || whole === undefined || !/^[0-9]*$/.test(whole)) return null;
  if (!/^[0-9]?$/.test(fraction) || whole + fraction === '') return null;
  return BigInt(whole || '0') * RIAL_PER_TOMAN + BigInt(fraction || '0');
}

/** A Rial amount for the API's `Rial` scalar (a JSON number): refused beyond 2^53-1. */
export function rialForApi(rial: bigint): number {
  if (rial < 0n || rial > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidAmount(`a Rial amount for the API must be 0 to 2^53-1, got ${rial}`);
  }
  return Number(rial);
}
