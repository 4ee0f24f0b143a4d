/** Moment-based rescalings of gradients: Adam, RMSProp, Adagrad, Adadelta, momentum. */
import { ValueError } from '../core/errors.js';
import { leaves, mapLeaves } from '../core/tree.js';
import { add, div, mul, pow, sqrt, square, sub } from '../ops/elementwise.js';
import { zerosLike } from '../ops/creation.js';
import type { Tensor } from '../core/tensor.js';
import { castCached, checkLeaves, zeroCount, type GradientTransformation } from './transform.js';

function zerosTree(params: unknown): Tensor[] {
  return leaves(params).map((p) => zerosLike(p));
}

function checkRate(name: string, arg: string, v: number, lo: number, hi: number): void {
  if (!(v >= lo && v < hi)) throw new ValueError(`${name}: ${arg} must be in [${lo}, ${hi}), got ${v}`);
}

/** The state of {@link scaleByAdam}: the step count and the two moment estimates, one tensor per parameter leaf. */
export interface AdamState {
  /** Updates so far, a float64 scalar tensor. */
  count: Tensor;
  /** First-moment estimates m (EMA of g), one per leaf, each of its leaf's shape. */
  mu: Tensor[];
  /** Second-moment estimates v (EMA of g²), one per leaf, each of its leaf's shape. */
  nu: Tensor[];
}

/**
 * Adam's rescaling (Kingma & Ba 2015): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
 * update = m̂ / (√v̂ + ε) with bias-corrected m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
 * @example chain(scaleByAdam({ b1: 0.5 }), scaleByLearningRate(1e-2))
 */
export function scaleByAdam(opts: { b1?: number; b2?: number; eps?: number } = {}): GradientTransformation<AdamState> {
  const b1 = opts.b1 ?? 0.9;
  const b2 = opts.b2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  checkRate('scaleByAdam', 'b1', b1, 0, 1);
  checkRate('scaleByAdam', 'b2', b2, 0, 1);
  return {
    init: (params) => ({ count: zeroCount(), mu: zerosTree(params), nu: zerosTree(params) }),
    update(u, s) {
      checkLeaves('scaleByAdam', u, s.mu, 'the optimizer state');
      // Bias corrections from the count tensor, in float64, then in each leaf's dtype.
      const count = add(s.count, 1);
      const c1 = castCached(div(1, sub(1, pow(b1, count))));
      const c2 = castCached(div(1, sub(1, pow(b2, count))));
      const mu: Tensor[] = [];
      const nu: Tensor[] = [];
      const out = mapLeaves(u, (g, i) => {
        const m = add(mul(s.mu[i], b1), mul(g, 1 - b1));
        const v = add(mul(s.nu[i], b2), mul(square(g), 1 - b2));
        mu.push(m);
        nu.push(v);
        return div(mul(m, c1(m.dtype)), add(sqrt(mul(v, c2(v.dtype))), eps));
      });
      return [out, { count, mu, nu }];
    },
  };
}

/** The state of {@link traceMomentum}. */
export interface TraceState {
  /** The momentum buffer t, one per parameter leaf, each of its leaf's shape. */
  trace: Tensor[];
}

/**
 * Momentum (heavy ball, Optax's `trace`): t ← μt + g; update = t, or g + μt with Nesterov.
 * @example chain(traceMomentum({ decay: 0.9 }), scaleByLearningRate(0.01)) // SGD with momentum
 */
export function traceMomentum(opts: { decay: number; nesterov?: boolean }): GradientTransformation<TraceState> {
  const { decay } = opts;
  checkRate('trace', 'decay', decay, 0, 1);
  return {
    init: (params) => ({ trace: zerosTree(params) }),
    update(u, s) {
      checkLeaves('traceMomentum', u, s.trace, 'the optimizer state');
      const tr: Tensor[] = [];
      const out = mapLeaves(u, (g, i) => {
        const t = add(mul(s.trace[i], decay), g);
        tr.push(t);
        return opts.nesterov ? add(g, mul(t, decay)) : t;
      });
      return [out, { trace: tr }];
    },
  };
}

/** The state of {@link scaleByRss} (Adagrad). */
export interface SumSqState {
  /** The running sum of squared gradients s (started at `initial`), one per parameter leaf. */
  sumSq: Tensor[];
}

