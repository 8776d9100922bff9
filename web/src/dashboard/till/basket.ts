/** A sale's lines as typed at the till, read into what the node's API takes. */
import { parseTomanInput } from '../../shared/format';

export interface LineDraft {
  key: number;
  group: string;
  amount: string;
}

export interface Basket {
  lines: { productGroup: string; amountRial: number }[];
  totalRial: number;
}

/** The lines as Rial, or null while any line has no positive amount. */
export function readBasket(drafts: LineDraft[]): Basket | null {
  const lines: Basket['lines'] = [];
  for (const draft of drafts) {
    const rial = parseTomanInput(draft.amount);
    if (rial === null || rial <= 0n || rial > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    lines.push({ productGroup: draft.group, amountRial: Number(rial) });
  }
  if (lines.length === 0) return null;
  const total = lines.reduce((sum, line) => sum + BigInt(line.amountRial), 0n);
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return { lines, totalRial: Number(total) };
}

/** Credit to spend as typed: empty is none; null when it is no amount. */
export function readCredit(text: string): number | null {
  if (text.trim() === '') return 0;
  const rial = parseTomanInput(text);
  if (rial === null || rial < 0n || rial > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(rial);
}
