/** Learning-rate schedules: functions from the 0-based step count to a rate. */
import { ValueError } from '../core/errors.js';

export type ScheduleFn = (step: number) => number;

/** The same rate at every step. */
export function constantSchedule(value: number): ScheduleFn {
  return () => value;
}

/** init · rate^(step / transitionSteps), continuous, or stepped when `staircase`. */
export function exponentialDecay(init: number, rate: number, transitionSteps = 1, staircase = false): ScheduleFn {
  if (!(transitionSteps > 0)) throw new ValueError(`exponentialDecay: transitionSteps must be > 0, got ${transitionSteps}`);
  return (t) => init * Math.pow(rate, staircase ? Math.floor(t / transitionSteps) : t / transitionSteps);
}

/** Cosine decay from init to init·alpha over decaySteps, then constant (Loshchilov & Hutter 2017). */
export function cosineDecay(init: number, decaySteps: number, alpha = 0): ScheduleFn {
  if (!(decaySteps > 0)) throw new ValueError(`cosineDecay: decaySteps must be > 0, got ${decaySteps}`);
  return (t) => {
    const p = Math.min(t, decaySteps) / decaySteps;
    return init * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * p)) + alpha);
  };
}

/** Linear ramp from `start` to `end` over `steps`, then `end`. */
export function linearSchedule(start: number, end: number, steps: number): ScheduleFn {
  return (t) => (t >= steps ? end : start + ((end - start) * t) / steps);
}

/** Linear warm-up from 0 to the value of `after` at step 0 over `warmupSteps`, then `after` shifted. */
export function warmup(warmupSteps: number, after: ScheduleFn | number): ScheduleFn {
  const f = typeof after === 'number' ? constantSchedule(after) : after;
  return (t) => (t < warmupSteps ? (f(0) * (t + 1)) / warmupSteps : f(t - warmupSteps));
}

/**
 * Robbins–Monro step sizes ρ_t = scale · (t + τ)^−κ; Σρ = ∞ and Σρ² < ∞ need κ ∈ (0.5, 1]
 * (Hoffman et al. 2013, stochastic variational inference).
 */
export function robbinsMonro(tau = 1, kappa = 0.7, scale = 1): ScheduleFn {
  if (!(kappa > 0.5 && kappa <= 1)) throw new ValueError(`robbinsMonro: kappa must be in (0.5, 1], got ${kappa}`);
  if (!(tau >= 0)) throw new ValueError(`robbinsMonro: tau must be >= 0, got ${tau}`);
  return (t) => scale * Math.pow(t + tau + (tau === 0 ? 1 : 0), -kappa);
}
