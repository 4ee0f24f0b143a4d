/**
 * Random samplers: every function takes a Key first; nothing reads global state. Each is built from
 * the random kernels (bit-identical on every backend, see ./philox.ts) and ordinary ops, so a key
 * gives the same draws on js, cpu and cuda. `uniform` and `normal` are reparameterized: gradients
 * flow to tensor `low`/`high` and `loc`/`scale`. The other samplers treat their parameters as
 * constants (no gradient).
 */
import { stopGradient } from '../core/autodiff.js';
import type { DType } from '../core/dtype.js';
import { ENGINE } from '../core/engine.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { broadcastShapes, type Shape } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { full, scalar, tensor, type TensorLike } from '../ops/creation.js';
import { add, cast, div, greater, less, log, log1p, mul, neg, sigmoid, sub, where } from '../ops/elementwise.js';
import { argmax, softmax } from '../ops/reduce.js';
import { broadcastTo } from '../ops/shape.js';
import { Key, split } from './key.js';

/** A float dtype: the samplers' values are float32 or float64. */
export type FloatDType = 'float32' | 'float64';

// ---- argument checks (each error names the sampler, the argument and the value or shape) ----

function checkKey(fn: string, k: unknown): asserts k is Key {
  if (!(k instanceof Key)) throw new ValueError(`${fn}: key must be a Key (from key(seed), split or foldIn), got ${String(k)}`);
}

function checkShapeArg(fn: string, shape: unknown): Shape {
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0))
    throw new ShapeError(`${fn}: shape must be an array of non-negative integers, got ${Array.isArray(shape) ? fmtShape(shape) : String(shape)}`);
  return shape as Shape;
}

function checkFloatDType(fn: string, dtype: unknown, arg = 'dtype'): FloatDType {
  if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`${fn}: ${arg} must be 'float32' or 'float64', got ${String(dtype)}`);
  return dtype;
}

/** The dtype for number parameters: the option, else that of the first tensor parameter, else float64. */
function pickDType(fn: string, dtype: FloatDType | undefined, params: readonly unknown[]): FloatDType {
  if (dtype !== undefined) return checkFloatDType(fn, dtype);
  // An int32 tensor parameter is reported by `param`, which names it.
  for (const p of params) if (p instanceof Tensor && (p.dtype === 'float32' || p.dtype === 'float64')) return p.dtype;
  return 'float64';
}

/** Checks a parameter (a float tensor, or a number passing `ok`) and returns its shape. */
function param(fn: string, name: string, x: TensorLike, ok: (v: number) => boolean, want: string): Shape {
  if (x instanceof Tensor) {
    if (x.dtype === 'int32') throw new DTypeError(`${fn}: ${name} must be float32 or float64, got int32`);
    return x.shape;
  }
  if (typeof x !== 'number' || !ok(x)) throw new ValueError(`${fn}: ${name} must be ${want}, got ${String(x)}`);
  return [];
}

/** A parameter as a tensor (numbers become scalars of `dtype`; ops broadcast them). */
function asParam(x: TensorLike, dtype: FloatDType): Tensor {
  return x instanceof Tensor ? x : scalar(x, dtype);
}

/** The output shape: `shape` when given (every parameter must broadcast to it), else their broadcast. */
function outShape(fn: string, shape: Shape | undefined, params: readonly [string, Shape][]): Shape {
  if (shape === undefined) return params.reduce<Shape>((s, [, p]) => broadcastShapes(fn, s, p), []);
  checkShapeArg(fn, shape);
  for (const [name, p] of params) {
    const ok = p.length <= shape.length && p.every((d, i) => d === 1 || d === shape[shape.length - p.length + i]);
    if (!ok) throw new ShapeError(`${fn}: ${name} of shape ${fmtShape(p)} does not broadcast to shape ${fmtShape(shape)}`);
  }
  return shape;
}

/** A parameter of shape `shape` detached from autodiff: numbers filled, tensors broadcast. */
function constant(x: TensorLike, shape: Shape, dtype: FloatDType): Tensor {
  if (!(x instanceof Tensor)) return full(shape, x, dtype);
  return broadcastTo(stopGradient(x), shape);
}

const isPositive = (v: number): boolean => v > 0;
const isNonNegative = (v: number): boolean => v >= 0;

