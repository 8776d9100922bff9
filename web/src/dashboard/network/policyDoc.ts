/**
 * The shop's network issuance policy as the form edits it, and back to the document the
 * hub takes (camelCase keys, integer basis points and Rial). The hub answers with its own
 * stored document (snake_case keys): both spellings are read.
 */
export interface CreditRuleForm {
  minPurchaseRial: number;
  creditPercent: number; // whole or decimal percent as typed, 0.01 steps (basis points)
  maxCreditRial: number | null;
  validDays: number;
  acceptedCategory: string | null;
}

export interface IssuanceForm {
  pooledSharePercent: number;
  pooledValidDays: number;
  creditRules: CreditRuleForm[];
}

type Doc = Record<string, unknown>;

function pick(doc: Doc, camel: string, snake: string): unknown {
  return doc[camel] ?? doc[snake];
}

function int(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : fallback;
}

export function formOf(document: unknown): IssuanceForm {
  const doc = (typeof document === 'object' && document !== null ? document : {}) as Doc;
  const rules = pick(doc, 'creditRules', 'credit_rules');
  return {
    pooledSharePercent: int(pick(doc, 'pooledShareBp', 'pooled_share_bp'), 0) / 100,
    pooledValidDays: int(pick(doc, 'pooledValidDays', 'pooled_valid_days'), 365),
    creditRules: (Array.isArray(rules) ? rules : []).map((raw) => {
      const rule = (typeof raw === 'object' && raw !== null ? raw : {}) as Doc;
      const max = pick(rule, 'maxCreditRial', 'max_credit_rial');
      const category = pick(rule, 'acceptedCategory', 'accepted_category');
      return {
        minPurchaseRial: int(pick(rule, 'minPurchaseRial', 'min_purchase_rial'), 0),
        creditPercent: int(pick(rule, 'creditBp', 'credit_bp'), 0) / 100,
        maxCreditRial: typeof max === 'number' ? max : null,
        validDays: int(pick(rule, 'validDays', 'valid_days'), 30),
        acceptedCategory: typeof category === 'string' ? category : null,
      };
    }),
  };
}

/** Percent as typed to basis points, exactly (12.5 → 1250), never through a float sum. */
export function basisPoints(percent: number): number {
  return Math.round(percent * 100);
}

export function documentOf(form: IssuanceForm): Record<string, unknown> {
  return {
    pooledShareBp: basisPoints(form.pooledSharePercent),
    pooledValidDays: form.pooledValidDays,
    creditRules: form.creditRules.map((rule) => ({
      minPurchaseRial: rule.minPurchaseRial,
      creditBp: basisPoints(rule.creditPercent),
      ...(rule.maxCreditRial === null ? {} : { maxCreditRial: rule.maxCreditRial }),
      validDays: rule.validDays,
      ...(rule.acceptedCategory ? { acceptedCategory: rule.acceptedCategory } : {}),
    })),
  };
}
