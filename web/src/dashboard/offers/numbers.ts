/**
 * The offer pages' numbers: shares in basis points as percents, the report's decimals
 * (per-member averages, rates, intervals — statistics the node sends as decimal text, not
 * money to add up), and the uses per day with the days without a use filled in.
 */
import { TEHRAN } from '../../shared/format';

function locale(lang: string): string {
  return lang === 'fa' ? 'fa-IR' : 'en-US';
}

/** Basis points as a percent: 1250 → «۱۲٫۵٪» (fa), "12.5%" (en). */
export function formatBp(bp: number, lang: string): string {
  return new Intl.NumberFormat(locale(lang), { style: 'percent', maximumFractionDigits: 2 }).format(
    bp / 10_000,
  );
}

/** A decimal as the node wrote it ("12.34"), with at most `places` decimals. */
export function formatDecimal(text: string, lang: string, places = 2): string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  return new Intl.NumberFormat(locale(lang), { maximumFractionDigits: places }).format(value);
}

/** A decimal of Rial ("123456.78" per member) as whole toman. */
export function formatDecimalToman(rialText: string, lang: string): string {
  const value = Number(rialText);
  if (!Number.isFinite(value)) return rialText;
  return new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 0 }).format(value / 10);
}

/** A share written with four decimals ("0.2500") as a percent. */
export function formatRate(text: string, lang: string): string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  return new Intl.NumberFormat(locale(lang), { style: 'percent', maximumFractionDigits: 1 }).format(
    value,
  );
}

/** Today's date in Tehran, as the node counts days ("2026-12-06"). */
export function tehranToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TEHRAN }).format(now);
}

export interface DayUse {
  day: string;
  uses: number;
  givenRial: number;
  bonusPoints: number;
}

/** The last `days` days up to `today`, each with its uses (none where the node sent none). */
export function everyDay(uses: readonly DayUse[], today: string, days = 30): DayUse[] {
  const byDay = new Map(uses.map((u) => [u.day, u]));
  const [year, month, day] = today.split('-').map(Number);
  const end = Date.UTC(year ?? 1970, (month ?? 1) - 1, day ?? 1);
  const filled: DayUse[] = [];
  for (let back = days - 1; back >= 0; back -= 1) {
    const iso = new Date(end - back * 86_400_000).toISOString().slice(0, 10);
    filled.push(byDay.get(iso) ?? { day: iso, uses: 0, givenRial: 0, bonusPoints: 0 });
  }
  return filled;
}