function runUniform(k: Key, shape: Shape, dtype: FloatDType): Tensor {
  return ENGINE.runKernel('randomUniform', [], { key: k.words, shape: shape.slice(), dtype })[0];
}

/**
 * log of a Gamma(alpha, 1) draw, accurate for tiny alpha where the draw itself underflows: for
 * 0 < alpha < 1, log Gamma(alpha + 1) + log(1 − u) / alpha with u uniform (the boost in log space).
 * Uses `split(k)`: the first key for the gamma kernel, the second for u.
 */
function logGammaDraw(k: Key, alpha: Tensor): Tensor {
  const [kg, ku] = split(k);
  const small = mul(greater(alpha, 0), less(alpha, 1));
  const g = ENGINE.runKernel('randomGamma', [where(small, add(alpha, 1), alpha)], { key: kg.words })[0];
  const u = runUniform(ku, alpha.shape, alpha.dtype as FloatDType);
  return add(log(g), where(small, div(log1p(neg(u)), alpha), 0));
}

// ---- samplers ----

/** Options of `uniform`. */
export interface UniformOptions {
  /** Lower bound (inclusive); default 0. */
  low?: TensorLike;
  /** Upper bound (exclusive); default 1. */
  high?: TensorLike;
  /** Default: the dtype of a tensor bound, else float64. */
  dtype?: FloatDType;
}

/**
 * Uniform draws on [low, high): low + (high − low)·u with u from the `randomUniform` kernel
 * (up to rounding of that sum). Tensor bounds must broadcast to `shape`; gradients flow to them.
 * @example const u = uniform(key(0), [3, 2], { low: -1, high: 1 })
 */
export function uniform(k: Key, shape: Shape = [], opts: UniformOptions = {}): Tensor {
  const fn = 'uniform';
  checkKey(fn, k);
  checkShapeArg(fn, shape);
  const { low = 0, high = 1 } = opts;
  const dtype = pickDType(fn, opts.dtype, [low, high]);
  const loShape = param(fn, 'low', low, Number.isFinite, 'a finite number');
  const hiShape = param(fn, 'high', high, Number.isFinite, 'a finite number');
  if (typeof low === 'number' && typeof high === 'number' && !(low < high))
    throw new ValueError(`uniform: low must be less than high, got low = ${low}, high = ${high}`);
  outShape(fn, shape, [['low', loShape], ['high', hiShape]]);
  const u = runUniform(k, shape, dtype);
  if (low === 0 && high === 1) return u;
  const lo = asParam(low, dtype);
  return add(lo, mul(sub(asParam(high, dtype), lo), u));
}

/** Options of `normal`. */
export interface NormalOptions {
  /** Mean; default 0. */
  loc?: TensorLike;
  /** Standard deviation (≥ 0); default 1. */
  scale?: TensorLike;
  /** Default: the dtype of a tensor parameter, else float64. */
  dtype?: FloatDType;
}

/**
 * Normal draws loc + scale·z, z ~ N(0, 1) from the `randomNormal` kernel (Box–Muller).
 * Tensor parameters must broadcast to `shape`; gradients flow to them (reparameterization).
 * @example const z = normal(key(0), [1000], { loc: 2, scale: 0.5 })
 */
export function normal(k: Key, shape: Shape = [], opts: NormalOptions = {}): Tensor {
  const fn = 'normal';
  checkKey(fn, k);
  checkShapeArg(fn, shape);
  const { loc = 0, scale = 1 } = opts;
  const dtype = pickDType(fn, opts.dtype, [loc, scale]);
  const locShape = param(fn, 'loc', loc, Number.isFinite, 'a finite number');
  const scaleShape = param(fn, 'scale', scale, (v) => Number.isFinite(v) && v >= 0, 'a finite number >= 0');
  outShape(fn, shape, [['loc', locShape], ['scale', scaleShape]]);
  const z = ENGINE.runKernel('randomNormal', [], { key: k.words, shape: shape.slice(), dtype })[0];
  if (loc === 0 && scale === 1) return z;
  return add(asParam(loc, dtype), mul(asParam(scale, dtype), z));
}

/** Dtype option of the shape-parameter samplers: applies when the parameters are numbers. */
export interface SamplerOptions {
  /** Default: the dtype of a tensor parameter, else float64. */
  dtype?: FloatDType;
}

