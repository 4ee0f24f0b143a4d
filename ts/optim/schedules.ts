/**
 * Learning-rate schedules: functions from the 0-based step count to a rate. Each built-in
 * schedule also carries a tensor form (`.tensor(count)`, count a float64 scalar tensor) computing
 * the same value with tensor ops in the same order, which `scaleByLearningRate` uses so that a
 * compiled step reads the count from the optimizer state.
 */
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { asTensor } from '../ops/creation.js';
import { add, cos, div, floor, greaterEqual, less, minimum, mul, pow, sub, where } from '../ops/elementwise.js';

/** A schedule: the rate at a step, with an optional tensor form of the same function. */
export type ScheduleFn = ((step: number) => number) & {
  /** The rate as a float64 scalar tensor from the count (a float64 scalar tensor). */
  readonly tensor?: (count: Tensor) => Tensor;
};

/**
 * A schedule from a JavaScript function and its tensor form, so that it compiles.
 * @example const lr = tensorSchedule((t) => 0.1 / (1 + t), (c) => div(0.1, add(c, 1)))
 */
export function tensorSchedule(fn: (step: number) => number, tensor: (count: Tensor) => Tensor): ScheduleFn {
  const f = (t: number): number => fn(t);
  return Object.assign(f, { tensor });
}

/**
 * The same rate at every step.
 * @example adam(constantSchedule(1e-3))
 */
export function constantSchedule(value: number): ScheduleFn {
  return tensorSchedule(
    () => value,
    (c) => asTensor(value, c),
  );
}

/**
 * init · rate^(step / transitionSteps), continuous, or stepped when `staircase`.
 * @example exponentialDecay(1e-2, 0.5, 1000) // halves every 1000 steps
 */
export function exponentialDecay(init: number, rate: number, transitionSteps = 1, staircase = false): ScheduleFn {
  if (!(transitionSteps > 0)) throw new ValueError(`exponentialDecay: transitionSteps must be > 0, got ${transitionSteps}`);
  return tensorSchedule(
    (t) => init * Math.pow(rate, staircase ? Math.floor(t / transitionSteps) : t / transitionSteps),
    (c) => {
      const e = div(c, transitionSteps);
      return mul(init, pow(rate, staircase ? floor(e) : e));
    },
  );
}

/**
 * Cosine decay from init to init·alpha over decaySteps, then constant (Loshchilov & Hutter 2017).
 * @example cosineDecay(1e-3, 10000, 0.1) // 1e-3 down to 1e-4 over 10k steps
 */
export function cosineDecay(init: number, decaySteps: number, alpha = 0): ScheduleFn {
  if (!(decaySteps > 0)) throw new ValueError(`cosineDecay: decaySteps must be > 0, got ${decaySteps}`);
  return tensorSchedule(
    (t) => {
      const p = Math.min(t, decaySteps) / decaySteps;
      return init * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * p)) + alpha);
    },
    (c) => {
      const p = div(minimum(c, decaySteps), decaySteps);
      return mul(init, add(mul((1 - alpha) * 0.5, add(1, cos(mul(Math.PI, p)))), alpha));
    },
  );
}

/**
 * Linear ramp from `start` to `end` over `steps`, then `end`.
 * @example linearSchedule(0, 1e-3, 500)
 */
export function linearSchedule(start: number, end: number, steps: number): ScheduleFn {
  return tensorSchedule(
    (t) => (t >= steps ? end : start + ((end - start) * t) / steps),
    (c) => where(greaterEqual(c, steps), asTensor(end, c), add(start, div(mul(end - start, c), steps))),
  );
}

/**
 * values[0] before boundaries[0], values[i] from boundaries[i − 1] up to boundaries[i], and the last
 * value from the last boundary on (boundaries strictly increasing step counts; one value more than
 * boundaries). Burda et al.'s (2016) IWAE schedule is one: 3^i passes at 1e-3 · 10^(−i/7), i = 0..7.
 * @example const lr = piecewiseConstant([1000, 4000], [1e-3, 3e-4, 1e-4])
 */
export function piecewiseConstant(boundaries: readonly number[], values: readonly number[]): ScheduleFn {
  if (values.length !== boundaries.length + 1)
    throw new ValueError(`piecewiseConstant: needs one value more than boundaries, got ${values.length} values for ${boundaries.length} boundaries`);
  boundaries.forEach((b, i) => {
    if (!Number.isFinite(b) || (i > 0 && !(b > boundaries[i - 1])))
      throw new ValueError(`piecewiseConstant: boundaries must be finite and strictly increasing, got [${boundaries.join(', ')}]`);
  });
  const bs = boundaries.slice();
  const vs = values.slice();
  return tensorSchedule(
    (t) => {
      let i = 0;
      while (i < bs.length && t >= bs[i]) i++;
      return vs[i];
    },
    // Selected from the last piece back, so the value is one of `values` exactly (no sums of differences).
    (c) => bs.reduceRight<Tensor>((acc, b, i) => where(less(c, b), asTensor(vs[i], c), acc), asTensor(vs[vs.length - 1], c)),
  );
}

/**
 * Linear warm-up from 0 to the value of `after` at step 0 over `warmupSteps`, then `after` shifted.
 * Has a tensor form when `after` is a number or has one.
 * @example adam(warmup(500, cosineDecay(1e-3, 10000))) // linear warm-up, then cosine
 */
export function warmup(warmupSteps: number, after: ScheduleFn | number): ScheduleFn {
  const f = typeof after === 'number' ? constantSchedule(after) : after;
  const js = (t: number): number => (t < warmupSteps ? (f(0) * (t + 1)) / warmupSteps : f(t - warmupSteps));
  const tf = f.tensor;
  if (tf === undefined) return js;
  const f0 = f(0);
  return tensorSchedule(js, (c) => where(less(c, warmupSteps), div(mul(f0, add(c, 1)), warmupSteps), tf(sub(c, warmupSteps))));
}

/**
 * Robbins–Monro step sizes ρ_t = scale · (t + τ)^−κ; Σρ = ∞ and Σρ² < ∞ need κ ∈ (0.5, 1]
 * (Hoffman et al. 2013, stochastic variational inference).
 * @example robbinsMonro(10, 0.7) // ρ_t = (10 + t)^−0.7
 */
export function robbinsMonro(tau = 1, kappa = 0.7, scale = 1): ScheduleFn {
  if (!(kappa > 0.5 && kappa <= 1)) throw new ValueError(`robbinsMonro: kappa must be in (0.5, 1], got ${kappa}`);
  if (!(tau >= 0)) throw new ValueError(`robbinsMonro: tau must be >= 0, got ${tau}`);
  const extra = tau === 0 ? 1 : 0;
  return tensorSchedule(
    (t) => scale * Math.pow(t + tau + extra, -kappa),
    (c) => {
      const base = add(c, tau);
      return mul(scale, pow(extra === 0 ? base : add(base, extra), -kappa));
    },
  );
}
