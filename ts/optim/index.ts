/** Optimizers as composable gradient transformations. */
export * from './transform.js';
export * from './scale.js';
export * from './clip.js';
export * from './schedules.js';
export * from './alias.js';
export * from './lbfgs.js';
