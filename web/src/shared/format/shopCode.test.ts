import { describe, expect, it } from 'vitest';

import { readShopCode, shopCodePayload } from './shopCode';

describe('readShopCode', () => {
  it('reads the slug a till shows', () => {
    expect(readShopCode('mallnet:shop:ketab-sara')).toBe('ketab-sara');
    expect(readShopCode(' mallnet:shop:cafe-sepid\n')).toBe('cafe-sepid');
    expect(readShopCode(shopCodePayload('kafsh-arya'))).toBe('kafsh-arya');
  });

  it('refuses anything that is not a shop code', () => {
    for (const text of [
      '',
      'ketab-sara',
      'mallnet:shop:',
      'mallnet:card:+989121234567',
      'mallnet-grant:01HZZZZZZZZZZZZZZZZZZZZZZZ:123456',
      'https://evil.example/mallnet:shop:ketab-sara',
      'MALLNET:SHOP:ketab-sara',
      'mallnet:shop:Ketab-Sara',
      'mallnet:shop:ketab-sara/../pay',
      'mallnet:shop:ketab sara',
      'mallnet:shop:ketab-sara?x=1',
      'mallnet:shop:ketab-',
      'mallnet:shop:1ketab',
      'mallnet:shop:ab',
      `mallnet:shop:${'a'.repeat(41)}`,
      'mallnet:shop:کتاب',
    ]) {
      expect(readShopCode(text), text).toBeNull();
    }
  });
});
