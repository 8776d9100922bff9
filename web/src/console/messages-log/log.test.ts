import { describe, expect, it } from 'vitest';

import en from '../messages/mallMessages.en.json';
import fa from '../messages/mallMessages.fa.json';
import {
  countsByStatus,
  HUB_KINDS,
  kindFromParam,
  kindKey,
  MESSAGE_STATUSES,
  statusBadge,
  statusFromParam,
} from './log';

/** A dotted catalogue key's message, or undefined. */
function message(catalogue: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], catalogue);
}

describe('the status badge', () => {
  it('gives every status its own colour, its own icon and words in both languages', () => {
    const badges = MESSAGE_STATUSES.map(statusBadge);
    expect(new Set(badges.map((b) => b.color)).size).toBe(MESSAGE_STATUSES.length);
    expect(new Set(badges.map((b) => b.icon)).size).toBe(MESSAGE_STATUSES.length);
    for (const badge of badges) {
      expect(message(en, badge.label)).toEqual(expect.any(String));
      expect(message(fa, badge.label)).toEqual(expect.any(String));
    }
    expect(statusBadge('FAILED')).toMatchObject({ color: 'red.9', label: 'mallMessages.status.FAILED' });
  });

  it('uses only the darkest shades, whose text passes WCAG AA on white', () => {
    for (const status of MESSAGE_STATUSES) {
      expect(statusBadge(status).color).toMatch(/\.(8|9)$/);
    }
  });
});

describe('the counts per status', () => {
  it('lists every status in order, zeros too, and sums them for "all"', () => {
    const { all, each } = countsByStatus([
      { status: 'DELIVERED', count: 3 },
      { status: 'FAILED', count: 2 },
      { status: 'SENT', count: 1 },
    ]);
    expect(all).toBe(6);
    expect(each.map((c) => c.status)).toEqual([...MESSAGE_STATUSES]);
    expect(each.map((c) => c.count)).toEqual([0, 0, 0, 1, 3, 2, 0, 0]);
  });

  it('sums to zero for an empty log', () => {
    expect(countsByStatus([]).all).toBe(0);
  });
});

describe('kinds', () => {
  it('names each kind the hub sends, from the log (lower case) and the filter (the enum) alike', () => {
    for (const kind of HUB_KINDS) {
      expect(message(en, kindKey(kind))).toEqual(expect.any(String));
      expect(message(fa, kindKey(kind))).toEqual(expect.any(String));
      expect(kindKey(kind.toLowerCase())).toBe(kindKey(kind));
    }
    expect(kindKey('lottery_win')).toBe('mallMessages.kind.lottery_win');
    expect(kindKey('welcome')).toBe('mallMessages.kind.other');
    expect(message(fa, 'mallMessages.kind.other')).toEqual(expect.any(String));
  });
});

describe('the filters in the address', () => {
  it('reads a status, ignoring what is no status', () => {
    expect(statusFromParam('failed')).toBe('FAILED');
    expect(statusFromParam('DELIVERED')).toBe('DELIVERED');
    expect(statusFromParam('lost')).toBeNull();
    expect(statusFromParam(null)).toBeNull();
  });

  it('reads a kind, ignoring one the hub does not send', () => {
    expect(kindFromParam('otp')).toBe('OTP');
    expect(kindFromParam('lottery_win')).toBe('LOTTERY_WIN');
    expect(kindFromParam('purchase')).toBeNull();
    expect(kindFromParam('')).toBeNull();
  });
});
