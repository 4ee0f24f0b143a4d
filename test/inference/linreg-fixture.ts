/**
 * A conjugate Gaussian linear regression with known noise, whose posterior is exactly Gaussian:
 * β ~ N(0, τ² I), y ~ N(X β, σ² I) gives β | y ~ N(μ, Σ) with Σ = (XᵀX/σ² + I/τ²)⁻¹ and
 * μ = Σ Xᵀy/σ². The design has correlated columns on very different scales, tuned so that Σ has
 * a chosen condition number: the test bed for `fit` on ill-conditioned posteriors.
 */
import type { Tensor } from '../../ts/core/tensor.js';
import { Normal } from '../../ts/distributions/continuous.js';
import { tensor } from '../../ts/ops/creation.js';
import { mul } from '../../ts/ops/elementwise.js';
import { sum } from '../../ts/ops/reduce.js';
import { plate, sample } from '../../ts/ppl/primitives.js';
import { key } from '../../ts/index.js';
import { normal } from '../../ts/random/samplers.js';
import { choleskyHost } from '../../ts/infer/fit/linalg.js';

export interface LinReg {
  X: Tensor;
  y: Tensor;
  d: number;
  sigma: number;
  tau: number;
  /** Posterior mean and covariance (row-major d×d). */
  mu: Float64Array;
  cov: Float64Array;
  /** Posterior precision Σ⁻¹ (row-major d×d). */
  prec: Float64Array;
  /** Condition number of `cov`. */
  cond: number;
}

/** The model: `beta` [d] as one event, `y` [N] in a plate. */
export function linregModel(r: LinReg): void {
  const beta = sample('beta', new Normal(0, r.tau).expand([r.d]).toEvent(1));
  const mu = sum(mul(r.X, beta), -1);
  plate('data', r.y.shape[0], () => sample('y', new Normal(mu, r.sigma), { obs: r.y }));
}

function invSym(a: Float64Array, d: number): Float64Array {
  const l = choleskyHost(a, d);
  if (l === null) throw new Error('not positive definite');
  const inv = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    // Solve L Lᵀ x = e_c.
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= l[i * d + k] * z[k];
      z[i] = s / l[i * d + i];
    }
    for (let i = d - 1; i >= 0; i--) {
      let s = z[i];
      for (let k = i + 1; k < d; k++) s -= l[k * d + i] * inv[k * d + c];
      inv[i * d + c] = s / l[i * d + i];
    }
  }
  return inv;
}

/** Largest over smallest eigenvalue of a symmetric positive-definite matrix (power iteration on A and A⁻¹). */
function condOf(a: Float64Array, d: number): number {
  const top = (m: Float64Array): number => {
    let v = new Float64Array(d).fill(1);
    let lam = 0;
    for (let it = 0; it < 2000; it++) {
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] += m[i * d + j] * v[j];
      lam = Math.hypot(...w);
      v = w.map((x) => x / lam);
    }
    return lam;
  };
  return top(a) * top(invSym(a, d));
}

/** The conjugate posterior of β for design X [n, d] (row-major), responses y, noise σ and prior τ. */
function conjugate(X: Float64Array, y: Float64Array, n: number, d: number, sigma: number, tau: number): LinReg {
  const prec = new Float64Array(d * d);
  const xty = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += X[i * d + j] * X[i * d + k];
      prec[j * d + k] = s / sigma ** 2 + (j === k ? 1 / tau ** 2 : 0);
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += X[i * d + j] * y[i];
    xty[j] = s / sigma ** 2;
  }
  const cov = invSym(prec, d);
  const mu = new Float64Array(d);
  for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) mu[j] += cov[j * d + k] * xty[k];
  return { X: tensor(X, [n, d]), y: tensor(y, [n]), d, sigma, tau, mu, cov, prec, cond: condOf(cov, d) };
}

/**
 * posteriordb's earnings regressions in miniature: log earnings on an intercept, height in inches
 * (mean 66, sd 4), sex and their interaction, so that the intercept and the height coefficient
 * correlate at about −0.999 in the posterior (noise σ = 0.9 known, prior τ = 10).
 */
export function makeEarningsLike(n = 1000, seed = 11): LinReg {
  const d = 4;
  const e = normal(key(seed), [n, 3], { dtype: 'float64' }).dataSync();
  const X = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const h = 66 + 4 * e[i * 3];
    const m = e[i * 3 + 1] > 0.25 ? 1 : 0;
    X.set([1, h, m, h * m], i * d);
    y[i] = 8 + 0.02 * h - 0.9 * m + 0.02 * h * m + 0.9 * e[i * 3 + 2];
  }
  return conjugate(X, y, n, d, 0.9, 10);
}

/**
 * A regression with `d` predictors whose columns share a common factor with correlation `rho` and
 * are scaled geometrically from 1 to `spread`; `n` rows, noise σ = 1, prior τ = 10.
 */
export function makeLinReg(opts: { d?: number; n?: number; rho: number; spread: number; seed?: number }): LinReg {
  const d = opts.d ?? 6;
  const n = opts.n ?? 100;
  const e = normal(key(opts.seed ?? 7), [n, d + 2], { dtype: 'float64' }).dataSync();
  const X = new Float64Array(n * d);
  const scale = Array.from({ length: d }, (_, j) => opts.spread ** (j / Math.max(1, d - 1)));
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) X[i * d + j] = scale[j] * (opts.rho * e[i * (d + 2) + d] + Math.sqrt(1 - opts.rho ** 2) * e[i * (d + 2) + j]);
  const betaTrue = Array.from({ length: d }, (_, j) => (j % 2 === 0 ? 1 : -0.5) / scale[j]);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += X[i * d + j] * betaTrue[j];
    y[i] = m + e[i * (d + 2) + d + 1];
  }
  return conjugate(X, y, n, d, 1, 10);
}
