import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'node',
    // Intl's Persian calendar and digits come from Node's full ICU, as in the browsers.
    env: { TZ: 'Asia/Tehran' },
  },
});
