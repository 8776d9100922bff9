import { describe, expect, it } from 'vitest';

import en from '../messages/mallRelayed.en.json';
import fa from '../messages/mallRelayed.fa.json';
import { mediumKey, relayedKindKey, relayedStatusFromParam, RELAYED_STATUSES, sumTotals } from './relayed';

function message(catalogue: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], catalogue);
}

describe('the relayed messages', () => {
  it('reads a status filter from the address, ignoring what the relay has not', () => {
    expect(relayedStatusFromParam('failed')).toBe('FAILED');
    expect(relayedStatusFromParam('DELIVERED')).toBe('DELIVERED');
    expect(relayedStatusFromParam('queued')).toBeNull();
    expect(relayedStatusFromParam(null)).toBeNull();
    expect(RELAYED_STATUSES).toHaveLength(5);
  });

  it('names a node kind and a medium in both languages, an unknown one as other', () => {
    for (const key of [relayedKindKey('purchase'), relayedKindKey('campaign'), mediumKey('telegram')]) {
      expect(message(en, key)).toEqual(expect.any(String));
      expect(message(fa, key)).toEqual(expect.any(String));
    }
    expect(relayedKindKey('otp')).toBe('mallRelayed.kind.other');
    expect(mediumKey('fax')).toBe('mallRelayed.medium.other');
  });

  it('sums every shop, the cost whole beyond 2^53 Rial', () => {
    const all = sumTotals([
      { messages: 3, failed: 0, smsParts: 6, costRial: '9007199254740993' },
      { messages: 2, failed: 1, smsParts: 2, costRial: 2400 },
    ]);
    expect(all).toEqual({ messages: 5, failed: 1, smsParts: 8, costRial: 9007199254743393n });
    expect(sumTotals([]).costRial).toBe(0n);
  });
});
