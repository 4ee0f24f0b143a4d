/* Diagnostics: PSIS and k̂, PSIS-LOO, VSBC, and their descriptions in words. */
export {
  psis,
  psisBatch,
  gpdFit,
  khatThreshold,
  khatCategory,
  minDrawsForKhat,
  type DrawVector,
  type DrawMatrix,
  type PsisOptions,
  type PsisResult,
  type PsisBatchResult,
  type GpdFit,
  type KhatCategory,
} from './psis.js';
export { loo, type LooOptions, type LooResult } from './loo.js';
export {
  vsbc,
  vsbcFromPairs,
  calibrationQuantiles,
  ksSymmetryTest,
  type VsbcOptions,
  type VsbcResult,
  type KsTest,
  type Fitted,
  type MarginalCdf,
} from './vsbc.js';
export { describeKhat } from './summary.js';
export * from './pointwise.js';
export * from './sbc/index.js';
export * from './ppc/index.js';
