/**
 * The cpu backend: Rust kernels from native/ (a napi-rs addon) over the same typed arrays as the js
 * backend, read and written in place. Each kernel sends small tensors to the js kernels instead,
 * below a crossover size measured with bench/kernels/crossover.ts (a napi call costs ~0.1–0.3 µs,
 * more than the whole js loop for a handful of elements).
 */
import { createRequire } from 'node:module';
import { allocArray, type DType, type TypedArray } from '../../core/dtype.js';
import { BackendError, NotPositiveDefiniteError, ValueError } from '../../core/errors.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../core/shape.js';
import {
  BINARY_OPS,
  COMPARE_OPS,
  REDUCE_OPS,
  UNARY_OPS,
  type BinaryOp,
  type CompareOp,
  type KernelAttrs,
  type KernelName,
  type ReduceOp,
  type UnaryOp,
} from '../../kernels/spec.js';
import type { Backend, CpuKernel, CpuKernelTable, CpuView } from '../backend.js';
import { JS_KERNELS } from '../js/index.js';
import { checkTriangularDiagonal } from '../js/linalg.js';
import { splineLayout } from '../js/spline.js';
import { addonCandidates, nativeFixHint, platformTriple, type AddonCandidate } from './locate.js';

export interface LoadResult {
  backend?: Backend;
  /** Why the backend is unavailable. */
  reason?: string;
}

/** The addon's exports (see native/src; native/index.d.ts is the generated declaration). */
interface Native {
  abiVersion(): number;
  numThreads(): number;
  unary(op: number, x: TypedArray, out: TypedArray): void;
  binary(op: number, a: TypedArray, b: TypedArray, out: TypedArray, meta?: Int32Array | null): void;
  clamp(x: TypedArray, out: TypedArray, lo: number, hi: number): void;
  cast(x: TypedArray, out: TypedArray): void;
  where(cond: TypedArray, a: TypedArray, b: TypedArray, out: TypedArray, meta: Int32Array): void;
  reduce(op: number, x: TypedArray, out: TypedArray, meta: Int32Array): void;
  argReduce(op: number, x: TypedArray, out: TypedArray, outer: number, n: number, inner: number): void;
  softmax(x: TypedArray, out: TypedArray, outer: number, n: number, inner: number, log: boolean): void;
  cumsum(x: TypedArray, out: TypedArray, outer: number, n: number, inner: number, reverse: boolean): void;
  matmul(a: TypedArray, b: TypedArray, out: TypedArray, batch: number, m: number, n: number, k: number, transA: boolean, transB: boolean, bidx?: Int32Array | null): void;
  cholesky(x: TypedArray, out: TypedArray, n: number): number[] | null;
  triangularSolve(a: TypedArray, b: TypedArray, out: TypedArray, batch: number, n: number, k: number, lower: boolean, transA: boolean, bidx?: Int32Array | null): void;
  stridedCopy(x: TypedArray, out: TypedArray, meta: Int32Array, offset: number): void;
  pad(x: TypedArray, out: TypedArray, meta: Int32Array, value: number): void;
  gather(x: TypedArray, idx: TypedArray, out: TypedArray, outer: number, size: number, inner: number, axis: number): void;
  scatterAdd(upd: TypedArray, idx: TypedArray, out: TypedArray, outer: number, size: number, inner: number, axis: number): void;
  concat(xs: TypedArray[], out: TypedArray, outer: number, blocks: Int32Array): void;
  oneHot(idx: TypedArray, out: TypedArray, depth: number): void;
  diagEmbed(x: TypedArray, out: TypedArray, n: number): void;
  tril(x: TypedArray, out: TypedArray, m: number, n: number, k: number): void;
  randomBits(out: TypedArray, k0: number, k1: number): void;
  randomUniform(out: TypedArray, k0: number, k1: number): void;
  randomNormal(out: TypedArray, k0: number, k1: number): void;
  randomGamma(alpha: TypedArray, out: TypedArray, k0: number, k1: number): void;
  randomPoisson(rate: TypedArray, out: TypedArray, k0: number, k1: number): void;
  randomVonMises(kappa: TypedArray, out: TypedArray, k0: number, k1: number): void;
  svgdPhi(x: TypedArray, g: TypedArray, phi: TypedArray, h: TypedArray, n: number, d: number, bandwidth: number): void;
  normalReparam(loc: TypedArray, logScale: TypedArray, z: TypedArray, logq: TypedArray, meta: Int32Array, k0: number, k1: number): void;
  mvnReparam(loc: TypedArray, scaleTril: TypedArray, z: TypedArray, logq: TypedArray, meta: Int32Array, d: number, k0: number, k1: number): void;
  affineFlow(x: TypedArray, shift: TypedArray, s: TypedArray, mask: TypedArray | null, y: TypedArray, logdet: TypedArray, meta: Int32Array, ix: number, ih: number, is: number, mode: number): void;
  rqSpline(x: TypedArray, widths: TypedArray, heights: TypedArray, derivatives: TypedArray, y: TypedArray, logdet: TypedArray, meta: Int32Array, k: number, bound: number, inverse: boolean): void;
  rqSplineGrad(x: TypedArray, widths: TypedArray, heights: TypedArray, derivatives: TypedArray, dy: TypedArray, dlogdet: TypedArray, dx: TypedArray, dw: TypedArray, dh: TypedArray, dd: TypedArray, meta: Int32Array, k: number, bound: number, inverse: boolean): void;
  fusedLoop(prog: Int32Array, scalars: Float64Array, arrays: TypedArray[], n: number, acc: Float64Array): void;
  binarizeBatch(images: Uint8Array, starts: Int32Array, dim: number, k0: number, k1: number, out: Float32Array): void;
  mixtureQuad(x: Float64Array, m: Float64Array, a: Float64Array, out: Float64Array, d: number, k: number): void;
  mixtureScatter(x: Float64Array, r: Float64Array, c: Float64Array, out: Float64Array, d: number, k: number): void;
  mixtureDiagQuad(x: Float64Array, m: Float64Array, w: Float64Array, out: Float64Array, d: number, k: number): void;
  mixtureDiagMoments(x: Float64Array, r: Float64Array, shift: Float64Array, out: Float64Array, d: number, k: number): void;
}

