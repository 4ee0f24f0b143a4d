/**
 * The LDA local step (per-document E-step) as generated code, shared verbatim by the main thread
 * and by worker threads, so a run gives bit-identical results for any thread count.
 *
 * `ldaKernel(k)` compiles (once per K) a function `solveDocs(c)` that claims chunks of documents
 * from the shared counter `c.ctr` and, for each document i, iterates
 *   γ ← α + exp E[log θ] ⊙ Σ_w n_w β̃_w / (β̃_w · exp E[log θ]),   β̃_w = exp E[log β_·w],
 * to convergence (mean |Δγ| < docTol or maxDocIter), then writes γ_i, exp E[log θ_i] (`et`), the
 * per-non-zero factor n_dw / (β̃_w · exp E[log θ_d]) (`fnz`) and the document's ELBO term
 * (`dbound`). Everything order-dependent (the sufficient statistics Σ_d fnz · exp E[log θ_d], the
 * sum of the bounds) is reduced afterwards by the caller in document order, so which thread solved
 * which document does not matter.
 *
 * The kernel carries its own ψ and ln Γ (shift to x ≥ 7 / x ≥ 10 with one division or one log,
 * then the asymptotic series; error ~1e-13, relative or absolute below 1): the worker is started
 * from source text (`eval: true`), so it cannot import modules — which also makes it work the same
 * under tsx, vitest and the compiled dist/ build, with no worker file path to resolve.
 */
import { Worker } from 'node:worker_threads';
import { VarinfError } from '../../core/errors.js';

/** Arrays and settings of one local step. All arrays are SharedArrayBuffer-backed when threaded. */
export interface LdaKernelContext {
  k: number;
  alpha: number;
  maxDocIter: number;
  docTol: number;
  /** Start each document from its current γ row as well as afresh, keep the better (batch CAVI). */
  warm: boolean;
  /** Documents to solve: ids[i] (or i when ids is null) for i < n. */
  n: number;
  ids: Int32Array | null;
  indptr: Int32Array;
  indices: Int32Array;
  counts: Float64Array;
  /** exp E[log β], terms × topics. */
  eb: Float64Array;
  /** In/out: γ, n × K. */
  gamma: Float64Array;
  /** Out: exp E[log θ], n × K. */
  et: Float64Array;
  /** Out: n_dw / (β̃_w · exp E[log θ_d]) per non-zero of the solved documents (indexed like `counts`). */
  fnz: Float64Array;
  /** Out: per-document ELBO term (word term + θ terms), n. */
  dbound: Float64Array;
  /** Chunk counter: ctr[0] = next document to claim. */
  ctr: Int32Array;
}

/** Documents claimed at a time (dynamic scheduling; results do not depend on it). */
const CHUNK = 8;

/** ψ and ln Γ for x > 0, as source: used by the kernel and, compiled once, by `kernelMath`. */
const MATH_SOURCE = `// ψ(x), x > 0: ψ(x) = ψ(x + n) − Σ_{i<n} 1/(x + i), the sum kept as one fraction num/den.
function psi(x) {
  let num = 0, den = 1;
  while (x < 7) { num = num * x + den; den *= x; x += 1; }
  const r = 1 / x, r2 = r * r;
  return Math.log(x) - 0.5 * r - r2 * (1 / 12 - r2 * (1 / 120 - r2 * (1 / 252 - r2 * (1 / 240 - r2 * (1 / 132 - r2 * (691 / 32760)))))) - num / den;
}
// ln Γ(x), x > 0: ln Γ(x) = ln Γ(x + n) − ln Π_{i<n}(x + i), Stirling's series at x + n ≥ 10.
function lgamma(x) {
  let p = 1;
  while (x < 10) { p *= x; x += 1; }
  const r = 1 / x, r2 = r * r;
  const s = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 * (1 / 1188 - r2 * (691 / 360360 - r2 * (1 / 156 - r2 * (3617 / 122400))))))));
  return (x - 0.5) * Math.log(x) - x + 0.9189385332046728 + s - Math.log(p);
}`;

/** The kernel's ψ and ln Γ (x > 0) on the calling thread, for the global step and the bounds. */
export const kernelMath = new Function(`${MATH_SOURCE}\nreturn { psi, lgamma };`)() as { psi: (x: number) => number; lgamma: (x: number) => number };

