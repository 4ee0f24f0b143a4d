/**
 * Minibatches of an image data set for training: a fresh permutation per epoch from
 * `foldIn(key, epoch)`, pixels scaled to [0, 1] and optionally binarized — dynamically (a new
 * Bernoulli(pixel/255) draw every time an image is served, as Burda et al. 2016 train) or
 * statically (one draw per image with a fixed key, made once). Batches are written into a small
 * ring of preallocated buffers, so steady-state iteration allocates no pixel storage.
 */
import { ENGINE } from '../core/engine.js';
import { ValueError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { foldIn, type Key } from '../random/key.js';
import { philox4x32 } from '../random/philox.js';
import type { ImageDataset } from './mnist.js';

/** How pixels become model inputs. */
export type Binarization = 'none' | 'dynamic' | 'static';

/** Options of `MinibatchLoader`. */
export interface LoaderOptions {
  /** Images per batch (≥ 1). */
  batchSize: number;
  /** Randomness of shuffling and dynamic binarization. */
  key: Key;
  /** Shuffle every epoch; default true. */
  shuffle?: boolean;
  /** 'none' (grey levels / 255), 'dynamic' or 'static'; default 'none'. */
  binarize?: Binarization;
  /** Key of the static binarization; default `foldIn(key, 0x5747)`. */
  staticKey?: Key;
  /** Drop the last incomplete batch; default true (every batch then has the same shape). */
  dropLast?: boolean;
  /** Labels must lie in [0, numClasses); default 10. */
  numClasses?: number;
  /** Batch buffers in the ring (≥ 2): a batch stays valid while the next `buffers − 1` are made. Default 2. */
  buffers?: number;
}

/** One minibatch. `x` and `labels` live in the loader's ring buffers: copy them to keep them longer. */
export interface Batch {
  /** Pixels, float32 [size, rows·cols], in [0, 1] (or {0, 1} when binarized). */
  x: Tensor;
  /** Labels, int32 [size]. */
  labels: Tensor;
  /** The images' indices in the data set (a view of the epoch's order: copy it to keep it). */
  indices: Int32Array;
  /** Epoch and the batch's index in it. */
  epoch: number;
  /** The batch's index within the epoch. */
  index: number;
  /** Images in this batch (the last batch of an epoch may be smaller). */
  size: number;
}

const TAG_SHUFFLE = 0x53485546;
const TAG_BINARIZE = 0x42494e41;

/**
 * A permutation of 0..n−1 by Fisher–Yates with Philox uniforms from `k` (the same on every backend).
 * @example permutation(key(0), 5) // e.g. Int32Array [3, 0, 4, 1, 2]
 */
export function permutation(k: Key, n: number, out: Int32Array<ArrayBuffer> = new Int32Array(n)): Int32Array<ArrayBuffer> {
  const w = new Uint32Array(4);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const c = n - 1 - i;
    if ((c & 3) === 0) philox4x32(c >>> 2, 0, TAG_SHUFFLE, 0, k.k0, k.k1, w);
    // j uniform on 0..i from 32 random bits (relative bias below n / 2^32: negligible for shuffling).
    const j = Math.floor((w[c & 3] / 4294967296) * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/** Fills `out` with float32 uniforms on [0, 1) from key `k` through the backend's kernel (no allocation). */
function uniformInto(k: Key, out: Float32Array): void {
  const be = ENGINE.computeFor('cpu');
  const view = { data: out, shape: [out.length], dtype: 'float32' as const };
  be.run('randomUniform', [], [view], { key: k.words, shape: [out.length], dtype: 'float32' });
}

/**
 * Binarizes every image once: pixel ← 1 with probability pixel/255, with uniforms from `k`.
 * @example const fixed = binarizeStatic(loadMnist('test').images, key(1))
 */
export function binarizeStatic(images: Uint8Array, k: Key): Uint8Array {
  const out = new Uint8Array(images.length);
  const chunk = 1 << 16;
  const u = new Float32Array(chunk);
  for (let s = 0, c = 0; s < images.length; s += chunk, c++) {
    uniformInto(foldIn(k, c), u);
    const n = Math.min(chunk, images.length - s);
    for (let i = 0; i < n; i++) out[s + i] = u[i] * 255 < images[s + i] ? 1 : 0;
  }
  return out;
}

/**
 * Minibatch iteration over an `ImageDataset` with per-epoch shuffling by key and optional
 * binarization; `batch(epoch, i)` gives random access, so a resumed run sees exactly the batches
 * it would have seen.
 * @example
 * const loader = new MinibatchLoader(loadMnist('train'), { batchSize: 100, key: key(0), binarize: 'dynamic' });
 * for (const b of loader.epoch(0)) step(b.x); // b.x: float32 [100, 784]
 */
export class MinibatchLoader {
  /** Images per batch. */
  readonly batchSize: number;
  /** Pixels per image (rows·cols). */
  readonly dim: number;
  /** Images in the data set. */
  readonly n: number;
  /** How pixels are binarized. */
  readonly binarize: Binarization;
  /** The largest label in the data set. */
  readonly maxLabel: number;
  private readonly ds: ImageDataset;
  private readonly key: Key;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly fixed: Uint8Array | null;
  private readonly xs: Float32Array[];
  private readonly ys: Int32Array[];
  private readonly u: Float32Array;
  private readonly starts: Int32Array;
  private ring = 0;
  private permEpoch = -1;
  private readonly perm: Int32Array<ArrayBuffer>;

  constructor(ds: ImageDataset, opts: LoaderOptions) {
    const { batchSize, key: k, shuffle = true, binarize = 'none', dropLast = true, numClasses = 10, buffers = 2 } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`MinibatchLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(buffers) || buffers < 2) throw new ValueError(`MinibatchLoader: buffers must be an integer ≥ 2, got ${buffers}`);
    if (!['none', 'dynamic', 'static'].includes(binarize)) throw new ValueError(`MinibatchLoader: binarize must be 'none', 'dynamic' or 'static', got '${String(binarize)}'`);
    const dim = ds.rows * ds.cols;
    if (ds.images.length !== ds.n * dim)
      throw new ValueError(`MinibatchLoader: ${ds.name} has ${ds.images.length} pixels, not ${ds.n} images of ${ds.rows}×${ds.cols}`);
    if (ds.labels.length !== ds.n) throw new ValueError(`MinibatchLoader: ${ds.name} has ${ds.labels.length} labels for ${ds.n} images`);
    let maxLabel = 0;
    for (let i = 0; i < ds.n; i++) {
      if (ds.labels[i] >= numClasses) throw new ValueError(`MinibatchLoader: label ${ds.labels[i]} of image ${i} in ${ds.name} is out of range [0, ${numClasses})`);
      maxLabel = Math.max(maxLabel, ds.labels[i]);
    }
    this.maxLabel = maxLabel;
    if (dropLast && ds.n < batchSize) throw new ValueError(`MinibatchLoader: ${ds.name} has ${ds.n} images, fewer than one batch of ${batchSize} (set dropLast: false)`);
    this.ds = ds;
    this.batchSize = batchSize;
    this.dim = dim;
    this.n = ds.n;
    this.key = k;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.binarize = binarize;
    this.fixed = binarize === 'static' ? binarizeStatic(ds.images, opts.staticKey ?? foldIn(k, 0x5747)) : null;
    this.xs = Array.from({ length: buffers }, () => new Float32Array(batchSize * dim));
    this.ys = Array.from({ length: buffers }, () => new Int32Array(batchSize));
    this.u = binarize === 'dynamic' ? new Float32Array(batchSize * dim) : new Float32Array(0);
    this.starts = new Int32Array(batchSize);
    this.perm = new Int32Array(ds.n);
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.n / this.batchSize) : Math.ceil(this.n / this.batchSize);
  }

  /** The image order of epoch `e` (identity without shuffling). */
  order(e: number): Int32Array<ArrayBuffer> {
    if (this.permEpoch !== e) {
      if (this.shuffle) permutation(foldIn(this.key, e), this.n, this.perm);
      else for (let i = 0; i < this.n; i++) this.perm[i] = i;
      this.permEpoch = e;
    }
    return this.perm;
  }

  /** Batch `i` of epoch `e`, written into the next ring buffer. */
  batch(e: number, i: number): Batch {
    const bpe = this.batchesPerEpoch;
    if (!Number.isInteger(e) || e < 0 || !Number.isInteger(i) || i < 0 || i >= bpe) throw new ValueError(`MinibatchLoader.batch: no batch ${i} in epoch ${e} (${bpe} per epoch)`);
    const perm = this.order(e);
    const start = i * this.batchSize;
    const size = Math.min(this.batchSize, this.n - start);
    const r = this.ring;
    this.ring = (r + 1) % this.xs.length;
    const x = this.xs[r];
    const y = this.ys[r];
    const d = this.dim;
    const src = this.fixed ?? this.ds.images;
    const scale = this.fixed !== null ? 1 : 1 / 255;
    const bk = foldIn(foldIn(this.key, TAG_BINARIZE + e), i);
    const be = ENGINE.computeFor('cpu');
    // The backend's one-pass binarization where it has one: the same uniforms and comparisons as the loop below.
    const native = this.binarize === 'dynamic' && be.binarizeBatch !== undefined && size === this.batchSize;
    if (native) {
      for (let b = 0; b < size; b++) this.starts[b] = perm[start + b] * d;
      be.binarizeBatch?.(this.ds.images, this.starts, d, bk.words[0], bk.words[1], x);
    } else if (this.binarize === 'dynamic') uniformInto(bk, this.u);
    const u = this.u;
    for (let b = 0; b < size; b++) {
      const img = perm[start + b];
      y[b] = this.ds.labels[img];
      if (native) continue;
      const so = img * d;
      const xo = b * d;
      if (this.binarize === 'dynamic') for (let p = 0; p < d; p++) x[xo + p] = u[xo + p] * 255 < src[so + p] ? 1 : 0;
      else for (let p = 0; p < d; p++) x[xo + p] = src[so + p] * scale;
    }
    const xs = size === this.batchSize ? x : x.subarray(0, size * d);
    const ys = size === this.batchSize ? y : y.subarray(0, size);
    return { x: ENGINE.fromArray(xs, [size, d]), labels: ENGINE.fromArray(ys, [size]), indices: perm.subarray(start, start + size), epoch: e, index: i, size };
  }

  /** The batches of epoch `e`, from batch `from` on. */
  *epoch(e: number, from = 0): Generator<Batch> {
    for (let i = from; i < this.batchesPerEpoch; i++) yield this.batch(e, i);
  }

  /**
   * The whole data set as one float32 tensor [n, rows·cols], binarized as configured (dynamic:
   * once, with key `foldIn(key, TAG)`), in the original order: for evaluation.
   */
  all(): Tensor {
    const out = new Float32Array(this.n * this.dim);
    const src = this.fixed ?? this.ds.images;
    if (this.binarize === 'dynamic') {
      const b = binarizeStatic(this.ds.images, foldIn(this.key, 0x414c4c));
      for (let i = 0; i < out.length; i++) out[i] = b[i];
    } else {
      const s = this.fixed !== null ? 1 : 1 / 255;
      for (let i = 0; i < out.length; i++) out[i] = src[i] * s;
    }
    return ENGINE.fromArray(out, [this.n, this.dim]);
  }
}