/**
 * Gamma(alpha, 1) draws (shape alpha, rate 1; mean alpha, variance alpha) by Marsaglia–Tsang,
 * boosted for alpha < 1. Output shape: `shape` (alpha broadcasts to it), default alpha's shape.
 * Tensor alpha entries that are ≤ 0 or NaN give NaN. Divide by a rate for other rates.
 * @example const g = gamma(key(0), 0.5, [100])
 * @example const g = gamma(key(1), tensor([1, 2, 3]))
 */
export function gamma(k: Key, alpha: TensorLike, shape?: Shape, opts: SamplerOptions = {}): Tensor {
  const fn = 'gamma';
  checkKey(fn, k);
  const dtype = pickDType(fn, opts.dtype, [alpha]);
  const s = outShape(fn, shape, [['alpha', param(fn, 'alpha', alpha, isPositive, 'a number > 0')]]);
  return ENGINE.tidy(() => ENGINE.runKernel('randomGamma', [constant(alpha, s, dtype)], { key: k.words })[0]);
}

/**
 * Beta(a, b) draws, as Ga / (Ga + Gb) for independent gammas on `split(key)`, computed as
 * sigmoid(log Ga − log Gb) with the alpha < 1 boost in log space, so tiny a and b stay exact
 * where the gammas themselves underflow. Output shape: `shape`, default broadcast(a, b).
 * @example const x = beta(key(0), 0.5, 0.5, [1000])
 */
export function beta(k: Key, a: TensorLike, b: TensorLike, shape?: Shape, opts: SamplerOptions = {}): Tensor {
  const fn = 'beta';
  checkKey(fn, k);
  const dtype = pickDType(fn, opts.dtype, [a, b]);
  const aShape = param(fn, 'a', a, isPositive, 'a number > 0');
  const bShape = param(fn, 'b', b, isPositive, 'a number > 0');
  const s = outShape(fn, shape, [['a', aShape], ['b', bShape]]);
  return ENGINE.tidy(() => {
    const [ka, kb] = split(k);
    return sigmoid(sub(logGammaDraw(ka, constant(a, s, dtype)), logGammaDraw(kb, constant(b, s, dtype))));
  });
}

/**
 * Dirichlet(alpha) draws over the last axis: normalized gammas, computed as softmax of log-gamma
 * draws (stable for tiny alpha). alpha has shape [..., K] with K ≥ 1; output shape `shape`
 * (which must end in K and which alpha broadcasts to), default alpha's shape. Rows sum to 1.
 * @example const p = dirichlet(key(0), [1, 2, 3]) // shape [3]
 * @example const ps = dirichlet(key(0), tensor([0.1, 0.1]), [500, 2])
 */
export function dirichlet(k: Key, alpha: Tensor | readonly number[], shape?: Shape, opts: SamplerOptions = {}): Tensor {
  const fn = 'dirichlet';
  checkKey(fn, k);
  let a: Tensor;
  if (alpha instanceof Tensor) {
    param(fn, 'alpha', alpha, isPositive, '');
    a = alpha;
  } else {
    if (!Array.isArray(alpha)) throw new ValueError(`${fn}: alpha must be a tensor or an array of numbers, got ${String(alpha)}`);
    const bad = alpha.findIndex((v) => typeof v !== 'number' || !(v > 0));
    if (bad >= 0) throw new ValueError(`${fn}: alpha must hold numbers > 0, got alpha[${bad}] = ${String(alpha[bad])}`);
    a = tensor(alpha as number[], [alpha.length], pickDType(fn, opts.dtype, []));
  }
  const r = a.shape.length;
  if (r === 0 || a.shape[r - 1] === 0)
    throw new ShapeError(`${fn}: alpha must have rank >= 1 and a non-empty last axis, got shape ${fmtShape(a.shape)}`);
  if (shape !== undefined && checkShapeArg(fn, shape)[shape.length - 1] !== a.shape[r - 1])
    throw new ShapeError(`${fn}: shape ${fmtShape(shape)} must end in alpha's last axis ${a.shape[r - 1]} (alpha shape ${fmtShape(a.shape)})`);
  const s = outShape(fn, shape, [['alpha', a.shape]]);
  return ENGINE.tidy(() => softmax(logGammaDraw(k, constant(a, s, a.dtype as FloatDType)), -1));
}

