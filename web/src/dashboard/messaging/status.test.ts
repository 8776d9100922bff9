import { describe, expect, it } from 'vitest';

import en from '../messages/messaging.en.json';
import fa from '../messages/messaging.fa.json';
import {
  channelKey,
  countsByStatus,
  kindKey,
  MESSAGE_STATUSES,
  SHOP_KINDS,
  statusBadge,
  statusFromParam,
} from './status';

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
    expect(statusBadge('FAILED')).toMatchObject({ color: 'red.9', label: 'messaging.status.FAILED' });
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
      { status: 'QUEUED', count: 2 },
      { status: 'SKIPPED', count: 1 },
    ]);
    expect(all).toBe(6);
    expect(each.map((c) => c.status)).toEqual([...MESSAGE_STATUSES]);
    expect(each.map((c) => c.count)).toEqual([2, 0, 0, 0, 3, 0, 0, 1]);
  });
});

describe('kinds and channels', () => {
  it('names every kind a shop sends, and an unknown one as other', () => {
    for (const kind of SHOP_KINDS) {
      expect(message(en, kindKey(kind))).toEqual(expect.any(String));
      expect(message(fa, kindKey(kind))).toEqual(expect.any(String));
    }
    expect(kindKey('sign_in_code_v9')).toBe('messaging.kind.other');
    expect(channelKey('telegram')).toBe('messaging.channel.telegram');
    expect(channelKey('fax')).toBe('messaging.channel.other');
  });

  it('reads the status filter from the address, ignoring what is no status', () => {
    expect(statusFromParam('held')).toBe('HELD');
    expect(statusFromParam('DELIVERED')).toBe('DELIVERED');
    expect(statusFromParam('lost')).toBeNull();
    expect(statusFromParam(null)).toBeNull();
  });
});
