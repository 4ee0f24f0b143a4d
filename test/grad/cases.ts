/**
 * Gradient-check cases: at least one per differentiable kernel. Each case builds float64 inputs in
 * the op's domain (away from kinks, ties and singularities) and applies the op; the suite in
 * gradcheck.test.ts checks valueAndGrad of sum(op(x) · w), w a fixed random weight, against
 * central differences.
 */
import { ENGINE } from '../../ts/core/engine.js';
import type { Shape } from '../../ts/core/shape.js';
import type { Tensor } from '../../ts/core/tensor.js';
import type { KernelName } from '../../ts/kernels/spec.js';
import * as V from '../../ts/index.js';
import { besselI0e, besselI1e } from '../../ts/ops/bessel.js';

export interface GradCase {
  /** The kernel under test; the suite checks that it was recorded on the tape. */
  readonly kernel: KernelName;
  /** What this case covers (shapes, attributes). */
  readonly name: string;
  /** Float64 inputs to differentiate, in the op's domain. Called after the backend is chosen. */
  readonly inputs: () => Tensor[];
  /** The op under test applied to the inputs (constants such as indices are captured). */
  readonly fn: (xs: Tensor[]) => Tensor;
  /** Tolerance on the error relative to max(1, ‖fd‖∞); 1e-6 unless stated. */
  readonly tol?: number;
  /** Finite-difference step relative to max(1, |x|); 1e-6 unless stated. */
  readonly h?: number;
}

/** mulberry32: a small seeded generator, so every run sees the same inputs and weights. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let seedCounter = 1;
function nextSeed(): number {
  return seedCounter++ * 7919;
}

function size(shape: Shape): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Uniform values in [lo, hi). */
export function uniform(shape: Shape, lo: number, hi: number, seed = nextSeed()): Tensor {
  const r = rng(seed);
  const a = new Float64Array(size(shape));
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * r();
  return V.tensor(a, shape);
}

/** Values with |x| in [lo, hi) and a random sign: away from the kink at 0. */
function awayFromZero(shape: Shape, lo: number, hi: number, seed = nextSeed()): Tensor {
  const r = rng(seed);
  const a = new Float64Array(size(shape));
  for (let i = 0; i < a.length; i++) a[i] = (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r());
  return V.tensor(a, shape);
}

/** Distinct values at least 0.1 apart (a shuffled grid plus a little noise): no ties. */
function distinct(shape: Shape, seed = nextSeed()): Tensor {
  const r = rng(seed);
  const n = size(shape);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = -1 + (0.3 * i) + 0.1 * r();
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return V.tensor(a, shape);
}

function ints(values: number[], shape: Shape = [values.length]): Tensor {
  return V.tensor(values, shape, 'int32');
}

/** A (batch of) symmetric positive-definite matrices from unconstrained x: (x + xᵀ)/2 + n·I. */
function spd(x: Tensor): Tensor {
  const r = x.shape.length;
  const n = x.shape[r - 1];
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return V.add(V.mul(V.add(x, V.transpose(x, perm)), 0.5), V.mul(V.eye(n), n));
}

/** A well-conditioned triangular-solve operand: random entries with a diagonal in [2, 3]. */
function triOperand(shape: Shape): Tensor {
  const n = shape[shape.length - 1];
  const x = uniform(shape, -1, 1).dataSync();
  const r = rng(nextSeed());
  for (let b = 0; b < x.length / (n * n); b++) for (let i = 0; i < n; i++) x[b * n * n + i * n + i] = 2 + r();
  return V.tensor(x, shape);
}

const SH: Shape = [2, 3];

/** One unary case over a 2×3 input drawn by `make`. */
function unary(kernel: KernelName, f: (x: Tensor) => Tensor, make: () => Tensor, extra = ''): GradCase {
  return { kernel, name: `${kernel} ${extra}`.trim(), inputs: () => [make()], fn: ([x]) => f(x) };
}

/** Binary cases: equal shapes and two broadcasts. */
function binary(kernel: KernelName, f: (a: Tensor, b: Tensor) => Tensor, ma: (s: Shape) => Tensor, mb: (s: Shape) => Tensor): GradCase[] {
  const pairs: [Shape, Shape][] = [
    [[2, 3], [2, 3]],
    [[2, 3], [3]],
    [[2, 1, 3], [4, 1]],
    [[], [2, 2]],
  ];
  return pairs.map(([sa, sb]) => ({
    kernel,
    name: `${kernel} [${sa.join(',')}] with [${sb.join(',')}]`,
    inputs: () => [ma(sa), mb(sb)],
    fn: ([a, b]) => f(a, b),
  }));
}

