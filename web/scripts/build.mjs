// Build every face (or those named: `node scripts/build.mjs app console`) into dist/<face>,
// in one process: Vite's JS API with FACE set for the shared vite.config.ts.
import { build } from 'vite';

const faces = process.argv.slice(2).length ? process.argv.slice(2) : ['app', 'console', 'dashboard'];
for (const face of faces) {
  process.env.FACE = face;
  const started = performance.now();
  await build({ configFile: new URL('../vite.config.ts', import.meta.url).pathname, logLevel: 'warn' });
  console.log(`built ${face} in ${Math.round(performance.now() - started)} ms -> dist/${face}/`);
}
