/**
 * The cuda backend: kernels from cuda/ over device memory. Storage is an opaque handle to a
 * device buffer from the addon's pooled allocator; the addon frees it when the engine does or,
 * failing that, when the handle is collected, and reports its bytes to V8 as external memory.
 * Kernels are queued on one CUDA stream; `readSync`/`read` wait for them.
 *
 * The TS side does the shape work (broadcast strides, axis permutations, batch strides) and calls
 * one small addon function per kernel family with plain numbers and arrays.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DType, TypedArray } from '../../core/dtype.js';
import { BackendError, NotPositiveDefiniteError } from '../../core/errors.js';
import { broadcastStrides, sizeOf, stridesOf } from '../../core/shape.js';
import {
  ARG_REDUCE_OPS,
  BINARY_OPS,
  COMPARE_OPS,
  KERNEL_NAMES,
  REDUCE_OPS,
  UNARY_OPS,
  type KernelAttrs,
  type KernelName,
} from '../../kernels/spec.js';
import type { Backend, DeviceGraphs, DeviceKey, View } from '../backend.js';
import type { LoadResult } from '../cpu/index.js';
import { zeroDiagonalError } from '../js/linalg.js';
import { splineLayout } from '../js/spline.js';

/** A device buffer handle (a JS external owned by the addon). */
export interface CudaHandle {
  readonly __cudaHandle: unique symbol;
}

/** A captured CUDA graph (a JS external owned by the addon; freed when collected). */
export interface CudaGraph {
  readonly __cudaGraph: unique symbol;
}

/** What the addon reports about device 0. */
export interface CudaDeviceInfo {
  count: number;
  name?: string;
  major?: number;
  minor?: number;
  multiprocessors?: number;
  totalMemory?: number;
  runtimeVersion?: number;
  driverVersion?: number;
  error?: string;
}

type H = CudaHandle;
type Dims = readonly number[];

