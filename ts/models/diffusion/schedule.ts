/**
 * Noise schedules of denoising diffusion (Ho et al. 2020; Nichol & Dhariwal 2021) and the
 * quantities the forward process q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I) and its posterior
 * q(x_{t−1} | x_t, x₀) = N(μ̃_t, β̃_t I) need, for t = 1..T (index t − 1 in the arrays):
 *   α_t = 1 − β_t,  ᾱ_t = Π_{s≤t} α_s,
 *   μ̃_t = c0_t·x₀ + ct_t·x_t with c0_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t), ct_t = √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t),
 *   β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t)   (ᾱ_0 = 1, so β̃_1 = 0).
 */
import { ValueError } from '../../core/errors.js';

/** A diffusion schedule: per-step arrays of length T (entry t − 1 is step t). */
export interface DiffusionSchedule {
  /** Number of diffusion steps. */
  readonly T: number;
  /** β_t, the noise variance added at step t (index t-1). */
  readonly betas: Float64Array;
  /** α_t = 1 − β_t. */
  readonly alphas: Float64Array;
  /** ᾱ_t = α₁⋯α_t, the cumulative product of the alphas. */
  readonly alphaBars: Float64Array;
  /** β̃_t, the posterior variance. */
  readonly posteriorVariance: Float64Array;
  /** c0_t and ct_t of the posterior mean μ̃_t = c0_t x₀ + ct_t x_t. */
  readonly posteriorCoefX0: Float64Array;
  /** ct_t, the coefficient of x_t in the posterior mean μ̃_t. */
  readonly posteriorCoefXt: Float64Array;
}

/**
 * The schedule of given β₁..β_T, each in (0, 1).
 * @example const s = diffusionSchedule([0.1, 0.2, 0.3]); s.alphaBars // [0.9, 0.72, 0.504]
 */
export function diffusionSchedule(betas: ArrayLike<number>): DiffusionSchedule {
  const T = betas.length;
  if (T < 1) throw new ValueError('diffusionSchedule: betas must hold at least one step');
  const b = Float64Array.from(betas);
  b.forEach((v, i) => {
    if (!(v > 0 && v < 1)) throw new ValueError(`diffusionSchedule: beta_${i + 1} must be in (0, 1), got ${v}`);
  });
  const alphas = b.map((v) => 1 - v);
  const alphaBars = new Float64Array(T);
  const pv = new Float64Array(T);
  const c0 = new Float64Array(T);
  const ct = new Float64Array(T);
  let prev = 1;
  for (let i = 0; i < T; i++) {
    alphaBars[i] = prev * alphas[i];
    pv[i] = (b[i] * (1 - prev)) / (1 - alphaBars[i]);
    c0[i] = (Math.sqrt(prev) * b[i]) / (1 - alphaBars[i]);
    ct[i] = (Math.sqrt(alphas[i]) * (1 - prev)) / (1 - alphaBars[i]);
    prev = alphaBars[i];
  }
  return { T, betas: b, alphas, alphaBars, posteriorVariance: pv, posteriorCoefX0: c0, posteriorCoefXt: ct };
}

function checkT(who: string, T: number): void {
  if (!(Number.isInteger(T) && T >= 1)) throw new ValueError(`${who}: T must be a positive integer, got ${T}`);
}

/**
 * Ho et al.'s linear schedule: β_t from `start` to `end` evenly over T steps (default 1e-4 to 0.02
 * at T = 1000; other T scale both by 1000/T so the total noise stays comparable, capped below 1).
 * @example const s = linearSchedule(1000)
 */
export function linearSchedule(T: number, start?: number, end?: number): DiffusionSchedule {
  checkT('linearSchedule', T);
  const k = 1000 / T;
  const b0 = start ?? Math.min(1e-4 * k, 0.999);
  const b1 = end ?? Math.min(0.02 * k, 0.999);
  return diffusionSchedule(Array.from({ length: T }, (_, i) => (T === 1 ? b0 : b0 + ((b1 - b0) * i) / (T - 1))));
}

/**
 * Nichol & Dhariwal's cosine schedule: ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T + s)/(1 + s))·π/2),
 * β_t = 1 − ᾱ(t)/ᾱ(t − 1) clipped to at most `maxBeta` (default 0.999).
 * @example const s = cosineSchedule(100)
 */
export function cosineSchedule(T: number, s = 0.008, maxBeta = 0.999): DiffusionSchedule {
  checkT('cosineSchedule', T);
  const f = (t: number): number => Math.cos((((t / T + s) / (1 + s)) * Math.PI) / 2) ** 2;
  return diffusionSchedule(Array.from({ length: T }, (_, i) => Math.min(1 - f(i + 1) / f(i), maxBeta)));
}

/**
 * Throws a ValueError naming `who` unless t is an integer step in [1, T].
 * @example checkTimestep('sample', t, sched.T)
 */
export function checkTimestep(who: string, t: number, T: number): void {
  if (!(Number.isInteger(t) && t >= 1 && t <= T)) throw new ValueError(`${who}: timestep t must be an integer in [1, ${T}], got ${t}`);
}