const u = (lo: number, hi: number) => (s: Shape) => uniform(s, lo, hi);

const ELEMENTWISE_CASES: GradCase[] = [
  unary('neg', V.neg, () => uniform(SH, -2, 2)),
  unary('abs', V.abs, () => awayFromZero(SH, 0.3, 2)),
  unary('reciprocal', V.reciprocal, () => awayFromZero(SH, 0.5, 2)),
  unary('square', V.square, () => uniform(SH, -2, 2)),
  unary('sqrt', V.sqrt, () => uniform(SH, 0.5, 3)),
  unary('rsqrt', V.rsqrt, () => uniform(SH, 0.5, 3)),
  unary('exp', V.exp, () => uniform(SH, -2, 2)),
  unary('expm1', V.expm1, () => uniform(SH, -2, 2)),
  unary('log', V.log, () => uniform(SH, 0.5, 3)),
  unary('log1p', V.log1p, () => uniform(SH, -0.5, 2)),
  unary('sin', V.sin, () => uniform(SH, -3, 3)),
  unary('cos', V.cos, () => uniform(SH, -3, 3)),
  unary('tanh', V.tanh, () => uniform(SH, -2, 2)),
  unary('sigmoid', V.sigmoid, () => uniform(SH, -4, 4)),
  unary('softplus', V.softplus, () => uniform(SH, -4, 4)),
  unary('relu', V.relu, () => awayFromZero(SH, 0.3, 2)),
  unary('erf', V.erf, () => uniform(SH, -1.5, 1.5)),
  unary('erfinv', V.erfinv, () => uniform(SH, -0.9, 0.9)),
  unary('lgamma', V.lgamma, () => uniform(SH, 0.5, 6)),
  unary('lgamma', V.lgamma, () => uniform(SH, -0.9, -0.1), 'on (−1, 0)'),
  unary('digamma', V.digamma, () => uniform(SH, 0.5, 6)),
  ...binary('add', V.add, u(-2, 2), u(-2, 2)),
  ...binary('sub', V.sub, u(-2, 2), u(-2, 2)),
  ...binary('mul', V.mul, u(-2, 2), u(-2, 2)),
  ...binary('div', V.div, u(-2, 2), (s) => awayFromZero(s, 0.5, 2)),
  ...binary('pow', V.pow, u(0.5, 2), u(-1.5, 2.5)),
  {
    // Integer exponents (constants) with a base that includes 0 and negatives: b·a^(b−1) is
    // exact there, and central differences of a polynomial at 0 are exact up to O(h²).
    kernel: 'pow',
    name: 'pow with constant integer exponents and a = 0',
    inputs: () => [V.tensor([[0, -1.5, 0.7], [0, 1.3, -0.4]])],
    fn: ([a]) => V.pow(a, V.tensor([1, 2, 3])),
  },
  ...binary('maximum', V.maximum, u(-2, 2), u(-2.05, 1.95)),
  ...binary('minimum', V.minimum, u(-2, 2), u(-2.05, 1.95)),
  {
    kernel: 'clamp',
    name: 'clamp to [−1, 1]',
    inputs: () => [V.tensor([[-1.7, -0.6, 0.2], [0.9, 1.4, -0.95], [1.8, 0.5, -1.2]])],
    fn: ([x]) => V.clamp(x, -1, 1),
  },
  { kernel: 'clamp', name: 'clamp one-sided', inputs: () => [V.tensor([-0.5, 0.4, 2.5, 1.1])], fn: ([x]) => V.clamp(x, 0) },
  {
    kernel: 'where',
    name: 'where with broadcast branches',
    inputs: () => [uniform([2, 3], -2, 2), uniform([3], -2, 2)],
    fn: ([a, b]) => V.where(ints([1, 0, 0, 1, 1, 0], [2, 3]), a, b),
  },
  {
    kernel: 'where',
    name: 'where with a broadcast condition',
    inputs: () => [uniform([2, 1], -2, 2), uniform([2, 3], -2, 2)],
    fn: ([a, b]) => V.where(ints([0, 1, 1]), a, b),
  },
  {
    // The cast kernel itself (the op skips same-dtype casts).
    kernel: 'cast',
    name: 'cast float64 → float64',
    inputs: () => [uniform(SH, -2, 2)],
    fn: ([x]) => ENGINE.runKernel('cast', [x], { dtype: 'float64' })[0],
  },
  {
    // Rounding to float32 (relative 6e-8 of |x| ≤ 2) over a step of 2·1e-2 gives FD noise ~1e-5.
    kernel: 'cast',
    name: 'cast through float32',
    inputs: () => [uniform(SH, -2, 2)],
    fn: ([x]) => V.cast(V.cast(x, 'float32'), 'float64'),
    h: 1e-2,
    tol: 1e-4,
  },
];

