/**
 * How the console names what the hub relayed for shops: the relay's statuses (a subset of
 * the delivery log's, shown with the same badge), the status filter as the address
 * carries it (?status=failed&shop=ketab-sara), a node's kind and medium as catalogue keys
 * (one the console does not know reads as "other", never a raw code), and the sum of the
 * shops' totals for the "all shops" row.
 */
import type { RelayedMessageStatus } from '../../gql/hub/graphql';
import { toRial } from '../../shared/format';
import type { MessageStatus } from '../../shared/messageStatus';

/** The relay's statuses in the order a message moves through them. */
export const RELAYED_STATUSES = [
  'SENDING',
  'SENT',
  'DELIVERED',
  'FAILED',
  'UNKNOWN',
] as const satisfies readonly (RelayedMessageStatus & MessageStatus)[];

/** The status filter as the address carries it, or null for all. */
export function relayedStatusFromParam(value: string | null): RelayedMessageStatus | null {
  const wanted = (value ?? '').toUpperCase();
  return (RELAYED_STATUSES as readonly string[]).includes(wanted) ? (wanted as RelayedMessageStatus) : null;
}

const KINDS = [
  'welcome',
  'purchase',
  'credit_change',
  'offer_granted',
  'tier_change',
  'expiry_soon',
  'lottery_win',
  'partner_welcome',
  'birthday',
  'campaign',
] as const;
type Kind = (typeof KINDS)[number];

/** A node's kind of message (as the hub stores it) as a catalogue key. */
export function relayedKindKey(kind: string): `mallRelayed.kind.${Kind | 'other'}` {
  return (KINDS as readonly string[]).includes(kind) ? `mallRelayed.kind.${kind as Kind}` : 'mallRelayed.kind.other';
}

export function mediumKey(medium: string): `mallRelayed.medium.${'sms' | 'telegram' | 'other'}` {
  return medium === 'sms' || medium === 'telegram' ? `mallRelayed.medium.${medium}` : 'mallRelayed.medium.other';
}

export interface ShopTotals {
  messages: number;
  failed: number;
  smsParts: number;
  costRial: number | string;
}

/** Every shop's totals together; the cost summed whole (it may pass 2^53 Rial). */
export function sumTotals(shops: readonly ShopTotals[]): Omit<ShopTotals, 'costRial'> & { costRial: bigint } {
  return shops.reduce(
    (sum, s) => ({
      messages: sum.messages + s.messages,
      failed: sum.failed + s.failed,
      smsParts: sum.smsParts + s.smsParts,
      costRial: sum.costRial + toRial(s.costRial),
    }),
    { messages: 0, failed: 0, smsParts: 0, costRial: 0n },
  );
}