/**
 * Adagrad (Duchi et al. 2011): s ← s + g²; update = g / √(s + ε).
 * @example chain(scaleByRss(), scaleByLearningRate(0.1)) // Adagrad
 */
export function scaleByRss(opts: { initial?: number; eps?: number } = {}): GradientTransformation<SumSqState> {
  const eps = opts.eps ?? 1e-7;
  const initial = opts.initial ?? 0.1;
  return {
    init: (params) => ({ sumSq: leaves(params).map((p) => add(zerosLike(p), initial)) }),
    update(u, s) {
      checkLeaves('scaleByRss', u, s.sumSq, 'the optimizer state');
      const acc: Tensor[] = [];
      const out = mapLeaves(u, (g, i) => {
        const a = add(s.sumSq[i], square(g));
        acc.push(a);
        return div(g, sqrt(add(a, eps)));
      });
      return [out, { sumSq: acc }];
    },
  };
}

/** The state of {@link scaleByRms} (RMSProp). */
export interface RmsState {
  /** The EMA of squared gradients v, one per parameter leaf. */
  nu: Tensor[];
}

/**
 * RMSProp (Tieleman & Hinton 2012): v ← ρv + (1−ρ)g²; update = g / (√v + ε).
 * @example chain(scaleByRms({ decay: 0.99 }), scaleByLearningRate(1e-3)) // RMSProp
 */
export function scaleByRms(opts: { decay?: number; eps?: number } = {}): GradientTransformation<RmsState> {
  const decay = opts.decay ?? 0.9;
  const eps = opts.eps ?? 1e-8;
  checkRate('scaleByRms', 'decay', decay, 0, 1);
  return {
    init: (params) => ({ nu: zerosTree(params) }),
    update(u, s) {
      checkLeaves('scaleByRms', u, s.nu, 'the optimizer state');
      const nu: Tensor[] = [];
      const out = mapLeaves(u, (g, i) => {
        const v = add(mul(s.nu[i], decay), mul(square(g), 1 - decay));
        nu.push(v);
        return div(g, add(sqrt(v), eps));
      });
      return [out, { nu }];
    },
  };
}

/** The state of {@link scaleByAdadelta}. */
export interface AdadeltaState {
  /** E[g²], the EMA of squared gradients, one per parameter leaf. */
  eg2: Tensor[];
  /** E[Δ²], the EMA of squared updates, one per parameter leaf. */
  ex2: Tensor[];
}

/**
 * Adadelta (Zeiler 2012): E[g²] ← ρE[g²] + (1−ρ)g², Δ = √(E[Δ²] + ε)/√(E[g²] + ε) · g,
 * E[Δ²] ← ρE[Δ²] + (1−ρ)Δ².
 * @example chain(scaleByAdadelta(), scaleByLearningRate(1))
 */
export function scaleByAdadelta(opts: { rho?: number; eps?: number } = {}): GradientTransformation<AdadeltaState> {
  const rho = opts.rho ?? 0.9;
  const eps = opts.eps ?? 1e-6;
  checkRate('scaleByAdadelta', 'rho', rho, 0, 1);
  return {
    init: (params) => ({ eg2: zerosTree(params), ex2: zerosTree(params) }),
    update(u, s) {
      checkLeaves('scaleByAdadelta', u, s.eg2, 'the optimizer state');
      const eg2: Tensor[] = [];
      const ex2: Tensor[] = [];
      const out = mapLeaves(u, (g, i) => {
        const e = add(mul(s.eg2[i], rho), mul(square(g), 1 - rho));
        const d = mul(div(sqrt(add(s.ex2[i], eps)), sqrt(add(e, eps))), g);
        eg2.push(e);
        ex2.push(add(mul(s.ex2[i], rho), mul(square(d), 1 - rho)));
        return d;
      });
      return [out, { eg2, ex2 }];
    },
  };
}

/**
 * Decoupled weight decay (Loshchilov & Hutter 2019): update + λ·params.
 * @example chain(scaleByAdam(), addDecayedWeights(1e-2), scaleByLearningRate(1e-3)) // AdamW
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update(u, s, params) {
      if (params === undefined) throw new ValueError('addDecayedWeights: update needs the parameters');
      const ps = leaves(params);
      checkLeaves('addDecayedWeights', u, ps, 'the parameters');
      return [mapLeaves(u, (g, i) => add(g, mul(ps[i], weightDecay))), s];
    },
  };
}

