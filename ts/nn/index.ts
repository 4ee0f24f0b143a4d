/**
 * Neural-network modules for VAEs and flows, functional in the style of Flax and Equinox: a module
 * is `{ init(key) → params, apply(params, x, opts?) → y }`, with parameters a pytree of tensors.
 */
export * from './init.js';
export * from './module.js';
export * from './activations.js';
export * from './linear.js';
export * from './layers.js';
export * from './made.js';
export * from './conv.js';
export * from './bayes/index.js';
