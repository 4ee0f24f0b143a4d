/**
 * The kernel spec: one declaration per kernel. A kernel name ties together the user-facing op,
 * its gradient rule (ts/grads) and each backend's implementation (ts/backends/*). Kernels see
 * canonical attributes: axes already normalized to non-negative, shapes validated by `infer`.
 *
 * Conventions every backend follows:
 * - All tensors are contiguous, row-major. Outputs are allocated by the engine from `infer`.
 * - Elementwise binary/ternary kernels broadcast their inputs NumPy-style to the output shape.
 * - Comparisons produce int32 0/1. `where` treats any non-zero condition as true.
 * - Random kernels are pure functions of their `key` attribute (two uint32 words) and shape:
 *   see ts/random/philox.ts for the exact counter layout every backend must reproduce.
 * - int32 arithmetic wraps modulo 2³² (add, sub, mul, square, sum, prod, cumsum, scatterAdd);
 *   int32 division truncates toward zero and division by zero gives 0.
 * - float → int32 casts truncate toward zero, saturate at the int32 limits, and map NaN to 0.
 * - gather and scatterAdd reject any index outside [0, size), negatives included, with a
 *   ValueError naming the op, the index and the axis size.
 * - Special-function conventions at the edges: lgamma(−∞) = +∞, digamma(±0) = ∓∞, digamma at
 *   negative integers is NaN, trigamma(−∞) = NaN.
 */
import type { DType } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { broadcastShapes, reducedShape, sizeOf, type Shape } from '../core/shape.js';

/** What a kernel's `infer` sees of a tensor and returns for an output: its shape and dtype. */
export interface TensorInfo {
  /** The shape. */
  readonly shape: Shape;
  /** The dtype. */
  readonly dtype: DType;
}

/** Names of the elementwise unary kernels (same shape and dtype out). */
export const UNARY_OPS = [
  'neg', 'abs', 'sign', 'reciprocal', 'square', 'sqrt', 'rsqrt', 'exp', 'expm1', 'log', 'log1p',
  'sin', 'cos', 'tanh', 'sigmoid', 'softplus', 'relu', 'floor', 'ceil', 'erf', 'erfinv',
  'lgamma', 'digamma', 'trigamma',
] as const;
/** An elementwise unary kernel's name. */
export type UnaryOp = (typeof UNARY_OPS)[number];
/** Unary ops that also accept int32 inputs (producing int32). */
export const INT_UNARY_OPS: readonly UnaryOp[] = ['neg', 'abs', 'sign', 'square'];

/** Names of the elementwise binary kernels (NumPy broadcasting; both inputs of one dtype). */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'] as const;
/** An elementwise binary kernel's name. */
export type BinaryOp = (typeof BINARY_OPS)[number];
/** Binary ops defined on int32 (div on int32 truncates toward zero). */
export const INT_BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];

/** Names of the comparison kernels (broadcasting; int32 0/1 out). */
export const COMPARE_OPS = ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'] as const;
/** A comparison kernel's name. */
export type CompareOp = (typeof COMPARE_OPS)[number];

/** Names of the reductions over a set of axes. */
export const REDUCE_OPS = ['sum', 'prod', 'max', 'min', 'logsumexp'] as const;
/** A reduction kernel's name. */
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** Names of the index-of-extremum reductions along one axis (int32 out). */
export const ARG_REDUCE_OPS = ['argmax', 'argmin'] as const;
/** An index-of-extremum kernel's name. */
export type ArgReduceOp = (typeof ARG_REDUCE_OPS)[number];

/** The key attribute of random kernels: two uint32 words. */
export type KeyAttr = readonly [number, number];

