/**
 * How the delivery log names and marks what it lists: each message status as a badge of
 * its own colour *and* icon and words (a colour alone tells nothing to a reader who does
 * not see it), the counts per status as the filter shows them, and the catalogue keys of
 * a message's kind and channel, so a kind the node learns later reads as "other" instead
 * of a raw code.
 */
import { type MessageStatus, statusLook, type StatusLook } from '../../shared/messageStatus';

export {
  countsByStatus,
  MESSAGE_STATUSES,
  type MessageStatus,
  type StatusCount,
  statusFromParam,
} from '../../shared/messageStatus';

export interface StatusBadge extends StatusLook {
  /** The catalogue key of its name. */
  label: `messaging.status.${MessageStatus}`;
}

export function statusBadge(status: MessageStatus): StatusBadge {
  return { ...statusLook(status), label: `messaging.status.${status}` };
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
export type ShopKind = (typeof KINDS)[number];

/** The kinds a shop sends, in the node's order: the template preview offers these. */
export const SHOP_KINDS: readonly ShopKind[] = KINDS;

/** A logged message's kind as a catalogue key (an unknown one: "other"). */
export function kindKey(kind: string): `messaging.kind.${ShopKind | 'other'}` {
  const known = (KINDS as readonly string[]).includes(kind) ? (kind as ShopKind) : 'other';
  return `messaging.kind.${known}`;
}

/** A logged message's medium as a catalogue key. */
export function channelKey(medium: string): `messaging.channel.${'sms' | 'telegram' | 'other'}` {
  return medium === 'sms' || medium === 'telegram' ? `messaging.channel.${medium}` : 'messaging.channel.other';
}
