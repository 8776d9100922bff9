import { describe, expect, it } from 'vitest';

import { fieldOfMessage, policyError, readPolicy } from './policyDoc';

describe('readPolicy', () => {
  it('fills in the defaults of a document missing parts', () => {
    expect(readPolicy(null)).toEqual({
      funding: 'postpaid',
      when_prepaid_exhausted: 'refuse',
      breakage: 'issuer',
      period: 'daily',
      fee_bp: 0,
      agreements: [],
      cost_sharing: [],
    });
  });
  it('keeps agreements and cost sharing as the hub gave them', () => {
    const doc = readPolicy({
      funding: 'prepaid',
      fee_bp: 150,
      agreements: [{ issuer: 'kafsh-arya', fee_bp: 100 }],
      cost_sharing: [{ issuer: 'campaign:x', rule: 'equal', shops: ['a'] }],
    });
    expect(doc.agreements).toEqual([{ issuer: 'kafsh-arya', redeemer: null, fee_bp: 100 }]);
    expect(doc.cost_sharing).toHaveLength(1);
    expect(doc.funding).toBe('prepaid');
  });
});

describe('policyError', () => {
  it('refuses a fee out of 0 to 10,000 basis points, or a fraction', () => {
    const ok = readPolicy({ fee_bp: 100 });
    expect(policyError(ok)).toBeNull();
    expect(policyError({ ...ok, fee_bp: 20_000 })).toBe('fee_bp');
    expect(policyError({ ...ok, fee_bp: 1.5 })).toBe('fee_bp');
    expect(policyError({ ...ok, fee_bp: Number.NaN })).toBe('fee_bp');
    expect(
      policyError({ ...ok, agreements: [{ issuer: null, redeemer: null, fee_bp: -1 }] }),
    ).toBe('agreements');
  });
});

describe('fieldOfMessage', () => {
  it("finds the field the hub's refusal names first", () => {
    expect(fieldOfMessage('fee_bp: Input should be less than or equal to 10000')).toBe('fee_bp');
    expect(fieldOfMessage("unknown shops ['x']")).toBe('agreements');
    expect(fieldOfMessage('period: bad')).toBeNull();
  });
});
