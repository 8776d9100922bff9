/**
 * Says so when the device is offline (`navigator.onLine` and the window's online/offline
 * events). Shown in every face's frame (FaceShell): the shopper app opens offline from its
 * service worker's shell, but balances and payments always need the server, so the page
 * says why they do not load rather than looking broken. Nothing is rendered while online.
 */
import { Alert } from '@mantine/core';
import { useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';

type OnlineSource = Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;

/** Calls `changed` on every online/offline event of `target`; returns the unsubscribe. */
export function subscribeOnline(target: OnlineSource, changed: () => void): () => void {
  target.addEventListener('online', changed);
  target.addEventListener('offline', changed);
  return () => {
    target.removeEventListener('online', changed);
    target.removeEventListener('offline', changed);
  };
}

/** Whether the browser believes it is online; true where there is no browser (prerender). */
export function isOnline(): boolean {
  return typeof navigator === 'undefined' ? true : navigator.onLine;
}

export function useOnline(): boolean {
  return useSyncExternalStore(
    (changed) => subscribeOnline(window, changed),
    isOnline,
    () => true,
  );
}

/** The notice itself, for a known state (OfflineNotice reads the browser's). */
export function OfflineLine({ online }: { online: boolean }) {
  const { t } = useTranslation();
  if (online) return null;
  return (
    <Alert
      role="status"
      color="yellow"
      variant="light"
      title={t('offline.title')}
      // Yellow.9 text on the light yellow is 2.8:1 (axe, WCAG AA wants 4.5): the page's.
      styles={{ title: { color: 'var(--mantine-color-text)' } }}
      mb="md"
    >
      {t('offline.notice')}
    </Alert>
  );
}

export function OfflineNotice() {
  return <OfflineLine online={useOnline()} />;
}
