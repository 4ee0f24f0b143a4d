import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import the library as a user does, from 'varinf': here that is the sources.
  resolve: { alias: [{ find: /^varinf$/, replacement: fileURLToPath(new URL('./ts/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
