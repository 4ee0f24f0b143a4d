/**
 * 2-D convolution and its transpose (NCHW), built from existing kernels so autodiff runs through
 * their rules: im2col as pad + gather with precomputed int32 indices (cached per geometry and batch
 * size), then one matmul; the transposed convolution is the exact adjoint, a matmul then a
 * scatter-add of the columns (col2im) and a slice that removes the padding.
 *
 * Both work channels-last inside: the image is transposed to [N·H·W, C], so the gather (and its
 * adjoint, the scatter-add) moves rows of C contiguous values instead of single numbers, and the
 * whole batch is one matrix product [N·Ho·Wo, kh·kw·C] × [kh·kw·C, O] — the weight gradient too,
 * with no per-image products summed over the batch afterwards.
 */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../core/errors.js';
import { keep } from '../core/memory.js';
import type { Tensor } from '../core/tensor.js';
import { tensor } from '../ops/creation.js';
import { add, onDeviceOf } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { gather, pad, reshape, scatterAdd, slice, transpose } from '../ops/shape.js';
import { split, type Key } from '../random/key.js';
import type { FloatDType } from '../random/samplers.js';
import { computeFans, defaultBiasInit, defaultWeightInit, type Initializer } from './init.js';
import type { Module } from './module.js';

/** A size per spatial axis, or one for both: [height, width]. */
export type Size2 = number | readonly [number, number];

/** Geometry options of `conv2d`. */
export interface Conv2dOptions {
  /** Step between windows; default 1. */
  stride?: Size2;
  /** Zeros added on each side of each spatial axis; default 0. */
  padding?: Size2;
  /** Spacing between kernel taps; default 1. */
  dilation?: Size2;
}

/** Geometry options of `convTranspose2d`. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns added to one side of the output, to pick among the sizes a strided conv maps to the same size; each < stride or < dilation. Default 0. */
  outputPadding?: Size2;
}

function pair(op: string, name: string, v: Size2 | undefined, dflt: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.some((d) => !Number.isInteger(d) || d < min)) throw new ValueError(`${op}: ${name} must be integers >= ${min}, got ${String(v)}`);
  return p;
}

/** Output length of a convolution along one axis (on the padded length `n`). */
function convOut(n: number, k: number, s: number, d: number): number {
  return Math.floor((n - d * (k - 1) - 1) / s) + 1;
}

const indexCache = new Map<string, Tensor>();

/**
 * im2col indices [n·ho·wo, kh·kw] into the rows of n padded hp×wp images stored channels-last,
 * [n·hp·wp, C]: entry (m·ho·wo + i·wo + j, a·kw + b) is m·hp·wp + (i·sh + a·dh)·wp + j·sw + b·dw.
 * Built once per geometry, batch size and device, then reused.
 */
function im2colIndices(like: Tensor, n: number, hp: number, wp: number, kh: number, kw: number, ho: number, wo: number, s: [number, number], d: [number, number]): Tensor {
  const k = `${like.backend.name}:${n},${hp},${wp},${kh},${kw},${ho},${wo},${s.join(',')},${d.join(',')}`;
  let t = indexCache.get(k);
  if (t === undefined || t.isDisposed) {
    const a = new Int32Array(n * ho * wo * kh * kw);
    let o = 0;
    for (let m = 0; m < n; m++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++)
          for (let ka = 0; ka < kh; ka++) {
            const base = m * hp * wp + (i * s[0] + ka * d[0]) * wp + j * s[1];
            for (let kb = 0; kb < kw; kb++) a[o++] = base + kb * d[1];
          }
    // A cache entry outlives the tidy scope of the call that created it.
    t = keep(onDeviceOf(tensor(a, [n * ho * wo, kh * kw]), like));
    indexCache.set(k, t);
  }
  return t;
}

/** NCHW → NHWC and back; with one channel the permutation moves no data, so it is a reshape. */
function permute4(x: Tensor, perm: [number, number, number, number], single: boolean): Tensor {
  return single ? reshape(x, perm.map((a) => x.shape[a])) : transpose(x, perm);
}

