import type { ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { describe, expect, it } from 'vitest';

import { createI18n, type Lang } from '../i18n';
import { ServerLine } from './FaceShell';

function html(lang: Lang, node: ReactNode): string {
  return renderToStaticMarkup(<I18nextProvider i18n={createI18n(lang)}>{node}</I18nextProvider>);
}

describe('the server line', () => {
  it('isolates the version and the shop inside Persian text', () => {
    const line = html('fa', <ServerLine fetching={false} failed={false} version="0.1.0" shop="ketab-sara" />);
    expect(line).toBe(
      'فروشگاه: <bdi dir="ltr">ketab-sara</bdi> · نسخهٔ سرور <bdi dir="ltr">۰.۱.۰</bdi>',
    );
  });
  it('says so when the server does not answer', () => {
    expect(html('en', <ServerLine fetching={false} failed={true} />)).toContain('does not answer');
    expect(html('en', <ServerLine fetching={true} failed={false} />)).toContain('Asking');
  });
});
