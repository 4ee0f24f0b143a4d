/** vitest with scripts/loop-lag-setup.ts: prints the tests that block the event loop longest. */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.config.js';

// eslint-disable-next-line no-restricted-syntax -- vitest reads the config from the default export
export default mergeConfig(base, defineConfig({ test: { setupFiles: ['scripts/loop-lag-setup.ts'] } }));
