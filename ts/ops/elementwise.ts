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

/**
 * −x
 * @example neg(tensor([1, -2])) // [-1, 2]
 */
export const neg = (x: Tensor): Tensor => un('neg', x);
/**
 * |x|
 * @example abs(tensor([-1.5, 2])) // [1.5, 2]
 */
export const abs = (x: Tensor): Tensor => un('abs', x);
/**
 * −1, 0 or 1 by the sign of x.
 * @example sign(tensor([-3, 0, 2])) // [-1, 0, 1]
 */
export const sign = (x: Tensor): Tensor => un('sign', x);
/**
 * 1/x
 * @example reciprocal(tensor([2, 4])) // [0.5, 0.25]
 */
export const reciprocal = (x: Tensor): Tensor => un('reciprocal', x);
/**
 * x²
 * @example square(tensor([3])) // [9]
 */
export const square = (x: Tensor): Tensor => un('square', x);
/**
 * √x
 * @example sqrt(tensor([4, 9])) // [2, 3]
 */
export const sqrt = (x: Tensor): Tensor => un('sqrt', x);
/**
 * 1/√x
 * @example rsqrt(tensor([4])) // [0.5]
 */
export const rsqrt = (x: Tensor): Tensor => un('rsqrt', x);
/**
 * eˣ
 * @example exp(tensor([0, 1])) // [1, 2.718…]
 */
export const exp = (x: Tensor): Tensor => un('exp', x);
/**
 * eˣ − 1, accurate near 0.
 * @example expm1(tensor([1e-10])) // [1e-10]
 */
export const expm1 = (x: Tensor): Tensor => un('expm1', x);
/**
 * ln x
 * @example log(tensor([1, Math.E])) // [0, 1]
 */
export const log = (x: Tensor): Tensor => un('log', x);
/**
 * ln(1 + x), accurate near 0.
 * @example log1p(tensor([1e-10])) // [1e-10]
 */
export const log1p = (x: Tensor): Tensor => un('log1p', x);
/**
 * sin x (radians)
 * @example sin(tensor([0, Math.PI / 2])) // [0, 1]
 */
export const sin = (x: Tensor): Tensor => un('sin', x);
/**
 * cos x (radians)
 * @example cos(tensor([0])) // [1]
 */
export const cos = (x: Tensor): Tensor => un('cos', x);
/**
 * tanh x = (eˣ − e^−x) / (eˣ + e^−x)
 * @example tanh(tensor([0])) // [0]
 */
export const tanh = (x: Tensor): Tensor => un('tanh', x);
/**
 * 1 / (1 + e^−x)
 * @example sigmoid(tensor([0])) // [0.5]
 */
export const sigmoid = (x: Tensor): Tensor => un('sigmoid', x);
/**
 * ln(1 + eˣ), computed without overflow.
 * @example softplus(tensor([0, 1000])) // [0.693…, 1000]
 */
export const softplus = (x: Tensor): Tensor => un('softplus', x);
/**
 * max(x, 0)
 * @example relu(tensor([-1, 2])) // [0, 2]
 */
export const relu = (x: Tensor): Tensor => un('relu', x);
/**
 * ⌊x⌋, the largest integer ≤ x (gradient zero).
 * @example floor(tensor([1.7, -1.2])) // [1, -2]
 */
export const floor = (x: Tensor): Tensor => un('floor', x);
/**
 * ⌈x⌉, the smallest integer ≥ x (gradient zero).
 * @example ceil(tensor([1.2, -1.7])) // [2, -1]
 */
export const ceil = (x: Tensor): Tensor => un('ceil', x);
/**
 * The error function.
 * @example erf(tensor([0])) // [0]
 */
export const erf = (x: Tensor): Tensor => un('erf', x);
/**
 * The inverse error function on (−1, 1).
 * @example erfinv(tensor([0])) // [0]
 */
export const erfinv = (x: Tensor): Tensor => un('erfinv', x);
/**
 * ln |Γ(x)|
 * @example lgamma(tensor([5])) // [log 24]
 */
export const lgamma = (x: Tensor): Tensor => un('lgamma', x);
/**
 * ψ(x) = d/dx ln Γ(x)
 * @example digamma(tensor([1])) // [−0.5772…] (−γ)
 */
export const digamma = (x: Tensor): Tensor => un('digamma', x);
/**
 * ψ′(x)
 * @example trigamma(tensor([1])) // [π²/6]
 */
export const trigamma = (x: Tensor): Tensor => un('trigamma', x);

