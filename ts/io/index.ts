/** Saving and loading: safetensors for parameters and optimizer state, ArviZ-readable draws. */
export * from './safetensors.js';
export * from './arviz.js';
export * from './arviz-model.js';
export * from './svg.js';
export * from './png.js';
export { writeFileAtomic } from './atomic.js';
export * from './svg-panels.js';
