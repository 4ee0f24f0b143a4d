/** Ready-made optimizers, each a chain of transformations (as in Optax's alias.py). */
import { clipByGlobalNorm, clipByValue } from './clip.js';
import { addDecayedWeights, scaleByAdadelta, scaleByAdam, scaleByRms, scaleByRss, traceMomentum } from './scale.js';
import { exponentialDecay } from './schedules.js';
import { chain, scaleByLearningRate, type GradientTransformation, type OptState, type Schedule } from './transform.js';

/**
 * Stochastic gradient descent, optionally with (Nesterov) momentum.
 * @example sgd(0.01, { momentum: 0.9, nesterov: true })
 */
export function sgd(lr: Schedule, opts: { momentum?: number; nesterov?: boolean } = {}): GradientTransformation<OptState[]> {
  const parts: GradientTransformation[] = [];
  if (opts.momentum !== undefined && opts.momentum > 0) parts.push(traceMomentum({ decay: opts.momentum, nesterov: opts.nesterov }));
  parts.push(scaleByLearningRate(lr));
  return chain(...parts);
}

/**
 * Adam (Kingma & Ba 2015).
 * @example const opt = adam(1e-3);
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grads, state, params); state = next;
 * params = applyUpdates(params, updates);
 */
export function adam(lr: Schedule, opts: { b1?: number; b2?: number; eps?: number } = {}): GradientTransformation<OptState[]> {
  return chain(scaleByAdam(opts), scaleByLearningRate(lr));
}

/**
 * AdamW: Adam with decoupled weight decay.
 * @example adamw(1e-3, { weightDecay: 1e-2 })
 */
export function adamw(lr: Schedule, opts: { b1?: number; b2?: number; eps?: number; weightDecay?: number } = {}): GradientTransformation<OptState[]> {
  return chain(
    scaleByAdam(opts),
    addDecayedWeights(opts.weightDecay ?? 1e-4),
    scaleByLearningRate(lr),
  );
}

/**
 * Adagrad.
 * @example adagrad(0.1)
 */
export function adagrad(lr: Schedule, opts: { initial?: number; eps?: number } = {}): GradientTransformation<OptState[]> {
  return chain(scaleByRss(opts), scaleByLearningRate(lr));
}

/**
 * RMSProp.
 * @example rmsprop(1e-3, { decay: 0.9 })
 */
export function rmsprop(lr: Schedule, opts: { decay?: number; eps?: number } = {}): GradientTransformation<OptState[]> {
  return chain(scaleByRms(opts), scaleByLearningRate(lr));
}

/**
 * Adadelta; lr = 1 is the original method.
 * @example adadelta()
 */
export function adadelta(lr: Schedule = 1, opts: { rho?: number; eps?: number } = {}): GradientTransformation<OptState[]> {
  return chain(scaleByAdadelta(opts), scaleByLearningRate(lr));
}

/**
 * Pyro's ClippedAdam: gradients clipped elementwise to ±clipNorm, then Adam with the learning
 * rate decayed by `lrd` every step.
 * @example clippedAdam(1e-3, { clipNorm: 10, lrd: 0.999 })
 */
export function clippedAdam(lr: number, opts: { clipNorm?: number; lrd?: number; b1?: number; b2?: number; eps?: number } = {}): GradientTransformation<OptState[]> {
  return chain(
    clipByValue(opts.clipNorm ?? 10),
    scaleByAdam(opts),
    scaleByLearningRate(exponentialDecay(lr, opts.lrd ?? 1)),
  );
}

/**
 * Adam with the gradients' global norm clipped first.
 * @example adamClipped(1e-3, 5) // global gradient norm ≤ 5, then Adam
 */
export function adamClipped(lr: Schedule, maxNorm: number, opts: { b1?: number; b2?: number; eps?: number } = {}): GradientTransformation<OptState[]> {
  return chain(clipByGlobalNorm(maxNorm), adam(lr, opts));
}
