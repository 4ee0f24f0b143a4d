/** User-facing tensor ops. */
export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './linalg.js';
export * from './bessel.js';
export * from './gauss.js';
export * from './mvn.js';
export * from './flow.js';
export * from './spline.js';
