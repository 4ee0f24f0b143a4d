/**
 * The sinusoidal time embedding of the ε-networks (after Vaswani et al. 2017 and Ho et al. 2020):
 * emb(t) = [sin(ω₁ t/T), …, sin(ω_h t/T), cos(ω₁ t/T), …, cos(ω_h t/T)] with h = dim/2 frequencies
 * ω_k = 1000^{(k−1)/(h−1)} spread geometrically from 1 to 1000.
 */
import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../core/tensor.js';
import { tensor } from '../../ops/creation.js';
import { cos, mul, sin } from '../../ops/elementwise.js';
import { concat, reshape } from '../../ops/shape.js';
import type { FloatDType } from '../../random/samplers.js';

/**
 * The embedding of steps t [n] (float, 1..T) as [n, dim]; `who` names the caller in errors.
 * @example const emb = timeEmbedding(16, 1000, 'float32'); emb(t) // t [n] → [n, 16]
 */
export function timeEmbedding(dim: number, T: number, dtype: FloatDType, who = 'timeEmbedding'): (t: Tensor) => Tensor {
  if (!(Number.isInteger(dim) && dim >= 2 && dim % 2 === 0)) throw new ValueError(`${who}: embDim must be an even integer >= 2, got ${dim}`);
  if (!(Number.isInteger(T) && T >= 1)) throw new ValueError(`${who}: T must be a positive integer, got ${T}`);
  const half = dim / 2;
  const freqs = tensor(
    Array.from({ length: half }, (_, k) => Math.exp((Math.log(1000) * k) / Math.max(1, half - 1)) / T),
    [1, half],
    dtype,
  );
  return (t) => {
    const ang = mul(reshape(t, [-1, 1]), freqs);
    return concat([sin(ang), cos(ang)], 1);
  };
}
