import type { ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { MantineProvider } from '@mantine/core';
import { describe, expect, it } from 'vitest';

import { createI18n, type Lang } from '../i18n';
import { AccountBar } from './SessionGate';

function html(lang: Lang, node: ReactNode): string {
  return renderToStaticMarkup(
    <MantineProvider>
      <I18nextProvider i18n={createI18n(lang)}>{node}</I18nextProvider>
    </MantineProvider>,
  );
}

describe('the account bar', () => {
  it('isolates the masked phone in Persian digits', () => {
    const bar = html('fa', <AccountBar name="0912***4567" onSignOut={() => undefined} />);
    expect(bar).toContain('وارد شده با <bdi dir="ltr">۰۹۱۲***۴۵۶۷</bdi>');
    expect(bar).toContain('خروج');
  });
  it('says only "signed in" when the server gives no name', () => {
    const bar = html('en', <AccountBar name={null} onSignOut={() => undefined} />);
    expect(bar).toContain('Signed in');
    expect(bar).toContain('Sign out');
  });
});