function checkConvArgs(op: string, x: Tensor, w: Tensor, inAxis: number, bias: Tensor | undefined, outC: number): void {
  if (x.shape.length !== 4) throw new ShapeError(`${op}: input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  if (w.shape.length !== 4) throw new ShapeError(`${op}: weight must have rank 4, got ${fmtShape(w.shape)}`);
  if (x.shape[1] !== w.shape[inAxis])
    throw new ShapeError(`${op}: input has ${x.shape[1]} channels but the weight ${fmtShape(w.shape)} expects ${w.shape[inAxis]}`);
  if (x.dtype !== w.dtype || x.dtype === 'int32') throw new DTypeError(`${op}: input (${x.dtype}) and weight (${w.dtype}) must share a float dtype`);
  if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== outC))
    throw new ShapeError(`${op}: bias must be [${outC}], got ${fmtShape(bias.shape)}`);
}

/**
 * 2-D cross-correlation (PyTorch's conv2d), NCHW:
 * y[n, o, i, j] = b[o] + Σ_{c, a, b'} w[o, c, a, b'] · xp[n, c, i·sh + a·dh, j·sw + b'·dw]
 * with xp the input zero-padded by `padding`. Shapes: x [N, C, H, W], w [O, C, kh, kw], bias [O] →
 * [N, O, Ho, Wo], Ho = ⌊(H + 2ph − dh(kh − 1) − 1) / sh⌋ + 1 (likewise Wo).
 * @example conv2d(x, w, b, { stride: 2, padding: 1 }) // [8, 1, 28, 28] with w [16, 1, 3, 3] → [8, 16, 14, 14]
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const s = pair(op, 'stride', opts.stride, 1, 1);
  const p = pair(op, 'padding', opts.padding, 0, 0);
  const d = pair(op, 'dilation', opts.dilation, 1, 1);
  const [outC, , kh, kw] = weight.shape;
  checkConvArgs(op, x, weight, 1, bias, outC);
  const [n, c, h, w] = x.shape;
  const hp = h + 2 * p[0];
  const wp = w + 2 * p[1];
  const ho = convOut(hp, kh, s[0], d[0]);
  const wo = convOut(wp, kw, s[1], d[1]);
  if (ho < 1 || wo < 1) throw new ShapeError(`${op}: kernel ${kh}×${kw} (dilation ${d.join('×')}) does not fit the padded input ${hp}×${wp}`);
  // Channels-last [N, H, W, C], padded: the gather then copies rows of C contiguous values.
  const xl = permute4(x, [0, 2, 3, 1], c === 1);
  const xp = p[0] === 0 && p[1] === 0 ? xl : pad(xl, [0, p[0], p[1], 0], [0, p[0], p[1], 0]);
  const idx = im2colIndices(x, n, hp, wp, kh, kw, ho, wo, s, d);
  // cols [N·Ho·Wo, kh·kw·C], columns ordered (a, b', c) like the permuted weight [O, kh, kw, C].
  const cols = reshape(gather(reshape(xp, [n * hp * wp, c]), idx, 0), [n * ho * wo, kh * kw * c]);
  const wl = reshape(transpose(weight, [0, 2, 3, 1]), [outC, kh * kw * c]);
  let y = matmul(cols, wl, { transB: true });
  if (bias !== undefined) y = add(y, bias);
  return permute4(reshape(y, [n, ho, wo, outC]), [0, 3, 1, 2], outC === 1);
}

/**
 * 2-D transposed convolution (PyTorch's conv_transpose2d), NCHW: the adjoint of `conv2d` with the
 * same stride, padding and dilation, plus a bias. Shapes: x [N, Cin, H, W], w [Cin, Cout, kh, kw],
 * bias [Cout] → [N, Cout, Ho, Wo] with Ho = (H − 1)·sh − 2ph + dh(kh − 1) + oph + 1 (likewise Wo).
 * Computed as col = Wᵀ·x (per position), scattered-and-summed into the padded output (col2im), cropped.
 * @example convTranspose2d(z, w, b, { stride: 2, padding: 1, outputPadding: 1 }) // [8, 16, 14, 14] with w [16, 1, 3, 3] → [8, 1, 28, 28]
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  const s = pair(op, 'stride', opts.stride, 1, 1);
  const p = pair(op, 'padding', opts.padding, 0, 0);
  const d = pair(op, 'dilation', opts.dilation, 1, 1);
  const q = pair(op, 'outputPadding', opts.outputPadding, 0, 0);
  for (let i = 0; i < 2; i++)
    if (q[i] >= s[i] && q[i] >= d[i]) throw new ValueError(`${op}: outputPadding ${q.join('×')} must be smaller than the stride ${s.join('×')} or the dilation ${d.join('×')}`);
  const [cin, outC, kh, kw] = weight.shape;
  checkConvArgs(op, x, weight, 0, bias, outC);
  const [n, , h, w] = x.shape;
  const ho = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + q[0] + 1;
  const wo = (w - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + q[1] + 1;
  if (ho < 1 || wo < 1) throw new ShapeError(`${op}: padding ${p.join('×')} leaves an empty output for input ${h}×${w}`);
  const hp = ho + 2 * p[0];
  const wp = wo + 2 * p[1];
  // The conv of an hp×wp image with this geometry has exactly h×w windows: those are x's positions.
  if (convOut(hp, kh, s[0], d[0]) !== h || convOut(wp, kw, s[1], d[1]) !== w)
    throw new ValueError(`${op}: outputPadding ${q.join('×')} gives an output ${ho}×${wo} that a conv does not map back to ${h}×${w}`);
  const idx = im2colIndices(x, n, hp, wp, kh, kw, h, w, s, d);
  // Channels-last: cols [N·h·w, kh·kw, Cout] = x [N·h·w, Cin] × weight as [Cin, kh·kw·Cout], then
  // each row of Cout values is added into its output pixel of the padded [N·hp·wp, Cout] image.
  const xl = reshape(permute4(x, [0, 2, 3, 1], cin === 1), [n * h * w, cin]);
  const wl = reshape(transpose(weight, [0, 2, 3, 1]), [cin, kh * kw * outC]);
  const cols = reshape(matmul(xl, wl), [n * h * w, kh * kw, outC]);
  let y = reshape(scatterAdd(cols, idx, 0, n * hp * wp), [n, hp, wp, outC]);
  if (p[0] > 0 || p[1] > 0) y = slice(y, [0, p[0], p[1], 0], [n, ho, wo, outC]);
  if (bias !== undefined) y = add(y, bias);
  return permute4(y, [0, 3, 1, 2], outC === 1);
}

/** Parameters of `Conv2d` and `ConvTranspose2d`. */
export interface ConvParams {
  /** The kernel: [O, C, kh, kw] for `Conv2d`, [Cin, Cout, kh, kw] for `ConvTranspose2d`. */
  weight: Tensor;
  /** The bias, [out channels]; absent when the layer has no bias. */
  bias?: Tensor;
}

/** Options of the convolution modules. */
export interface ConvModuleOptions {
  /** Whether to add a bias; default true. */
  bias?: boolean;
  /** Parameter dtype; default float32. */
  dtype?: FloatDType;
  /** Weight initializer; default PyTorch's U(±1/√fanIn). */
  weightInit?: Initializer;
  /** Bias initializer; default PyTorch's U(±1/√fanIn). */
  biasInit?: Initializer;
}

function convModule<O extends Conv2dOptions>(
  name: string,
  wshape: [number, number, number, number],
  outC: number,
  opts: O & ConvModuleOptions,
  run: (x: Tensor, w: Tensor, b: Tensor | undefined, o: O) => Tensor,
): Module<ConvParams> {
  if (wshape.some((v) => !Number.isInteger(v) || v < 1)) throw new ValueError(`${name}: channels and kernel sizes must be positive integers, got weight ${fmtShape(wshape)}`);
  const { bias = true, dtype = 'float32', weightInit = defaultWeightInit } = opts;
  const biasInit = opts.biasInit ?? defaultBiasInit(computeFans(wshape).fanIn);
  return {
    init(k: Key): ConvParams {
      const [kw, kb] = split(k, 2);
      const weight = weightInit(kw, wshape, dtype);
      return bias ? { weight, bias: biasInit(kb, [outC], dtype) } : { weight };
    },
    apply: (p, x) => run(x, p.weight, p.bias, opts),
  };
}

/**
 * A 2-D convolution layer (NCHW) with weight [outC, inC, kh, kw] and bias [outC]; see `conv2d`.
 * @example
 * const conv = Conv2d(1, 32, 3, { padding: 1 });
 * conv.apply(conv.init(key(0)), x); // [N, 1, 28, 28] → [N, 32, 28, 28]
 */
export function Conv2d(inChannels: number, outChannels: number, kernel: Size2, opts: Conv2dOptions & ConvModuleOptions = {}): Module<ConvParams> {
  const [kh, kw] = pair('Conv2d', 'kernel', kernel, 1, 1);
  return convModule('Conv2d', [outChannels, inChannels, kh, kw], outChannels, opts, conv2d);
}

/**
 * A 2-D transposed convolution layer (NCHW) with weight [inC, outC, kh, kw] (PyTorch's layout, so
 * its fans, and the default init, are PyTorch's too) and bias [outC]; see `convTranspose2d`.
 * @example
 * const up = ConvTranspose2d(32, 1, 4, { stride: 2, padding: 1 });
 * up.apply(up.init(key(0)), h); // [N, 32, 14, 14] → [N, 1, 28, 28]
 */
export function ConvTranspose2d(inChannels: number, outChannels: number, kernel: Size2, opts: ConvTranspose2dOptions & ConvModuleOptions = {}): Module<ConvParams> {
  const [kh, kw] = pair('ConvTranspose2d', 'kernel', kernel, 1, 1);
  return convModule('ConvTranspose2d', [inChannels, outChannels, kh, kw], outChannels, opts, convTranspose2d);
}
