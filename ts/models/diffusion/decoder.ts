/**
 * The decoders p_θ(x₀ | x₁) = L₀ term of a DDPM (Ho et al. 2020, §3.3), per data point:
 *   'gaussian':    log N(x₀; μ, σ² I), a density for continuous data;
 *   'discretized': Σ_i log ∫_{δ−(x₀ᵢ)}^{δ+(x₀ᵢ)} N(u; μᵢ, σ²) du, a probability for 8-bit data scaled
 *                  to [−1, 1] (level v ↦ v/127.5 − 1): the bin of x is [x − 1/255, x + 1/255], and the
 *                  two outermost bins extend to −∞ and +∞, so the 256 probabilities sum to one.
 * The discretized one is computed in float64 (differences of normal CDFs near 1 lose every digit in
 * float32) and returned in the dtype of μ.
 */
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { add, cast, clamp, erf, greater, less, log, mul, square, sub, where } from '../../ops/elementwise.js';
import { sum } from '../../ops/reduce.js';

/** Which decoder p_θ(x₀ | x₁): a Gaussian density or Ho et al.'s discretized Gaussian on 256 levels. */
export type DdpmDecoder = 'gaussian' | 'discretized';

const LOG_2PI = Math.log(2 * Math.PI);
/** Half a bin of 256 levels on [−1, 1]. */
const HALF_BIN = 1 / 255;
/** Floor of a bin's probability, so log stays finite (e^−27.6 ≈ 1e−12). */
const MIN_PROB = 1e-12;

/**
 * Throws a ValueError naming `who` unless `d` is a decoder name.
 * @example checkDecoder('ddpmBound', opts.decoder ?? 'gaussian')
 */
export function checkDecoder(who: string, d: string): asserts d is DdpmDecoder {
  if (d !== 'gaussian' && d !== 'discretized') throw new ValueError(`${who}: decoder must be 'gaussian' or 'discretized', got '${d}'`);
}

/**
 * log p(x₀ | x₁) per data point [n] for x₀ and the decoder mean μ [n, d] and variance σ² (a number).
 * @example decoderLogLik('discretized', x0, mu, sched.betas[0]) // [n], in nats
 */
export function decoderLogLik(decoder: DdpmDecoder, x0: Tensor, mu: Tensor, sigma2: number): Tensor {
  checkDecoder('decoderLogLik', decoder);
  if (!(sigma2 > 0)) throw new ValueError(`decoderLogLik: sigma2 must be positive, got ${sigma2}`);
  if (decoder === 'gaussian') {
    const d = x0.shape[x0.shape.length - 1];
    return sub(mul(sum(square(sub(x0, mu)), -1), -0.5 / sigma2), 0.5 * d * (LOG_2PI + Math.log(sigma2)));
  }
  const x = cast(x0, 'float64');
  const c = sub(x, cast(mu, 'float64'));
  // Φ((c ± δ)/σ) with Φ(z) = (1 + erf(z/√2))/2; the edge bins run to ±∞.
  const k = 1 / Math.sqrt(2 * sigma2);
  const upper = where(greater(x, 1 - HALF_BIN), 1, mul(add(erf(mul(add(c, HALF_BIN), k)), 1), 0.5));
  const lower = where(less(x, -1 + HALF_BIN), 0, mul(add(erf(mul(sub(c, HALF_BIN), k)), 1), 0.5));
  return cast(sum(log(clamp(sub(upper, lower), MIN_PROB)), -1), mu.dtype);
}