const X3: Shape = [2, 3, 4];

function reduceCases(kernel: 'sum' | 'prod' | 'max' | 'min' | 'logsumexp', make: (s: Shape) => Tensor): GradCase[] {
  const f = V[kernel];
  const variants: [number[] | undefined, boolean][] = [
    [undefined, false],
    [[1], false],
    [[0, 2], false],
    [[0, 2], true],
    [[-1], true],
  ];
  return variants.map(([axes, keep]) => ({
    kernel,
    name: `${kernel} over ${axes === undefined ? 'all axes' : `[${axes.join(',')}]`}${keep ? ' keepDims' : ''}`,
    inputs: () => [make(X3)],
    fn: ([x]) => f(x, axes, keep),
  }));
}

const REDUCE_CASES: GradCase[] = [
  ...reduceCases('sum', u(-2, 2)),
  ...reduceCases('prod', (s) => awayFromZero(s, 0.6, 1.4)),
  {
    // A product is linear in each factor, so central differences are exact even at 0.
    kernel: 'prod',
    name: 'prod with zeros: none, one, two per row',
    inputs: () => [V.tensor([[0.9, -1.2, 1.1, 0.7], [1.3, 0, -0.8, 1.5], [0, 1.1, 0, -0.6]])],
    fn: ([x]) => V.prod(x, 1),
  },
  {
    kernel: 'prod',
    name: 'prod with one zero, keepDims over axis 0',
    inputs: () => [V.tensor([[0.9, 0, 1.1], [1.3, 0.5, -0.8]])],
    fn: ([x]) => V.prod(x, 0, true),
  },
  ...reduceCases('max', distinct),
  ...reduceCases('min', distinct),
  ...reduceCases('logsumexp', u(-3, 3)),
  { kernel: 'softmax', name: 'softmax over the last axis', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.softmax(x) },
  { kernel: 'softmax', name: 'softmax over axis 1', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.softmax(x, 1) },
  { kernel: 'logSoftmax', name: 'logSoftmax over the last axis', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.logSoftmax(x) },
  { kernel: 'logSoftmax', name: 'logSoftmax over axis 0', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.logSoftmax(x, 0) },
  { kernel: 'cumsum', name: 'cumsum over the last axis', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.cumsum(x) },
  { kernel: 'cumsum', name: 'cumsum reversed over axis 1', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.cumsum(x, 1, true) },
];