/** Source of the kernel: a function body returning `solveDocs`. K is unrolled in the hot loop. */
export function ldaKernelSource(k: number): string {
  const ts = Array.from({ length: k }, (_, t) => t);
  // Pairwise (tree) sum of e_t·b_t: shorter dependency chain than a left-to-right sum.
  const tree = (lo: number, hi: number): string => (hi - lo === 1 ? `e${lo} * b${lo}` : `(${tree(lo, (lo + hi) >> 1)} + ${tree((lo + hi) >> 1, hi)})`);
  const unroll = k <= 64;
  const sweep = unroll
    ? [
        // acc_t = Σ_i c_i b_it / (1e-100 + Σ_j e_j b_ij) over the document's gathered rows.
        `function sweep(db, counts, start, len, et, acc) {`,
        `  ${ts.map((t) => `const e${t} = et[${t}]; let a${t} = 0;`).join(' ')}`,
        `  for (let i = 0, q = 0; i < len; i++, q += ${k}) {`,
        `    ${ts.map((t) => `const b${t} = db[q + ${t}];`).join(' ')}`,
        `    const f = counts[start + i] / (1e-100 + ${tree(0, k)});`,
        `    ${ts.map((t) => `a${t} += f * b${t};`).join(' ')}`,
        `  }`,
        `  ${ts.map((t) => `acc[${t}] = a${t};`).join(' ')}`,
        `}`,
        `function dotRow(db, q, et) {`,
        `  ${ts.map((t) => `const e${t} = et[${t}], b${t} = db[q + ${t}];`).join(' ')}`,
        `  return 1e-100 + ${tree(0, k)};`,
        `}`,
      ]
    : [
        `function sweep(db, counts, start, len, et, acc) {`,
        `  acc.fill(0);`,
        `  for (let i = 0, q = 0; i < len; i++, q += K) {`,
        `    let dot = 1e-100; for (let t = 0; t < K; t++) dot += et[t] * db[q + t];`,
        `    const f = counts[start + i] / dot; for (let t = 0; t < K; t++) acc[t] += f * db[q + t];`,
        `  }`,
        `}`,
        `function dotRow(db, q, et) { let dot = 1e-100; for (let t = 0; t < K; t++) dot += et[t] * db[q + t]; return dot; }`,
      ];
  return `'use strict';
const K = ${k};
const CHUNK = ${CHUNK};
${MATH_SOURCE}
${sweep.join('\n')}
// ev_t = exp(ψ(g_t) − ψ(Σ g)).
function expElogTheta(g, ev) {
  let s = 0;
  for (let t = 0; t < K; t++) s += g[t];
  const ps = psi(s);
  for (let t = 0; t < K; t++) ev[t] = Math.exp(psi(g[t]) - ps);
}
// Iterates γ (g, in place) to convergence; ev ends as exp E[log θ] at g. Returns the document's
// ELBO term: Σ_w n_w log(β̃_w · ev) + Σ_t (α − g_t) E log θ_t + ln Γ(g_t) − ln Γ(Σ g) + lgAlphaK.
function solve(c, db, start, len, g, ev, acc, lgAlphaK) {
  const { alpha, maxDocIter, docTol, counts } = c;
  expElogTheta(g, ev);
  for (let it = 0; it < maxDocIter; it++) {
    sweep(db, counts, start, len, ev, acc);
    let change = 0;
    for (let t = 0; t < K; t++) {
      const gn = alpha + ev[t] * acc[t];
      change += Math.abs(gn - g[t]);
      g[t] = gn;
    }
    expElogTheta(g, ev);
    if (change / K < docTol) break;
  }
  let gsum = 0;
  for (let t = 0; t < K; t++) gsum += g[t];
  const psiSum = psi(gsum);
  let b = lgAlphaK - lgamma(gsum);
  for (let t = 0; t < K; t++) b += (alpha - g[t]) * (psi(g[t]) - psiSum) + lgamma(g[t]);
  for (let i = 0, q = 0; i < len; i++, q += K) b += counts[start + i] * Math.log(dotRow(db, q, ev));
  return b;
}
function solveDocs(c) {
  const { alpha, warm, n, ids, indptr, indices, counts, eb, gamma, et, fnz, dbound, ctr } = c;
  const lgAlphaK = lgamma(K * alpha) - K * lgamma(alpha);
  let db = new Float64Array(256 * K);
  const gw = new Float64Array(K), ew = new Float64Array(K), gf = new Float64Array(K), ef = new Float64Array(K), acc = new Float64Array(K);
  for (;;) {
    const lo = Atomics.add(ctr, 0, CHUNK);
    if (lo >= n) break;
    const hi = Math.min(n, lo + CHUNK);
    for (let i = lo; i < hi; i++) {
      const d = ids === null ? i : ids[i];
      const start = indptr[d], end = indptr[d + 1], len = end - start, g = i * K;
      if (len === 0) {
        // An empty document: q(θ_d) = prior, contributes 0 to the ELBO.
        for (let t = 0; t < K; t++) { gamma[g + t] = alpha; et[g + t] = 0; }
        dbound[i] = 0;
        continue;
      }
      // Gather the document's rows of exp E[log β] once: the iterations then read contiguously.
      if (db.length < len * K) db = new Float64Array(2 * len * K);
      let tokens = 0;
      for (let p = start, q = 0; p < end; p++, q += K) {
        const o = indices[p] * K;
        for (let t = 0; t < K; t++) db[q + t] = eb[o + t];
        tokens += counts[p];
      }
      for (let t = 0; t < K; t++) gf[t] = alpha + tokens / K;
      let bound = solve(c, db, start, len, gf, ef, acc, lgAlphaK);
      let gk = gf, ek = ef;
      if (warm) {
        // Also from the previous γ; keep the better: never worse than the warm start (monotone
        // batch CAVI), while the fresh start escapes poor per-document optima.
        for (let t = 0; t < K; t++) gw[t] = gamma[g + t];
        const bw = solve(c, db, start, len, gw, ew, acc, lgAlphaK);
        if (bw > bound) { bound = bw; gk = gw; ek = ew; }
      }
      for (let t = 0; t < K; t++) { gamma[g + t] = gk[t]; et[g + t] = ek[t]; }
      for (let p = start, q = 0; p < end; p++, q += K) fnz[p] = counts[p] / dotRow(db, q, ek);
      dbound[i] = bound;
    }
  }
}
return solveDocs;`;
}

