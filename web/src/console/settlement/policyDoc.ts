/**
 * The settlement policy document as the console edits it (the hub's JSON, snake_case keys):
 * read defensively from the server's JSON, and checked before saving with the rules the hub
 * applies (fees in basis points, 0 to 10,000), so a mistake shows at its field.
 */
export interface Agreement {
  issuer: string | null;
  redeemer: string | null;
  fee_bp: number;
}

export interface PolicyDoc {
  funding: string;
  when_prepaid_exhausted: string;
  breakage: string;
  period: string;
  fee_bp: number;
  agreements: Agreement[];
  cost_sharing: unknown[];
}

export type PolicyField = 'fee_bp' | 'agreements';

const MAX_BP = 10_000;

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function slug(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function bp(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/** The server's document (JSON of unknown shape) as the form's state, defaults filled in. */
export function readPolicy(raw: unknown): PolicyDoc {
  const doc = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const agreements = Array.isArray(doc.agreements) ? (doc.agreements as unknown[]) : [];
  return {
    funding: text(doc.funding, 'postpaid'),
    when_prepaid_exhausted: text(doc.when_prepaid_exhausted, 'refuse'),
    breakage: text(doc.breakage, 'issuer'),
    period: text(doc.period, 'daily'),
    fee_bp: bp(doc.fee_bp),
    agreements: agreements.map((a) => {
      const row = typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : {};
      return { issuer: slug(row.issuer), redeemer: slug(row.redeemer), fee_bp: bp(row.fee_bp) };
    }),
    cost_sharing: Array.isArray(doc.cost_sharing) ? (doc.cost_sharing as unknown[]) : [],
  };
}

function validBp(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_BP;
}

/** The first field the hub would refuse, or null. */
export function policyError(doc: PolicyDoc): PolicyField | null {
  if (!validBp(doc.fee_bp)) return 'fee_bp';
  if (doc.agreements.some((a) => !validBp(a.fee_bp))) return 'agreements';
  return null;
}

/** The field a refusal of the hub names first ("fee_bp: …", "agreements.0.fee_bp: …"). */
export function fieldOfMessage(message: string): PolicyField | null {
  if (message.startsWith('fee_bp')) return 'fee_bp';
  if (message.startsWith('agreements') || message.startsWith('unknown shops')) return 'agreements';
  return null;
}
