import type { ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { describe, expect, it } from 'vitest';

import { createI18n, type Lang } from '../i18n';
import { Code, Phone, Toman } from './Bdi';

function html(lang: Lang, node: ReactNode): string {
  return renderToStaticMarkup(<I18nextProvider i18n={createI18n(lang)}>{node}</I18nextProvider>);
}

describe('isolated numbers', () => {
  it('shows an amount in toman, the number isolated left to right', () => {
    expect(html('fa', <Toman rial={12_345_675} />)).toBe(
      '<span><bdi dir="ltr">۱٬۲۳۴٬۵۶۷</bdi> تومان</span>',
    );
    expect(html('en', <Toman rial="50000000000" />)).toBe(
      '<span><bdi dir="ltr">5,000,000,000</bdi> toman</span>',
    );
  });
  it('isolates phone numbers and codes in the language digits', () => {
    expect(html('fa', <Phone e164="+989121234567" />)).toBe('<bdi dir="ltr">۰۹۱۲ ۱۲۳ ۴۵۶۷</bdi>');
    expect(html('en', <Code value="۴۸۲۹۱۷" />)).toBe('<bdi dir="ltr">482917</bdi>');
  });
});