const ABI_VERSION = 8;

/**
 * Crossover sizes (elements of work) below which a kernel runs on js. Measured with
 * `npx tsx bench/kernels/crossover.ts` on the project's 2-core machine (a napi call costs ~0.25 µs
 * there; a js add of 16 float64 ~40 ns).
 */
export const CROSSOVER = {
  /** Cheap elementwise ops (add, mul, neg, compare, where, cast): output elements (add f64 crossed at 128–256). */
  elementwise: 128,
  /** Transcendental unary ops (exp, log, lgamma, ...) and pow: output elements (exp crossed at 16). */
  transcendental: 16,
  /** Reductions, softmax, cumsum, arg-reductions: input elements (sum crossed at 64–256). */
  reduce: 128,
  /** Data movement (transpose, slice, gather, concat, pad, ...): output elements (transpose crossed at ~256). */
  shape: 128,
  /** matmul and triangular solves: multiply-adds batch·m·n·k (native won from 2×2 on). */
  matmul: 64,
  /** Cholesky: batch·n³. */
  cholesky: 512,
  /** Random kernels: output elements (normal crossed at ~32). */
  random: 32,
  /** svgdPhi: pairwise work n²·d (native won from n = 3, d = 2 on, 0.75 against 0.91 µs). */
  svgd: 16,
};