const SHAPE_CASES: GradCase[] = [
  { kernel: 'reshape', name: 'reshape [2,3,4] → [6,4]', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.reshape(x, [6, 4]) },
  { kernel: 'transpose', name: 'transpose perm [2,0,1]', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.transpose(x, [2, 0, 1]) },
  { kernel: 'transpose', name: 'transpose reversed', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.transpose(x) },
  { kernel: 'slice', name: 'slice a 2×2 block of 4×5', inputs: () => [uniform([4, 5], -2, 2)], fn: ([x]) => V.slice(x, [1, 2], [2, 2]) },
  { kernel: 'slice', name: 'slice to the end of axis 2', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.slice(x, [1, 0, 1]) },
  { kernel: 'pad', name: 'pad with a value', inputs: () => [uniform([2, 3], -2, 2)], fn: ([x]) => V.pad(x, [1, 0], [0, 2], 3.5) },
  { kernel: 'pad', name: 'pad rank 3', inputs: () => [uniform([2, 2, 2], -2, 2)], fn: ([x]) => V.pad(x, [0, 1, 2], [1, 0, 1]) },
  {
    kernel: 'gather',
    name: 'gather rows with repeated indices',
    inputs: () => [uniform([4, 3], -2, 2)],
    fn: ([x]) => V.gather(x, ints([3, 1, 3, 0, 3]), 0),
  },
  {
    kernel: 'gather',
    name: 'gather along axis 1 with 2-d repeated indices',
    inputs: () => [uniform([2, 3, 2], -2, 2)],
    fn: ([x]) => V.gather(x, ints([0, 2, 2, 2], [2, 2]), 1),
  },
  {
    kernel: 'scatterAdd',
    name: 'scatterAdd with repeated indices along axis 1',
    inputs: () => [uniform([2, 5], -2, 2)],
    fn: ([x]) => V.scatterAdd(x, ints([1, 3, 1, 0, 1]), 1, 4),
  },
  {
    kernel: 'scatterAdd',
    name: 'scatterAdd with 2-d indices along axis 0',
    inputs: () => [uniform([2, 2, 3], -2, 2)],
    fn: ([x]) => V.scatterAdd(x, ints([2, 0, 2, 2], [2, 2]), 0, 3),
  },
  {
    kernel: 'concat',
    name: 'concat three along axis 1',
    inputs: () => [uniform([2, 1, 3], -2, 2), uniform([2, 2, 3], -2, 2), uniform([2, 3, 3], -2, 2)],
    fn: (xs) => V.concat(xs, 1),
  },
  { kernel: 'concat', name: 'concat two along axis 0', inputs: () => [uniform([1, 3], -2, 2), uniform([2, 3], -2, 2)], fn: (xs) => V.concat(xs, 0) },
  { kernel: 'broadcastTo', name: 'broadcastTo [3,1] → [2,3,4]', inputs: () => [uniform([3, 1], -2, 2)], fn: ([x]) => V.broadcastTo(x, X3) },
  { kernel: 'broadcastTo', name: 'broadcastTo [] → [2,2]', inputs: () => [uniform([], -2, 2)], fn: ([x]) => V.broadcastTo(x, [2, 2]) },
  { kernel: 'diagonal', name: 'diagonal of a batch of squares', inputs: () => [uniform([2, 3, 3], -2, 2)], fn: ([x]) => V.diagonal(x) },
  { kernel: 'diagonal', name: 'diagonal of a wide matrix', inputs: () => [uniform([3, 4], -2, 2)], fn: ([x]) => V.diagonal(x) },
  { kernel: 'diagonal', name: 'diagonal of a tall matrix', inputs: () => [uniform([4, 2], -2, 2)], fn: ([x]) => V.diagonal(x) },
  { kernel: 'diagEmbed', name: 'diagEmbed of a batch', inputs: () => [uniform([2, 3], -2, 2)], fn: ([x]) => V.diagEmbed(x) },
  { kernel: 'tril', name: 'tril k = 0', inputs: () => [uniform([3, 3], -2, 2)], fn: ([x]) => V.tril(x) },
  { kernel: 'tril', name: 'tril k = −1, batched, wide', inputs: () => [uniform(X3, -2, 2)], fn: ([x]) => V.tril(x, -1) },
  { kernel: 'tril', name: 'tril k = 1', inputs: () => [uniform([4, 3], -2, 2)], fn: ([x]) => V.tril(x, 1) },
];

function matmulCase(sa: Shape, sb: Shape, transA: boolean, transB: boolean): GradCase {
  return {
    kernel: 'matmul',
    name: `matmul [${sa.join(',')}]${transA ? 'ᵀ' : ''} · [${sb.join(',')}]${transB ? 'ᵀ' : ''}`,
    inputs: () => [uniform(sa, -1, 1), uniform(sb, -1, 1)],
    fn: ([a, b]) => V.matmul(a, b, { transA, transB }),
  };
}

function solveCase(sa: Shape, sb: Shape, lower: boolean, transA: boolean): GradCase {
  return {
    kernel: 'triangularSolve',
    name: `triangularSolve ${lower ? 'lower' : 'upper'}${transA ? 'ᵀ' : ''} [${sa.join(',')}] \\ [${sb.join(',')}]`,
    // The whole of A is random: the other triangle must get a zero gradient.
    inputs: () => [triOperand(sa), uniform(sb, -1, 1)],
    fn: ([a, b]) => V.triangularSolve(a, b, { lower, transA }),
  };
}

