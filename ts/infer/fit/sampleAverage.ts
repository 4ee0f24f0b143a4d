/** Deterministic ADVI: the Gaussian minimizing the ELBO over fixed antithetic draws, by L-BFGS. */
import { lbfgsSteps, type ValueGrad } from '../../optim/lbfgs.js';
import { normal } from '../../random/samplers.js';
import type { Key } from '../../random/key.js';
import { backOff } from './mode.js';
import type { BatchGrad } from './potential.js';

/**
 * The Gaussian q = N(m, L Lᵀ) (L lower triangular, or diagonal for a mean-field guide) that
 * minimizes the sample-average loss over N fixed antithetic draws ±εₙ ~ N(0, I):
 *   F(m, L) = (1/N) Σₙ U(m + L εₙ) − log|det L|,
 * with ∂F/∂m = mean ∇U(zₙ) and ∂F/∂L = mean ∇U(zₙ) εₙᵀ − L⁻ᵀ, by L-BFGS over (m, the strict lower
 * triangle, log diag L). With the draws fixed the loss is deterministic (deterministic ADVI,
 * Giordano, Ingram & Broderick 2024); its minimizer is within O(1/√N) of the ELBO's, and the
 * antithetic pairs cancel the odd-order terms of that error.
 */
export function* sampleAverageGaussian(
  bg: BatchGrad,
  m0: Float64Array,
  l0: Float64Array,
  fullRank: boolean,
  draws: number,
  key: Key,
): Generator<void, { m: Float64Array; l: Float64Array; iterations: number } | null, void> {
  const d = m0.length;
  const half = Math.max(1, Math.floor(draws / 2));
  const n = 2 * half;
  const e0 = normal(key, [half, d], { dtype: 'float64' }).dataSync();
  const eps = new Float64Array(n * d);
  for (let k = 0; k < half * d; k++) {
    eps[k] = e0[k];
    eps[half * d + k] = -e0[k];
  }
  // Free coordinates: m, then L's entries (row-major lower triangle, or the diagonal), the diagonal as its log.
  const cells: [number, number][] = [];
  for (let i = 0; i < d; i++) for (let j = fullRank ? 0 : i; j <= i; j++) cells.push([i, j]);
  const toL = (x: Float64Array): Float64Array => {
    const l = new Float64Array(d * d);
    cells.forEach(([i, j], k) => (l[i * d + j] = i === j ? Math.exp(x[d + k]) : x[d + k]));
    return l;
  };
  const z = new Float64Array(n * d);
  const fg: ValueGrad = (x) => {
    const l = toL(x);
    for (let s = 0; s < n; s++)
      for (let i = 0; i < d; i++) {
        let v = x[i];
        for (let j = 0; j <= i; j++) v += l[i * d + j] * eps[s * d + j];
        z[s * d + i] = v;
      }
    const grad = new Float64Array(x.length);
    const r = bg(z, n);
    let f = 0;
    for (let s = 0; s < n; s++) f += r.f[s];
    f /= n;
    for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) grad[i] += r.g[s * d + i] / n;
    cells.forEach(([i, j], k) => {
      let v = 0;
      for (let s = 0; s < n; s++) v += r.g[s * d + i] * eps[s * d + j];
      v /= n;
      if (i === j) {
        f -= x[d + k];
        grad[d + k] = v * l[i * d + i] - 1;
      } else grad[d + k] = v;
    });
    return { f: Number.isFinite(f) && grad.every(Number.isFinite) ? f : Infinity, g: grad };
  };
  const x0 = new Float64Array(d + cells.length);
  x0.set(m0);
  cells.forEach(([i, j], k) => (x0[d + k] = i === j ? Math.log(l0[i * d + i]) : l0[i * d + j]));
  // A far draw with a non-finite density: the line search backs off.
  const safe = backOff(fg);
  if (!Number.isFinite(safe(x0).f)) return null;
  const r = yield* lbfgsSteps(safe, x0, { maxIter: 500, gtol: 1e-6 });
  return { m: r.x.slice(0, d), l: toL(r.x), iterations: r.iterations };
}