// VARINF_CPU_CROSSOVER=0 sends every size to native (the conformance suite uses it to test the
// native kernels on small cases too); a positive number scales every crossover.
const crossoverScale = Number(process.env.VARINF_CPU_CROSSOVER ?? '1');
if (Number.isFinite(crossoverScale) && crossoverScale >= 0 && crossoverScale !== 1)
  for (const k of Object.keys(CROSSOVER) as (keyof typeof CROSSOVER)[]) CROSSOVER[k] = Math.round(CROSSOVER[k] * crossoverScale);

/** Unary ops cheap enough that js wins longer. */
const CHEAP_UNARY = new Set<UnaryOp>(['neg', 'abs', 'sign', 'reciprocal', 'square', 'sqrt', 'rsqrt', 'relu', 'floor', 'ceil']);

function js<N extends KernelName>(name: N): CpuKernel<N> {
  const k = JS_KERNELS[name] as CpuKernel<N> | undefined;
  if (k === undefined) throw new BackendError(`cpu backend: js kernel '${name}' is missing`);
  return k;
}

/** `[rank, outShape, strides of each input broadcast to outShape]`. */
function bcastMeta(out: Shape, ...ins: Shape[]): Int32Array {
  const r = out.length;
  const m = new Int32Array(1 + r * (ins.length + 1));
  m[0] = r;
  m.set(out, 1);
  ins.forEach((s, i) => m.set(broadcastStrides(s, out), 1 + r * (i + 1)));
  return m;
}

/** Sizes before, at and after `axis`. */
function aroundAxis(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

/**
 * Matrix indices of each output batch for operands with batch shapes `a` and `b` broadcast to
 * `out`, or null when each operand is either a single matrix or has the full batch (the native
 * default indexing).
 */
function batchIndex(a: Shape, b: Shape, out: Shape): Int32Array | null {
  const batch = sizeOf(out);
  const na = sizeOf(a);
  const nb = sizeOf(b);
  if ((na === batch || na === 1) && (nb === batch || nb === 1)) return null;
  const sa = broadcastStrides(a, out);
  const sb = broadcastStrides(b, out);
  const ix = new Int32Array(2 * batch);
  const rank = out.length;
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let t = 0; t < batch; t++) {
    ix[t] = ia;
    ix[batch + t] = ib;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < out[d]) break;
      ia -= sa[d] * out[d];
      ib -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
  return ix;
}

/** Runs a native call, turning the addon's index errors into the ValueError the js kernels throw. */
function indexErrors(f: () => void): void {
  try {
    f();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/out of range/.test(msg)) throw new ValueError(msg);
    throw e;
  }
}