/** Attributes of every kernel, by name. */
export type KernelAttrs = { [K in UnaryOp]: Record<string, never> } & {
  [K in BinaryOp]: Record<string, never>;
} & { [K in CompareOp]: Record<string, never> } & {
  [K in ReduceOp]: {
    /** Axes reduced, non-negative. */
    axes: number[];
    /** Keep reduced axes as size 1. */
    keepDims: boolean;
  };
} & {
  [K in ArgReduceOp]: {
    /** The axis searched, non-negative. */
    axis: number;
    /** Keep the axis as size 1. */
    keepDims: boolean;
  };
} & {
  /** x limited to [min, max]. */
  clamp: {
    /** Lower bound. */
    min: number;
    /** Upper bound. */
    max: number;
  };
  /** cond ? x : y elementwise, broadcasting all three. */
  where: Record<string, never>;
  /** x converted to `dtype`. */
  cast: {
    /** The output dtype. */
    dtype: DType;
  };
  /** exp(x − logsumexp(x)) along `axis`. */
  softmax: {
    /** The normalized axis. */
    axis: number;
  };
  /** x − logsumexp(x) along `axis`. */
  logSoftmax: {
    /** The normalized axis. */
    axis: number;
  };
  /** Inclusive cumulative sum along `axis`. */
  cumsum: {
    /** The summed axis. */
    axis: number;
    /** Sum from the end instead. */
    reverse: boolean;
  };
  /** int32 indices [...] → one-hot [..., depth]. */
  oneHot: {
    /** Number of classes. */
    depth: number;
    /** The output dtype. */
    dtype: DType;
  };
  /** Batched matrix product op(a) · op(b), batch axes broadcast. */
  matmul: {
    /** Use aᵀ. */
    transA: boolean;
    /** Use bᵀ. */
    transB: boolean;
  };
  /** Lower Cholesky factor L of a batch of SPD matrices [..., n, n]. */
  cholesky: Record<string, never>;
  /** Solves op(A) X = B for triangular A [..., n, n]. */
  triangularSolve: {
    /** A is lower triangular. */
    lower: boolean;
    /** Solve with Aᵀ. */
    transA: boolean;
  };
  /** The diagonal [..., n] of [..., n, n]. */
  diagonal: Record<string, never>;
  /** A diagonal matrix [..., n, n] from [..., n]. */
  diagEmbed: Record<string, never>;
  /** Zeroes entries above the k-th diagonal. */
  tril: {
    /** Diagonal offset (0 the main diagonal). */
    k: number;
  };
  /** The same elements in a new shape. */
  reshape: {
    /** The new shape (resolved, no −1). */
    shape: number[];
  };
  /** Axes permuted: output axis i is input axis perm[i]. */
  transpose: {
    /** The permutation. */
    perm: number[];
  };
  /** A contiguous block. */
  slice: {
    /** Start index per axis. */
    begin: number[];
    /** Length per axis. */
    size: number[];
  };
  /** Constant padding. */
  pad: {
    /** Elements added before, per axis. */
    before: number[];
    /** Elements added after, per axis. */
    after: number[];
    /** The fill value. */
    value: number;
  };
  /** x indexed by int32 indices along `axis`. */
  gather: {
    /** The indexed axis. */
    axis: number;
  };
  /** The adjoint of gather: values summed into `size` slots along `axis`. */
  scatterAdd: {
    /** The scattered axis. */
    axis: number;
    /** The output's length on that axis. */
    size: number;
  };
  /** Inputs joined along `axis` (variadic). */
  concat: {
    /** The joined axis. */
    axis: number;
  };
  /** x broadcast to `shape`. */
  broadcastTo: {
    /** The target shape. */
    shape: number[];
  };
  /** Raw Philox words as int32. */
  randomBits: {
    /** The PRNG key words. */
    key: KeyAttr;
    /** The output shape. */
    shape: number[];
  };
  /** U[0, 1) draws. */
  randomUniform: {
    /** The PRNG key words. */
    key: KeyAttr;
    /** The output shape. */
    shape: number[];
    /** The output dtype. */
    dtype: DType;
  };
  /** N(0, 1) draws. */
  randomNormal: {
    /** The PRNG key words. */
    key: KeyAttr;
    /** The output shape. */
    shape: number[];
    /** The output dtype. */
    dtype: DType;
  };
  /**
   * `shape[0]` distinct indices of 0..n−1 in random order (minibatch subsampling without
   * replacement): the first `shape[0]` positions of a Fisher–Yates shuffle of 0..n−1, position i
   * swapping with i + ⌊u_i·(n − i)⌋ for the float64 uniform u_i of the key's stream.
   */
  randomSubset: {
    /** The PRNG key words. */
    key: KeyAttr;
    /** The population size n. */
    n: number;
    /** The output shape, `[m]` with m ≤ n. */
    shape: number[];
  };
  /** Gamma(α, 1) draws, one per element of α. */
  randomGamma: {
    /** The PRNG key words. */
    key: KeyAttr;
  };
  /** Poisson(λ) draws, one per element of λ. */
  randomPoisson: {
    /** The PRNG key words. */
    key: KeyAttr;
  };
  /** P(a, x), the regularized lower incomplete gamma function. */
  igamma: Record<string, never>;
  /** dx/da for unit-rate gamma draws x (implicit reparameterization). */
  gammaSampleGrad: Record<string, never>;
  /** e^(−|x|) I₀(x). */
  besselI0e: Record<string, never>;
  /** e^(−|x|) I₁(x). */
  besselI1e: Record<string, never>;
  /** dx/dκ for centered von Mises draws x (implicit reparameterization). */
  vonMisesSampleGrad: Record<string, never>;
  /** Centered von Mises draws in [−π, π], one per element of κ. */
  randomVonMises: {
    /** The PRNG key words. */
    key: KeyAttr;
  };
  /** SVGD's update direction φ for particles [n, d] and scores [n, d], and the bandwidth used. */
  svgdPhi: {
    /** h > 0, or 0 for the median heuristic. */
    bandwidth: number;
  };
  /** Fused z = loc + σε and log q(z) for a diagonal Gaussian. */
  normalReparam: {
    /** The PRNG key words of ε. */
    key: KeyAttr;
  };
  /** KL(N(loc, σ²) ‖ N(0, 1)) elementwise. */
  diagNormalKL: Record<string, never>;
  /** An affine autoregressive/coupling step: y and log|det|. */
  affineFlow: {
    /** 'exp' (y = x·eˢ + shift) or 'sigmoid' (IAF gate). */
    gate: 'exp' | 'sigmoid';
    /** Run the inverse (exp gate only). */
    inverse: boolean;
  };
  /** Fused z = loc + Lε and log q(z) for a Cholesky-parametrized Gaussian. */
  mvnReparam: {
    /** The PRNG key words of ε. */
    key: KeyAttr;
  };
  /** A monotonic rational-quadratic spline step: y and log|dy/dx| elementwise. */
  rqSpline: {
    /** B: identity outside [−B, B]. */
    bound: number;
    /** Run the inverse. */
    inverse: boolean;
  };
  /** The backward of rqSpline. */
  rqSplineGrad: {
    /** B: identity outside [−B, B]. */
    bound: number;
    /** Of the inverse spline. */
    inverse: boolean;
  };
};

