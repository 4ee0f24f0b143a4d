/**
 * Background preparation of minibatches: a `MinibatchLoader` whose next batches are made in a
 * worker thread (node:worker_threads) while the current training step computes. The worker shares
 * the data set and a ring of batch slots with the main thread through SharedArrayBuffers, and does
 * the whole per-batch work — the epoch's permutation (Fisher–Yates with Philox uniforms), the
 * gather of the batch's images and labels, and the conversion to [0, 1] or the dynamic binarization
 * with the batch's own Philox stream — exactly as `MinibatchLoader.batch` does, so both give the
 * same batches bit for bit for the same key. The keys are derived on the main thread (`foldIn`);
 * the worker needs only the Philox-4x32-10 block function (Salmon et al. 2011), which it carries.
 *
 * Protocol: slot s has a state (EMPTY → REQUESTED → BUSY → READY → EMPTY), the batch it holds and
 * a request number. The main thread requests the batches that follow the one it serves; the worker
 * claims the oldest request (compare-and-swap REQUESTED → BUSY), fills the slot and marks it READY.
 * `batch(e, i)` copies a READY slot into ordinary memory (the tensors never alias shared memory),
 * waiting with Atomics.wait if the worker is still on it. A batch nobody asked for ahead (the first
 * one, a resumed run, random access) is made on the main thread by `MinibatchLoader.batch` itself,
 * after the queued requests are cancelled.
 */
import { Worker } from 'node:worker_threads';
import { ENGINE } from '../core/engine.js';
import { ValueError, VarinfError } from '../core/errors.js';
import { foldIn } from '../random/key.js';
import { MinibatchLoader, binarizeStatic, type Batch, type LoaderOptions } from './loader.js';
import type { ImageDataset } from './mnist.js';

/** Options of `PrefetchLoader`: those of `MinibatchLoader` plus the depth of the queue. */
export interface PrefetchOptions extends LoaderOptions {
  /** Batches prepared ahead (slots in the shared ring, ≥ 1); default 2. */
  depth?: number;
}

// These two tags must equal loader.ts's TAG_SHUFFLE and TAG_BINARIZE (the bit-for-bit test checks it).
const TAG_SHUFFLE = 0x53485546;
const TAG_BINARIZE = 0x42494e41;

// ctrl words: STOP, request counter, worker error; then SLOT_WORDS per slot.
const STOP = 0;
const REQ = 1;
const ERR = 2;
const HEAD = 4;
const SLOT_WORDS = 10;
const [F_STATE, F_EPOCH, F_INDEX, F_SEQ, F_KP0, F_KP1, F_KB0, F_KB1, F_SIZE] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const EMPTY = 0;
const REQUESTED = 1;
const BUSY = 2;
const READY = 3;
const MODE = { none: 0, dynamic: 1, static: 2 } as const;

/**
 * The worker: a loop that claims requested slots and fills them. Plain JavaScript (it runs with
 * `eval: true`, so it works under tsx, vitest and the compiled package alike).
 */
