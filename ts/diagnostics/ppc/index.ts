/* Posterior predictive checks: test statistics, p-values, replicated data from a model, and figures. */
export { ppcStatistics, quantile, quantileStatistic, resolveStatistic, type PpcStatistic, type StatisticSpec } from './statistics.js';
export { ppcTest, type PpcCheck, type PpcResult } from './pvalues.js';
export { posteriorPredictiveSamples, unobserve, type ReplicateOptions } from './replicate.js';
export { kde, ppcDensitySvg, ppcStatisticsSvg, savePpcDensity, savePpcStatistics, type PpcDensityOptions } from './plots.js';
