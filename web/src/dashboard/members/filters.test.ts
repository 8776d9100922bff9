import { describe, expect, it } from 'vitest';

import { badDates, EMPTY_FILTER, exportPath, filterVariables } from './filters';

describe('the member filter', () => {
  it('sends only what was given, Jalali dates as Gregorian days', () => {
    const variables = filterVariables({
      ...EMPTY_FILTER,
      search: ' ۰۹۱۲ ',
      tier: 'silver',
      joinedFrom: '۱۴۰۵/۰۹/۱۰',
      lastVisitTo: '1405-9-14',
      tag: ' VIP ',
    });
    expect(variables).toEqual({
      search: '0912',
      tier: 'silver',
      joinedFrom: '2026-12-01',
      lastVisitTo: '2026-12-05',
      tag: 'VIP',
    });
    expect(filterVariables(EMPTY_FILTER)).toEqual({});
  });

  it('names the date fields that are no day', () => {
    expect(badDates({ ...EMPTY_FILTER, joinedTo: '1405/12/31', lastVisitFrom: 'fish' })).toEqual([
      'joinedTo',
      'lastVisitFrom',
    ]);
    expect(badDates({ ...EMPTY_FILTER, joinedTo: '1403/12/30' })).toEqual([]);
  });

  it('puts the same filter into the download address', () => {
    expect(exportPath('xlsx', {})).toBe('/members/export.xlsx');
    expect(exportPath('csv', { search: 'علی', membershipType: 'COMPANY' })).toBe(
      '/members/export.csv?search=%D8%B9%D9%84%DB%8C&membershipType=COMPANY',
    );
  });
});
