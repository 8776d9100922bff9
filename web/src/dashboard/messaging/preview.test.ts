import { describe, expect, it } from 'vitest';

import {
  broadcastStatusKey,
  costLine,
  filterFields,
  langDirection,
  partUnits,
  phoneParts,
  stillMoving,
  textDirection,
} from './preview';

describe('the parts a phone receives', () => {
  it('counts UTF-16 units for Persian and emoji, septets for GSM-7', () => {
    expect(partUnits('سلام', 'UCS-2')).toBe(4);
    expect(partUnits('a😀', 'UCS-2')).toBe(3); // the emoji is a surrogate pair
    expect(partUnits('Hi {name}', 'GSM-7')).toBe(11); // braces are extension characters
    expect(partUnits('€5', 'GSM-7')).toBe(3);
  });

  it('numbers the parts and says how full each is', () => {
    const first = 'ب'.repeat(67);
    const parts = phoneParts([first, 'پایان'], 'UCS-2', 67);
    expect(parts).toEqual([
      { n: 1, text: first, units: 67, limit: 67 },
      { n: 2, text: 'پایان', units: 5, limit: 67 },
    ]);
  });
});

describe("a send's cost line", () => {
  it('gives recipients by SMS × parts × part price, which add up to the total', () => {
    const line = costLine({ bySms: 2, segments: { parts: 3 }, partPriceRial: 1_200, costRial: 7_200 });
    expect(line).toEqual({ sms: 2, parts: 3, partPriceRial: 1_200, totalRial: 7_200, adds: true });
  });

  it('says when the factors do not give the total, and has no parts without a text', () => {
    expect(costLine({ bySms: 2, segments: { parts: 1 }, partPriceRial: 1_200, costRial: 9_999 }).adds).toBe(false);
    const empty = costLine({ bySms: 4, segments: null, partPriceRial: 1_200, costRial: 0 });
    expect([empty.parts, empty.adds]).toEqual([0, true]);
  });
});

describe("a send's progress", () => {
  it('is asked again until the list is walked and no message is about to go', () => {
    expect(stillMoving({ status: 'queued', deliveries: [] })).toBe(true);
    expect(stillMoving({ status: 'sending', deliveries: [] })).toBe(true);
    expect(stillMoving({ status: 'done', deliveries: [{ status: 'QUEUED', count: 2 }] })).toBe(true);
    expect(stillMoving({ status: 'done', deliveries: [{ status: 'QUEUED', count: 0 }, { status: 'DELIVERED', count: 2 }] })).toBe(false);
    // Held until the quiet hours end: hours away, not worth asking every two seconds.
    expect(stillMoving({ status: 'done', deliveries: [{ status: 'HELD', count: 3 }] })).toBe(false);
    expect(stillMoving({ status: 'failed', deliveries: [{ status: 'QUEUED', count: 1 }] })).toBe(false);
    expect(broadcastStatusKey('done')).toBe('messaging.progress.status.done');
    expect(broadcastStatusKey('whatever')).toBe('messaging.progress.status.queued');
  });

  it("names the list's filter in the members page's order, only what was given", () => {
    expect(filterFields({ tag: 'vip', search: 'علی', joinedFrom: '2026-12-01' })).toEqual([
      ['search', 'علی'],
      ['tag', 'vip'],
      ['joinedFrom', '2026-12-01'],
    ]);
    expect(filterFields({})).toEqual([]);
  });
});

describe('the direction a text is shown in', () => {
  it('follows the script most of its letters are in, not the first letter', () => {
    expect(textDirection('«ketab-sara»: جمعهٔ این هفته دو کتاب به قیمت یکی\nلغو: ارسال «لغو»')).toBe('rtl');
    expect(textDirection('{name} عزیز، خوش آمدید')).toBe('rtl');
    expect(textDirection('کتاب‌سرا: Two books for the price of one this Friday')).toBe('ltr');
    expect(textDirection('۱۲۳ ***')).toBe('ltr');
    expect([langDirection('fa'), langDirection('en')]).toEqual(['rtl', 'ltr']);
  });
});
