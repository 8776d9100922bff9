/**
 * How the hub's delivery log names and marks what it lists: each status as a badge of its
 * own colour *and* icon *and* words (a colour alone tells nothing to a reader who does not
 * see it), the counts per status as the filter shows them, the catalogue key of a
 * message's kind (a kind the hub learns later reads as "other", never a raw code), and
 * the filters as the address carries them (?status=failed&kind=otp).
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

import type { HubMessageKind, MessageStatus } from '../../gql/hub/graphql';

/** In the order a message moves through them: the filter lists them so. */
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

/** What the hub sends itself, as the kind filter offers it. */
export const HUB_KINDS = ['OTP', 'REDEMPTION', 'LOTTERY_WIN'] as const satisfies readonly HubMessageKind[];

export interface StatusBadge {
  /** A Mantine colour whose text passes WCAG AA on white (the darkest shades). */
  color: string;
  icon: Icon;
  /** The catalogue key of its name. */
  label: `mallMessages.status.${MessageStatus}`;
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
  return { ...BADGES[status], label: `mallMessages.status.${status}` };
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

type KindName = 'otp' | 'redemption' | 'lottery_win';
const KIND_NAMES: readonly string[] = ['otp', 'redemption', 'lottery_win'] satisfies KindName[];

/**
 * A kind as a catalogue key: a logged message's (`otp`, lower case as the hub stores it)
 * or the filter's (`OTP`, the enum); a kind the hub learns later is "other".
 */
export function kindKey(kind: string): `mallMessages.kind.${KindName | 'other'}` {
  const name = kind.toLowerCase();
  return KIND_NAMES.includes(name) ? `mallMessages.kind.${name as KindName}` : 'mallMessages.kind.other';
}

/** The status filter as the address carries it (?status=failed), or null for all. */
export function statusFromParam(value: string | null): MessageStatus | null {
  const wanted = (value ?? '').toUpperCase();
  return (MESSAGE_STATUSES as readonly string[]).includes(wanted) ? (wanted as MessageStatus) : null;
}

/** The kind filter as the address carries it (?kind=lottery_win), or null for all. */
export function kindFromParam(value: string | null): HubMessageKind | null {
  const wanted = (value ?? '').toUpperCase();
  return (HUB_KINDS as readonly string[]).includes(wanted) ? (wanted as HubMessageKind) : null;
}