/**
 * Categorical draws over the last axis of unnormalized log-probabilities `logits` [..., K], by
 * Gumbel-max: argmax(logits − log(−log u)), u uniform in the logits' dtype. A logit of −∞ is never
 * drawn. Output: int32 indices of shape `shape` (logits' batch shape broadcasts to it), default
 * logits.shape[:-1].
 * @example const i = categorical(key(0), tensor([0, Math.log(3)]), [1000]) // 1 about 3/4 of the time
 */
export function categorical(k: Key, logits: Tensor | readonly number[], shape?: Shape): Tensor {
  const fn = 'categorical';
  checkKey(fn, k);
  let l: Tensor;
  if (logits instanceof Tensor) {
    param(fn, 'logits', logits, () => true, '');
    l = logits;
  } else {
    if (!Array.isArray(logits)) throw new ValueError(`${fn}: logits must be a tensor or an array of numbers, got ${String(logits)}`);
    const bad = logits.findIndex((v) => typeof v !== 'number' || Number.isNaN(v) || v === Infinity);
    if (bad >= 0) throw new ValueError(`${fn}: logits must be numbers below +Infinity, got logits[${bad}] = ${String(logits[bad])}`);
    l = tensor(logits as number[], [logits.length]);
  }
  const r = l.shape.length;
  if (r === 0 || l.shape[r - 1] === 0)
    throw new ShapeError(`${fn}: logits must have rank >= 1 and a non-empty last axis, got shape ${fmtShape(l.shape)}`);
  const kk = l.shape[r - 1];
  const batch = l.shape.slice(0, r - 1);
  const s = outShape(fn, shape, [['the batch of logits', batch]]);
  return ENGINE.tidy(() => {
    const fs = [...s, kk];
    const u = runUniform(k, fs, l.dtype as FloatDType);
    const gumbel = neg(log(neg(log(u))));
    return argmax(add(constant(l, fs, l.dtype as FloatDType), gumbel), -1);
  });
}

/** Options of `bernoulli`. */
export interface BernoulliOptions {
  /** Output dtype; default int32. */
  dtype?: DType;
}

/**
 * Bernoulli(p) draws: 1 where u < p for u uniform on [0, 1) (in p's dtype), else 0, so p = 0 never
 * and p = 1 always gives 1. Output shape `shape` (p broadcasts to it), default p's shape; dtype
 * int32 unless `opts.dtype` says float32 or float64.
 * @example const coin = bernoulli(key(0), 0.3, [10])
 */
export function bernoulli(k: Key, p: TensorLike, shape?: Shape, opts: BernoulliOptions = {}): Tensor {
  const fn = 'bernoulli';
  checkKey(fn, k);
  const dtype = opts.dtype ?? 'int32';
  if (dtype !== 'int32') checkFloatDType(fn, dtype);
  const pd = pickDType(fn, undefined, [p]);
  const s = outShape(fn, shape, [['p', param(fn, 'p', p, (v) => v >= 0 && v <= 1, 'a probability in [0, 1]')]]);
  // Compare against a same-shaped p: `less` then needs no broadcasting.
  return ENGINE.tidy(() => cast(less(runUniform(k, s, pd), constant(p, s, pd)), dtype));
}

/**
 * Poisson(rate) draws as floats (exact integers below 2^53, or 2^24 in float32): Knuth's product
 * of uniforms for rate < 10, Hörmann's PTRS for rate ≥ 10. Output shape `shape` (rate broadcasts
 * to it), default rate's shape. Tensor rates that are negative or NaN give NaN.
 * @example const counts = poisson(key(0), 4.5, [100])
 */
export function poisson(k: Key, rate: TensorLike, shape?: Shape, opts: SamplerOptions = {}): Tensor {
  const fn = 'poisson';
  checkKey(fn, k);
  const dtype = pickDType(fn, opts.dtype, [rate]);
  const s = outShape(fn, shape, [['rate', param(fn, 'rate', rate, isNonNegative, 'a number >= 0')]]);
  return ENGINE.tidy(() => ENGINE.runKernel('randomPoisson', [constant(rate, s, dtype)], { key: k.words })[0]);
}
