/**
 * The variational bound of a DDPM, term by term (Sohl-Dickstein et al. 2015; Ho et al. 2020, eq. 5):
 *   −log p(x₀) ≤ L = L_T + Σ_{t=2}^{T} L_{t−1} + L₀,
 *   L_T = KL(q(x_T | x₀) ‖ N(0, I)),  L_{t−1} = E_q KL(q(x_{t−1} | x_t, x₀) ‖ p_θ(x_{t−1} | x_t)),
 *   L₀ = −E_q log p_θ(x₀ | x₁)  (the decoder: see decoder.ts),
 * with p_θ(x_{t−1} | x_t) = N(μ_θ, σ_t² I), μ_θ = (x_t − β_t/√(1 − ᾱ_t)·ε_θ(x_t, t))/√α_t and
 * σ_t² = β_t ('beta', default) or β̃_t ('posterior'), Ho et al.'s two fixed choices (σ₁² = β₁ for
 * the decoder either way). Each expectation uses one draw x_t ~ q(x_t | x₀).
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import { tidy } from '../../core/memory.js';
import type { Tensor } from '../../core/tensor.js';
import { add, mul, square, sub } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';
import { foldIn, type Key } from '../../random/key.js';
import { normal, type FloatDType } from '../../random/samplers.js';
import { checkDecoder, decoderLogLik, type DdpmDecoder } from './decoder.js';
import type { DiffusionSchedule } from './schedule.js';

/** Options of `ddpmBound`. */
export interface DdpmBoundOptions {
  /** σ_t² of the reverse steps: β_t ('beta', default) or β̃_t ('posterior'). */
  variance?: 'beta' | 'posterior';
  /** The decoder p_θ(x₀ | x₁): 'gaussian' (default) or 'discretized' (8-bit data in [−1, 1]). */
  decoder?: DdpmDecoder;
  /** Called after each step t (T − 1 … 1 remain), e.g. for a progress line. */
  onStep?: (t: number) => void;
}

/** The terms of the bound, in nats per data point (averaged over the points given). */
export interface DdpmBound {
  /** L_T = KL(q(x_T | x₀) ‖ N(0, I)). */
  prior: number;
  /** L_{t−1} for t = 2..T (entry t − 2). */
  kls: Float64Array;
  /** L₀ = −log p_θ(x₀ | x₁). */
  decoder: number;
  /** The bound on log p(x₀): −(prior + Σ kls + decoder). */
  elbo: number;
  /** −elbo / (d ln 2). */
  bitsPerDim: number;
  /** The whole bound L (prior + Σ kls + decoder) of each data point, in nats, [n]. */
  perPoint: Float64Array;
}

/** Per-point values of a [n] tensor, added into `acc`. */
function accumulate(acc: Float64Array, v: Tensor): number {
  const a = v.dataSync();
  let s = 0;
  for (let i = 0; i < acc.length; i++) {
    acc[i] += a[i];
    s += a[i];
  }
  return s / acc.length;
}

/**
 * The variational bound of a DDPM on data x₀ [n, d], term by term (see the file comment), with
 * one draw x_t ~ q(x_t | x₀) per term from `foldIn(key, t)`. `eps(x_t, t)` is the trained network
 * (or any ε-predictor) at the integer step t.
 * @example const b = ddpmBound((x, t) => net.apply(p, x, full([x.shape[0]], t, 'float32')), sched, x0, key(2))
 */
export function ddpmBound(eps: (xt: Tensor, t: number) => Tensor, s: DiffusionSchedule, x0: Tensor, k: Key, opts: DdpmBoundOptions = {}): DdpmBound {
  const variance = opts.variance ?? 'beta';
  const decoder = opts.decoder ?? 'gaussian';
  if (variance !== 'beta' && variance !== 'posterior') throw new ValueError(`ddpmBound: variance must be 'beta' or 'posterior', got '${String(variance)}'`);
  checkDecoder('ddpmBound', decoder);
  if (x0.shape.length !== 2 || x0.shape[0] < 1) throw new ShapeError(`ddpmBound: x0 must be [n, d] with n >= 1, got ${fmtShape(x0.shape)}`);
  const [n, d] = x0.shape;
  const dt = x0.dtype as FloatDType;
  const abT = s.alphaBars[s.T - 1];
  const perPoint = new Float64Array(n);
  // KL(N(√ᾱ_T x₀, (1 − ᾱ_T)I) ‖ N(0, I)) per point.
  const prior = tidy(() => accumulate(perPoint, add(mul(sum(square(x0), -1), 0.5 * abT), 0.5 * d * (-abT - Math.log(1 - abT)))));
  const kls = new Float64Array(Math.max(0, s.T - 1));
  let dec = 0;
  for (let t = s.T; t >= 1; t--) {
    const i = t - 1;
    const ab = s.alphaBars[i];
    const v = tidy(() => {
      const xt = add(mul(x0, Math.sqrt(ab)), mul(normal(foldIn(k, t), [n, d], { dtype: dt }), Math.sqrt(1 - ab)));
      const e = eps(xt, t);
      if (e.shape.length !== 2 || e.shape[0] !== n || e.shape[1] !== d) throw new ShapeError(`ddpmBound: eps gave ${fmtShape(e.shape)} for x_t [${n}, ${d}]`);
      const muTheta = mul(sub(xt, mul(e, s.betas[i] / Math.sqrt(1 - ab))), 1 / Math.sqrt(s.alphas[i]));
      if (t === 1) return accumulate(perPoint, mul(decoderLogLik(decoder, x0, muTheta, s.betas[0]), -1));
      const sig2 = variance === 'posterior' ? s.posteriorVariance[i] : s.betas[i];
      const muTilde = add(mul(x0, s.posteriorCoefX0[i]), mul(xt, s.posteriorCoefXt[i]));
      const bt = s.posteriorVariance[i];
      const c = 0.5 * d * (Math.log(sig2 / bt) + bt / sig2 - 1);
      return accumulate(perPoint, add(mul(sum(square(sub(muTilde, muTheta)), -1), 0.5 / sig2), c));
    });
    if (t === 1) dec = v;
    else kls[t - 2] = v;
    opts.onStep?.(t);
  }
  const total = prior + kls.reduce((a, b) => a + b, 0) + dec;
  return { prior, kls, decoder: dec, elbo: -total, bitsPerDim: total / (d * Math.LN2), perPoint };
}
