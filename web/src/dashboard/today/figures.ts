/** Arithmetic of the Today page: how a figure changed against the period before. */

/** Whole percent change from `before` to `now`, or null when there was nothing before. */
export function percentChange(now: number, before: number): number | null {
  if (before === 0) return null;
  return Math.round(((now - before) * 100) / before);
}

/** Toman for a chart's axis (whole toman, as a number: chart scales need numbers). */
export function tomanOf(rial: number): number {
  return Math.trunc(rial / 10);
}