/** Every kernel's name. */
export type KernelName = keyof KernelAttrs;

/** One kernel's declaration: its name, arity, whether it has a gradient rule, and its shape/dtype inference. */
export interface KernelSpec<N extends KernelName = KernelName> {
  /** The kernel's name. */
  readonly name: N;
  /** Number of inputs, or -1 for variadic (concat; affineFlow's optional mask). */
  readonly arity: number;
  /** Whether the kernel has a gradient rule (checked by the gradient suite). */
  readonly differentiable: boolean;
  /** Validates inputs and attributes, naming the op and the argument, and returns the outputs. */
  infer(inputs: readonly TensorInfo[], attrs: KernelAttrs[N]): TensorInfo[];
}

/** Throws `Err` naming `op` unless `cond`; the message is built only then (infer runs on every op). */
function need(op: string, cond: boolean, msg: () => string, Err: typeof ShapeError = ShapeError): void {
  if (!cond) throw new Err(`${op}: ${msg()}`);
}

function floatOnly(op: string, x: TensorInfo, arg = 'x'): void {
  if (x.dtype === 'int32') throw new DTypeError(`${op}: argument ${arg} must be float32 or float64, got int32`);
}

function sameDtype(op: string, a: TensorInfo, b: TensorInfo, an = 'a', bn = 'b'): void {
  if (a.dtype !== b.dtype)
    throw new DTypeError(`${op}: ${an} is ${a.dtype} but ${bn} is ${b.dtype}; cast one of them first`);
}

function intIndices(op: string, x: TensorInfo, arg = 'indices'): void {
  if (x.dtype !== 'int32') throw new DTypeError(`${op}: ${arg} must be int32, got ${x.dtype}`);
}

const SPECS: { [N in KernelName]?: KernelSpec<N> } = {};

/** Kernels that take or make bfloat16, a storage dtype for matrix products; the rest ask for a cast. */
const BF16_KERNELS: ReadonlySet<string> = new Set(['cast', 'matmul', 'reshape', 'transpose', 'slice', 'concat', 'broadcastTo']);

function bf16Error(name: string, what: string): DTypeError {
  return new DTypeError(`${name}: ${what} is bfloat16, a storage dtype for matrix products (cast, matmul, reshape, transpose, slice, concat and broadcastTo take it); cast to float32 first`);
}

function def<N extends KernelName>(
  name: N,
  arity: number,
  differentiable: boolean,
  infer: (inputs: readonly TensorInfo[], attrs: KernelAttrs[N]) => TensorInfo[],
): void {
  const checked = BF16_KERNELS.has(name)
    ? infer
    : (inputs: readonly TensorInfo[], attrs: KernelAttrs[N]): TensorInfo[] => {
        for (let i = 0; i < inputs.length; i++) if (inputs[i].dtype === 'bfloat16') throw bf16Error(name, `input ${i}`);
        const outs = infer(inputs, attrs);
        for (let i = 0; i < outs.length; i++) if (outs[i].dtype === 'bfloat16') throw bf16Error(name, 'the requested output dtype');
        return outs;
      };
  (SPECS as Record<string, KernelSpec>)[name] = { name, arity, differentiable, infer: checked } as unknown as KernelSpec;
}

for (const op of UNARY_OPS) {
  const intOk = INT_UNARY_OPS.includes(op);
  const diff = !['sign', 'floor', 'ceil', 'trigamma'].includes(op);
  def(op, 1, diff, ([x]) => {
    if (!intOk) floatOnly(op, x);
    return [{ shape: x.shape, dtype: x.dtype }];
  });
}