/** The addon's functions (cuda/addon.cc), argument order as in cuda/kernels.h. */
export interface CudaAddon {
  info(): CudaDeviceInfo;
  alloc(bytes: number): H;
  free(h: H): void;
  upload(data: TypedArray): H;
  readSync(h: H, dt: number, n: number): TypedArray;
  read(h: H, dt: number, n: number): Promise<TypedArray>;
  sync(): void;
  memory(): { bytesInUse: number; bytesCached: number };
  trim(): void;
  /** float32 products: 0 full float32, 1 TF32, 2 bfloat16 inputs with float32 accumulation. */
  setMatmulPrecision(mode: number): void;
  /** Queues a copy of a host typed array into an existing buffer. */
  write(h: H, data: TypedArray): void;
  graphBegin(): void;
  graphEnd(): CudaGraph;
  graphAbort(): void;
  graphLaunch(g: CudaGraph): void;
  graphFree(g: CudaGraph): void;
  unary(op: string, dt: number, x: H, out: H, n: number): void;
  binary(op: string, dt: number, a: H, b: H, out: H, shape: Dims, sa: Dims, sb: Dims): void;
  compare(op: string, dt: number, a: H, b: H, out: H, shape: Dims, sa: Dims, sb: Dims): void;
  where(cdt: number, dt: number, c: H, a: H, b: H, out: H, shape: Dims, sc: Dims, sa: Dims, sb: Dims): void;
  clamp(dt: number, x: H, out: H, n: number, lo: number, hi: number): void;
  cast(from: number, to: number, x: H, out: H, n: number): void;
  reduce(op: string, dt: number, x: H, out: H, rows: number, len: number): void;
  argReduce(isMax: boolean, dt: number, x: H, out: H, rows: number, len: number): void;
  softmax(log: boolean, dt: number, x: H, out: H, outer: number, len: number, inner: number): void;
  cumsum(reverse: boolean, dt: number, x: H, out: H, outer: number, len: number, inner: number): void;
  matmul(dt: number, a: H, b: H, out: H, batch: Dims, aB: Dims, bB: Dims, m: number, n: number, k: number, tA: boolean, tB: boolean): void;
  stridedCopy(dt: number, x: H, out: H, shape: Dims, strides: Dims, base: number): void;
  pad(dt: number, x: H, out: H, inShape: Dims, before: Dims, outShape: Dims, value: number): void;
  gather(dt: number, x: H, idx: H, out: H, outer: number, axisLen: number, nIdx: number, inner: number): void;
  scatterAdd(dt: number, upd: H, idx: H, out: H, outer: number, size: number, nIdx: number, inner: number): void;
  oneHot(dt: number, idx: H, out: H, n: number, depth: number): void;
  diagEmbed(dt: number, x: H, out: H, batch: number, n: number): void;
  tril(dt: number, x: H, out: H, batch: number, m: number, n: number, k: number): void;
  copy2d(x: H, out: H, rows: number, rowBytes: number, outPitch: number, col: number): void;
  fill(dt: number, out: H, n: number, value: number): void;
  cholesky(dt: number, x: H, out: H, batch: number, n: number): number;
  triangularSolve(dt: number, a: H, b: H, out: H, batch: Dims, aB: Dims, bB: Dims, n: number, k: number, lower: boolean, transA: boolean): void;
  /** -1, or the first flat index bi·n + i of a zero diagonal element over a's `count` matrices; -1 unchecked while capturing a graph. */
  triangularZeroDiagonal(dt: number, a: H, count: number, n: number): number;
  /** k0, k1: the key's words, or (a replayed graph) a buffer of keys and the key's index in it; so for the reparam kernels. */
  random(kind: string, k0: number | H, k1: number, dt: number, out: H, n: number, param?: H): void;
  svgdPhi(dt: number, x: H, g: H, phi: H, h: H, n: number, d: number, bandwidth: number): void;
  affineFlow(dt: number, mode: number, x: H, shift: H, s: H, mask: H | null, y: H, logdet: H, batch: Dims, sx: Dims, sShift: Dims, sS: Dims, inner: Dims, d: number, maskStride: number): void;
  normalReparam(k0: number | H, k1: number, dt: number, loc: H, logScale: H, z: H, logq: H, shape: Dims, sLoc: Dims, sLogScale: Dims): void;
  mvnReparam(k0: number | H, k1: number, dt: number, loc: H, scaleTril: H, z: H, logq: H, batch: Dims, sLoc: Dims, sL: Dims, d: number): void;
  diagNormalKL(dt: number, loc: H, logScale: H, out: H, shape: Dims, sLoc: Dims, sLogScale: Dims): void;
  rqSpline(dt: number, x: H, w: H, h: H, d: H, y: H, logdet: H, meta: Dims, k: number, bound: number, inverse: boolean): void;
  rqSplineGrad(dt: number, x: H, w: H, h: H, d: H, dy: H, dlogdet: H, dx: H, dw: H, dh: H, dd: H, meta: Dims, k: number, bound: number, inverse: boolean): void;
}

const DT: Record<DType, number> = { float32: 0, float64: 1, int32: 2, bfloat16: 3 };
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bfloat16: 2 };

