/**
 * Variational Bayesian HMM: varinf `vbHmm` against hmmlearn's VariationalCategoricalHMM and
 * VariationalGaussianHMM in the same run, on simulated sequences (3 states, 20 × 500 steps:
 * 4 symbols; 2-D Gaussian diag and full) and on real ones written by bench/peers/cavi_hmm.py
 * --dump: English text (scikit-learn's bundled dataset descriptions, 27 symbols, 14 sequences,
 * K = 4), statsmodels' macrodata (GDP growth, inflation, unemployment, 202 × 3, K = 3, diag and
 * full) and sunspots (309 × 1, K = 3). Both sides: hmmlearn's default priors, one initialization
 * (varinf: k-means++/Lloyd for Gaussian, Dir(1) emission rows for categorical; hmmlearn: KMeans
 * n_init=10 / Dirichlet rows), at most 100 sweeps, tolerance 1e-8·|ELBO| (absolute for hmmlearn).
 * Wall time: median of 3 fits each.
 * Run: npx tsx bench/vi/cavi-hmm.ts [--no-peer]. Prints a markdown table.
 *
 * ELBO: varinf's includes all constants. hmmlearn's categorical bound is the same quantity; its
 * Gaussian bound omits −(D/2) log 2π per observation, added back here ("+c"), and for diag with
 * D > 1 it is a different family (a Wishart with a diagonal scale, not a Gamma per dimension), so
 * that column is not comparable there. The quality figure on one scale is the log-likelihood per
 * observation under each side's posterior-mean parameters, computed for both by `hmmScore`, and
 * (simulated) the Viterbi accuracy against the generating states under the best state matching.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type VbHmmResult, hmmPredict, hmmScore, vbHmm } from '../../ts/infer/cavi/index.js';
import { key, normal, uniform } from '../../ts/index.js';
import { fmt, runPeer } from './cavi-peers.js';

interface Task {
  name: string;
  emission: 'categorical' | 'gaussian';
  covariance: 'diag' | 'full';
  k: number;
  d: number;
  m: number;
  seqs: (Int32Array | Float64Array)[];
  states?: Int32Array[];
}

const A = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.15, 0.15, 0.7]];
const B = [[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.1, 0.4, 0.4]];
const MU = [[0, 0], [2.5, 0], [0, 2.5]];
const SD = [[1, 0.6], [0.7, 1], [0.9, 0.9]];
function draw(p: readonly number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < p.length; i++) if (u < (acc += p[i])) return i;
  return p.length - 1;
}
function simulate(seed: number, gaussian: boolean): { seqs: (Int32Array | Float64Array)[]; states: Int32Array[] } {
  const S = 20;
  const T = 500;
  const u = uniform(key(seed), [S * T * 2]).dataSync();
  const z = normal(key(seed + 1), [S * T * 2]).dataSync();
  const seqs: (Int32Array | Float64Array)[] = [];
  const states: Int32Array[] = [];
  for (let s = 0; s < S; s++) {
    const st = new Int32Array(T);
    const obs = gaussian ? new Float64Array(2 * T) : new Int32Array(T);
    for (let t = 0; t < T; t++) {
      const i = s * T + t;
      st[t] = t === 0 ? Math.min(2, Math.floor(3 * u[2 * i])) : draw(A[st[t - 1]], u[2 * i]);
      if (gaussian) for (let e = 0; e < 2; e++) obs[2 * t + e] = MU[st[t]][e] + SD[st[t]][e] * z[2 * i + e];
      else obs[t] = draw(B[st[t]], u[2 * i + 1]);
    }
    seqs.push(obs);
    states.push(st);
  }
  return { seqs, states };
}

const tasks: Task[] = [];
const simCat = simulate(7, false);
tasks.push({ name: 'simulated, 4 symbols', emission: 'categorical', covariance: 'diag', k: 3, d: 1, m: 4, ...simCat });
const simG = simulate(9, true);
for (const covariance of ['diag', 'full'] as const) tasks.push({ name: `simulated, 2-D Gaussian`, emission: 'gaussian', covariance, k: 3, d: 2, m: 0, ...simG });
const noPeer = process.argv.includes('--no-peer');
const dir = mkdtempSync(join(tmpdir(), 'cavi-hmm-'));
const real = runPeer<{ ok: boolean }>('cavi_hmm.py', ['--dump', join(dir, 'real.json')]);
if (typeof real === 'string') console.log(`real data: ${real}`);
let realNote = '';
try {
  const r = JSON.parse(readFileSync(join(dir, 'real.json'), 'utf8')) as { text: number[][]; macro: number[]; sunspots: number[]; sklearn: string; statsmodels: string };
  tasks.push({ name: 'text (sklearn descr)', emission: 'categorical', covariance: 'diag', k: 4, d: 1, m: 27, seqs: r.text.map((s) => Int32Array.from(s)) });
  for (const covariance of ['diag', 'full'] as const) tasks.push({ name: 'macrodata (3-D)', emission: 'gaussian', covariance, k: 3, d: 3, m: 0, seqs: [Float64Array.from(r.macro)] });
  tasks.push({ name: 'sunspots (1-D)', emission: 'gaussian', covariance: 'diag', k: 3, d: 1, m: 0, seqs: [Float64Array.from(r.sunspots)] });
  realNote = `real data from scikit-learn ${r.sklearn}, statsmodels ${r.statsmodels}`;
} catch {
  realNote = 'real data unavailable (run bash bench/peers/setup-cavi.sh)';
}

/** Viterbi accuracy against the generating states under the best of the 6 state matchings. */
function accuracy(paths: Int32Array[], states: Int32Array[]): number {
  const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
  let best = 0;
  for (const p of perms) {
    let ok = 0;
    let n = 0;
    for (let s = 0; s < states.length; s++)
      for (let t = 0; t < states[s].length; t++) {
        ok += paths[s][t] === p[states[s][t]] ? 1 : 0;
        n++;
      }
    best = Math.max(best, ok / n);
  }
  return best;
}