/** The kernel table over the addon, each with its js crossover. */
function buildKernels(N: Native): CpuKernelTable {
  const K: CpuKernelTable = {};
  const C = CROSSOVER;

  UNARY_OPS.forEach((op, code) => {
    const small = js(op);
    const min = CHEAP_UNARY.has(op) ? C.elementwise : C.transcendental;
    K[op] = (ins, outs, attrs) => {
      const out = outs[0];
      if (out.data.length < min) return small(ins, outs, attrs);
      N.unary(code, ins[0].data, out.data);
    };
  });

  const binaryKernel = (name: BinaryOp | CompareOp | 'igamma' | 'gammaSampleGrad' | 'vonMisesSampleGrad' | 'diagNormalKL', code: number, min: number): void => {
    const small = js(name);
    (K as Record<string, CpuKernel<BinaryOp>>)[name] = (ins, outs, attrs) => {
      const [a, b] = ins;
      const out = outs[0];
      const n = out.data.length;
      if (n < min) return small(ins, outs, attrs);
      const plain = (a.data.length === n || a.data.length === 1) && (b.data.length === n || b.data.length === 1);
      N.binary(code, a.data, b.data, out.data, plain ? null : bcastMeta(out.shape, a.shape, b.shape));
    };
  };
  BINARY_OPS.forEach((op, code) => binaryKernel(op, code, op === 'pow' ? C.transcendental : C.elementwise));
  COMPARE_OPS.forEach((op, code) => binaryKernel(op, 7 + code, C.elementwise));
  binaryKernel('igamma', 13, Math.min(1, C.transcendental));
  binaryKernel('gammaSampleGrad', 14, Math.min(1, C.transcendental));
  binaryKernel('vonMisesSampleGrad', 15, Math.min(1, C.transcendental));
  binaryKernel('diagNormalKL', 16, C.transcendental);
  // Unary codes past UNARY_OPS: the scaled Bessel functions.
  (['besselI0e', 'besselI1e'] as const).forEach((op, i) => {
    K[op] = (ins, outs, attrs) => {
      if (outs[0].data.length < Math.min(2, C.transcendental)) return js(op)(ins, outs, attrs);
      N.unary(24 + i, ins[0].data, outs[0].data);
    };
  });

  K.clamp = (ins, outs, attrs) => {
    if (outs[0].data.length < C.elementwise) return js('clamp')(ins, outs, attrs);
    N.clamp(ins[0].data, outs[0].data, attrs.min, attrs.max);
  };
  K.cast = (ins, outs, attrs) => {
    if (outs[0].data.length < C.elementwise) return js('cast')(ins, outs, attrs);
    N.cast(ins[0].data, outs[0].data);
  };
  K.where = (ins, outs, attrs) => {
    const out = outs[0];
    if (out.data.length < C.elementwise) return js('where')(ins, outs, attrs);
    const [c, a, b] = ins;
    N.where(c.data, a.data, b.data, out.data, bcastMeta(out.shape, c.shape, a.shape, b.shape));
  };

  REDUCE_OPS.forEach((op: ReduceOp, code) => {
    const small = js(op);
    K[op] = (ins, outs, attrs) => {
      const x = ins[0];
      if (x.data.length < C.reduce) return small(ins, outs, attrs);
      const r = x.shape.length;
      const meta = new Int32Array(1 + 2 * r);
      meta[0] = r;
      meta.set(x.shape, 1);
      for (const a of attrs.axes) meta[1 + r + a] = 1;
      N.reduce(code, x.data, outs[0].data, meta);
    };
  });
  (['argmax', 'argmin'] as const).forEach((op, code) => {
    K[op] = (ins, outs, attrs) => {
      const x = ins[0];
      if (x.data.length < C.reduce) return js(op)(ins, outs, attrs);
      const [outer, n, inner] = aroundAxis(x.shape, attrs.axis);
      N.argReduce(code, x.data, outs[0].data, outer, n, inner);
    };
  });
  (['softmax', 'logSoftmax'] as const).forEach((op) => {
    K[op] = (ins, outs, attrs) => {
      const x = ins[0];
      if (x.data.length < C.reduce) return js(op)(ins, outs, attrs);
      const [outer, n, inner] = aroundAxis(x.shape, attrs.axis);
      N.softmax(x.data, outs[0].data, outer, n, inner, op === 'logSoftmax');
    };
  });
  K.cumsum = (ins, outs, attrs) => {
    const x = ins[0];
    if (x.data.length < C.reduce) return js('cumsum')(ins, outs, attrs);
    const [outer, n, inner] = aroundAxis(x.shape, attrs.axis);
    N.cumsum(x.data, outs[0].data, outer, n, inner, attrs.reverse);
  };

  K.matmul = (ins, outs, attrs) => {
    const [a, b] = ins;
    const out = outs[0];
    const ro = out.shape.length;
    const m = out.shape[ro - 2];
    const n = out.shape[ro - 1];
    const ra = a.shape.length;
    const k = attrs.transA ? a.shape[ra - 2] : a.shape[ra - 1];
    const batchShape = out.shape.slice(0, ro - 2);
    const batch = sizeOf(batchShape);
    if (batch * m * n * k < C.matmul) return js('matmul')(ins, outs, attrs);
    const bidx = batchIndex(a.shape.slice(0, ra - 2), b.shape.slice(0, b.shape.length - 2), batchShape);
    N.matmul(a.data, b.data, out.data, batch, m, n, k, attrs.transA, attrs.transB, bidx);
  };
  K.cholesky = (ins, outs, attrs) => {
    const x = ins[0];
    const r = x.shape.length;
    const n = x.shape[r - 1];
    if (x.data.length * n < C.cholesky) return js('cholesky')(ins, outs, attrs);
    const fail = N.cholesky(x.data, outs[0].data, n);
    if (fail !== null) {
      const [bi, pivot, s] = fail;
      throw new NotPositiveDefiniteError(
        `cholesky: matrix ${bi} of the batch (shape [${x.shape.join(', ')}]) is not positive definite: pivot ${pivot} is ${s}`,
      );
    }
  };
  K.triangularSolve = (ins, outs, attrs) => {
    const [a, b] = ins;
    const out = outs[0];
    const ro = out.shape.length;
    const n = out.shape[ro - 2];
    const k = out.shape[ro - 1];
    const batchShape = out.shape.slice(0, ro - 2);
    const batch = sizeOf(batchShape);
    if (batch * n * n * k < C.matmul) return js('triangularSolve')(ins, outs, attrs);
    checkTriangularDiagonal(a.data, a.shape);
    const bidx = batchIndex(a.shape.slice(0, a.shape.length - 2), b.shape.slice(0, b.shape.length - 2), batchShape);
    N.triangularSolve(a.data, b.data, out.data, batch, n, k, attrs.lower, attrs.transA, bidx);
  };

  /** A strided copy: out (row-major over `shape`) from x at `offset + Σ idx·strides`. */
  const strided = (x: CpuView, out: CpuView, shape: Shape, strides: readonly number[], offset: number): void => {
    const r = shape.length;
    const meta = new Int32Array(1 + 2 * r);
    meta[0] = r;
    meta.set(shape, 1);
    meta.set(strides, 1 + r);
    N.stridedCopy(x.data, out.data, meta, offset);
  };
  K.reshape = ([x], [out]) => out.data.set(x.data);
  K.transpose = (ins, outs, attrs) => {
    const [x] = ins;
    if (x.data.length < C.shape) return js('transpose')(ins, outs, attrs);
    const st = stridesOf(x.shape);
    strided(x, outs[0], outs[0].shape, attrs.perm.map((p) => st[p]), 0);
  };
  K.slice = (ins, outs, attrs) => {
    const [x] = ins;
    const out = outs[0];
    if (out.data.length < C.shape) return js('slice')(ins, outs, attrs);
    const st = stridesOf(x.shape);
    let base = 0;
    for (let i = 0; i < attrs.begin.length; i++) base += attrs.begin[i] * st[i];
    strided(x, out, out.shape, st, base);
  };
  K.broadcastTo = (ins, outs, attrs) => {
    const [x] = ins;
    const out = outs[0];
    if (out.data.length < C.shape) return js('broadcastTo')(ins, outs, attrs);
    strided(x, out, out.shape, broadcastStrides(x.shape, out.shape), 0);
  };
  K.diagonal = (ins, outs, attrs) => {
    const [x] = ins;
    const out = outs[0];
    if (out.data.length < C.shape) return js('diagonal')(ins, outs, attrs);
    const r = x.shape.length;
    const st = stridesOf(x.shape);
    strided(x, out, out.shape, [...st.slice(0, r - 2), x.shape[r - 1] + 1], 0);
  };
  K.pad = (ins, outs, attrs) => {
    const [x] = ins;
    const out = outs[0];
    if (out.data.length < C.shape) return js('pad')(ins, outs, attrs);
    const r = x.shape.length;
    const meta = new Int32Array(1 + 3 * r);
    meta[0] = r;
    meta.set(x.shape, 1);
    meta.set(attrs.before, 1 + r);
    meta.set(attrs.after, 1 + 2 * r);
    N.pad(x.data, out.data, meta, attrs.value);
  };
  K.gather = (ins, outs, attrs) => {
    const [x, idx] = ins;
    const out = outs[0];
    if (out.data.length < C.shape) return js('gather')(ins, outs, attrs);
    const [outer, size, inner] = aroundAxis(x.shape, attrs.axis);
    indexErrors(() => N.gather(x.data, idx.data, out.data, outer, size, inner, attrs.axis));
  };
  K.scatterAdd = (ins, outs, attrs) => {
    const [upd, idx] = ins;
    const out = outs[0];
    if (out.data.length < C.shape && upd.data.length < C.shape) return js('scatterAdd')(ins, outs, attrs);
    const [outer, , inner] = aroundAxis(out.shape, attrs.axis);
    indexErrors(() => N.scatterAdd(upd.data, idx.data, out.data, outer, attrs.size, inner, attrs.axis));
  };
  K.concat = (ins, outs, attrs) => {
    const out = outs[0];
    if (out.data.length < C.shape) return js('concat')(ins, outs, attrs);
    const [outer, , inner] = aroundAxis(out.shape, attrs.axis);
    const blocks = Int32Array.from(ins, (x) => x.shape[attrs.axis] * inner);
    N.concat(
      ins.map((x) => x.data),
      out.data,
      outer,
      blocks,
    );
  };
  K.oneHot = (ins, outs, attrs) => {
    const out = outs[0];
    if (out.data.length < C.shape) return js('oneHot')(ins, outs, attrs);
    N.oneHot(ins[0].data, out.data, attrs.depth);
  };
  K.diagEmbed = (ins, outs, attrs) => {
    const out = outs[0];
    if (out.data.length < C.shape) return js('diagEmbed')(ins, outs, attrs);
    N.diagEmbed(ins[0].data, out.data, ins[0].shape[ins[0].shape.length - 1]);
  };
  K.tril = (ins, outs, attrs) => {
    const [x] = ins;
    if (x.data.length < C.shape) return js('tril')(ins, outs, attrs);
    const r = x.shape.length;
    N.tril(x.data, outs[0].data, x.shape[r - 2], x.shape[r - 1], attrs.k);
  };

  K.randomBits = (ins, outs, attrs) => {
    if (outs[0].data.length < C.random) return js('randomBits')(ins, outs, attrs);
    N.randomBits(outs[0].data, attrs.key[0] >>> 0, attrs.key[1] >>> 0);
  };
  K.randomUniform = (ins, outs, attrs) => {
    if (outs[0].data.length < C.random) return js('randomUniform')(ins, outs, attrs);
    N.randomUniform(outs[0].data, attrs.key[0] >>> 0, attrs.key[1] >>> 0);
  };
  K.randomNormal = (ins, outs, attrs) => {
    if (outs[0].data.length < C.random) return js('randomNormal')(ins, outs, attrs);
    N.randomNormal(outs[0].data, attrs.key[0] >>> 0, attrs.key[1] >>> 0);
  };
  // The random crossover, as randomNormal's: below it both draw ε on js, so they agree.
  K.normalReparam = (ins, outs, attrs) => {
    const [z, logq] = outs;
    if (z.data.length < C.random) return js('normalReparam')(ins, outs, attrs);
    const [loc, logScale] = ins;
    N.normalReparam(loc.data, logScale.data, z.data, logq.data, bcastMeta(z.shape, loc.shape, logScale.shape), attrs.key[0] >>> 0, attrs.key[1] >>> 0);
  };
  // ε as randomNormal draws it on this backend: below the random crossover both draw on js.
  K.mvnReparam = (ins, outs, attrs) => {
    const [z, logq] = outs;
    if (z.data.length < C.random) return js('mvnReparam')(ins, outs, attrs);
    const [loc, l] = ins;
    const d = z.shape[z.shape.length - 1];
    const batch = z.shape.slice(0, -1);
    const sl = broadcastStrides(loc.shape.slice(0, -1), batch).map((s) => s * d);
    const sL = broadcastStrides(l.shape.slice(0, -2), batch).map((s) => s * d * d);
    const meta = Int32Array.from([batch.length, ...batch, ...sl, ...sL]);
    N.mvnReparam(loc.data, l.data, z.data, logq.data, meta, d, attrs.key[0] >>> 0, attrs.key[1] >>> 0);
  };
  // O(m) scalar work with a shuffle scratch that persists across calls: a native call would only
  // add its crossing cost, so the cpu backend runs the js kernel (same stream, same indices).
  K.randomSubset = js('randomSubset');
  K.randomGamma = (ins, outs, attrs) => {
    if (outs[0].data.length < Math.min(2, C.random)) return js('randomGamma')(ins, outs, attrs);
    N.randomGamma(ins[0].data, outs[0].data, attrs.key[0] >>> 0, attrs.key[1] >>> 0);
  };
  K.randomPoisson = (ins, outs, attrs) => {
    if (outs[0].data.length < Math.min(2, C.random)) return js('randomPoisson')(ins, outs, attrs);
    N.randomPoisson(ins[0].data, outs[0].data, attrs.key[0] >>> 0, attrs.key[1] >>> 0);
  };
  K.randomVonMises = (ins, outs, attrs) => {
    if (outs[0].data.length < Math.min(2, C.random)) return js('randomVonMises')(ins, outs, attrs);
    N.randomVonMises(ins[0].data, outs[0].data, attrs.key[0] >>> 0, attrs.key[1] >>> 0);
  };
  K.svgdPhi = (ins, outs, attrs) => {
    const [x, g] = ins;
    const [n, d] = x.shape;
    if (n * n * Math.max(d, 1) < C.svgd) return js('svgdPhi')(ins, outs, attrs);
    N.svgdPhi(x.data, g.data, outs[0].data, outs[1].data, n, d, attrs.bandwidth);
  };
  // x, shift and s strided over the batch dims (elementwise.rs's layout) and along the last axis.
  K.affineFlow = (ins, outs, attrs) => {
    const [y, logdet] = outs;
    if (y.data.length < C.transcendental) return js('affineFlow')(ins, outs, attrs);
    const [x, shift, s, mask] = ins;
    const r = y.shape.length - 1;
    const st = [x, shift, s].map((t) => broadcastStrides(t.shape, y.shape));
    const meta = new Int32Array(1 + 4 * r);
    meta[0] = r;
    meta.set(y.shape.slice(0, r), 1);
    st.forEach((v, i) => meta.set(v.slice(0, r), 1 + r * (i + 1)));
    const mode = attrs.gate === 'sigmoid' ? 2 : attrs.inverse ? 1 : 0;
    N.affineFlow(x.data, shift.data, s.data, mask?.data ?? null, y.data, logdet.data, meta, st[0][r], st[1][r], st[2][r], mode);
  };
  // Each element costs O(K) exps and logs: small calls stay on js.
  K.rqSpline = (ins, outs, attrs) => {
    const [y, logdet] = outs;
    if (y.data.length < C.transcendental) return js('rqSpline')(ins, outs, attrs);
    const [x, w, h, d] = ins;
    const meta = splineLayout(y.shape, x.shape, w.shape, h.shape, d.shape);
    N.rqSpline(x.data, w.data, h.data, d.data, y.data, logdet.data, meta, w.shape[w.shape.length - 1], attrs.bound, attrs.inverse);
  };
  K.rqSplineGrad = (ins, outs, attrs) => {
    const [dx, dw, dh, dd] = outs;
    if (dx.data.length < C.transcendental) return js('rqSplineGrad')(ins, outs, attrs);
    const [x, w, h, d, gy, gl] = ins;
    const meta = splineLayout(dx.shape, x.shape, w.shape, h.shape, d.shape);
    N.rqSplineGrad(x.data, w.data, h.data, d.data, gy.data, gl.data, dx.data, dw.data, dh.data, dd.data, meta, w.shape[w.shape.length - 1], attrs.bound, attrs.inverse);
  };
  return K;
}