for (const op of BINARY_OPS) {
  const intOk = INT_BINARY_OPS.includes(op);
  def(op, 2, true, ([a, b]) => {
    sameDtype(op, a, b);
    if (!intOk) floatOnly(op, a, 'a');
    return [{ shape: broadcastShapes(op, a.shape, b.shape), dtype: a.dtype }];
  });
}

for (const op of COMPARE_OPS) {
  def(op, 2, false, ([a, b]) => {
    sameDtype(op, a, b);
    return [{ shape: broadcastShapes(op, a.shape, b.shape), dtype: 'int32' }];
  });
}

for (const op of REDUCE_OPS) {
  def(op, 1, true, ([x], { axes, keepDims }) => {
    if (op === 'logsumexp') floatOnly(op, x);
    if (op === 'max' || op === 'min')
      for (const a of axes)
        need(op, x.shape[a] > 0, () => `cannot reduce an empty axis ${a} of shape ${fmtShape(x.shape)}`);
    return [{ shape: reducedShape(x.shape, axes, keepDims), dtype: x.dtype }];
  });
}

for (const op of ARG_REDUCE_OPS) {
  def(op, 1, false, ([x], { axis, keepDims }) => {
    need(op, x.shape[axis] > 0, () => `cannot reduce an empty axis ${axis} of shape ${fmtShape(x.shape)}`);
    return [{ shape: reducedShape(x.shape, [axis], keepDims), dtype: 'int32' }];
  });
}

def('clamp', 1, true, ([x], { min, max }) => {
  need('clamp', !(min > max), () => `min ${min} is greater than max ${max}`, ValueError);
  return [{ shape: x.shape, dtype: x.dtype }];
});

def('where', 3, true, ([c, a, b]) => {
  sameDtype('where', a, b, 'x', 'y');
  const s = broadcastShapes('where', broadcastShapes('where', c.shape, a.shape), b.shape);
  return [{ shape: s, dtype: a.dtype }];
});

def('cast', 1, true, ([x], { dtype }) => [{ shape: x.shape, dtype }]);

for (const op of ['softmax', 'logSoftmax'] as const) {
  def(op, 1, true, ([x]) => {
    floatOnly(op, x);
    return [{ shape: x.shape, dtype: x.dtype }];
  });
}

def('cumsum', 1, true, ([x]) => [{ shape: x.shape, dtype: x.dtype }]);

def('oneHot', 1, false, ([x], { depth, dtype }) => {
  intIndices('oneHot', x);
  need('oneHot', Number.isInteger(depth) && depth >= 0, () => `depth must be a non-negative integer, got ${depth}`, ValueError);
  return [{ shape: [...x.shape, depth], dtype }];
});

/** Batch shape and matrix dims of a (possibly transposed) operand, for matmul and solves. */
function matDims(op: string, x: TensorInfo, arg: string, trans: boolean): [Shape, number, number] {
  need(op, x.shape.length >= 2, () => `${arg} must have rank >= 2, got shape ${fmtShape(x.shape)}`);
  const r = x.shape.length;
  const m = x.shape[r - 2];
  const n = x.shape[r - 1];
  return [x.shape.slice(0, r - 2), trans ? n : m, trans ? m : n];
}

def('matmul', 2, true, ([a, b], { transA, transB }) => {
  sameDtype('matmul', a, b);
  floatOnly('matmul', a, 'a');
  const [ba, m, ka] = matDims('matmul', a, 'a', transA);
  const [bb, kb, n] = matDims('matmul', b, 'b', transB);
  need(
    'matmul',
    ka === kb,
    () => `inner dimensions differ: a ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} has ${ka} columns, b ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} has ${kb} rows`,
  );
  // bfloat16 operands multiply with float32 accumulation into a float32 result.
  return [{ shape: [...broadcastShapes('matmul', ba, bb), m, n], dtype: a.dtype === 'bfloat16' ? 'float32' : a.dtype }];
});

function squareMat(op: string, x: TensorInfo, arg: string): void {
  const r = x.shape.length;
  need(op, r >= 2 && x.shape[r - 1] === x.shape[r - 2], () => `${arg} must be a (batch of) square matrices, got shape ${fmtShape(x.shape)}`);
}

def('cholesky', 1, true, ([x]) => {
  floatOnly('cholesky', x);
  squareMat('cholesky', x, 'x');
  return [{ shape: x.shape, dtype: x.dtype }];
});

def('triangularSolve', 2, true, ([a, b]) => {
  sameDtype('triangularSolve', a, b, 'a', 'b');
  floatOnly('triangularSolve', a, 'a');
  squareMat('triangularSolve', a, 'a');
  const [ba, n] = matDims('triangularSolve', a, 'a', false);
  const [bb, nb, k] = matDims('triangularSolve', b, 'b', false);
  need('triangularSolve', n === nb, () => `a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)} disagree on the row count`);
  return [{ shape: [...broadcastShapes('triangularSolve', ba, bb), n, k], dtype: a.dtype }];
});