function prod(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

const UNARY = new Set<string>(UNARY_OPS);
const BINARY = new Set<string>(BINARY_OPS);
const COMPARE = new Set<string>(COMPARE_OPS);
const REDUCE = new Set<string>(REDUCE_OPS);

/** Kernels the cuda backend runs itself; the rest fall back to js through the host, visibly. */
export const CUDA_KERNELS: ReadonlySet<KernelName> = new Set<KernelName>([
  ...UNARY_OPS, ...BINARY_OPS, ...COMPARE_OPS, ...REDUCE_OPS, ...ARG_REDUCE_OPS,
  'clamp', 'where', 'cast', 'softmax', 'logSoftmax', 'cumsum', 'oneHot', 'matmul', 'cholesky', 'triangularSolve',
  'diagonal', 'diagEmbed', 'tril', 'reshape', 'transpose', 'slice', 'pad', 'gather', 'scatterAdd', 'concat',
  'broadcastTo', 'randomBits', 'randomUniform', 'randomNormal', 'randomGamma', 'randomPoisson',
  'igamma', 'gammaSampleGrad', 'besselI0e', 'besselI1e', 'vonMisesSampleGrad', 'randomVonMises',
  'svgdPhi',
  'affineFlow',
  'normalReparam', 'diagNormalKL',
  'rqSpline', 'rqSplineGrad',
  'mvnReparam',
]);

/** Kernels of the spec the cuda backend lacks (they run on js through the host). */
export function cudaMissingKernels(): KernelName[] {
  return KERNEL_NAMES.filter((n) => !CUDA_KERNELS.has(n));
}

type V = View<H>;

/** A random kernel's key as the addon takes it: the words, or a device key of a replayed graph. */
function keyArgs(at: Record<string, unknown>): readonly [number | H, number] {
  const dk = at.deviceKey as DeviceKey<H> | undefined;
  if (dk !== undefined) return [dk.data, dk.index];
  return at.key as readonly [number, number];
}

class CudaBackend implements Backend<H> {
  readonly name = 'cuda';
  readonly device = 'cuda' as const;
  readonly graphs: DeviceGraphs<H>;

  constructor(
    readonly addon: CudaAddon,
    readonly info: CudaDeviceInfo,
  ) {
    const A = addon;
    this.graphs = {
      begin: () => A.graphBegin(),
      end: () => A.graphEnd(),
      abort: () => A.graphAbort(),
      launch: (g) => A.graphLaunch(g as CudaGraph),
      free: (g) => A.graphFree(g as CudaGraph),
      write: (h, words) => A.write(h, words),
    };
  }

  alloc(dtype: DType, size: number): H {
    return this.addon.alloc(size * BYTES[dtype]);
  }
  upload(data: TypedArray): H {
    return this.addon.upload(data);
  }
  readSync(data: H, dtype: DType, size: number): TypedArray {
    return this.addon.readSync(data, DT[dtype], size);
  }
  read(data: H, dtype: DType, size: number): Promise<TypedArray> {
    return this.addon.read(data, DT[dtype], size);
  }
  free(data: H): void {
    this.addon.free(data);
  }
  has(name: KernelName): boolean {
    return CUDA_KERNELS.has(name);
  }
  memory(): { bytesInUse: number } {
    return this.addon.memory();
  }

  run<N extends KernelName>(name: N, ins: readonly V[], outs: readonly V[], attrs: KernelAttrs[N]): void {
    const A = this.addon;
    const out = outs[0];
    const x = ins[0];
    const n = sizeOf(out.shape);
    if (UNARY.has(name)) return A.unary(name, DT[x.dtype], x.data, out.data, n);
    if (BINARY.has(name) || COMPARE.has(name)) {
      const [a, b] = ins;
      const f = BINARY.has(name) ? A.binary : A.compare;
      return f.call(A, name, DT[a.dtype], a.data, b.data, out.data, out.shape, broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape));
    }
    if (REDUCE.has(name)) {
      const { axes } = attrs as KernelAttrs['sum'];
      return this.reduce(axes, x, out, (src, rows, len) => A.reduce(name, DT[x.dtype], src, out.data, rows, len));
    }
    const at = attrs as Record<string, unknown>;
    switch (name) {
      case 'argmax':
      case 'argmin':
        return this.reduce([at.axis as number], x, out, (src, rows, len) => A.argReduce(name === 'argmax', DT[x.dtype], src, out.data, rows, len));
      case 'where': {
        const [c, a, b] = ins;
        return A.where(DT[c.dtype], DT[a.dtype], c.data, a.data, b.data, out.data, out.shape,
          broadcastStrides(c.shape, out.shape), broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape));
      }
      // Special functions outside UNARY_OPS/BINARY_OPS: the same addon entries, dispatched by name.
      case 'besselI0e':
      case 'besselI1e':
        return A.unary(name, DT[x.dtype], x.data, out.data, n);
      case 'igamma':
      case 'gammaSampleGrad':
      case 'vonMisesSampleGrad': {
        const [a, b] = ins;
        return A.binary(name, DT[a.dtype], a.data, b.data, out.data, out.shape, broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape));
      }
      case 'clamp':
        return A.clamp(DT[x.dtype], x.data, out.data, n, at.min as number, at.max as number);
      case 'cast':
        return A.cast(DT[x.dtype], DT[out.dtype], x.data, out.data, n);
      case 'softmax':
      case 'logSoftmax':
      case 'cumsum': {
        const axis = at.axis as number;
        const outer = prod(x.shape.slice(0, axis));
        const inner = prod(x.shape.slice(axis + 1));
        if (name === 'cumsum') return A.cumsum(at.reverse as boolean, DT[x.dtype], x.data, out.data, outer, x.shape[axis], inner);
        return A.softmax(name === 'logSoftmax', DT[x.dtype], x.data, out.data, outer, x.shape[axis], inner);
      }
      case 'matmul': {
        const [a, b] = ins;
        const { transA, transB } = attrs as KernelAttrs['matmul'];
        const r = out.shape.length;
        const batch = out.shape.slice(0, r - 2);
        const ka = transA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
        return A.matmul(DT[a.dtype], a.data, b.data, out.data, batch,
          broadcastStrides(a.shape.slice(0, -2), batch), broadcastStrides(b.shape.slice(0, -2), batch),
          out.shape[r - 2], out.shape[r - 1], ka, transA, transB);
      }
      case 'cholesky': {
        const m = x.shape[x.shape.length - 1];
        const batch = m === 0 ? 0 : n / (m * m);
        const bad = A.cholesky(DT[x.dtype], x.data, out.data, batch, m);
        if (bad >= 0)
          throw new NotPositiveDefiniteError(`cholesky: matrix ${bad} of the batch (shape [${x.shape.join(', ')}]) is not positive definite`);
        return;
      }
      case 'triangularSolve': {
        const [a, b] = ins;
        const { lower, transA } = attrs as KernelAttrs['triangularSolve'];
        const r = out.shape.length;
        const batch = out.shape.slice(0, r - 2);
        const na = a.shape[a.shape.length - 1];
        const bad = A.triangularZeroDiagonal(DT[a.dtype], a.data, na === 0 ? 0 : sizeOf(a.shape) / (na * na), na);
        if (bad >= 0) throw zeroDiagonalError(Math.floor(bad / na), bad % na, a.shape);
        return A.triangularSolve(DT[a.dtype], a.data, b.data, out.data, batch,
          broadcastStrides(a.shape.slice(0, -2), batch), broadcastStrides(b.shape.slice(0, -2), batch),
          out.shape[r - 2], out.shape[r - 1], lower, transA);
      }
      case 'reshape':
        return A.stridedCopy(DT[x.dtype], x.data, out.data, [n], [1], 0);
      case 'transpose': {
        const st = stridesOf(x.shape);
        const perm = at.perm as number[];
        return A.stridedCopy(DT[x.dtype], x.data, out.data, out.shape, perm.map((p) => st[p]), 0);
      }
      case 'slice': {
        const st = stridesOf(x.shape);
        const begin = at.begin as number[];
        const base = begin.reduce((acc, bgn, d) => acc + bgn * st[d], 0);
        return A.stridedCopy(DT[x.dtype], x.data, out.data, out.shape, st, base);
      }
      case 'broadcastTo':
        return A.stridedCopy(DT[x.dtype], x.data, out.data, out.shape, broadcastStrides(x.shape, out.shape), 0);
      case 'diagonal': {
        const r = x.shape.length;
        const st = stridesOf(x.shape);
        return A.stridedCopy(DT[x.dtype], x.data, out.data, out.shape, [...st.slice(0, r - 2), x.shape[r - 1] + 1], 0);
      }
      case 'diagEmbed': {
        const m = x.shape[x.shape.length - 1];
        return A.diagEmbed(DT[x.dtype], x.data, out.data, m === 0 ? 0 : sizeOf(x.shape) / m, m);
      }
      case 'tril': {
        const r = x.shape.length;
        const rows = x.shape[r - 2];
        const cols = x.shape[r - 1];
        return A.tril(DT[x.dtype], x.data, out.data, prod(x.shape.slice(0, r - 2)), rows, cols, at.k as number);
      }
      case 'pad':
        return A.pad(DT[x.dtype], x.data, out.data, x.shape, at.before as number[], out.shape, at.value as number);
      case 'gather': {
        const axis = at.axis as number;
        const idx = ins[1];
        return A.gather(DT[x.dtype], x.data, idx.data, out.data, prod(x.shape.slice(0, axis)), x.shape[axis], sizeOf(idx.shape), prod(x.shape.slice(axis + 1)));
      }
      case 'scatterAdd': {
        const axis = at.axis as number;
        const idx = ins[1];
        const r = idx.shape.length;
        return A.scatterAdd(DT[x.dtype], x.data, idx.data, out.data, prod(x.shape.slice(0, axis)), at.size as number, sizeOf(idx.shape), prod(x.shape.slice(axis + r)));
      }
      case 'concat': {
        const axis = at.axis as number;
        const bytes = BYTES[out.dtype];
        const outer = prod(out.shape.slice(0, axis));
        const inner = prod(out.shape.slice(axis + 1));
        const pitch = out.shape[axis] * inner * bytes;
        let col = 0;
        for (const t of ins) {
          const rowBytes = t.shape[axis] * inner * bytes;
          A.copy2d(t.data, out.data, outer, rowBytes, pitch, col);
          col += rowBytes;
        }
        return;
      }
      case 'oneHot':
        return A.oneHot(DT[out.dtype], x.data, out.data, sizeOf(x.shape), at.depth as number);
      case 'randomBits':
      case 'randomUniform':
      case 'randomNormal': {
        const key = keyArgs(at);
        const kind = name === 'randomBits' ? 'bits' : name === 'randomUniform' ? 'uniform' : 'normal';
        return A.random(kind, key[0], key[1], DT[out.dtype], out.data, n);
      }
      case 'randomGamma':
      case 'randomPoisson':
      case 'randomVonMises': {
        const key = keyArgs(at);
        const kind = name === 'randomGamma' ? 'gamma' : name === 'randomPoisson' ? 'poisson' : 'vonMises';
        return A.random(kind, key[0], key[1], DT[out.dtype], out.data, n, x.data);
      }
      case 'mvnReparam': {
        const key = keyArgs(at);
        const [loc, l] = ins;
        const d = out.shape[out.shape.length - 1];
        const batch = out.shape.slice(0, -1);
        return A.mvnReparam(key[0], key[1], DT[out.dtype], loc.data, l.data, out.data, outs[1].data, batch,
          broadcastStrides(loc.shape.slice(0, -1), batch).map((s) => s * d), broadcastStrides(l.shape.slice(0, -2), batch).map((s) => s * d * d), d);
      }
      case 'rqSpline':
      case 'rqSplineGrad': {
        const { bound, inverse } = attrs as KernelAttrs['rqSpline'];
        const [sx, sw, sh, sd] = ins;
        const meta = Array.from(splineLayout(out.shape, sx.shape, sw.shape, sh.shape, sd.shape));
        const k = sw.shape[sw.shape.length - 1];
        if (name === 'rqSpline') return A.rqSpline(DT[out.dtype], sx.data, sw.data, sh.data, sd.data, out.data, outs[1].data, meta, k, bound, inverse);
        return A.rqSplineGrad(DT[out.dtype], sx.data, sw.data, sh.data, sd.data, ins[4].data, ins[5].data, out.data, outs[1].data, outs[2].data, outs[3].data, meta, k, bound, inverse);
      }
      case 'normalReparam': {
        const key = keyArgs(at);
        const [loc, logScale] = ins;
        return A.normalReparam(key[0], key[1], DT[out.dtype], loc.data, logScale.data, out.data, outs[1].data, out.shape,
          broadcastStrides(loc.shape, out.shape), broadcastStrides(logScale.shape, out.shape));
      }
      case 'affineFlow': {
        // Strides over the batch shape (the output's leading dims), then along the last axis.
        const { gate, inverse } = attrs as KernelAttrs['affineFlow'];
        const [fx, shift, s, mask] = ins;
        const r = out.shape.length - 1;
        const [sx, sh, ss] = [fx, shift, s].map((t) => broadcastStrides(t.shape, out.shape));
        const maskStride = mask !== undefined && mask.shape[0] !== 1 ? 1 : 0;
        return A.affineFlow(DT[out.dtype], gate === 'sigmoid' ? 2 : inverse ? 1 : 0, fx.data, shift.data, s.data, mask?.data ?? null,
          out.data, outs[1].data, out.shape.slice(0, r), sx.slice(0, r), sh.slice(0, r), ss.slice(0, r), [sx[r], sh[r], ss[r]], out.shape[r], maskStride);
      }
      case 'svgdPhi': {
        const [n, d] = x.shape;
        return A.svgdPhi(DT[x.dtype], x.data, ins[1].data, out.data, outs[1].data, n, d, (attrs as KernelAttrs['svgdPhi']).bandwidth);
      }
      case 'diagNormalKL': {
        const [loc, logScale] = ins;
        return A.diagNormalKL(DT[out.dtype], loc.data, logScale.data, out.data, out.shape,
          broadcastStrides(loc.shape, out.shape), broadcastStrides(logScale.shape, out.shape));
      }
    }
    throw new BackendError(`cuda backend: kernel '${name}' is not implemented`);
  }

  /** Reduces `axes` of x: permutes them last (a device copy, when needed), then reduces rows. */
  private reduce(axes: readonly number[], x: V, out: V, rows: (src: H, nRows: number, len: number) => void): void {
    const r = x.shape.length;
    const red = new Set(axes);
    const perm = [...Array(r).keys()].filter((d) => !red.has(d)).concat([...red].sort((p, q) => p - q));
    const len = prod(axes.map((a) => x.shape[a]));
    const n = sizeOf(x.shape);
    const nRows = len === 0 ? sizeOf(out.shape) : n / len;
    // Reduced axes already trailing (in order) need no copy: the rows are contiguous.
    const identity = perm.every((p, i) => p === i) || n === 0;
    if (identity) return rows(x.data, nRows, len);
    const st = stridesOf(x.shape);
    const tmp = this.addon.alloc(n * BYTES[x.dtype]);
    try {
      this.addon.stridedCopy(DT[x.dtype], x.data, tmp, perm.map((p) => x.shape[p]), perm.map((p) => st[p]), 0);
      rows(tmp, nRows, len);
    } finally {
      // Freed at once: the pool hands it out again only to work queued after this on the stream.
      this.addon.free(tmp);
    }
  }
}

