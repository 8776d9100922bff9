import { MantineProvider } from '@mantine/core';
import type { ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { describe, expect, it } from 'vitest';

import { createI18n, type Lang } from '../i18n';
import { NewerOlder } from './Section';
import { LINES_PER_PAGE, StatementView, type StatementData } from './StatementView';

function html(lang: Lang, node: ReactNode): string {
  return renderToStaticMarkup(
    <MantineProvider>
      <I18nextProvider i18n={createI18n(lang)}>{node}</I18nextProvider>
    </MantineProvider>,
  );
}

const line = (n: number) => ({
  kind: 'redeemed_here',
  ref: `redemption:${String(n)}`,
  at: '2026-12-01T10:00:00+00:00',
  receipt: `R-${String(n)}`,
  issuer: 'ketab-sara',
  redeemer: 'kafsh-arya',
  grossRial: 10_000,
  feeRial: 100,
  netRial: 9_900,
  memo: '',
});

/** The second page of a statement of 40 lines, as the server answers it. */
const statement: StatementData = {
  periodId: 7,
  startsAt: '2026-12-01T00:00:00+00:00',
  endsAt: '2026-12-02T00:00:00+00:00',
  closedAt: '2026-12-02T00:05:00+00:00',
  shop: 'kafsh-arya',
  shopNameFa: 'کفش آریا',
  shopNameEn: 'Kafsh Arya',
  funding: 'postpaid',
  grossReceivableRial: 400_000,
  feesRial: 4_000,
  grossPayableRial: 0,
  coveredByPrepaymentRial: 0,
  correctionsRial: 0,
  positionRial: 396_000,
  digest: 'abc',
  lineCount: 40,
  lines: Array.from({ length: LINES_PER_PAGE }, (_, n) => line(LINES_PER_PAGE + n)),
  payments: [],
};

const view = (lang: Lang) =>
  html(lang, <StatementView statement={statement} offset={LINES_PER_PAGE} onOffset={() => undefined} />);

describe('a statement paged by the server', () => {
  it('shows the page it was given and counts every line', () => {
    const en = view('en');
    expect(en).toContain('Lines (40)');
    expect(en).toContain('Lines 16–30 of 40');
    expect(en).toContain('R-15');
    expect(en).toContain('R-29');
    expect(en).not.toContain('R-30');
    expect(en).toContain('aria-label="Page 3 of lines"');
    expect(en).toContain('aria-label="Next page of lines"');
    const fa = view('fa');
    expect(fa).toContain('سطرهای ۱۶ تا ۳۰ از ۴۰');
    expect(fa).toContain('صفحهٔ بعدی سطرها');
  });
});

describe('newer and older pages of periods', () => {
  const labels = { newer: 'Newer', older: 'Older', group: 'Pages' };
  const pager = (offset: number, answered: number) =>
    html(
      'en',
      <NewerOlder
        offset={offset}
        pageSize={10}
        answered={answered}
        fetching={false}
        labels={labels}
        onOffset={() => undefined}
      />,
    );
  it('shows nothing when every period fits the first page', () => {
    expect(pager(0, 10)).not.toContain('<button');
  });
  it('offers older periods while the server had more, newer ones after the first page', () => {
    const first = pager(0, 11);
    expect(first).toContain('aria-label="Pages"');
    expect(first).toMatch(/<button[^>]*disabled[^>]*>.*Newer/);
    const last = pager(20, 3);
    expect(last).toMatch(/<button[^>]*disabled[^>]*>.*Older/);
    expect(last).not.toMatch(/<button[^>]*disabled[^>]*>(?:(?!<\/button>).)*Newer/);
  });
});