def('diagonal', 1, true, ([x]) => {
  const [bs, m, n] = matDims('diagonal', x, 'x', false);
  return [{ shape: [...bs, Math.min(m, n)], dtype: x.dtype }];
});

def('diagEmbed', 1, true, ([x]) => {
  need('diagEmbed', x.shape.length >= 1, () => 'x must have rank >= 1');
  const n = x.shape[x.shape.length - 1];
  return [{ shape: [...x.shape, n], dtype: x.dtype }];
});

def('tril', 1, true, ([x]) => {
  matDims('tril', x, 'x', false);
  return [{ shape: x.shape, dtype: x.dtype }];
});

def('reshape', 1, true, ([x], { shape }) => {
  need('reshape', sizeOf(shape) === sizeOf(x.shape), () => `cannot reshape ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
  return [{ shape, dtype: x.dtype }];
});

def('transpose', 1, true, ([x], { perm }) => {
  need('transpose', perm.length === x.shape.length, () => `perm [${perm.join(', ')}] does not match rank ${x.shape.length}`);
  return [{ shape: perm.map((p) => x.shape[p]), dtype: x.dtype }];
});

def('slice', 1, true, ([x], { begin, size }) => {
  need('slice', begin.length === x.shape.length && size.length === x.shape.length, () => `begin/size must have rank ${x.shape.length}`);
  for (let i = 0; i < begin.length; i++)
    need(
      'slice',
      begin[i] >= 0 && size[i] >= 0 && begin[i] + size[i] <= x.shape[i],
      () => `begin [${begin.join(', ')}] size [${size.join(', ')}] fall outside shape ${fmtShape(x.shape)}`,
    );
  return [{ shape: size, dtype: x.dtype }];
});

def('pad', 1, true, ([x], { before, after }) => {
  need('pad', before.length === x.shape.length && after.length === x.shape.length, () => `before/after must have rank ${x.shape.length}`);
  const widths = [...before, ...after];
  need('pad', widths.every((w) => Number.isInteger(w) && w >= 0), () => `widths must be non-negative integers, got before [${before.join(', ')}] after [${after.join(', ')}]`, ValueError);
  return [{ shape: x.shape.map((d, i) => d + before[i] + after[i]), dtype: x.dtype }];
});

def('gather', 2, true, ([x, idx], { axis }) => {
  intIndices('gather', idx);
  need('gather', x.shape.length > 0, () => 'x must have rank >= 1');
  return [{ shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], dtype: x.dtype }];
});

def('scatterAdd', 2, true, ([upd, idx], { axis, size }) => {
  intIndices('scatterAdd', idx);
  need('scatterAdd', Number.isInteger(size) && size >= 0, () => `size must be a non-negative integer, got ${size}`, ValueError);
  need('scatterAdd', axis >= 0 && axis <= upd.shape.length - idx.shape.length, () => `axis ${axis} leaves no room for indices ${fmtShape(idx.shape)} in updates ${fmtShape(upd.shape)}`);
  const r = idx.shape.length;
  const ok = upd.shape.length >= axis + r && idx.shape.every((d, i) => upd.shape[axis + i] === d);
  need('scatterAdd', ok, () => `updates ${fmtShape(upd.shape)} do not hold indices ${fmtShape(idx.shape)} at axis ${axis}`);
  return [{ shape: [...upd.shape.slice(0, axis), size, ...upd.shape.slice(axis + r)], dtype: upd.dtype }];
});

def('concat', -1, true, (xs, { axis }) => {
  need('concat', xs.length > 0, () => 'needs at least one tensor');
  const first = xs[0];
  let total = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    sameDtype('concat', first, x, 'tensors[0]', `tensors[${i}]`);
    const ok = x.shape.length === first.shape.length && x.shape.every((d, j) => j === axis || d === first.shape[j]);
    need('concat', ok, () => `tensors[${i}] has shape ${fmtShape(x.shape)}, incompatible with ${fmtShape(first.shape)} along axis ${axis}`);
    total += x.shape[axis];
  }
  const shape = first.shape.slice();
  shape[axis] = total;
  return [{ shape, dtype: first.dtype }];
});

def('broadcastTo', 1, true, ([x], { shape }) => {
  const b = broadcastShapes('broadcastTo', x.shape, shape);
  need('broadcastTo', b.length === shape.length && b.every((d, i) => d === shape[i]), () => `cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  return [{ shape, dtype: x.dtype }];
});

def('randomBits', 0, false, (_, { shape }) => [{ shape, dtype: 'int32' }]);
def('randomUniform', 0, false, (_, { shape, dtype }) => [{ shape, dtype }]);
def('randomNormal', 0, false, (_, { shape, dtype }) => [{ shape, dtype }]);
def('randomSubset', 0, false, (_, { n, shape }) => {
  need('randomSubset', Number.isInteger(n) && n >= 1, () => `population size n must be a positive integer, got ${n}`, ValueError);
  need('randomSubset', shape.length === 1 && Number.isInteger(shape[0]) && shape[0] >= 0 && shape[0] <= n, () => `shape must be [m] with 0 <= m <= n = ${n}, got ${fmtShape(shape)}`, ValueError);
  return [{ shape, dtype: 'int32' }];
});
for (const op of ['randomGamma', 'randomPoisson'] as const) {
  def(op, 1, false, ([x]) => {
    floatOnly(op, x, op === 'randomGamma' ? 'alpha' : 'rate');
    return [{ shape: x.shape, dtype: x.dtype }];
  });
}

// P(a, x), the regularized lower incomplete gamma function, and dx/da for unit-rate gamma draws
// x (implicit reparameterization); both broadcast a against x.
for (const op of ['igamma', 'gammaSampleGrad'] as const) {
  def(op, 2, false, ([a, x]) => {
    sameDtype(op, a, x, 'a', 'x');
    floatOnly(op, a, 'a');
    return [{ shape: broadcastShapes(op, a.shape, x.shape), dtype: a.dtype }];
  });
}

// Exponentially scaled modified Bessel functions e^(−|x|) I₀(x) and e^(−|x|) I₁(x).
for (const op of ['besselI0e', 'besselI1e'] as const) {
  def(op, 1, true, ([x]) => {
    floatOnly(op, x);
    return [{ shape: x.shape, dtype: x.dtype }];
  });
}

// dx/dκ for centered von Mises draws x with concentration κ (implicit reparameterization);
// broadcasts κ against x.
def('vonMisesSampleGrad', 2, false, ([k, x]) => {
  sameDtype('vonMisesSampleGrad', k, x, 'concentration', 'x');
  floatOnly('vonMisesSampleGrad', k, 'concentration');
  return [{ shape: broadcastShapes('vonMisesSampleGrad', k.shape, x.shape), dtype: k.dtype }];
});

// Centered von Mises draws in [−π, π] (Best–Fisher), one per element of the concentration.
def('randomVonMises', 1, false, ([k]) => {
  floatOnly('randomVonMises', k, 'concentration');
  return [{ shape: k.shape, dtype: k.dtype }];
});

// The fused Gaussian kernels of VI; both broadcast loc against logScale (σ = exp(logScale)).
// normalReparam: z = loc + σ·ε and log q(z) = −½ε² − logScale − ½ log 2π, two outputs, with ε the
// `randomNormal` draws of `key` for the broadcast shape and dtype (so the fused sample and the
// unfused randomNormal + elementwise chain draw the same ε). diagNormalKL: KL(N(loc, σ²) ‖ N(0, 1))
// = ½(loc² + σ² − 1) − logScale, elementwise.
for (const op of ['normalReparam', 'diagNormalKL'] as const) {
  def(op, 2, true, ([loc, logScale]) => {
    sameDtype(op, loc, logScale, 'loc', 'logScale');
    floatOnly(op, loc, 'loc');
    const [a, b] = [loc.shape, logScale.shape];
    for (let i = 1; i <= Math.min(a.length, b.length); i++) {
      const [da, db] = [a[a.length - i], b[b.length - i]];
      need(op, da === db || da === 1 || db === 1, () => `loc ${fmtShape(a)} and logScale ${fmtShape(b)} do not broadcast (axis −${i}: ${da} vs ${db})`);
    }
    const out = { shape: broadcastShapes(op, a, b), dtype: loc.dtype };
    return op === 'normalReparam' ? [out, { ...out }] : [out];
  });
}

// The fused Cholesky-guide sample (mvnReparam): loc [...a, d] and scaleTril L [...b, d, d] (same
// float dtype, d ≥ 1, batch dims broadcast) give z = loc + L ε [...batch, d] and
// log q(z) = −½‖ε‖² − Σ_i log|L_ii| − (d/2) log 2π [...batch], ε the `randomNormal` draws of `key`
// for z's shape and dtype. Only L's lower triangle is read (its strict upper triangle is ignored).
def('mvnReparam', 2, true, ([loc, l]) => {
  sameDtype('mvnReparam', loc, l, 'loc', 'scaleTril');
  floatOnly('mvnReparam', loc, 'loc');
  const [a, b] = [loc.shape, l.shape];
  need('mvnReparam', a.length >= 1 && a[a.length - 1] >= 1, () => `loc must be [..., d] with d >= 1, got shape ${fmtShape(a)}`);
  const d = a[a.length - 1];
  need(
    'mvnReparam',
    b.length >= 2 && b[b.length - 1] === d && b[b.length - 2] === d,
    () => `scaleTril must be [..., ${d}, ${d}] to match loc ${fmtShape(a)}, got shape ${fmtShape(b)}`,
  );
  const [ba, bb] = [a.slice(0, -1), b.slice(0, -2)];
  for (let i = 1; i <= Math.min(ba.length, bb.length); i++) {
    const [da, db] = [ba[ba.length - i], bb[bb.length - i]];
    need('mvnReparam', da === db || da === 1 || db === 1, () => `the batch dims of loc ${fmtShape(a)} and scaleTril ${fmtShape(b)} do not broadcast (batch axis −${i}: ${da} vs ${db})`);
  }
  const batch = broadcastShapes('mvnReparam', ba, bb);
  return [
    { shape: [...batch, d], dtype: loc.dtype },
    { shape: batch, dtype: loc.dtype },
  ];
});

// Stein variational gradient descent's update direction (Liu & Wang 2016) for particles x [n, d]
// and scores g = ∇log p(x) [n, d] (same dtype): phi_i = (1/n) Σ_j [k(x_j, x_i) g_j + ∇_{x_j} k(x_j, x_i)]
// with k(a, b) = exp(−‖a − b‖²/h), i.e. phi = (K g + (2/h)(x ⊙ rowsum(K) − K x)) / n; second output
// the bandwidth h used (0-d). `bandwidth` > 0 fixes h; 0 asks for the median heuristic
// h = med(D) / log(n + 1) over all n² squared distances D_ij = ‖x_i − x_j‖² (the diagonal's zeros
// included, as Liu & Wang's code does), an even count's median being the mean of the two middle
// values. Where that median is 0 (one particle, or half of them coincident) h = 1; where a
// particle coordinate is NaN or ±∞, h is NaN. h is rounded to the dtype before K uses it. Not differentiable: the
// update is applied to the particles, never differentiated.
def('svgdPhi', 2, false, ([x, g], { bandwidth }) => {
  floatOnly('svgdPhi', x, 'x');
  sameDtype('svgdPhi', x, g, 'x', 'g');
  need('svgdPhi', x.shape.length === 2, () => `x must be a matrix [n, d] of n particles, got shape ${fmtShape(x.shape)}`);
  need('svgdPhi', x.shape[0] > 0, () => `x must hold at least one particle, got shape ${fmtShape(x.shape)}`);
  need(
    'svgdPhi',
    g.shape.length === 2 && g.shape[0] === x.shape[0] && g.shape[1] === x.shape[1],
    () => `g must have the shape of x ${fmtShape(x.shape)} (∇log p at each particle), got ${fmtShape(g.shape)}`,
  );
  need(
    'svgdPhi',
    Number.isFinite(bandwidth) && bandwidth >= 0,
    () => `bandwidth must be a positive number, or 0 for the median heuristic, got ${bandwidth}`,
    ValueError,
  );
  return [
    { shape: x.shape, dtype: x.dtype },
    { shape: [], dtype: x.dtype },
  ];
});

// One affine flow step (RealNVP coupling, MAF/IAF autoregressive step) with its log|det J|:
// inputs x, shift, s [..., d] (broadcast NumPy-style to the output shape, rank ≥ 1, d ≥ 1) and an
// optional mask [d] (or [1]; same dtype; non-zero = transformed, 0 = y = x passed through).
// gate 'exp': y = x·exp(s) + shift, logdet = Σ_masked s; inverse: y = (x − shift)·exp(−s),
// logdet = −Σ_masked s. gate 'sigmoid' (IAF): σ = sigmoid(s), y = σ·x + (1 − σ)·shift,
// logdet = Σ_masked log σ = −Σ_masked softplus(−s); forward only. Outputs y [..., d] and
// logdet [...] (the last axis summed, in float64, rounded once).
def('affineFlow', -1, true, (ins, { gate, inverse }) => {
  const op = 'affineFlow';
  need(op, ins.length === 3 || ins.length === 4, () => `takes x, shift, s and an optional mask, got ${ins.length} inputs`, ValueError);
  need(op, gate === 'exp' || gate === 'sigmoid', () => `gate must be 'exp' or 'sigmoid', got '${String(gate)}'`, ValueError);
  need(op, !(inverse && gate === 'sigmoid'), () => "the 'sigmoid' gate has no inverse here (IAF's update runs forward only); use gate 'exp' for an inverse step", ValueError);
  const [x, shift, s, mask] = ins;
  floatOnly(op, x, 'x');
  sameDtype(op, x, shift, 'x', 'shift');
  sameDtype(op, x, s, 'x', 's');
  let shape: number[];
  try {
    shape = broadcastShapes(op, broadcastShapes(op, x.shape, shift.shape), s.shape);
  } catch {
    throw new ShapeError(`${op}: x ${fmtShape(x.shape)}, shift ${fmtShape(shift.shape)} and s ${fmtShape(s.shape)} do not broadcast`);
  }
  need(op, shape.length >= 1, () => `x, shift and s must have a last axis [..., d]; all are rank 0`);
  const d = shape[shape.length - 1];
  need(op, d >= 1, () => `the last axis d must be at least 1, got shape ${fmtShape(shape)}`);
  if (mask !== undefined) {
    sameDtype(op, x, mask, 'x', 'mask');
    need(op, mask.shape.length === 1 && (mask.shape[0] === d || mask.shape[0] === 1), () => `mask must have shape [${d}] (the last axis of x, shift and s), got ${fmtShape(mask.shape)}`);
  }
  return [
    { shape, dtype: x.dtype },
    { shape: shape.slice(0, -1), dtype: x.dtype },
  ];
});

// Monotonic rational-quadratic spline flow step (Durkan et al. 2019, as Pyro parametrizes it):
// x [..., d], widths and heights [..., d, K] and derivatives [..., d, K − 1] (unnormalized; their
// batch shapes [..., d] broadcast with x's to the output shape), bound B > 0. Outputs y and the
// elementwise log|dy/dx| (see ts/ops/spline.ts for the formula); identity outside [−B, B].
function splineShapes(op: string, ins: readonly TensorInfo[], bound: number, inverse: boolean): { shape: number[]; k: number } {
  const [x, w, h, d] = ins;
  floatOnly(op, x, 'x');
  sameDtype(op, x, w, 'x', 'widths');
  sameDtype(op, x, h, 'x', 'heights');
  sameDtype(op, x, d, 'x', 'derivatives');
  need(op, Number.isFinite(bound) && bound > 0, () => `bound must be a positive finite number, got ${bound}`, ValueError);
  need(op, typeof inverse === 'boolean', () => `inverse must be a boolean, got ${String(inverse)}`, ValueError);
  for (const [t, n] of [[w, 'widths'], [h, 'heights'], [d, 'derivatives']] as const)
    need(op, t.shape.length >= 1, () => `${n} must have a last axis of spline parameters [..., d, K], got shape ${fmtShape(t.shape)}`);
  const k = w.shape[w.shape.length - 1];
  need(op, k >= 1 && k <= 1000, () => `widths must have K bins on the last axis, 1 ≤ K ≤ 1000 (K·1e-3 ≤ 1), got shape ${fmtShape(w.shape)}`);
  need(op, h.shape[h.shape.length - 1] === k, () => `heights must have K = ${k} bins on the last axis as widths ${fmtShape(w.shape)} does, got shape ${fmtShape(h.shape)}`);
  need(op, d.shape[d.shape.length - 1] === k - 1, () => `derivatives must have K − 1 = ${k - 1} interior knots on the last axis (widths ${fmtShape(w.shape)} has K = ${k}), got shape ${fmtShape(d.shape)}`);
  const batch = [w, h, d].map((t) => t.shape.slice(0, -1));
  let shape: number[];
  try {
    shape = batch.reduce((s, b) => broadcastShapes(op, s, b), x.shape as number[]);
  } catch {
    throw new ShapeError(
      `${op}: x ${fmtShape(x.shape)} and the batch shapes of widths ${fmtShape(batch[0])}, heights ${fmtShape(batch[1])} and derivatives ${fmtShape(batch[2])} (their shapes less the last axis) do not broadcast`,
    );
  }
  return { shape, k };
}

def('rqSpline', 4, true, (ins, { bound, inverse }) => {
  const { shape } = splineShapes('rqSpline', ins, bound, inverse);
  return [
    { shape, dtype: ins[0].dtype },
    { shape, dtype: ins[0].dtype },
  ];
});

// The backward of rqSpline: inputs x, widths, heights, derivatives, dy, dlogdet (the cotangents of
// y and logdet, output-shaped); outputs dx [out] and the per-element parameter cotangents
// dwidths, dheights [...out, K] and dderivatives [...out, K − 1] (the gradient rule sums them over
// the broadcast axes).
def('rqSplineGrad', 6, false, (ins, { bound, inverse }) => {
  const op = 'rqSplineGrad';
  const { shape, k } = splineShapes(op, ins, bound, inverse);
  for (const [t, n] of [[ins[4], 'dy'], [ins[5], 'dlogdet']] as const) {
    sameDtype(op, ins[0], t, 'x', n);
    need(op, t.shape.length === shape.length && t.shape.every((v, i) => v === shape[i]), () => `${n} must have the output shape ${fmtShape(shape)}, got ${fmtShape(t.shape)}`);
  }
  const dtype = ins[0].dtype;
  return [
    { shape, dtype },
    { shape: [...shape, k], dtype },
    { shape: [...shape, k], dtype },
    { shape: [...shape, k - 1], dtype },
  ];
});

/** All kernel specs by name: `KERNELS[n]` is kernel n's {@link KernelSpec} (its attributes are `KernelAttrs[n]`). */
export const KERNELS = SPECS as { readonly [N in KernelName]: KernelSpec<N> };

/** Every kernel name, in declaration order. */
export const KERNEL_NAMES = Object.keys(SPECS) as KernelName[];
