import { describe, expect, it } from 'vitest';

import { connectCommand } from '../shops/RegisterShop';
import { matrixOf } from './ReferralMatrix';

describe('matrixOf', () => {
  it('puts origins in rows and hosts in columns, each pair in its cell', () => {
    const links = [
      { originShop: 'ketab-sara', hostShop: 'kafsh-arya', active: true, referrals: 3 },
      { originShop: 'cafe-nur', hostShop: 'ketab-sara', active: false, referrals: 0 },
    ];
    const { origins, hosts, cell } = matrixOf(links);
    expect(origins).toEqual(['cafe-nur', 'ketab-sara']);
    expect(hosts).toEqual(['kafsh-arya', 'ketab-sara']);
    expect(cell('ketab-sara', 'kafsh-arya')?.referrals).toBe(3);
    expect(cell('cafe-nur', 'kafsh-arya')).toBeUndefined();
  });
});

describe('connectCommand', () => {
  it('names the shop and client and leaves the secret to the prompt', () => {
    expect(connectCommand('ketab-sara', 'node-ketab-sara')).toBe(
      'mallnet node-connect --shop ketab-sara --client-id node-ketab-sara',
    );
  });
});
