/** `fit`: the automatic variational-inference recipe, as a composition of the pieces in this folder. */
export { fit, fitSync } from './fit.js';
export { defaultPhases, type CandidateElbo, type FitOptions, type FitPartial, type FitPhase, type FitProgress, type FitResult } from './options.js';
export { evaluateGuide } from './evaluate.js';
export { potential, potentialTensor, fdHessian, type BatchGrad } from './potential.js';
export { choleskyHost } from './linalg.js';
