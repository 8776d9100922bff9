/**
 * One Vite config for the three faces; FACE picks which (app, console or dashboard).
 * `npm run build` builds all three into dist/<face>/, served by the hub at /app/ and
 * /console/ and by each node at /dashboard/. `FACE=console npm run dev` serves one face
 * with its server's /graphql proxied (MALLNET_DEV_SERVER, else the demo's hub or first
 * node).
 */
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig, type UserConfig } from 'vite';

export const FACES = {
  app: { server: 'http://127.0.0.1:8000' },
  console: { server: 'http://127.0.0.1:8000' },
  dashboard: { server: 'http://127.0.0.1:8001' },
} as const;
export type FaceName = keyof typeof FACES;

function isFace(name: string): name is FaceName {
  return Object.hasOwn(FACES, name);
}

export function faceConfig(face: FaceName): UserConfig {
  const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  return {
    root: here(`src/${face}`),
    base: `/${face}/`,
    publicDir: false,
    plugins: [react()],
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
