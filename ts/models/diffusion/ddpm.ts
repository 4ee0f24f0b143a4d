/**
 * DDPM (Ho et al. 2020) as a hierarchical VAE: the ε-network contract, an ε-prediction MLP with a
 * sinusoidal time embedding for low-dimensional data (a U-Net for images is in unet.ts), and the
 * two training losses on a batch x₀ [n, d]:
 *   L_simple = E_{t, ε} ‖ε − ε_θ(x_t, t)‖²  (Ho et al.'s eq. 14, summed over d);
 *   L_vlb    = L_T + T · E_t L_{t−1},  t uniform on 1..T  (an unbiased one-step estimate of the
 *              whole bound of bound.ts, in nats per point, its constants included).
 * For t ≥ 2, with μ̃ − μ_θ = β_t/(√α_t √(1 − ᾱ_t))·(ε_θ − ε), L_{t−1} = c_t + w_t ‖ε − ε_θ‖² where
 * w_t = β_t²/(2σ_t² α_t (1 − ᾱ_t)) and c_t = (d/2)(log(σ_t²/β̃_t) + β̃_t/σ_t² − 1); for t = 1 it is the
 * decoder's −log p_θ(x₀ | x₁).
 */
import { ShapeError, ValueError, fmtShape } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, cast, equal, floor, mul, sqrt, square, sub, where } from '../../ops/elementwise.js';
import { tensor } from '../../ops/creation.js';
import { mean, sum } from '../../ops/reduce.js';
import { concat, gather, reshape } from '../../ops/shape.js';
import { split, type Key } from '../../random/key.js';
import { normal, uniform, type FloatDType } from '../../random/samplers.js';
import { MLP, type LinearParams } from '../../nn/linear.js';
import { checkDecoder, decoderLogLik, type DdpmDecoder } from './decoder.js';
import { timeEmbedding } from './embedding.js';
import type { DiffusionSchedule } from './schedule.js';

/** An ε-prediction network: ε_θ(x_t, t) for x_t [n, d] and steps t [n] (float, 1..T). */
export interface EpsilonNet<P = unknown> {
  /** Fresh network parameters drawn from key `k`. */
  init(k: Key): P;
  /** The predicted noise ε_θ(x_t, t) [n, d] for inputs `x` [n, d] at steps `t` [n]. */
  apply(params: P, x: Tensor, t: Tensor): Tensor;
}

/**
 * An MLP ε-network: input [x, emb(t)] with emb the sinusoidal `timeEmbedding` of `embDim`
 * features; hidden SiLU layers.
 * @example
 * const net = EpsilonMLP(2, 1000, { hidden: [128, 128] });
 * const eps = net.apply(net.init(key(0)), xt, t); // xt [n, 2], t [n] → [n, 2]
 */
export function EpsilonMLP(dim: number, T: number, opts: { hidden?: readonly number[]; embDim?: number; dtype?: FloatDType } = {}): EpsilonNet<LinearParams[]> {
  const { hidden = [128, 128], embDim = 16, dtype = 'float32' } = opts;
  const emb = timeEmbedding(embDim, T, dtype, 'EpsilonMLP');
  const mlp = MLP([dim + embDim, ...hidden, dim], { activation: 'silu', dtype });
  return {
    init: (k) => mlp.init(k),
    apply(params, x, t) {
      if (x.shape.length !== 2 || x.shape[1] !== dim) throw new ShapeError(`EpsilonMLP: x must be [n, ${dim}], got ${fmtShape(x.shape)}`);
      return mlp.apply(params, concat([x, emb(t)], 1));
    },
  };
}

/**
 * L_simple: E_{t, ε} ‖ε − ε_θ(√ᾱ_t x₀ + √(1 − ᾱ_t) ε, t)‖², t uniform on 1..T, averaged over the
 * batch x₀ [n, d] (summed over d).
 * @example const loss = ddpmSimpleLoss(net, p, sched, x0, key(1))
 */
export function ddpmSimpleLoss<P>(net: EpsilonNet<P>, params: P, s: DiffusionSchedule, x0: Tensor, k: Key): Tensor {
  const f = forwardDraw('ddpmSimpleLoss', s, x0, k);
  return mean(sum(square(sub(f.eps, net.apply(params, f.xt, f.t))), -1));
}

