/**
 * Ancestral sampling of a DDPM (Ho et al. 2020, Algorithm 2): x_T ~ N(0, I), then for t = T..1
 *   x_{t−1} = (x_t − β_t/√(1 − ᾱ_t)·ε_θ(x_t, t))/√α_t + σ_t z,  z ~ N(0, I) (z = 0 at t = 1),
 * with σ_t² = β_t ('beta') or β̃_t ('posterior'), the variances of the bound.
 */
import { ValueError } from '../../core/errors.js';
import { keep, tidy } from '../../core/memory.js';
import type { Tensor } from '../../core/tensor.js';
import { add, clamp, mul, sub } from '../../ops/elementwise.js';
import { foldIn, type Key } from '../../random/key.js';
import { normal, type FloatDType } from '../../random/samplers.js';
import type { DiffusionSchedule } from './schedule.js';

/** Options of `ddpmSample`. */
export interface DdpmSampleOptions {
  /** σ_t²: β_t ('beta', default) or β̃_t ('posterior'). */
  variance?: 'beta' | 'posterior';
  /** Clip the final x₀ to [lo, hi], e.g. [−1, 1] for images scaled to [−1, 1]; default none. */
  clip?: readonly [number, number];
  /** dtype of the samples; default float32. */
  dtype?: FloatDType;
  /** Called after each step with the t just taken (T … 1), e.g. for a progress line. */
  onStep?: (t: number) => void;
}

/**
 * n samples [n, d] by ancestral sampling; `eps(x_t, t)` is the trained ε-predictor at the integer
 * step t; step t's noise is drawn from `foldIn(key, t)`.
 * @example const x = ddpmSample((x, t) => net.apply(p, x, full([x.shape[0]], t, 'float32')), sched, 64, 784, key(3), { clip: [-1, 1] })
 */
export function ddpmSample(eps: (xt: Tensor, t: number) => Tensor, s: DiffusionSchedule, n: number, d: number, k: Key, opts: DdpmSampleOptions = {}): Tensor {
  const variance = opts.variance ?? 'beta';
  const dtype = opts.dtype ?? 'float32';
  if (variance !== 'beta' && variance !== 'posterior') throw new ValueError(`ddpmSample: variance must be 'beta' or 'posterior', got '${String(variance)}'`);
  if (!(Number.isInteger(n) && n >= 1)) throw new ValueError(`ddpmSample: n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(d) && d >= 1)) throw new ValueError(`ddpmSample: d must be a positive integer, got ${d}`);
  if (opts.clip !== undefined && !(opts.clip[0] < opts.clip[1])) throw new ValueError(`ddpmSample: clip must be [lo, hi] with lo < hi, got [${opts.clip.join(', ')}]`);
  let x = keep(normal(foldIn(k, s.T + 1), [n, d], { dtype }));
  for (let t = s.T; t >= 1; t--) {
    const i = t - 1;
    const prev = x;
    x = keep(
      tidy(() => {
        const mu = mul(sub(prev, mul(eps(prev, t), s.betas[i] / Math.sqrt(1 - s.alphaBars[i]))), 1 / Math.sqrt(s.alphas[i]));
        if (t === 1) return opts.clip === undefined ? mu : clamp(mu, opts.clip[0], opts.clip[1]);
        const sd = Math.sqrt(variance === 'posterior' ? s.posteriorVariance[i] : s.betas[i]);
        return add(mu, mul(normal(foldIn(k, t), [n, d], { dtype }), sd));
      }),
    );
    prev.dispose();
    opts.onStep?.(t);
  }
  return x;
}
