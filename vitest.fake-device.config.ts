/**
 * `npm run test:fake-device`: the suite with the fake device active (see
 * test/backend/fake-device-setup.ts), to find host/device mix-ups without a GPU. The posteriordb
 * fits are left out: eager on the fake device (js kernels), they take over ten minutes each file.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples import the library as a user does, from 'varinf': here that is the sources.
  resolve: { alias: [{ find: /^varinf$/, replacement: fileURLToPath(new URL('./ts/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/inference/posteriordb-*.test.ts', 'test/package/**'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    setupFiles: ['test/backend/fake-device-setup.ts'],
  },
});
