/**
 * How the hub's delivery log names and marks what it lists: each status as a badge of its
 * own colour *and* icon *and* words (a colour alone tells nothing to a reader who does not
 * see it), the counts per status as the filter shows them, the catalogue key of a
 * message's kind (a kind the hub learns later reads as "other", never a raw code), and
 * the filters as the address carries them (?status=failed&kind=otp).
 */
import type { HubMessageKind } from '../../gql/hub/graphql';
import { type MessageStatus, statusLook, type StatusLook } from '../../shared/messageStatus';

export {
  countsByStatus,
  MESSAGE_STATUSES,
  type MessageStatus,
  type StatusCount,
  statusFromParam,
} from '../../shared/messageStatus';

/** What the hub sends itself, as the kind filter offers it. */
export const HUB_KINDS = ['OTP', 'REDEMPTION', 'LOTTERY_WIN'] as const satisfies readonly HubMessageKind[];

export interface StatusBadge extends StatusLook {
  /** The catalogue key of its name. */
  label: `mallMessages.status.${MessageStatus}`;
}

export function statusBadge(status: MessageStatus): StatusBadge {
  return { ...statusLook(status), label: `mallMessages.status.${status}` };
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

/** The kind filter as the address carries it (?kind=lottery_win), or null for all. */
export function kindFromParam(value: string | null): HubMessageKind | null {
  const wanted = (value ?? '').toUpperCase();
  return (HUB_KINDS as readonly string[]).includes(wanted) ? (wanted as HubMessageKind) : null;
}