/**
 * a + b
 * @example add(tensor([[1], [2]]), tensor([10, 20])) // [[11, 21], [12, 22]] (broadcast)
 */
export const add = (a: TensorLike, b: TensorLike): Tensor => bin('add', a, b);
/**
 * a − b
 * @example sub(tensor([3, 4]), 1) // [2, 3]
 */
export const sub = (a: TensorLike, b: TensorLike): Tensor => bin('sub', a, b);
/**
 * a · b
 * @example mul(tensor([1, 2]), 3) // [3, 6]
 */
export const mul = (a: TensorLike, b: TensorLike): Tensor => bin('mul', a, b);
/**
 * a / b (int32: truncates toward zero)
 * @example div(tensor([1, 2]), 2) // [0.5, 1]
 */
export const div = (a: TensorLike, b: TensorLike): Tensor => bin('div', a, b);
/**
 * aᵇ
 * @example pow(tensor([2, 3]), 2) // [4, 9]
 */
export const pow = (a: TensorLike, b: TensorLike): Tensor => bin('pow', a, b);
/**
 * Elementwise max, propagating NaN.
 * @example maximum(tensor([1, 5]), 3) // [3, 5]
 */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => bin('maximum', a, b);
/**
 * Elementwise min, propagating NaN.
 * @example minimum(tensor([1, 5]), 3) // [1, 3]
 */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => bin('minimum', a, b);

/**
 * 1 where a = b, else 0 (int32).
 * @example equal(tensor([1, 2]), 2) // int32 [0, 1]
 */
export const equal = (a: TensorLike, b: TensorLike): Tensor => bin('equal', a, b);
/**
 * 1 where a ≠ b, else 0 (int32).
 * @example notEqual(tensor([1, 2]), 2) // int32 [1, 0]
 */
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => bin('notEqual', a, b);
/**
 * 1 where a < b, else 0 (int32).
 * @example less(tensor([1, 2]), 2) // int32 [1, 0]
 */
export const less = (a: TensorLike, b: TensorLike): Tensor => bin('less', a, b);
/**
 * 1 where a ≤ b, else 0 (int32).
 * @example lessEqual(tensor([1, 2]), 2) // int32 [1, 1]
 */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => bin('lessEqual', a, b);
/**
 * 1 where a > b, else 0 (int32).
 * @example greater(tensor([1, 2]), 1) // int32 [0, 1]
 */
export const greater = (a: TensorLike, b: TensorLike): Tensor => bin('greater', a, b);
/**
 * 1 where a ≥ b, else 0 (int32).
 * @example greaterEqual(tensor([1, 2]), 2) // int32 [0, 1]
 */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => bin('greaterEqual', a, b);

/**
 * x limited to [min, max].
 * @example clamp(tensor([-1, 0.5, 2]), 0, 1) // [0, 0.5, 1]
 */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  return ENGINE.runKernel('clamp', [x], { min, max })[0];
}

/**
 * Elementwise `cond ? x : y` with broadcasting; `cond` is any dtype, non-zero meaning true.
 * @example where(greater(x, 0), x, 0) // relu by hand
 */
export function where(cond: Tensor, x: TensorLike, y: TensorLike): Tensor {
  // Two numbers take float64, on the condition's device.
  const tx = typeof x !== 'number' ? x : typeof y !== 'number' ? asTensor(x, y) : onDeviceOf(scalar(x), cond);
  const ty = asTensor(y, tx);
  return ENGINE.runKernel('where', [cond, tx, ty], {})[0];
}

/**
 * x converted to `dtype` (floats to int32 truncate toward zero).
 * @example cast(tensor([1.7, -1.7]), 'int32') // int32 [1, -1]
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return ENGINE.runKernel('cast', [x], { dtype })[0];
}

/**
 * One-hot vectors of length `depth` for int32 `indices` (out-of-range indices give all zeros).
 * @example oneHot(tensor([0, 2], [2], 'int32'), 3) // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(indices: Tensor, depth: number, dtype: DType = 'float64'): Tensor {
  return ENGINE.runKernel('oneHot', [indices], { depth, dtype })[0];
}

/**
 * `t` moved to the device of `like` when they differ.
 * @example onDeviceOf(scalar(1), x) // a scalar on x's device
 */
export function onDeviceOf(t: Tensor, like: Tensor): Tensor {
  return t.backend.device === like.backend.device ? t : ENGINE.toBackend(t, like.backend);
}