const LINALG_CASES: GradCase[] = [
  matmulCase([3, 4], [4, 2], false, false),
  matmulCase([4, 3], [4, 2], true, false),
  matmulCase([3, 4], [2, 4], false, true),
  matmulCase([4, 3], [2, 4], true, true),
  matmulCase([2, 1, 3, 4], [3, 4, 2], false, false),
  matmulCase([1, 4, 3], [2, 2, 4], true, true),
  matmulCase([2, 3, 4], [4, 2], false, false),
  matmulCase([3, 4], [2, 2, 4], false, true),
  {
    // cholesky reads a symmetric matrix; the case symmetrizes x so that the finite differences
    // do not depend on which triangle the kernel reads (the rule returns the symmetric gradient).
    kernel: 'cholesky',
    name: 'cholesky of (x + xᵀ)/2 + 3I',
    inputs: () => [uniform([3, 3], -1, 1)],
    fn: ([x]) => V.cholesky(spd(x)),
  },
  {
    kernel: 'cholesky',
    name: 'cholesky of a batch of 4×4',
    inputs: () => [uniform([2, 4, 4], -1, 1)],
    fn: ([x]) => V.cholesky(spd(x)),
  },
  solveCase([3, 3], [3, 2], true, false),
  solveCase([3, 3], [3, 2], false, false),
  solveCase([3, 3], [3, 2], true, true),
  solveCase([3, 3], [3, 2], false, true),
  solveCase([3, 3], [2, 3, 2], true, false),
  solveCase([2, 3, 3], [3, 1], false, true),
];

const BESSEL_CASES: GradCase[] = [
  { kernel: 'besselI0e', name: 'besselI0e on ±[0.05, 8)', inputs: () => [awayFromZero([3, 4], 0.05, 8)], fn: ([x]) => besselI0e(x) },
  { kernel: 'besselI0e', name: 'besselI0e past the asymptotic switch', inputs: () => [uniform([5], 26, 60)], fn: ([x]) => besselI0e(x) },
  { kernel: 'besselI1e', name: 'besselI1e on ±[0.05, 8)', inputs: () => [awayFromZero([3, 4], 0.05, 8)], fn: ([x]) => besselI1e(x) },
  { kernel: 'besselI1e', name: 'besselI1e past the asymptotic switch', inputs: () => [uniform([5], 26, 60)], fn: ([x]) => besselI1e(x) },
  // i1e is smooth through 0 (i1e′(0) = ½): a tensor holding an exact 0 checks the guarded 1/x.
  { kernel: 'besselI1e', name: 'besselI1e at and near 0', inputs: () => [V.tensor([0, 1e-3, -2e-3])], fn: ([x]) => besselI1e(x) },
];

/**
 * The fused Gaussian kernels, both outputs of normalReparam separately and together. A fixed key
 * makes ε the same at every evaluation, so the sample is a smooth function of loc and logScale.
 */
function gaussCases(sl: Shape, ss: Shape): GradCase[] {
  const k = V.key(11);
  const inputs = (): Tensor[] => [uniform(sl, -2, 2), uniform(ss, -1, 1)];
  const shapes = `[${sl.join(',')}] with [${ss.join(',')}]`;
  return [
    { kernel: 'normalReparam', name: `normalReparam z, ${shapes}`, inputs, fn: ([m, s]) => V.normalReparam(m, s, k)[0] },
    { kernel: 'normalReparam', name: `normalReparam log q, ${shapes}`, inputs, fn: ([m, s]) => V.normalReparam(m, s, k)[1] },
    {
      kernel: 'normalReparam',
      name: `normalReparam z·log q, ${shapes}`,
      inputs,
      fn: ([m, s]) => {
        const [z, logq] = V.normalReparam(m, s, k);
        return V.mul(z, logq);
      },
    },
    { kernel: 'diagNormalKL', name: `diagNormalKL ${shapes}`, inputs, fn: ([m, s]) => V.diagNormalKL(m, s) },
  ];
}

const GAUSS_CASES: GradCase[] = [...gaussCases([2, 3], [2, 3]), ...gaussCases([2, 1, 3], [4, 1]), ...gaussCases([], [2, 2])];

/**
 * mvnReparam, z and log q separately and together, with a fixed key (ε fixed): L's diagonal is
 * kept away from 0 (one negative entry) and its upper triangle, which is ignored, gets gradient 0.
 */
function mvnCases(sl: Shape, sL: Shape): GradCase[] {
  const k = V.key(17);
  const d = sL[sL.length - 1];
  // Made per call, on the backend active then (a tensor made at import would live on another device).
  const sign = (): Tensor => V.tensor(Array.from({ length: d }, (_, i) => (i === 1 ? -1.5 : 1.5)));
  const inputs = (): Tensor[] => [uniform(sl, -2, 2), V.add(uniform(sL, -0.5, 0.5), V.diagEmbed(sign()))];
  const shapes = `[${sl.join(',')}] with [${sL.join(',')}]`;
  return [
    { kernel: 'mvnReparam', name: `mvnReparam z, ${shapes}`, inputs, fn: ([m, l]) => V.mvnReparam(m, l, k)[0] },
    { kernel: 'mvnReparam', name: `mvnReparam log q, ${shapes}`, inputs, fn: ([m, l]) => V.mvnReparam(m, l, k)[1] },
    {
      kernel: 'mvnReparam',
      name: `mvnReparam z·log q, ${shapes}`,
      inputs,
      fn: ([m, l]) => {
        const [z, logq] = V.mvnReparam(m, l, k);
        return V.mul(z, V.expandDims(logq, -1));
      },
    },
  ];
}

