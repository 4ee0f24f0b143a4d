/** Dropout, layer normalization and embeddings. */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { add, mul, rsqrt, square, sub } from '../ops/elementwise.js';
import { zerosLike } from '../ops/creation.js';
import { mean } from '../ops/reduce.js';
import { gather } from '../ops/shape.js';
import type { Key } from '../random/key.js';
import { bernoulli, type FloatDType } from '../random/samplers.js';
import { constantInit, normalInit, type Initializer } from './init.js';
import type { ApplyOptions, Module, NoParams } from './module.js';

/**
 * Inverted dropout: in training, y = x·m / (1 − p) with m ~ Bernoulli(1 − p) elementwise, so
 * E[y] = x; otherwise y = x. Training needs an explicit key (`opts.key`); the same key gives the
 * same mask. No parameters; any shape in, the same shape out.
 * @example
 * const drop = Dropout(0.5);
 * drop.apply({}, x, { training: true, key: key(1) });
 */
export function Dropout(p: number): Module<NoParams> & {
  /** The probability that an element is zeroed in training. */
  readonly p: number;
} {
  if (!(p >= 0 && p <= 1)) throw new ValueError(`Dropout: p must be in [0, 1], got ${p}`);
  return {
    p,
    init: () => ({}),
    apply(_params: NoParams, x: Tensor, opts: ApplyOptions = {}): Tensor {
      if (opts.training !== true || p === 0) return x;
      if (p === 1) return zerosLike(x);
      if (opts.key === undefined) throw new ValueError('Dropout: training mode needs a key (apply(params, x, { training: true, key }))');
      if (x.dtype === 'int32') throw new DTypeError('Dropout: input must be float32 or float64, got int32');
      const mask = bernoulli(opts.key, 1 - p, x.shape, { dtype: x.dtype });
      return mul(x, mul(mask, 1 / (1 - p)));
    },
  };
}

/** Parameters of `LayerNorm` (absent when `elementwiseAffine` is false). */
export interface LayerNormParams {
  /** The scale γ, of the normalized shape (starts at 1). */
  weight?: Tensor;
  /** The shift β, of the normalized shape (starts at 0). */
  bias?: Tensor;
}

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance; default 1e-5. */
  eps?: number;
  /** Learn a per-feature scale γ and shift β; default true. */
  elementwiseAffine?: boolean;
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
}

/**
 * Layer normalization (Ba, Kiros & Hinton 2016) over the trailing axes of shape `features`:
 * y = (x − μ) / √(σ² + ε) · γ + β, with μ and σ² (biased) over those axes; γ starts at 1 and β at 0.
 * Input [..., *features] → same shape.
 * @example
 * const ln = LayerNorm(64);
 * ln.apply(ln.init(key(0)), x); // x [batch, 64]
 */
export function LayerNorm(features: number | readonly number[], opts: LayerNormOptions = {}): Module<LayerNormParams> {
  const fs = typeof features === 'number' ? [features] : features.slice();
  const { eps = 1e-5, elementwiseAffine = true, dtype = 'float32' } = opts;
  if (!(eps >= 0)) throw new ValueError(`LayerNorm: eps must be >= 0, got ${eps}`);
  return {
    init: (k: Key) => (elementwiseAffine ? { weight: constantInit(1)(k, fs, dtype), bias: constantInit(0)(k, fs, dtype) } : {}),
    apply(p: LayerNormParams, x: Tensor): Tensor {
      const r = x.shape.length;
      const tail = x.shape.slice(r - fs.length);
      if (r < fs.length || tail.some((d, i) => d !== fs[i])) throw new ShapeError(`LayerNorm: input ${fmtShape(x.shape)} must end in ${fmtShape(fs)}`);
      const axes = fs.map((_, i) => r - fs.length + i);
      const centered = sub(x, mean(x, axes, true));
      let y = mul(centered, rsqrt(add(mean(square(centered), axes, true), eps)));
      if (p.weight !== undefined) y = mul(y, p.weight);
      if (p.bias !== undefined) y = add(y, p.bias);
      return y;
    },
  };
}

/** Parameters of `Embedding`: the table [num, dim]. */
export interface EmbeddingParams {
  /** The table W, [num, dim]. */
  weight: Tensor;
}

/**
 * A lookup table: y[..., :] = W[idx[...], :] for int32 indices in [0, num). Input idx [...] →
 * [..., dim]. W starts N(0, 1) as in PyTorch; its gradient is a scatter-add of the output's.
 * @example
 * const emb = Embedding(10, 4);
 * emb.apply(emb.init(key(0)), tensor([1, 7], [2], 'int32')); // [2, 4]
 */
export function Embedding(num: number, dim: number, opts: { dtype?: FloatDType; init?: Initializer } = {}): Module<EmbeddingParams> {
  for (const [name, v] of [['num', num], ['dim', dim]] as const)
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`Embedding: ${name} must be a non-negative integer, got ${v}`);
  const { dtype = 'float32', init = normalInit(1) } = opts;
  return {
    init: (k: Key) => ({ weight: init(k, [num, dim], dtype) }),
    apply(p: EmbeddingParams, idx: Tensor): Tensor {
      if (idx.dtype !== 'int32') throw new DTypeError(`Embedding: indices must be int32, got ${idx.dtype}`);
      return gather(p.weight, idx, 0);
    },
  };
}
