import { describe, expect, it } from 'vitest';

import {
  addDays,
  formatInteger,
  formatJalaliDate,
  formatJalaliDateTime,
  formatPhone,
  maskPhone,
  formatRial,
  formatToman,
  InvalidAmount,
  localDigits,
  matchesSearch,
  normalizeDigits,
  normalizeForSearch,
  parseJalaliDate,
  parseMobile,
  parseTomanInput,
  rialForApi,
  toPersianDigits,
} from './index';

const LRM = '\u200e';

describe('digits', () => {
  it('reads Persian, Arabic-Indic and Latin digits alike', () => {
    expect(normalizeDigits('۰۱۲۳۴۵۶۷۸۹')).toBe('0123456789');
    expect(normalizeDigits('٠١٢٣٤٥٦٧٨٩')).toBe('0123456789');
    expect(normalizeDigits('کد ۱۲3٤')).toBe('کد 1234');
  });
  it('writes Persian digits in fa and Latin ones in en', () => {
    expect(toPersianDigits('A-1024')).toBe('A-۱۰۲۴');
    expect(localDigits('0912', 'fa')).toBe('۰۹۱۲');
    expect(localDigits('۰۹۱۲', 'en')).toBe('0912');
  });
});

describe('money', () => {
  it('shows integer Rial as whole toman in the language', () => {
    expect(formatToman(12_345_675, 'fa')).toBe('۱٬۲۳۴٬۵۶۷');
    expect(formatToman(12_345_675, 'en')).toBe('1,234,567');
    expect(formatToman(9, 'en')).toBe('0');
    expect(formatToman(0, 'fa')).toBe('۰');
  });
  it('cuts toward zero, so a refund shows the toman of its capture', () => {
    expect(formatToman(-12_345, 'en')).toBe('-1,234');
    expect(formatToman(-12_345, 'fa')).toBe(`${LRM}−۱٬۲۳۴`);
  });
  it('keeps amounts beyond 2^31 and 2^53 exact', () => {
    expect(formatToman(2 ** 31 * 10 + 7, 'en')).toBe('2,147,483,648');
    expect(formatToman(Number.MAX_SAFE_INTEGER, 'en')).toBe('900,719,925,474,099');
    expect(formatToman('123456789012345678901', 'en')).toBe('12,345,678,901,234,567,890');
    expect(formatRial(10n ** 20n + 1n, 'en')).toBe('100,000,000,000,000,000,001');
  });
  it('refuses fractions and numbers past exact integers', () => {
    expect(() => formatToman(10.5, 'fa')).toThrow(InvalidAmount);
    expect(() => formatToman(2 ** 53, 'fa')).toThrow(/safe integer/);
    expect(() => formatToman('12.5', 'fa')).toThrow(/whole digits/);
  });
  it('reads toman typed in any digits as integer Rial', () => {
    expect(parseTomanInput('۱۲٬۵۰۰')).toBe(125_000n);
    expect(parseTomanInput('١٢,٥٠٠')).toBe(125_000n);
    expect(parseTomanInput(' 12 500 ')).toBe(125_000n);
    expect(parseTomanInput('۱۲٫۵')).toBe(125n);
    expect(parseTomanInput('0.1')).toBe(1n);
    expect(parseTomanInput('99999999999999999999')).toBe(999_999_999_999_999_999_990n);
    for (const bad of ['', '۱۲٫۵۵', '1.2.3', '-5', '12a', '.', '1e3']) {
      expect(parseTomanInput(bad), bad).toBeNull();
    }
  });
  it('sends the API only amounts its Rial scalar holds', () => {
    expect(rialForApi(125_000n)).toBe(125_000);
    expect(() => rialForApi(2n ** 53n)).toThrow(/2\^53-1/);
    expect(() => rialForApi(-1n)).toThrow(InvalidAmount);
  });
  it('groups plain numbers (points) in the language', () => {
    expect(formatInteger(1234567, 'fa')).toBe('۱٬۲۳۴٬۵۶۷');
    expect(formatInteger(1234567, 'en')).toBe('1,234,567');
  });
});

