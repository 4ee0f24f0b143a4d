/** Probability distributions, their constraints and the KL registry. */
export * from './constraints.js';
export * from './stan-constraints.js';
export { Distribution, setValidateArgs, type DistributionOptions } from './distribution.js';
export * from './continuous.js';
export * from './gamma.js';
export * from './discrete.js';
export * from './multivariate.js';
export * from './structured.js';
export * from './vonmises.js';
export * from './wishart.js';
export * from './lkj.js';
export * from './relaxed.js';
export { kl, hasKL, registerKL, type DistributionClass } from './kl.js';
export { TransformedDistribution } from './transformed.js';
export { ImproperUniform, type ImproperUniformOptions } from './improper.js';
export { HalfStudentT } from './halfstudentt.js';
export { Truncated, type TruncationBounds, type HasCdf } from './truncated.js';
export { atan, studentTCdf, regularizedGammaP, incompleteBetaHost } from './cdf.js';
