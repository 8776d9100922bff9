/**
 * The delivery log's statuses as both faces show them (the shop dashboard's log and the
 * console's hub log): their order, each one's colour *and* icon (a colour alone tells
 * nothing to a reader who does not see it), the counts per status as a filter shows them,
 * and the status filter as an address carries it. Each face adds its own words.
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

/** In the order a message moves through them: filters and progress lists use it. */
export const MESSAGE_STATUSES = [
  'QUEUED',
  'HELD',
  'SENDING',
  'SENT',
  'DELIVERED',
  'FAILED',
  'UNKNOWN',
  'SKIPPED',
] as const;

/** The same states both GraphQL schemas name `MessageStatus`. */
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface StatusLook {
  /** A Mantine colour whose text passes WCAG AA on white (the darkest shades). */
  color: string;
  icon: Icon;
}

const LOOKS: Record<MessageStatus, StatusLook> = {
  QUEUED: { color: 'blue.9', icon: IconClock },
  HELD: { color: 'violet.9', icon: IconMoon },
  SENDING: { color: 'indigo.9', icon: IconSend },
  SENT: { color: 'cyan.9', icon: IconCheck },
  DELIVERED: { color: 'teal.9', icon: IconChecks },
  FAILED: { color: 'red.9', icon: IconX },
  UNKNOWN: { color: 'grape.9', icon: IconQuestionMark },
  SKIPPED: { color: 'gray.8', icon: IconBan },
};

export function statusLook(status: MessageStatus): StatusLook {
  return LOOKS[status];
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

/** The status filter as the address carries it (?status=failed), or null for all. */
export function statusFromParam(value: string | null): MessageStatus | null {
  const wanted = (value ?? '').toUpperCase();
  return (MESSAGE_STATUSES as readonly string[]).includes(wanted) ? (wanted as MessageStatus) : null;
}
