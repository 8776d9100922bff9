import { describe, expect, it } from 'vitest';

import { isCardCode, newTillKey, readGrantCode, readShopper } from './shopper';

describe('readShopper', () => {
  it('reads a mobile number in any digits and spacing', () => {
    expect(readShopper('۰۹۱۲ ۱۲۳ ۴۵۶۷')).toEqual([{ phone: '+989121234567' }]);
    expect(readShopper('٠٩١٢١٢٣٤٥٦٧')).toEqual([{ phone: '+989121234567' }]);
    expect(readShopper('+98 912-123-4567')).toEqual([{ phone: '+989121234567' }]);
  });

  it('reads the network card QR a handheld scanner types', () => {
    expect(readShopper('mallnet:card:+989121234567')).toEqual([{ phone: '+989121234567' }]);
    expect(readShopper('  mallnet:card:+989121234567\n')).toEqual([{ phone: '+989121234567' }]);
    expect(readShopper('mallnet:card:12')).toEqual([]);
  });

  it('reads a club card code by its check digit', () => {
    // 123456789 → Luhn check digit 7
    expect(isCardCode('1234567897')).toBe(true);
    expect(isCardCode('1234567890')).toBe(false);
    expect(readShopper('۱۲۳۴۵۶۷۸۹۷')).toEqual([{ cardCode: '1234567897' }]);
    expect(readShopper('1234567890')).toEqual([]);
  });

  it('tries both a card and a phone for ten digits starting with 9', () => {
    const card = ['9', '1', '2', '1', '2', '3', '4', '5', '6'].join('');
    const valid = [...Array(10).keys()].map((d) => `${card}${d}`).find(isCardCode)!;
    expect(readShopper(valid)).toEqual([{ cardCode: valid }, { phone: `+98${valid}` }]);
  });

  it('reads nothing from other text', () => {
    expect(readShopper('')).toEqual([]);
    expect(readShopper('Sara')).toEqual([]);
    expect(readShopper('0912')).toEqual([]);
  });
});

describe('readGrantCode', () => {
  it('takes 6-8 digits in any script, or the QR payload as scanned', () => {
    expect(readGrantCode('۱۲۳ ۴۵۶')).toBe('123456');
    expect(readGrantCode('12345678')).toBe('12345678');
    const qr = 'mallnet-grant:0123456789ABCDEFGHJKMNPQRS:4821';
    expect(readGrantCode(qr)).toBeNull(); // four digits is no code
    expect(readGrantCode(`${qr}93`)).toBe(`${qr}93`);
  });

  it('refuses anything else', () => {
    expect(readGrantCode('12345')).toBeNull();
    expect(readGrantCode('123456789')).toBeNull();
    expect(readGrantCode('abc')).toBeNull();
  });
});

describe('newTillKey', () => {
  it('names the shop and the Tehran day, then random letters', () => {
    // 22:00 UTC on 4 Dec is already 5 Dec in Tehran (UTC+3:30).
    const at = new Date('2026-12-04T22:00:00Z');
    const key = newTillKey('ketab-sara', at, (n) => new Uint8Array(n).fill(1));
    expect(key).toBe('ketab-sara-20261205-11111111');
  });

  it('is visible ASCII within 64 characters and differs each time', () => {
    const a = newTillKey('x'.repeat(80));
    const b = newTillKey('x'.repeat(80));
    expect(a).toMatch(/^[!-~]{1,64}$/);
    expect(a).not.toBe(b);
  });
});
