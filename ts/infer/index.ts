/** Variational inference: ELBO estimators, autoguides, SVI, SVGD and initialization strategies. */
export * from './elbo.js';
export * from './autoguide.js';
export * from './svi.js';
export * from './init.js';
export * from './predictive.js';
export * from './tracegraph.js';
export * from './svgd.js';
export { fit, fitSync, defaultPhases, evaluateGuide, type CandidateElbo, type FitOptions, type FitPartial, type FitPhase, type FitProgress, type FitResult } from './fit/index.js';
export { ProgressBar, formatProgress, formatDuration, type ProgressStream, type ProgressState } from './progress.js';
