/**
 * How the delivery log names and marks what it lists: each message status as a badge of
 * its own colour *and* icon and words (a colour alone tells nothing to a reader who does
 * not see it), the counts per status as the filter shows them, and the catalogue keys of
 * a message's kind and channel, so a kind the node learns later reads as "other" instead
 * of a raw code.
 */
import {
  type Icon,
  IconBan,
  IconCheck,
  IconChecks,
  IconClock,
  IconMoon,
  IconQuestionMark,
  IconSend,
  IconX,
} from '@tabler/icons-react';

import type { MessageStatus } from '../../gql/node/graphql';

/** In the order a message moves through them: the filter and the progress list use it. */
export const MESSAGE_STATUSES = [
  'QUEUED',
  'HELD',
  'SENDING',
  'SENT',
  'DELIVERED',
  'FAILED',
  'UNKNOWN',
  'SKIPPED',
] as const satisfies readonly MessageStatus[];

export interface StatusBadge {
  /** A Mantine colour whose text passes WCAG AA on white (the darkest shades). */
  color: string;
  icon: Icon;
  /** The catalogue key of its name. */
  label: `messaging.status.${MessageStatus}`;
}

const BADGES: Record<MessageStatus, Omit<StatusBadge, 'label'>> = {
  QUEUED: { color: 'blue.9', icon: IconClock },
  HELD: { color: 'violet.9', icon: IconMoon },
  SENDING: { color: 'indigo.9', icon: IconSend },
  SENT: { color: 'cyan.9', icon: IconCheck },
  DELIVERED: { color: 'teal.9', icon: IconChecks },
  FAILED: { color: 'red.9', icon: IconX },
  UNKNOWN: { color: 'grape.9', icon: IconQuestionMark },
  SKIPPED: { color: 'gray.8', icon: IconBan },
};

export function statusBadge(status: MessageStatus): StatusBadge {
  return { ...BADGES[status], label: `messaging.status.${status}` };
}

export interface StatusCount {
  status: MessageStatus;
  count: number;
}

/** The counts in the filter's order, zeros too, and their sum (the "all" choice). */
export function countsByStatus(counts: readonly StatusCount[]): { all: number; each: StatusCount[] } {
  const found = new Map(counts.map((c) => [c.status, c.count]));
  const each = MESSAGE_STATUSES.map((status) => ({ status, count: found.get(status) ?? 0 }));
  return { all: each.reduce((sum, c) => sum + c.count, 0), each };
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

/** The status filter as the URL carries it (?status=held), or null for all. */
export function statusFromParam(value: string | null): MessageStatus | null {
  const wanted = (value ?? '').toUpperCase();
  return (MESSAGE_STATUSES as readonly string[]).includes(wanted) ? (wanted as MessageStatus) : null;
}
