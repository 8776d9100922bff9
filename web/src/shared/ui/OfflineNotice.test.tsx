import { MantineProvider } from '@mantine/core';
import type { ReactNode } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { I18nextProvider } from 'react-i18next';
import { describe, expect, it } from 'vitest';

import { createI18n, type Lang } from '../i18n';
import { OfflineLine, OfflineNotice, subscribeOnline } from './OfflineNotice';

function html(lang: Lang, node: ReactNode): string {
  return renderToStaticMarkup(
    <MantineProvider>
      <I18nextProvider i18n={createI18n(lang)}>{node}</I18nextProvider>
    </MantineProvider>,
  );
}

describe('the offline notice', () => {
  it('says the device is offline, as a status, in Persian and English', () => {
    const fa = html('fa', <OfflineLine online={false} />);
    expect(fa).toContain('role="status"');
    expect(fa).toContain('اتصال اینترنت قطع است');
    const en = html('en', <OfflineLine online={false} />);
    expect(en).toContain('role="status"');
    expect(en).toContain('You are offline');
  });
  it('shows nothing while online, nor where there is no browser to ask', () => {
    const online = html('en', <OfflineLine online={true} />);
    expect(online).not.toContain('role="status"');
    expect(online).not.toContain('offline');
    const prerendered = html('fa', <OfflineNotice />);
    expect(prerendered).not.toContain('role="status"');
    expect(prerendered).not.toContain('اینترنت');
  });
  it('hears both events until unsubscribed', () => {
    const target = new EventTarget();
    const heard: string[] = [];
    const stop = subscribeOnline(target, () => heard.push('changed'));
    target.dispatchEvent(new Event('offline'));
    target.dispatchEvent(new Event('online'));
    target.dispatchEvent(new Event('unrelated'));
    expect(heard).toEqual(['changed', 'changed']);
    stop();
    target.dispatchEvent(new Event('offline'));
    expect(heard).toHaveLength(2);
  });
});
