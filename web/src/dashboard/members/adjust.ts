/** A manual adjustment's amount as typed: a signed whole number of points, or of toman. */
import { normalizeDigits } from '../../shared/format';

export type AdjustAsset = 'POINTS' | 'CREDIT';

/** The signed amount for the API (points, or Rial for credit), or null when it is no
 * non-zero whole number. */
export function parseAdjustment(asset: AdjustAsset, text: string): number | null {
  const compact = normalizeDigits(text)
    .replace(/[\s,٬]/g, '')
    .replace(/^[−–]/, '-');
  if (!/^[-+]?[0-9]{1,13}$/.test(compact)) return null;
  const value = Number(compact) * (asset === 'CREDIT' ? 10 : 1);
  return value === 0 || !Number.isSafeInteger(value) ? null : value;
}
