/**
 * DDPM (Ho et al. 2020) as a hierarchical VAE for low-dimensional data: an ε-prediction MLP with a
 * sinusoidal time embedding, the simple loss L_simple, and the variational bound evaluated term by
 * term for continuous data with a Gaussian decoder:
 *   −log p(x₀) ≤ L = L_T + Σ_{t=2}^{T} L_{t−1} + L_0,
 *   L_T = KL(q(x_T | x₀) ‖ N(0, I)),  L_{t−1} = E_q KL(q(x_{t−1} | x_t, x₀) ‖ p_θ(x_{t−1} | x_t)),
 *   L_0 = −E_q log N(x₀; μ_θ(x₁, 1), σ₁² I),
 * with p_θ(x_{t−1} | x_t) = N(μ_θ, σ_t² I), μ_θ = (x_t − β_t/√(1 − ᾱ_t)·ε_θ(x_t, t))/√α_t and
 * σ_t² = β_t ('beta', default) or β̃_t ('posterior'), Ho et al.'s two fixed choices (σ₁² = β₁ for
 * the decoder either way). Each expectation uses one draw x_t ~ q(x_t | x₀).
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import { tidy } from '../../core/memory.js';
import type { Tensor } from '../../core/tensor.js';
import { add, cast, cos, floor, mul, sin, sqrt, square, sub } from '../../ops/elementwise.js';
import { tensor } from '../../ops/creation.js';
import { mean, sum } from '../../ops/reduce.js';
import { concat, gather, reshape } from '../../ops/shape.js';
import { foldIn, split, type Key } from '../../random/key.js';
import { normal, uniform, type FloatDType } from '../../random/samplers.js';
import { MLP, type LinearParams } from '../../nn/linear.js';
import { checkTimestep, type DiffusionSchedule } from './schedule.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** An ε-prediction network: ε_θ(x_t, t) for x_t [n, d] and steps t [n] (float, 1..T). */
export interface EpsilonNet<P = unknown> {
  /** Fresh network parameters drawn from key `k`. */
  init(k: Key): P;
  /** The predicted noise ε_θ(x_t, t) [n, d] for inputs `x` [n, d] at steps `t` [n]. */
  apply(params: P, x: Tensor, t: Tensor): Tensor;
}

/**
 * An MLP ε-network: input [x, emb(t)] with emb(t) = [sin(ω_k t/T), cos(ω_k t/T)], ω_k
 * geometric from 1 to 1000 over `embDim`/2 frequencies; hidden SiLU layers.
 * @example
 * const net = EpsilonMLP(2, 1000, { hidden: [128, 128] });
 * const eps = net.apply(net.init(key(0)), xt, t); // xt [n, 2], t [n] → [n, 2]
 */
export function EpsilonMLP(dim: number, T: number, opts: { hidden?: readonly number[]; embDim?: number; dtype?: FloatDType } = {}): EpsilonNet<LinearParams[]> {
  const { hidden = [128, 128], embDim = 16, dtype = 'float32' } = opts;
  if (!(Number.isInteger(embDim) && embDim >= 2 && embDim % 2 === 0)) throw new ValueError(`EpsilonMLP: embDim must be an even integer >= 2, got ${embDim}`);
  const half = embDim / 2;
  const freqs = tensor(
    Array.from({ length: half }, (_, k) => Math.exp((Math.log(1000) * k) / Math.max(1, half - 1)) / T),
    [1, half],
    dtype,
  );
  const mlp = MLP([dim + embDim, ...hidden, dim], { activation: 'silu', dtype });
  return {
    init: (k) => mlp.init(k),
    apply(params, x, t) {
      if (x.shape.length !== 2 || x.shape[1] !== dim) throw new ShapeError(`EpsilonMLP: x must be [n, ${dim}], got ${fmtShape(x.shape)}`);
      const ang = mul(reshape(t, [-1, 1]), freqs);
      return mlp.apply(params, concat([x, sin(ang), cos(ang)], 1));
    },
  };
}

/**
 * L_simple: E_{t, ε} ‖ε − ε_θ(√ᾱ_t x₀ + √(1 − ᾱ_t) ε, t)‖², t uniform on 1..T, averaged over the
 * batch x₀ [n, d] (summed over d).
 * @example const loss = ddpmSimpleLoss(net, p, sched, x0, key(1))
 */
