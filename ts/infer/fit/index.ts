/** `fit`: the automatic variational-inference recipe, as a composition of the pieces in this folder. */
export { fit } from './fit.js';
export { defaultPhases, type FitOptions, type FitPhase, type FitResult } from './options.js';
export { evaluateGuide } from './evaluate.js';
export { potential, potentialTensor, fdHessian, type BatchGrad } from './potential.js';
export { choleskyHost } from './linalg.js';
