/**
 * Predictions from a fitted VB-HMM (`vbHmm`): the log-likelihood of new sequences, their state
 * marginals and their most probable state paths, at the posterior-mean parameters (as hmmlearn's
 * `score`, `predict_proba` and `predict`).
 */
import { cholesky, cholLogdet } from './dense.js';
import { fbWork, forwardBackwardCore, viterbi } from './forward-backward.js';
import type { HmmData } from './hmm-emissions.js';
import { toData, type HmmSequence, type VbHmmResult } from './hmm.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** log p(x_n | θ̄_k) at the posterior-mean parameters, N × K. */
function plugInLogEmit(fit: VbHmmResult, data: HmmData): Float64Array {
  const { k } = fit;
  const { n, d } = data;
  const out = new Float64Array(n * k);
  if (fit.emission === 'categorical') {
    const b = fit.emissionProb as Float64Array;
    const sym = data.sym as Int32Array;
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[i * k + j] = Math.log(b[j * fit.nSymbols + sym[i]]);
    return out;
  }
  const x = data.x as Float64Array;
  const mu = fit.means as Float64Array;
  const cov = fit.covariances as Float64Array;
  const full = fit.covariance === 'full';
  const y = new Float64Array(d);
  for (let j = 0; j < k; j++) {
    if (full) {
      const l = cholesky(cov.subarray(j * d * d, (j + 1) * d * d), d, `hmm: covariance of state ${j}`);
      const c = -0.5 * cholLogdet(l, d) - 0.5 * d * LOG_2PI;
      for (let i = 0; i < n; i++) {
        let q = 0;
        for (let a = 0; a < d; a++) {
          let s = x[i * d + a] - mu[j * d + a];
          for (let b = 0; b < a; b++) s -= l[a * d + b] * y[b];
          y[a] = s / l[a * d + a];
          q += y[a] * y[a];
        }
        out[i * k + j] = c - 0.5 * q;
      }
    } else {
      let c = -0.5 * d * LOG_2PI;
      for (let e = 0; e < d; e++) c -= 0.5 * Math.log(cov[j * d + e]);
      for (let i = 0; i < n; i++) {
        let q = 0;
        for (let e = 0; e < d; e++) q += (x[i * d + e] - mu[j * d + e]) ** 2 / cov[j * d + e];
        out[i * k + j] = c - 0.5 * q;
      }
    }
  }
  return out;
}

function fitData(what: string, fit: VbHmmResult, seqs: readonly HmmSequence[]): HmmData {
  return toData(what, seqs, fit.emission, fit.emission === 'gaussian' ? fit.d : undefined, fit.emission === 'categorical' ? fit.nSymbols : undefined);
}

/**
 * Σ_s log p(x^{(s)} | π̄, Ā, θ̄): the log-likelihood of the sequences under the posterior-mean
 * parameters by the forward algorithm (hmmlearn's `score`).
 * @example const ll = hmmScore(fit, heldOut)
 */
export function hmmScore(fit: VbHmmResult, sequences: readonly HmmSequence[]): number {
  return posteriorsAt(fit, fitData('hmmScore', fit, sequences)).logLik;
}

/**
 * p(z_t = k | x^{(s)}) under the posterior-mean parameters, T_s × K per sequence (hmmlearn's
 * `predict_proba`).
 * @example const probs = hmmPredictProba(fit, [seq])[0]
 */
export function hmmPredictProba(fit: VbHmmResult, sequences: readonly HmmSequence[]): Float64Array[] {
  return posteriorsAt(fit, fitData('hmmPredictProba', fit, sequences)).marginals;
}

function posteriorsAt(fit: VbHmmResult, data: HmmData): { logLik: number; marginals: Float64Array[] } {
  const { k } = fit;
  const logB = plugInLogEmit(fit, data);
  const gamma = new Float64Array(data.n * k);
  let maxT = 0;
  for (let s = 0; s + 1 < data.starts.length; s++) maxT = Math.max(maxT, data.starts[s + 1] - data.starts[s]);
  const work = fbWork(maxT, k);
  let logLik = 0;
  const marginals: Float64Array[] = [];
  for (let s = 0; s + 1 < data.starts.length; s++) {
    const off = data.starts[s];
    logLik += forwardBackwardCore(fit.startProb, fit.transMat, logB, off, data.starts[s + 1] - off, k, gamma, null, work, `hmmScore: sequence ${s}`);
    marginals.push(gamma.slice(off * k, data.starts[s + 1] * k));
  }
  return { logLik, marginals };
}

/**
 * Most probable state paths (Viterbi) under the posterior-mean parameters, one `Int32Array` per
 * sequence (hmmlearn's `predict` with algorithm='viterbi').
 * @example const [states] = hmmPredict(fit, [seq])
 */
export function hmmPredict(fit: VbHmmResult, sequences: readonly HmmSequence[]): Int32Array[] {
  const data = fitData('hmmPredict', fit, sequences);
  const { k } = fit;
  const logB = plugInLogEmit(fit, data);
  const ls = Float64Array.from(fit.startProb, Math.log);
  const la = Float64Array.from(fit.transMat, Math.log);
  const out: Int32Array[] = [];
  for (let s = 0; s + 1 < data.starts.length; s++) out.push(viterbi(ls, la, logB.subarray(data.starts[s] * k, data.starts[s + 1] * k)).path);
  return out;
}
