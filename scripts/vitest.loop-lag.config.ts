/** vitest with scripts/loop-lag-setup.ts: prints the tests that block the event loop longest. */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from '../vitest.config.js';

export default mergeConfig(base, defineConfig({ test: { setupFiles: ['scripts/loop-lag-setup.ts'] } }));