/** The result of loading the CUDA addon: the backend, or why it is missing. */
export interface CudaLoadResult extends LoadResult {
  /** Device 0 as the addon saw it, when the addon loaded. */
  device?: CudaDeviceInfo;
  /** The raw addon, for benchmarks and tests (setMatmulPrecision, sync, memory). */
  addon?: CudaAddon;
}

/** Where the addon is looked for: VARINF_CUDA_ADDON, else build/Release under the package root. */
export function cudaAddonPath(): string {
  const env = process.env.VARINF_CUDA_ADDON;
  if (env !== undefined && env !== '') return env;
  // ts/backends/cuda and dist/backends/cuda both sit three levels below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, '..', '..', '..', 'build', 'Release', 'varinf_cuda.node');
}

/** Loads the CUDA addon if it was built and sees a device; never throws. */
export function loadCudaBackend(): CudaLoadResult {
  try {
    if (process.env.VARINF_NO_CUDA !== undefined && process.env.VARINF_NO_CUDA !== '')
      return { reason: 'disabled by VARINF_NO_CUDA' };
    const path = cudaAddonPath();
    if (!existsSync(path)) {
      // A clone of the repository has ts/ beside build/; the npm package ships no CUDA addon yet.
      const clone = existsSync(join(dirname(dirname(dirname(path))), 'ts'));
      const how = clone
        ? 'run npm run build:cuda where nvcc is installed'
        : 'the npm package has no prebuilt CUDA addon yet: build it in a clone of the repository with npm run build:cuda where nvcc is installed, and point VARINF_CUDA_ADDON at build/Release/varinf_cuda.node';
      return { reason: `the CUDA addon is not built (${path} is missing; ${how})` };
    }
    const require = createRequire(import.meta.url);
    let addon: CudaAddon;
    try {
      addon = require(path) as CudaAddon;
    } catch (e) {
      return { reason: `the CUDA addon failed to load: ${(e as Error).message}` };
    }
    const device = addon.info();
    if (!(device.count > 0)) return { reason: `no CUDA device is visible${device.error ? ` (${device.error})` : ''}`, device, addon };
    return { backend: new CudaBackend(addon, device) as Backend, device, addon };
  } catch (e) {
    return { reason: `the CUDA addon could not be initialized: ${(e as Error).message}` };
  }
}