/** A result carrying only the point parameters, for scoring the peer's fit with the same code. */
function pointFit(t: Task, p: PeerRow): VbHmmResult {
  const f64 = (v?: number[]): Float64Array | null => (v ? Float64Array.from(v) : null);
  return {
    k: t.k, emission: t.emission, covariance: t.emission === 'gaussian' ? t.covariance : null, d: t.d, nSymbols: t.m,
    startProb: Float64Array.from(p.startprob), transMat: Float64Array.from(p.transmat), emissionProb: f64(p.emissionprob), means: f64(p.means), covariances: f64(p.covars),
    posterior: { start: new Float64Array(0), trans: new Float64Array(0), emission: null, beta: null, nu: null, winv: null },
    stateMarginals: [], elbo: NaN, trace: { elboTrace: [], elbo: NaN, iterations: 0, converged: false, cancelled: false, maxRelDecrease: 0, timeMs: 0 }, restartElbos: [],
  };
}

interface PeerRow { name: string; wall_s: number; iterations: number; bound: number; startprob: number[]; transmat: number[]; emissionprob?: number[]; means?: number[]; covars?: number[]; score: number }
interface Row { task: Task; impl: string; wall_s: number; iterations: number; elbo: number; loglik: number; acc: number }
const rows: Row[] = [];
const peerTasks: object[] = [];
for (const t of tasks) {
  const times: number[] = [];
  let f: VbHmmResult | null = null;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    f = vbHmm(t.seqs, { k: t.k, emission: t.emission, covariance: t.covariance, d: t.d, nSymbols: t.m || undefined, maxIter: 100, tol: 1e-8, key: key(0) });
    times.push((performance.now() - t0) / 1000);
  }
  if (!f) throw new Error('unreachable');
  times.sort((a, b) => a - b);
  const n = t.seqs.reduce((s, q) => s + q.length / t.d, 0);
  rows.push({ task: t, impl: 'varinf', wall_s: times[1], iterations: f.trace.iterations, elbo: f.elbo, loglik: hmmScore(f, t.seqs) / n, acc: t.states ? accuracy(hmmPredict(f, t.seqs), t.states) : NaN });
  const x: number[] = [];
  for (const q of t.seqs) for (const v of q) x.push(v);
  peerTasks.push({ name: `${t.name}|${t.covariance}`, emission: t.emission, covariance: t.covariance, k: t.k, d: t.d, m: t.m, x, lengths: t.seqs.map((q) => q.length / t.d), max_iter: 100, tol: 1e-8 * Math.abs(f.elbo) });
}
if (!noPeer) {
  const file = join(dir, 'tasks.json');
  writeFileSync(file, JSON.stringify(peerTasks));
  const peer = runPeer<PeerRow[]>('cavi_hmm.py', [file]);
  if (typeof peer === 'string') console.log(`hmmlearn: ${peer}\n`);
  else
    peer.forEach((p, i) => {
      const t = tasks[i];
      const n = t.seqs.reduce((s, q) => s + q.length / t.d, 0);
      const fit = pointFit(t, p);
      // Cross-check: hmmlearn's own score() of its fit is the same number as hmmScore on its parameters.
      const ll = hmmScore(fit, t.seqs);
      if (Math.abs(ll - p.score) > 1e-8 * Math.abs(p.score)) console.log(`warning: ${t.name}: hmmlearn score ${p.score}, hmmScore of its parameters ${ll}`);
      const c = t.emission === 'gaussian' ? 0.5 * n * t.d * Math.log(2 * Math.PI) : 0;
      rows.push({ task: t, impl: 'hmmlearn', wall_s: p.wall_s, iterations: p.iterations, elbo: p.bound - c, loglik: ll / n, acc: t.states ? accuracy(hmmPredict(fit, t.seqs), t.states) : NaN });
    });
}
console.log(`Variational Bayesian HMM vs hmmlearn (${realNote})\n`);
console.log('| data | emission | K | T total | impl | wall ms | sweeps | ELBO (all constants) | log-lik / obs at posterior means | Viterbi acc. |');
console.log('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
rows.sort((a, b) => tasks.indexOf(a.task) - tasks.indexOf(b.task));
for (const r of rows) {
  const t = r.task;
  const n = t.seqs.reduce((s, q) => s + q.length / t.d, 0);
  const em = t.emission === 'categorical' ? `categorical (M = ${t.m})` : `Gaussian ${t.covariance}`;
  const elbo = r.impl === 'hmmlearn' && t.emission === 'gaussian' ? `${fmt(r.elbo, 1)} (+c${t.covariance === 'diag' && t.d > 1 ? ', other family' : ''})` : fmt(r.elbo, 1);
  console.log(`| ${t.name} | ${em} | ${t.k} | ${n} | ${r.impl} | ${fmt(r.wall_s * 1000, 1)} | ${r.iterations} | ${elbo} | ${fmt(r.loglik, 4)} | ${Number.isNaN(r.acc) ? '—' : fmt(r.acc, 4)} |`);
}
