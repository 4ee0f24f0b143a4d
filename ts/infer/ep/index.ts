/** Expectation propagation (Minka 2001) for latent Gaussian models: GP classification and robust regression, probit/logistic/Student-t linear models, power EP and damping. */
export { epGp, type EpGp, type EpGpOptions } from './gp.js';
export { epPredictor, type EpPredictor, type LatentPredictive } from './predict.js';
export { epLinear, type EpLinear, type EpLinearOptions } from './linear.js';
export { runEp, type EpOptions, type EpRun, type EpWarning } from './ep.js';
export { probitLikelihood, logisticLikelihood, studentTLikelihood, type EpLikelihood, type StudentTOptions } from './likelihoods.js';
export { rbfKernel, type Kernel, type RbfOptions } from './kernel.js';
export { functionSpaceGaussian, type FunctionSpaceGaussian } from './gaussian-function.js';
export { weightSpaceGaussian, type WeightSpaceGaussian } from './gaussian-weight.js';
export type { EpGaussian, Marginal } from './gaussian.js';
export { tiltedByQuadrature, type TiltedMoments, type LikelihoodFeature } from './quadrature.js';
export type { MatrixLike } from './matrix.js';