type SolveDocs = (c: LdaKernelContext) => void;
const kernels = new Map<number, SolveDocs>();

/** The compiled kernel for K topics (main thread). */
export function ldaKernel(k: number): SolveDocs {
  let f = kernels.get(k);
  if (!f) {
    f = new Function(ldaKernelSource(k))() as SolveDocs;
    kernels.set(k, f);
  }
  return f;
}

/** The worker: compiles the kernel it is sent (once per K), runs it, counts itself done. */
const WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const kernels = new Map();
parentPort.on('message', (m) => {
  try {
    let f = kernels.get(m.c.k);
    if (!f) { f = new Function(m.src)(); kernels.set(m.c.k, f); }
    f(m.c);
  } catch (e) {
    Atomics.store(m.done, 1, 1);
    parentPort.postMessage(String(e && e.stack || e));
  }
  Atomics.add(m.done, 0, 1);
  Atomics.notify(m.done, 0);
});`;

const pool: Worker[] = [];

function workers(n: number): Worker[] {
  while (pool.length < n) {
    const w = new Worker(WORKER_SOURCE, { eval: true });
    // Idle workers do not keep the process alive.
    w.unref();
    pool.push(w);
  }
  return pool.slice(0, n);
}

/** A SharedArrayBuffer-backed copy of `a` (or `a` itself when already shared). */
export function shared<T extends Float64Array | Int32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const C = a.constructor as { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
  const out = new C(new SharedArrayBuffer(a.length * C.BYTES_PER_ELEMENT));
  out.set(a);
  return out;
}

export function sharedF64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(8 * n));
}

/**
 * Runs the kernel over `c.n` documents on `threads` threads: the calling thread and threads − 1
 * pooled workers claim chunks from `c.ctr`; the call blocks (Atomics.wait) until all are done.
 * With threads > 1 every array in `c` must be SharedArrayBuffer-backed.
 */
export function runLdaKernel(c: LdaKernelContext, threads: number): void {
  c.ctr[0] = 0;
  const f = ldaKernel(c.k);
  const nw = Math.min(threads - 1, Math.ceil(c.n / CHUNK) - 1);
  if (nw <= 0) {
    f(c);
    return;
  }
  const done = new Int32Array(new SharedArrayBuffer(8));
  const src = ldaKernelSource(c.k);
  for (const w of workers(nw)) w.postMessage({ c, src, done });
  f(c);
  // Workers that start late find the counter exhausted and report at once.
  const t0 = Date.now();
  for (let v = Atomics.load(done, 0); v < nw; v = Atomics.load(done, 0)) {
    Atomics.wait(done, 0, v, 1000);
    if (Date.now() - t0 > 600_000) throw new VarinfError('ldaKernel: worker threads did not finish within 10 minutes');
  }
  if (done[1] !== 0) throw new VarinfError('ldaKernel: a worker thread failed');
}