describe('Jalali dates', () => {
  // 2026-12-04 20:30 UTC is already 5 December (14 Azar 1405) in Tehran (UTC+3:30).
  const lateEvening = '2026-12-04T20:30:00Z';
  it('shows the Tehran day on the Persian calendar', () => {
    expect(formatJalaliDate(lateEvening, 'fa')).toBe('۱۴ آذر ۱۴۰۵');
    expect(formatJalaliDate(lateEvening, 'en')).toContain('Azar 1405');
    expect(formatJalaliDateTime(lateEvening, 'fa')).toContain('۰۰:۰۰');
  });
  it('reads a typed Jalali date in any digits', () => {
    const day = parseJalaliDate('۱۴۰۵/۰۹/۱۴');
    expect(day).not.toBeNull();
    expect(formatJalaliDate(day!, 'fa')).toBe('۱۴ آذر ۱۴۰۵');
    expect(parseJalaliDate('1405-9-14')?.getTime()).toBe(day?.getTime());
  });
  it('refuses days that do not exist', () => {
    expect(parseJalaliDate('1405/07/31')).toBeNull(); // Mehr has 30 days
    expect(parseJalaliDate('1405/13/01')).toBeNull();
    expect(parseJalaliDate('14/9/1405')).toBeNull();
  });
  it('counts calendar days across the Persian new year', () => {
    const lastDay = parseJalaliDate('1404/12/29')!;
    expect(formatJalaliDate(addDays(lastDay, 1), 'en', 'short')).toMatch(/1405/);
  });
});

describe('search', () => {
  it('treats Arabic Yeh and Kaf as Persian ones', () => {
    expect(normalizeForSearch('كتاب علي')).toBe('کتاب علی');
    expect(matchesSearch('کافه سپید', 'كافه')).toBe(true);
  });
  it('matches across a ZWNJ, a space or nothing', () => {
    expect(matchesSearch('کتاب‌سرا', 'کتاب سرا')).toBe(true);
    expect(matchesSearch('کتاب سرا', 'کتابسرا')).toBe(true);
    expect(matchesSearch('کتابسرا', 'کتاب‌سرا')).toBe(true);
  });
  it('ignores diacritics, tatweel, digit script and Latin case', () => {
    expect(matchesSearch('مُحَمَّد', 'محمد')).toBe(true);
    expect(matchesSearch('کـــافه', 'کافه')).toBe(true);
    expect(matchesSearch('Unit F-07', 'f-۰۷')).toBe(true);
    expect(matchesSearch('کافه سپید', 'کتاب')).toBe(false);
  });
});

describe('phones', () => {
  it('shows E.164 mobiles as people write them', () => {
    expect(formatPhone('+989121234567', 'fa')).toBe('۰۹۱۲ ۱۲۳ ۴۵۶۷');
    expect(formatPhone('+989121234567', 'en')).toBe('0912 123 4567');
    expect(formatPhone('+98912***4567', 'en')).toBe('+98912***4567');
  });
  it('hides the middle of a mobile for paper', () => {
    expect(maskPhone('+989121234567', 'fa')).toBe('۰۹۱۲ *** ۴۵۶۷');
    expect(maskPhone('+989121234567', 'en')).toBe('0912 *** 4567');
    expect(maskPhone('not a phone', 'en')).toBe('not a phone');
  });
  it('reads any typed shape', () => {
    for (const typed of ['۰۹۱۲ ۱۲۳ ۴۵۶۷', '+98 912-123-4567', '00989121234567', '9121234567']) {
      expect(parseMobile(typed), typed).toBe('+989121234567');
    }
    expect(parseMobile('0212345678')).toBeNull();
    expect(parseMobile('0912123456')).toBeNull();
  });
});
