/**
 * Bayesian Gaussian mixture on a 10k-point 2-D mixture (5 components): varinf CAVI against
 * scikit-learn's BayesianGaussianMixture in the same run, full and diagonal covariances, Dirichlet
 * and Dirichlet-process weights, 100 sweeps at most, one k-means++ initialization each; wall time is the median of 3 fits for both.
 * Run: npx tsx bench/vi/cavi-gmm.ts [--no-peer]. Prints a markdown table.
 *
 * Scores: mean log-likelihood per point under the plug-in posterior means (E[π], m_k, W_k⁻¹/ν_k),
 * as scikit-learn's `score`, and ARI against the generating labels. varinf's ELBO includes all
 * constants; scikit-learn's lower_bound_ omits them, so the two bounds are not on one scale.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BgmmResult, adjustedRandIndex, bayesGmm } from '../../ts/infer/cavi/index.js';
import { key, normal, uniform } from '../../ts/index.js';
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

interface Row { impl: string; covariance: string; prior: string; wall_s: number; iterations: number; bound: number; mean_loglik: number; ari: number }
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
    rows.push({ impl: 'varinf', covariance, prior, wall_s: wall, iterations: f.trace.iterations, bound: f.elbo, mean_loglik: meanLogLik(f), ari: adjustedRandIndex(f.labels, labels) });
  }
if (!process.argv.includes('--no-peer')) {
  const file = join(mkdtempSync(join(tmpdir(), 'cavi-gmm-')), 'data.json');
  writeFileSync(file, JSON.stringify({ d: D, k: K, x: Array.from(x), labels: Array.from(labels) }));
  const peer = runPeer<Omit<Row, 'impl'>[]>('cavi_gmm.py', [file]);
  if (typeof peer === 'string') console.log(`scikit-learn: ${peer}\n`);
  else for (const r of peer) rows.push({ ...r, impl: 'scikit-learn' });
}
console.log(`Bayesian GMM, ${N} points in 2-D from ${K} Gaussians, K = ${K}\n`);
console.log('| covariance | weights | impl | wall ms | sweeps | ELBO (varinf: all constants; sklearn: its lower_bound_) | mean log-lik | ARI |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
rows.sort((a, b) => (a.covariance + a.prior).localeCompare(b.covariance + b.prior));
for (const r of rows) console.log(`| ${r.covariance} | ${r.prior} | ${r.impl} | ${fmt(r.wall_s * 1000, 1)} | ${r.iterations} | ${fmt(r.bound, 1)} | ${fmt(r.mean_loglik, 4)} | ${fmt(r.ari, 4)} |`);
