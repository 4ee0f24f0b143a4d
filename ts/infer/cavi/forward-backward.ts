/**
 * Exact inference in one hidden Markov model with known parameters: scaled forward–backward
 * (Rabiner 1989, §V.A) for the state marginals, pairwise counts and log-likelihood, and Viterbi for
 * the most probable path. Used by the VB-HMM's q(z) step, its predictions and the VMP Markov chain.
 */
import { ShapeError, ValueError } from '../../core/errors.js';

/** @internal */
export interface FbWork {
  e: Float64Array;
  alpha: Float64Array;
  beta: Float64Array;
  c: Float64Array;
  tmp: Float64Array;
}

/** @internal */
export function fbWork(maxT: number, k: number): FbWork {
  return { e: new Float64Array(maxT * k), alpha: new Float64Array(maxT * k), beta: new Float64Array(maxT * k), c: new Float64Array(maxT), tmp: new Float64Array(k) };
}

/**
 * Scaled forward–backward (Rabiner 1989, §V.A) on rows off..off+T of the N × K log-emission matrix,
 * with (possibly sub-normalized) start probabilities `pi` and transition matrix `a`. Writes the
 * marginals γ_t into `gamma` rows off.., adds Σ_t ξ_t into `xiAcc` when given, and returns
 * log Z = Σ_t (log c_t + max_k log b_t(k)); each emission row is shifted by its max before exp.
 */
/** @internal Exported for the VMP Markov-chain node (ts/infer/vmp/markov-chain.ts). */
export function forwardBackwardCore(
  pi: Float64Array,
  a: Float64Array,
  logB: Float64Array,
  off: number,
  T: number,
  k: number,
  gamma: Float64Array,
  xiAcc: Float64Array | null,
  w: FbWork,
  what: string,
): number {
  const { e, alpha: al, beta: be, c, tmp } = w;
  let logZ = 0;
  for (let t = 0; t < T; t++) {
    const row = (off + t) * k;
    let m = -Infinity;
    for (let j = 0; j < k; j++) if (logB[row + j] > m) m = logB[row + j];
    if (!(m > -Infinity && m < Infinity)) throw new ValueError(`${what}: observation ${t} has log-likelihood ${m} under every state`);
    for (let j = 0; j < k; j++) e[t * k + j] = Math.exp(logB[row + j] - m);
    if (t === 0) for (let j = 0; j < k; j++) al[j] = pi[j] * e[j];
    else {
      tmp.fill(0);
      for (let i = 0; i < k; i++) {
        const ap = al[(t - 1) * k + i];
        for (let j = 0; j < k; j++) tmp[j] += ap * a[i * k + j];
      }
      for (let j = 0; j < k; j++) al[t * k + j] = tmp[j] * e[t * k + j];
    }
    let ct = 0;
    for (let j = 0; j < k; j++) ct += al[t * k + j];
    if (!(ct > 0 && ct < Infinity)) throw new ValueError(`${what}: forward pass underflowed at step ${t} (scale ${ct})`);
    for (let j = 0; j < k; j++) al[t * k + j] /= ct;
    c[t] = ct;
    logZ += Math.log(ct) + m;
  }
  for (let j = 0; j < k; j++) be[(T - 1) * k + j] = 1;
  for (let t = T - 2; t >= 0; t--) {
    for (let j = 0; j < k; j++) tmp[j] = (e[(t + 1) * k + j] * be[(t + 1) * k + j]) / c[t + 1];
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += a[i * k + j] * tmp[j];
      be[t * k + i] = s;
    }
    if (xiAcc) {
      for (let i = 0; i < k; i++) {
        const ap = al[t * k + i];
        for (let j = 0; j < k; j++) xiAcc[i * k + j] += ap * a[i * k + j] * tmp[j];
      }
    }
  }
  for (let t = 0; t < T; t++) for (let j = 0; j < k; j++) gamma[(off + t) * k + j] = al[t * k + j] * be[t * k + j];
  return logZ;
}