export function ddpmSimpleLoss<P>(net: EpsilonNet<P>, params: P, s: DiffusionSchedule, x0: Tensor, k: Key): Tensor {
  const [kt, ke] = split(k, 2);
  const n = x0.shape[0];
  const dt = x0.dtype as FloatDType;
  const idx = cast(floor(uniform(kt, [n], { low: 0, high: s.T, dtype: 'float64' })), 'int32');
  const col = (a: Float64Array): Tensor => reshape(gather(tensor(a, [s.T], dt), idx, 0), [n, 1]);
  const ab = col(s.alphaBars);
  const eps = normal(ke, x0.shape, { dtype: dt });
  const xt = add(mul(sqrt(ab), x0), mul(sqrt(sub(1, ab)), eps));
  const tFloat = add(cast(idx, dt), 1);
  return mean(sum(square(sub(eps, net.apply(params, xt, tFloat))), -1));
}

/** The terms of the bound, in nats per data point (averaged over the points given). */
export interface DdpmBound {
  /** L_T = KL(q(x_T | x₀) ‖ N(0, I)). */
  prior: number;
  /** L_{t−1} for t = 2..T (entry t − 2). */
  kls: Float64Array;
  /** L_0 = −log N(x₀; μ_θ(x₁, 1), β₁ I). */
  decoder: number;
  /** The bound on log p(x₀): −(prior + Σ kls + decoder). */
  elbo: number;
  /** −elbo / (d ln 2). */
  bitsPerDim: number;
}

/**
 * The variational bound of a DDPM on data x₀ [n, d], term by term (see the file comment), with
 * one draw x_t ~ q(x_t | x₀) per term from `foldIn(key, t)`. `eps(x_t, t)` is the trained network
 * (or any ε-predictor) at the integer step t; `opts.variance` picks σ_t².
 * @example const b = ddpmBound((x, t) => net.apply(p, x, full([x.shape[0]], t, 'float32')), sched, x0, key(2))
 */
export function ddpmBound(eps: (xt: Tensor, t: number) => Tensor, s: DiffusionSchedule, x0: Tensor, k: Key, opts: { variance?: 'beta' | 'posterior' } = {}): DdpmBound {
  const variance = opts.variance ?? 'beta';
  if (variance !== 'beta' && variance !== 'posterior') throw new ValueError(`ddpmBound: variance must be 'beta' or 'posterior', got '${String(variance)}'`);
  if (x0.shape.length !== 2) throw new ShapeError(`ddpmBound: x0 must be [n, d], got ${fmtShape(x0.shape)}`);
  const [n, d] = x0.shape;
  const dt = x0.dtype as FloatDType;
  const abT = s.alphaBars[s.T - 1];
  // KL(N(√ᾱ_T x₀, (1 − ᾱ_T)I) ‖ N(0, I)) per point.
  const x2 = tidy(() => sum(square(x0)).item()) / n;
  const prior = 0.5 * (abT * x2 + d * (1 - abT - 1 - Math.log(1 - abT)));
  const kls = new Float64Array(Math.max(0, s.T - 1));
  let decoder = 0;
  for (let t = 1; t <= s.T; t++) {
    checkTimestep('ddpmBound', t, s.T);
    const i = t - 1;
    const ab = s.alphaBars[i];
    const v = tidy(() => {
      const xt = add(mul(x0, Math.sqrt(ab)), mul(normal(foldIn(k, t), [n, d], { dtype: dt }), Math.sqrt(1 - ab)));
      const e = eps(xt, t);
      if (e.shape.length !== 2 || e.shape[0] !== n || e.shape[1] !== d) throw new ShapeError(`ddpmBound: eps gave ${fmtShape(e.shape)} for x_t [${n}, ${d}]`);
      const muTheta = mul(sub(xt, mul(e, s.betas[i] / Math.sqrt(1 - ab))), 1 / Math.sqrt(s.alphas[i]));
      const sig2 = variance === 'posterior' && t > 1 ? s.posteriorVariance[i] : s.betas[i];
      if (t === 1) return sum(square(sub(x0, muTheta))).item() / (2 * sig2) / n + 0.5 * d * (LOG_2PI + Math.log(sig2));
      const muTilde = add(mul(x0, s.posteriorCoefX0[i]), mul(xt, s.posteriorCoefXt[i]));
      const bt = s.posteriorVariance[i];
      return 0.5 * (d * (Math.log(sig2 / bt) + bt / sig2 - 1) + sum(square(sub(muTilde, muTheta))).item() / sig2 / n);
    });
    if (t === 1) decoder = v;
    else kls[t - 2] = v;
  }
  const total = prior + kls.reduce((a, b) => a + b, 0) + decoder;
  return { prior, kls, decoder, elbo: -total, bitsPerDim: total / (d * Math.LN2) };
}
