/**
 * One Vite config for the three faces; FACE picks which (app, console or dashboard).
 * `npm run build` builds all three into dist/<face>/, served by the hub at /app/ and
 * /console/ and by each node at /dashboard/. `FACE=console npm run dev` serves one face
 * with its server's /graphql proxied (MALLNET_DEV_SERVER, else the demo's hub or first
 * node).
 *
 * The shopper app is also an installable PWA (vite-plugin-pwa): a web app manifest, its
 * icons (src/app/public, drawn by scripts/app-icons.py) and a Workbox service worker that
 * precaches the built shell only. See `appPwa` for what is and is not cached.
 */
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig, type PluginOption, type UserConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

export const FACES = {
  app: { server: 'http://127.0.0.1:8000' },
  console: { server: 'http://127.0.0.1:8000' },
  dashboard: { server: 'http://127.0.0.1:8001' },
} as const;
export type FaceName = keyof typeof FACES;

/** theme.ts: teal at primaryShade 9, on white. */
const THEME_COLOR = '#087f5b';
const BACKGROUND_COLOR = '#ffffff';

/** Server routes under /app/ (and beside it) that a navigation must reach, never the shell. */
export const SERVER_ROUTES = [
  /^\/app\/(login|callback|logout|session)(\/|\?|$)/,
  /^\/graphql/,
  /^\/oauth\//,
  /^\/\.well-known\//,
];

function isFace(name: string): name is FaceName {
  return Object.hasOwn(FACES, name);
}

/**
 * The shopper app's manifest and service worker. generateSW with `autoUpdate`: a new build
 * takes over at once (skipWaiting + clientsClaim) and the open app reloads itself, so
 * nobody runs an old shell against a newer hub API; the shell holds nothing worth a prompt
 * (no unsaved form lives in it across a deploy). Precached: the built files (scripts,
 * styles, fonts, icons, index.html); a navigation inside /app/ gets the precached
 * index.html. Nothing else is cached: there is no runtimeCaching, so /graphql, the
 * session routes and /oauth/* always go to the network, and balances and payments are
 * never answered from a cache (offline they fail, and the page says it is offline).
 */
function appPwa(): PluginOption {
  return VitePWA({
    registerType: 'autoUpdate',
    // pwa.ts registers it (called from main.tsx); nothing injected into index.html.
    injectRegister: false,
    strategies: 'generateSW',
    filename: 'sw.js',
    manifestFilename: 'manifest.webmanifest',
    // The icons are precached by globPatterns below, once.
    includeManifestIcons: false,
    manifest: {
      id: '/app/',
      name: 'اپ خریداران مال‌نت',
      short_name: 'مال‌نت',
      description: 'امتیاز و اعتبار تومانی شما در فروشگاه‌های مال، کارت شبکه و پرداخت با امتیاز',
      lang: 'fa',
      dir: 'rtl',
      start_url: '/app/',
      scope: '/app/',
      display: 'standalone',
      orientation: 'portrait',
      theme_color: THEME_COLOR,
      background_color: BACKGROUND_COLOR,
      icons: [
        { src: 'icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
        {
          src: 'icon-maskable-512.png',
          sizes: '512x512',
          type: 'image/png',
          purpose: 'maskable',
        },
      ],
    },
    workbox: {
      globPatterns: ['**/*.{js,css,html,woff2,png,svg}'],
      navigateFallback: '/app/index.html',
      navigateFallbackAllowlist: [/^\/app\//],
      navigateFallbackDenylist: SERVER_ROUTES,
      // No runtimeCaching: what is not precached is not touched by the service worker.
      cleanupOutdatedCaches: true,
      clientsClaim: true,
      skipWaiting: true,
      // Vite's hashed names need no cache-busting query.
      dontCacheBustURLsMatching: /^assets\//,
    },
  });
}

export function faceConfig(face: FaceName): UserConfig {
  const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  const plugins: PluginOption[] = [react()];
  if (face === 'app') plugins.push(appPwa());
  return {
    root: here(`src/${face}`),
    base: `/${face}/`,
    // Only the app has files copied as they are (its icons, for the manifest).
    publicDir: face === 'app' ? here('src/app/public') : false,
    plugins,
    build: {
      outDir: here(`dist/${face}`),
      emptyOutDir: true,
      // Everything hashed goes under assets/: the servers cache that folder for a year.
      assetsDir: 'assets',
      target: 'es2022',
      chunkSizeWarningLimit: 1024,
    },
    server: {
      proxy: { '/graphql': process.env.MALLNET_DEV_SERVER ?? FACES[face].server },
    },
  };
}

const face = process.env.FACE ?? 'app';
if (!isFace(face)) throw new Error(`FACE must be one of ${Object.keys(FACES).join(', ')}`);

export default defineConfig(faceConfig(face));