const WORKER_SOURCE = `'use strict';
const { workerData } = require('node:worker_threads');
const { ctrl, src, labels, xs, ys, is, n, dim, batchSize, mode, shuffle, slots } = workerData;
const M0 = 0xd2511f53, M1 = 0xcd9e8d57, W0 = 0x9e3779b9, W1 = 0xbb67ae85;
function mulhi(a, b) {
  const aLo = a & 0xffff, aHi = a >>> 16, bLo = b & 0xffff, bHi = b >>> 16;
  const lolo = aLo * bLo, mid1 = aHi * bLo, mid2 = aLo * bHi;
  const carry = ((lolo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}
function philox(c0, c1, c2, c3, k0, k1, out) {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0, key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0), lo0 = Math.imul(M0, x0) >>> 0, hi1 = mulhi(M1, x2), lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0; x1 = lo1; x2 = (hi0 ^ x3 ^ key1) >>> 0; x3 = lo0;
    key0 = (key0 + W0) >>> 0; key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
}
const w = new Uint32Array(4);
const perm = new Int32Array(n);
let permEpoch = -1;
function order(e, k0, k1) {
  if (permEpoch === e) return;
  for (let i = 0; i < n; i++) perm[i] = i;
  if (shuffle) for (let i = n - 1; i > 0; i--) {
    const c = n - 1 - i;
    if ((c & 3) === 0) philox(c >>> 2, 0, ${TAG_SHUFFLE}, 0, k0, k1, w);
    const j = Math.floor((w[c & 3] / 4294967296) * (i + 1));
    const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
  permEpoch = e;
}
const scale = mode === 2 ? 1 : 1 / 255;
function fill(s, base) {
  const e = ctrl[base + ${F_EPOCH}], i = ctrl[base + ${F_INDEX}];
  order(e, ctrl[base + ${F_KP0}], ctrl[base + ${F_KP1}]);
  const kb0 = ctrl[base + ${F_KB0}] >>> 0, kb1 = ctrl[base + ${F_KB1}] >>> 0;
  const start = i * batchSize, size = Math.min(batchSize, n - start);
  const x = xs.subarray(s * batchSize * dim, (s + 1) * batchSize * dim);
  const y = ys.subarray(s * batchSize, (s + 1) * batchSize);
  const ix = is.subarray(s * batchSize, (s + 1) * batchSize);
  for (let b = 0; b < size; b++) {
    const img = perm[start + b];
    y[b] = labels[img]; ix[b] = img;
    const so = img * dim, xo = b * dim;
    if (mode === 1) {
      // Uniform j of the batch's stream: lane j & 3 of block j >> 2, float32 (w >>> 8)·2^-24.
      for (let p = 0; p < dim; p++) {
        const j = xo + p;
        if ((j & 3) === 0 || p === 0) philox(j >>> 2, 0, 0, 0, kb0, kb1, w);
        const u = (w[j & 3] >>> 8) * 5.960464477539063e-8;
        x[xo + p] = u * 255 < src[so + p] ? 1 : 0;
      }
    } else for (let p = 0; p < dim; p++) x[xo + p] = src[so + p] * scale;
  }
  ctrl[base + ${F_SIZE}] = size;
}
try {
  for (;;) {
    const seen = Atomics.load(ctrl, ${REQ});
    if (Atomics.load(ctrl, ${STOP}) !== 0) break;
    let best = -1, bestSeq = Infinity;
    for (let s = 0; s < slots; s++) {
      const base = ${HEAD} + s * ${SLOT_WORDS};
      if (Atomics.load(ctrl, base + ${F_STATE}) === ${REQUESTED} && ctrl[base + ${F_SEQ}] < bestSeq) { best = s; bestSeq = ctrl[base + ${F_SEQ}]; }
    }
    if (best < 0) { Atomics.wait(ctrl, ${REQ}, seen); continue; }
    const base = ${HEAD} + best * ${SLOT_WORDS};
    if (Atomics.compareExchange(ctrl, base + ${F_STATE}, ${REQUESTED}, ${BUSY}) !== ${REQUESTED}) continue;
    fill(best, base);
    Atomics.store(ctrl, base + ${F_STATE}, ${READY});
    Atomics.notify(ctrl, base + ${F_STATE});
  }
} catch (err) {
  Atomics.store(ctrl, ${ERR}, 1);
  for (let s = 0; s < slots; s++) Atomics.notify(ctrl, ${HEAD} + s * ${SLOT_WORDS} + ${F_STATE});
  throw err;
}`;

function sharedCopy(a: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(Math.max(1, a.length)), 0, a.length);
  out.set(a);
  return out;
}

/**
 * A `MinibatchLoader` (the same constructor options, the same `batch(e, i)`, `batchesPerEpoch`,
 * `dim`, `n`, `batchSize`, and the same batches for the same key) that prepares the next `depth`
 * batches in a worker thread while the caller computes. Pass it wherever a `MinibatchLoader` goes
 * (`trainLoop`, `trainVAE`, `trainConvVAE`); call `close()` when done (an idle worker does not keep
 * the process alive, but it holds the shared copy of the data set).
 * @example
 * const loader = new PrefetchLoader(loadFashionMnist('train'), { batchSize: 100, key: key(1), binarize: 'dynamic' });
 * try { await trainConvVAE(vae, state, loader, { steps: 600, key: key(2) }); } finally { await loader.close(); }
 */