/** A batch's draw of the forward process: steps t uniform on 1..T, ε ~ N(0, I), x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε. */
function forwardDraw(who: string, s: DiffusionSchedule, x0: Tensor, k: Key): { idx: Tensor; t: Tensor; eps: Tensor; xt: Tensor; col: (a: Float64Array) => Tensor } {
  if (x0.shape.length !== 2 || x0.shape[0] < 1) throw new ShapeError(`${who}: x0 must be [n, d] with n >= 1, got ${fmtShape(x0.shape)}`);
  const [kt, ke] = split(k, 2);
  const n = x0.shape[0];
  const dt = x0.dtype as FloatDType;
  const idx = cast(floor(uniform(kt, [n], { low: 0, high: s.T, dtype: 'float64' })), 'int32');
  const col = (a: Float64Array): Tensor => reshape(gather(tensor(a, [s.T], dt), idx, 0), [n, 1]);
  const ab = col(s.alphaBars);
  const eps = normal(ke, x0.shape, { dtype: dt });
  const xt = add(mul(sqrt(ab), x0), mul(sqrt(sub(1, ab)), eps));
  return { idx, t: add(cast(idx, dt), 1), eps, xt, col };
}

/** Options of `ddpmVlbLoss`. */
export interface VlbLossOptions {
  /** σ_t² of the reverse steps: β_t ('beta', default) or β̃_t ('posterior'). */
  variance?: 'beta' | 'posterior';
  /** The decoder p_θ(x₀ | x₁): 'gaussian' (default) or 'discretized' (8-bit data in [−1, 1]). */
  decoder?: DdpmDecoder;
}

/**
 * L_vlb (see the file comment): per point L_T + T·L_{t−1} at one step t uniform on 1..T and one
 * draw x_t ~ q(x_t | x₀), averaged over the batch x₀ [n, d]; its expectation is the bound
 * `ddpmBound` evaluates term by term, in nats per point.
 * @example const loss = ddpmVlbLoss(net, p, sched, x0, key(1), { decoder: 'discretized' })
 */
export function ddpmVlbLoss<P>(net: EpsilonNet<P>, params: P, s: DiffusionSchedule, x0: Tensor, k: Key, opts: VlbLossOptions = {}): Tensor {
  const variance = opts.variance ?? 'beta';
  const decoder = opts.decoder ?? 'gaussian';
  if (variance !== 'beta' && variance !== 'posterior') throw new ValueError(`ddpmVlbLoss: variance must be 'beta' or 'posterior', got '${String(variance)}'`);
  checkDecoder('ddpmVlbLoss', decoder);
  const f = forwardDraw('ddpmVlbLoss', s, x0, k);
  const d = x0.shape[1];
  const w = new Float64Array(s.T);
  const c = new Float64Array(s.T);
  for (let i = 1; i < s.T; i++) {
    const sig2 = variance === 'posterior' ? s.posteriorVariance[i] : s.betas[i];
    const bt = s.posteriorVariance[i];
    w[i] = (s.betas[i] * s.betas[i]) / (2 * sig2 * s.alphas[i] * (1 - s.alphaBars[i]));
    c[i] = 0.5 * d * (Math.log(sig2 / bt) + bt / sig2 - 1);
  }
  const e = net.apply(params, f.xt, f.t);
  const kl = add(mul(f.col(w), reshape(sum(square(sub(f.eps, e)), -1), [-1, 1])), f.col(c));
  // The decoder term, used by the rows drawn at t = 1 (index 0).
  const mu1 = mul(sub(f.xt, mul(e, s.betas[0] / Math.sqrt(1 - s.alphaBars[0]))), 1 / Math.sqrt(s.alphas[0]));
  const nll = reshape(mul(decoderLogLik(decoder, x0, mu1, s.betas[0]), -1), [-1, 1]);
  const term = where(reshape(equal(f.idx, 0), [-1, 1]), nll, kl);
  const abT = s.alphaBars[s.T - 1];
  const prior = add(mul(sum(square(x0), -1), 0.5 * abT), 0.5 * d * (-abT - Math.log(1 - abT)));
  return add(mul(mean(term), s.T), mean(prior));
}
