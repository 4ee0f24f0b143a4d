// Types of the CommonJS entry (index.cjs): everything the ES module exports.
export * from './index.js';