export class PrefetchLoader extends MinibatchLoader {
  /** Batches served from the worker's slots, and made on the main thread because none was ready ahead. */
  readonly stats = {
    /** Batches the worker had ready. */
    prefetched: 0,
    /** Batches made on the main thread. */
    direct: 0,
    /** Milliseconds spent waiting for the worker. */
    waitMs: 0,
  };
  private readonly worker: Worker;
  private readonly ctrl: Int32Array;
  private readonly slotX: Float32Array;
  private readonly slotY: Int32Array;
  private readonly slotI: Int32Array;
  private readonly slots: number;
  private readonly baseKey: LoaderOptions['key'];
  private readonly ringX: Float32Array[];
  private readonly ringY: Int32Array[];
  private readonly ringI: Int32Array[];
  private slotRing = 0;
  private seq = 0;
  private next: [number, number] | null = null;
  private closed = false;
  private readonly exited: Promise<void>;

  constructor(ds: ImageDataset, opts: PrefetchOptions) {
    super(ds, opts);
    const { depth = 2, buffers = 2, shuffle = true } = opts;
    if (!Number.isInteger(depth) || depth < 1) throw new ValueError(`PrefetchLoader: depth must be a positive integer, got ${depth}`);
    const B = this.batchSize;
    const d = this.dim;
    this.slots = depth;
    this.baseKey = opts.key;
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * (HEAD + SLOT_WORDS * depth)));
    this.slotX = new Float32Array(new SharedArrayBuffer(4 * depth * B * d));
    this.slotY = new Int32Array(new SharedArrayBuffer(4 * depth * B));
    this.slotI = new Int32Array(new SharedArrayBuffer(4 * depth * B));
    this.ringX = Array.from({ length: buffers }, () => new Float32Array(B * d));
    this.ringY = Array.from({ length: buffers }, () => new Int32Array(B));
    this.ringI = Array.from({ length: buffers }, () => new Int32Array(B));
    // Static binarization: the same draw MinibatchLoader made (its copy is private), shared once.
    const src = this.binarize === 'static' ? binarizeStatic(ds.images, opts.staticKey ?? foldIn(opts.key, 0x5747)) : ds.images;
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        ctrl: this.ctrl,
        src: sharedCopy(src),
        labels: sharedCopy(ds.labels),
        xs: this.slotX,
        ys: this.slotY,
        is: this.slotI,
        n: this.n,
        dim: d,
        batchSize: B,
        mode: MODE[this.binarize],
        shuffle,
        slots: depth,
      },
    });
    // A forgotten close() must not keep the process alive.
    this.worker.unref();
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('error', () => Atomics.store(this.ctrl, ERR, 1));
  }

  private base(s: number): number {
    return HEAD + s * SLOT_WORDS;
  }

  private successor(e: number, i: number): [number, number] {
    return i + 1 < this.batchesPerEpoch ? [e, i + 1] : [e + 1, 0];
  }

  /** Asks the worker for batch i of epoch e in slot s. */
  private request(s: number, e: number, i: number): void {
    const b = this.base(s);
    const c = this.ctrl;
    const kp = foldIn(this.baseKey, e);
    const kb = foldIn(foldIn(this.baseKey, TAG_BINARIZE + e), i);
    c[b + F_EPOCH] = e;
    c[b + F_INDEX] = i;
    c[b + F_SEQ] = this.seq++;
    c[b + F_KP0] = kp.k0 | 0;
    c[b + F_KP1] = kp.k1 | 0;
    c[b + F_KB0] = kb.k0 | 0;
    c[b + F_KB1] = kb.k1 | 0;
    Atomics.store(c, b + F_STATE, REQUESTED);
    Atomics.add(c, REQ, 1);
    Atomics.notify(c, REQ);
  }

  /** Waits until slot s leaves `state` (the worker finishing it). */
  private waitWhile(s: number, state: number): void {
    const i = this.base(s) + F_STATE;
    const t0 = performance.now();
    while (Atomics.load(this.ctrl, i) === state) {
      if (Atomics.load(this.ctrl, ERR) !== 0) throw new VarinfError('PrefetchLoader: the worker thread failed; use MinibatchLoader instead');
      Atomics.wait(this.ctrl, i, state, 1000);
    }
    this.stats.waitMs += performance.now() - t0;
  }

  /** Cancels queued requests and lets the one in progress finish; every slot ends EMPTY. */
  private drain(): void {
    for (let s = 0; s < this.slots; s++) {
      const i = this.base(s) + F_STATE;
      if (Atomics.compareExchange(this.ctrl, i, REQUESTED, EMPTY) === REQUESTED) continue;
      this.waitWhile(s, BUSY);
      Atomics.store(this.ctrl, i, EMPTY);
    }
  }

  /** Fills every empty slot with the batches that follow the last one asked for. */
  private refill(): void {
    if (this.closed || this.next === null) return;
    for (let s = 0; s < this.slots; s++) {
      if (Atomics.load(this.ctrl, this.base(s) + F_STATE) !== EMPTY) continue;
      const [e, i] = this.next;
      this.request(s, e, i);
      this.next = this.successor(e, i);
    }
  }

  /** Batch `i` of epoch `e`: from the worker when it was prepared ahead, else made here. */
  override batch(e: number, i: number): Batch {
    const bpe = this.batchesPerEpoch;
    if (!Number.isInteger(e) || e < 0 || !Number.isInteger(i) || i < 0 || i >= bpe) throw new ValueError(`PrefetchLoader.batch: no batch ${i} in epoch ${e} (${bpe} per epoch)`);
    if (this.closed) return super.batch(e, i);
    let slot = -1;
    for (let s = 0; s < this.slots; s++) {
      const b = this.base(s);
      if (Atomics.load(this.ctrl, b + F_STATE) !== EMPTY && this.ctrl[b + F_EPOCH] === e && this.ctrl[b + F_INDEX] === i) slot = s;
    }
    if (slot < 0) {
      this.drain();
      this.stats.direct++;
      const out = super.batch(e, i);
      this.next = this.successor(e, i);
      this.refill();
      return out;
    }
    this.waitWhile(slot, REQUESTED);
    this.waitWhile(slot, BUSY);
    const b = this.base(slot);
    const size = this.ctrl[b + F_SIZE];
    const B = this.batchSize;
    const d = this.dim;
    const r = this.slotRing;
    this.slotRing = (r + 1) % this.ringX.length;
    const x = this.ringX[r];
    const y = this.ringY[r];
    const ix = this.ringI[r];
    x.set(this.slotX.subarray(slot * B * d, slot * B * d + size * d));
    y.set(this.slotY.subarray(slot * B, slot * B + size));
    ix.set(this.slotI.subarray(slot * B, slot * B + size));
    Atomics.store(this.ctrl, b + F_STATE, EMPTY);
    this.stats.prefetched++;
    this.refill();
    const xs = size === B ? x : x.subarray(0, size * d);
    const ys = size === B ? y : y.subarray(0, size);
    return { x: ENGINE.fromArray(xs, [size, d]), labels: ENGINE.fromArray(ys, [size]), indices: ix.subarray(0, size), epoch: e, index: i, size };
  }

  /** Stops the worker thread (after the batch it is on); later batches are made on the main thread. Resolves once it has exited. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      // Keep the process alive until the worker has seen STOP and exited, so the promise settles.
      this.worker.ref();
      Atomics.store(this.ctrl, STOP, 1);
      Atomics.add(this.ctrl, REQ, 1);
      Atomics.notify(this.ctrl, REQ);
    }
    return this.exited;
  }
}