class CpuBackend implements Backend<TypedArray> {
  readonly name = 'cpu';
  readonly device = 'cpu' as const;
  private readonly kernels: CpuKernelTable;

  constructor(
    readonly native: Native,
    readonly path: string,
  ) {
    this.kernels = buildKernels(native);
  }

  alloc(dtype: DType, size: number): TypedArray {
    return allocArray(dtype, size);
  }
  upload(data: TypedArray): TypedArray {
    return data;
  }
  readSync(data: TypedArray): TypedArray {
    return data;
  }
  read(data: TypedArray): Promise<TypedArray> {
    return Promise.resolve(data);
  }
  free(): void {}
  has(name: KernelName): boolean {
    return this.kernels[name] !== undefined;
  }
  run<N extends KernelName>(name: N, ins: readonly CpuView[], outs: readonly CpuView[], attrs: KernelAttrs[N]): void {
    // bfloat16 (bits in a Uint16Array) is the js reference's: the addon's kernels take float and int32 arrays.
    const k = (hasBf16(ins) || hasBf16(outs) ? JS_KERNELS[name] : this.kernels[name]) as CpuKernel<N> | undefined;
    if (k === undefined) throw new BackendError(`cpu backend: kernel '${name}' is not implemented`);
    k(ins, outs, attrs);
  }
  fusedLoop(prog: Int32Array, scalars: Float64Array, arrays: TypedArray[], n: number, acc: Float64Array): void {
    this.native.fusedLoop(prog, scalars, arrays, n, acc);
  }
  binarizeBatch(images: Uint8Array, starts: Int32Array, dim: number, k0: number, k1: number, out: Float32Array): void {
    this.native.binarizeBatch(images, starts, dim, k0, k1, out);
  }
  mixtureQuad(x: Float64Array, m: Float64Array, a: Float64Array, out: Float64Array, d: number, k: number): void {
    this.native.mixtureQuad(x, m, a, out, d, k);
  }
  mixtureScatter(x: Float64Array, r: Float64Array, c: Float64Array, out: Float64Array, d: number, k: number): void {
    this.native.mixtureScatter(x, r, c, out, d, k);
  }
  mixtureDiagQuad(x: Float64Array, m: Float64Array, w: Float64Array, out: Float64Array, d: number, k: number): void {
    this.native.mixtureDiagQuad(x, m, w, out, d, k);
  }
  mixtureDiagMoments(x: Float64Array, r: Float64Array, shift: Float64Array, out: Float64Array, d: number, k: number): void {
    this.native.mixtureDiagMoments(x, r, shift, out, d, k);
  }
}

/**
 * Loads the native addon from the first candidate that loads and has this version's ABI (see
 * locate.ts); never throws. The reason names every candidate that failed and how to fix it.
 */
export function loadCpuBackend(candidates: AddonCandidate[] = addonCandidates()): LoadResult {
  const failures: string[] = [];
  const require = createRequire(import.meta.url);
  for (const { path, origin } of candidates) {
    try {
      const native = require(path) as Native;
      const abi = typeof native.abiVersion === 'function' ? native.abiVersion() : undefined;
      if (abi === ABI_VERSION) return { backend: new CpuBackend(native, path) };
      failures.push(`${origin} (${path}) has native ABI ${abi ?? 'unknown'}, this varinf needs ${ABI_VERSION}: it is from another version`);
    } catch (e) {
      failures.push(`${origin} (${path}) failed to load: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  const why = failures.length > 0 ? failures.join('; ') : `no native addon for ${platformTriple()} is installed`;
  return { reason: `${why}; ${nativeFixHint()}` };
}

function hasBf16(views: readonly CpuView[]): boolean {
  for (let i = 0; i < views.length; i++) if (views[i].dtype === 'bfloat16') return true;
  return false;
}
