/** Variational message passing (Winn & Bishop 2005) on factor graphs of conjugate-exponential nodes. */
export { FactorGraph, type GaussianParams, type VmpPlateOptions } from './graph.js';
export { type VmpOptions, type VmpResult } from './run.js';
export { NonConjugateError, VmpVariable, type VmpFactor, type Param as VmpParam } from './node.js';
export { defaultSchedule } from './schedule.js';
export { GaussianVariable } from './gaussian.js';
export { GammaVariable } from './gamma.js';
export { VectorGaussianVariable } from './vector-gaussian.js';
export { WishartVariable } from './wishart.js';
export { BetaVariable } from './beta.js';
export { DirichletVariable } from './dirichlet.js';
export { CategoricalVariable } from './categorical.js';
export { GaussianWishartVariable } from './gaussian-wishart.js';
export { type VectorGaussianParams, type LinearGaussianParams } from './build-multivariate.js';
export { type CategoricalParams, type GaussianWishartParams, type GaussianMixtureParams, type GaussianGateParams, type CategoricalGateParams, type MarkovChainParams } from './build-mixture.js';
export { MarkovChainVariable } from './markov-chain.js';
export { linearRegressionGraph, gaussianMixtureGraph, ldaGraph, type LinearRegressionGraph, type GaussianMixtureGraph, type LdaGraph } from './models.js';
export { type FactorAnalysisParams } from './build-factor-analysis.js';
