/// <reference types="vite-plugin-pwa/vanillajs" />
/**
 * The shopper app's service worker (/app/sw.js, scope /app/), built by vite-plugin-pwa
 * (vite.config.ts, `appPwa`): it precaches the shell so the app opens offline, and caches
 * nothing else (GraphQL, the session and sign-in routes always go to the network).
 * `autoUpdate`: a new build takes over and the open app reloads once, so it never runs an
 * old shell against a newer hub.
 */
import { registerSW } from 'virtual:pwa-register';

export function registerServiceWorker(): void {
  // Service workers need a secure context (https, or http://localhost and 127.0.0.1).
  if (!('serviceWorker' in navigator)) return;
  void registerSW({
    immediate: true,
    onRegisterError(error: unknown) {
      // Without it the app still works online; only the offline shell is missing.
      console.warn('the service worker was not registered', error);
    },
  });
}
