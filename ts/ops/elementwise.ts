/** Elementwise ops with NumPy broadcasting. Numbers are promoted to the other operand's dtype. */
import { ENGINE } from '../core/engine.js';
import type { DType } from '../core/dtype.js';
import type { Tensor } from '../core/tensor.js';
import type { BinaryOp, CompareOp, UnaryOp } from '../kernels/spec.js';
import { asTensor, scalar, type TensorLike } from './creation.js';

function un(op: UnaryOp, x: Tensor): Tensor {
  return ENGINE.runKernel(op, [x], {})[0];
}

function bin(op: BinaryOp | CompareOp, a: TensorLike, b: TensorLike): Tensor {
  const ta = typeof a === 'number' ? asTensor(a, b as Tensor) : a;
  const tb = asTensor(b, ta);
  return ENGINE.runKernel(op, [ta, tb], {})[0];
}

/** −x */
export const neg = (x: Tensor): Tensor => un('neg', x);
/** |x| */
export const abs = (x: Tensor): Tensor => un('abs', x);
/** −1, 0 or 1 by the sign of x. */
export const sign = (x: Tensor): Tensor => un('sign', x);
/** 1/x */
export const reciprocal = (x: Tensor): Tensor => un('reciprocal', x);
/** x² */
export const square = (x: Tensor): Tensor => un('square', x);
/** √x */
export const sqrt = (x: Tensor): Tensor => un('sqrt', x);
/** 1/√x */
export const rsqrt = (x: Tensor): Tensor => un('rsqrt', x);
/** eˣ */
export const exp = (x: Tensor): Tensor => un('exp', x);
/** eˣ − 1, accurate near 0. */
export const expm1 = (x: Tensor): Tensor => un('expm1', x);
/** ln x */
export const log = (x: Tensor): Tensor => un('log', x);
/** ln(1 + x), accurate near 0. */
export const log1p = (x: Tensor): Tensor => un('log1p', x);
/** sin x (radians) */
export const sin = (x: Tensor): Tensor => un('sin', x);
/** cos x (radians) */
export const cos = (x: Tensor): Tensor => un('cos', x);
/** tanh x = (eˣ − e^−x) / (eˣ + e^−x) */
export const tanh = (x: Tensor): Tensor => un('tanh', x);
/** 1 / (1 + e^−x) */
export const sigmoid = (x: Tensor): Tensor => un('sigmoid', x);
/** ln(1 + eˣ), computed without overflow. */
export const softplus = (x: Tensor): Tensor => un('softplus', x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => un('relu', x);
/** ⌊x⌋, the largest integer ≤ x (gradient zero). */
export const floor = (x: Tensor): Tensor => un('floor', x);
/** ⌈x⌉, the smallest integer ≥ x (gradient zero). */
export const ceil = (x: Tensor): Tensor => un('ceil', x);
/** The error function. */
export const erf = (x: Tensor): Tensor => un('erf', x);
/** The inverse error function on (−1, 1). */
export const erfinv = (x: Tensor): Tensor => un('erfinv', x);
/** ln |Γ(x)| */
export const lgamma = (x: Tensor): Tensor => un('lgamma', x);
/** ψ(x) = d/dx ln Γ(x) */
export const digamma = (x: Tensor): Tensor => un('digamma', x);
/** ψ′(x) */
export const trigamma = (x: Tensor): Tensor => un('trigamma', x);

/** a + b */
export const add = (a: TensorLike, b: TensorLike): Tensor => bin('add', a, b);
/** a − b */
export const sub = (a: TensorLike, b: TensorLike): Tensor => bin('sub', a, b);
/** a · b */
export const mul = (a: TensorLike, b: TensorLike): Tensor => bin('mul', a, b);
/** a / b (int32: truncates toward zero) */
export const div = (a: TensorLike, b: TensorLike): Tensor => bin('div', a, b);
/** aᵇ */
export const pow = (a: TensorLike, b: TensorLike): Tensor => bin('pow', a, b);
/** Elementwise max, propagating NaN. */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => bin('maximum', a, b);
/** Elementwise min, propagating NaN. */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => bin('minimum', a, b);

/** 1 where a = b, else 0 (int32). */
export const equal = (a: TensorLike, b: TensorLike): Tensor => bin('equal', a, b);
/** 1 where a ≠ b, else 0 (int32). */
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => bin('notEqual', a, b);
/** 1 where a < b, else 0 (int32). */
export const less = (a: TensorLike, b: TensorLike): Tensor => bin('less', a, b);
/** 1 where a ≤ b, else 0 (int32). */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => bin('lessEqual', a, b);
/** 1 where a > b, else 0 (int32). */
export const greater = (a: TensorLike, b: TensorLike): Tensor => bin('greater', a, b);
/** 1 where a ≥ b, else 0 (int32). */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => bin('greaterEqual', a, b);

/** x limited to [min, max]. */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  return ENGINE.runKernel('clamp', [x], { min, max })[0];
}

/** Elementwise `cond ? x : y` with broadcasting; `cond` is any dtype, non-zero meaning true. */
export function where(cond: Tensor, x: TensorLike, y: TensorLike): Tensor {
  // Two numbers take float64, on the condition's device.
  const tx = typeof x !== 'number' ? x : typeof y !== 'number' ? asTensor(x, y) : onDeviceOf(scalar(x), cond);
  const ty = asTensor(y, tx);
  return ENGINE.runKernel('where', [cond, tx, ty], {})[0];
}

/** x converted to `dtype` (floats to int32 truncate toward zero). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return ENGINE.runKernel('cast', [x], { dtype })[0];
}

/** One-hot vectors of length `depth` for int32 `indices` (out-of-range indices give all zeros). */
export function oneHot(indices: Tensor, depth: number, dtype: DType = 'float64'): Tensor {
  return ENGINE.runKernel('oneHot', [indices], { depth, dtype })[0];
}

/** `t` moved to the device of `like` when they differ. */
export function onDeviceOf(t: Tensor, like: Tensor): Tensor {
  return t.backend.device === like.backend.device ? t : ENGINE.toBackend(t, like.backend);
}
