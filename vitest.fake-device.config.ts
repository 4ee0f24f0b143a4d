/**
 * `npm run test:fake-device`: the suite with the fake device active (see
 * test/backend/fake-device-setup.ts), to find host/device mix-ups without a GPU. The posteriordb
 * fits are left out: eager on the fake device (js kernels), they take over ten minutes each file.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/inference/posteriordb-*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    setupFiles: ['test/backend/fake-device-setup.ts'],
  },
});