const MVN_CASES: GradCase[] = [...mvnCases([3], [3, 3]), ...mvnCases([2, 1, 3], [4, 3, 3]), ...mvnCases([4, 2], [2, 2])];

/**
 * The affine flow step in each mode, y and logdet together (y + logdet over its row) and logdet
 * alone, with x, shift and s broadcast against each other, with and without a coupling mask.
 */
function flowCases(sx: Shape, sh: Shape, ss: Shape, mask?: number[]): GradCase[] {
  const inputs = (): Tensor[] => [uniform(sx, -2, 2), uniform(sh, -1, 1), uniform(ss, -1.5, 1.5)];
  const what = `x [${sx.join(',')}], shift [${sh.join(',')}], s [${ss.join(',')}]${mask ? ` mask [${mask.join(',')}]` : ''}`;
  const modes: [string, V.AffineFlowOptions][] = [
    ['exp', {}],
    ['exp inverse', { inverse: true }],
    ['sigmoid', { gate: 'sigmoid' }],
  ];
  return modes.flatMap(([mode, o]): GradCase[] => {
    const opts = { ...o, mask };
    return [
      {
        kernel: 'affineFlow',
        name: `affineFlow ${mode} y + logdet, ${what}`,
        inputs,
        fn: ([x, h, s]) => {
          const [y, logdet] = V.affineFlow(x, h, s, opts);
          return V.add(y, V.expandDims(logdet, -1));
        },
      },
      { kernel: 'affineFlow', name: `affineFlow ${mode} logdet, ${what}`, inputs, fn: ([x, h, s]) => V.affineFlow(x, h, s, opts)[1] },
    ];
  });
}

const FLOW_CASES: GradCase[] = [...flowCases([2, 3], [3], [2, 1, 3]), ...flowCases([3, 4], [3, 4], [3, 4], [1, 0, 0, 1]), ...flowCases([4], [], [2, 4], [0, 1, 1, 0])];

/**
 * The rational-quadratic spline, forward and inverse, y, logdet and both together, in x and all
 * three unnormalized parameter arrays; points inside the bound (the identity tails have no
 * parameter gradient), parameters broadcast over a batch and along it.
 */
function splineCases(sx: Shape, sp: Shape, k: number): GradCase[] {
  const inputs = (): Tensor[] => [uniform(sx, -2.6, 2.6), uniform([...sp, k], -1.5, 1.5), uniform([...sp, k], -1.5, 1.5), uniform([...sp, k - 1], -1.5, 1.5)];
  const what = `x [${sx.join(',')}], parameters [${sp.join(',')}, K=${k}]`;
  return [false, true].flatMap((inverse): GradCase[] => {
    const mode = inverse ? 'inverse' : 'forward';
    const f = ([x, w, h, d]: readonly Tensor[]): [Tensor, Tensor] => V.rqSpline(x, w, h, d, { bound: 3, inverse });
    return [
      { kernel: 'rqSpline', name: `rqSpline ${mode} y, ${what}`, inputs, fn: (t) => f(t)[0] },
      { kernel: 'rqSpline', name: `rqSpline ${mode} logdet, ${what}`, inputs, fn: (t) => f(t)[1] },
      {
        kernel: 'rqSpline',
        name: `rqSpline ${mode} y·logdet, ${what}`,
        inputs,
        fn: (t) => {
          const [y, logdet] = f(t);
          return V.mul(y, logdet);
        },
      },
    ];
  });
}

const SPLINE_CASES: GradCase[] = [...splineCases([2, 3], [3], 4), ...splineCases([3], [2, 3], 5), ...splineCases([4], [4], 1)];

/** Every gradient case. */
export const CASES: readonly GradCase[] = [...ELEMENTWISE_CASES, ...REDUCE_CASES, ...SHAPE_CASES, ...LINALG_CASES, ...BESSEL_CASES, ...GAUSS_CASES, ...MVN_CASES, ...FLOW_CASES, ...SPLINE_CASES];