/**
 * Forward–backward on one chain: with log-start ℓπ (K), log-transitions ℓA (K × K, row = from) and
 * log-emissions ℓB (T × K), the posterior p(z | x) ∝ exp(ℓπ_{z_1} + Σ_t ℓA_{z_{t−1}z_t} + Σ_t ℓB_{t,z_t}).
 * Returns its marginals γ (T × K), the summed pair marginals Σ_t ξ_t (K × K) and log Z, the log of the
 * normalizer. The parameters need not be normalized (the VB-HMM passes exp E_q[log ·]).
 * @example const { gamma, logZ } = forwardBackward(logPi, logA, logB)
 */
export function forwardBackward(
  logStart: ArrayLike<number>,
  logTrans: ArrayLike<number>,
  logEmit: ArrayLike<number>,
): {
  /** Posterior marginals γ_tk = p(z_t = k | x), T × K. */
  gamma: Float64Array;
  /** Σ_t ξ_t, the summed pair marginals, K × K (row = from). */
  xi: Float64Array;
  /** log of the normalizer. */
  logZ: number;
} {
  const k = logStart.length;
  if (k === 0) throw new ShapeError('forwardBackward: logStart is empty');
  if (logTrans.length !== k * k) throw new ShapeError(`forwardBackward: logTrans has ${logTrans.length} entries, expected K² = ${k * k}`);
  if (logEmit.length === 0 || logEmit.length % k !== 0) throw new ShapeError(`forwardBackward: logEmit has ${logEmit.length} entries, not a positive multiple of K = ${k}`);
  const T = logEmit.length / k;
  const pi = Float64Array.from(logStart, Math.exp);
  const a = Float64Array.from(logTrans, Math.exp);
  const gamma = new Float64Array(T * k);
  const xi = new Float64Array(k * k);
  const logZ = forwardBackwardCore(pi, a, Float64Array.from(logEmit), 0, T, k, gamma, xi, fbWork(T, k), 'forwardBackward');
  return { gamma, xi, logZ };
}

/**
 * Viterbi decoding: argmax_z [ℓπ_{z_1} + Σ_t ℓA_{z_{t−1}z_t} + Σ_t ℓB_{t,z_t}] and its value, in log
 * space (ties go to the lowest state). Same shapes as `forwardBackward`.
 * @example const { path } = viterbi(logPi, logA, logB)
 */
export function viterbi(logStart: ArrayLike<number>, logTrans: ArrayLike<number>, logEmit: ArrayLike<number>): {
  /** The most probable state sequence, length T. */
  path: Int32Array;
  /** Its unnormalized log probability. */
  logProb: number;
} {
  const k = logStart.length;
  if (k === 0 || logTrans.length !== k * k || logEmit.length === 0 || logEmit.length % k !== 0)
    throw new ShapeError(`viterbi: logStart has ${k} entries, logTrans ${logTrans.length} (expected K²), logEmit ${logEmit.length} (expected T·K, T ≥ 1)`);
  const T = logEmit.length / k;
  const delta = new Float64Array(T * k);
  const back = new Int32Array(T * k);
  for (let j = 0; j < k; j++) delta[j] = logStart[j] + logEmit[j];
  for (let t = 1; t < T; t++)
    for (let j = 0; j < k; j++) {
      let best = -Infinity;
      let arg = 0;
      for (let i = 0; i < k; i++) {
        const v = delta[(t - 1) * k + i] + logTrans[i * k + j];
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      delta[t * k + j] = best + logEmit[t * k + j];
      back[t * k + j] = arg;
    }
  const path = new Int32Array(T);
  let last = 0;
  for (let j = 1; j < k; j++) if (delta[(T - 1) * k + j] > delta[(T - 1) * k + last]) last = j;
  const logProb = delta[(T - 1) * k + last];
  path[T - 1] = last;
  for (let t = T - 1; t > 0; t--) path[t - 1] = back[t * k + path[t]];
  return { path, logProb };
}
