/**
 * The two approximations that bench/vi/ep.ts compares EP against, for GP classification with a
 * probit likelihood and fixed kernel hyperparameters:
 * - Laplace: q(f) = N(f̂, (K⁻¹ + W)⁻¹) at the posterior mode (Rasmussen & Williams 2006, Alg. 3.1–3.2);
 * - Gaussian VI: q(f) = N(μ, (K⁻¹ + Λ)⁻¹) maximizing the ELBO, found by conjugate-computation
 *   natural-gradient steps (Khan & Lin 2017) with the expectations by quadrature, to convergence.
 * Both return the latent predictive at test inputs and their own log-evidence estimate.
 */
import { functionSpaceGaussian, type Kernel } from '../../ts/index.js';
import { cholesky, cholLogDet, forwardSolve } from '../../ts/infer/ep/linalg.js';
import { logNormalCdf, millsRatio } from '../../ts/infer/ep/normal.js';

/** A fitted approximation: its evidence estimate and the latent predictive at the test inputs. */
export interface Approx {
  logEvidence: number;
  mean: Float64Array;
  variance: Float64Array;
  iterations: number;
}

const flat = (x: number[][]): Float64Array => Float64Array.from(x.flat());

/** log Φ(y f) and its first two derivatives in f (y = ±1). */
function probitDerivs(y: number, f: number): [number, number, number] {
  const z = y * f;
  const r = millsRatio(z);
  return [logNormalCdf(z), y * r, -r * (z + r)];
}

/** Laplace's approximation (Newton's method on the log posterior in the stable B = I + W½KW½ form). */
export function laplaceGpc(x: number[][], y: number[], xs: number[][], kernel: Kernel): Approx {
  const n = x.length;
  const d = x[0].length;
  const xf = flat(x);
  const k = kernel.matrix(xf, n, xf, n, d);
  const s = y.map((v) => (v ? 1 : -1));
  let f = new Float64Array(n);
  let a = new Float64Array(n);
  let obj = -Infinity;
  let l: Float64Array = new Float64Array(0);
  let sw = new Float64Array(n);
  let iterations = 0;
  const grad = new Float64Array(n);
  for (; iterations < 100; iterations++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) { const [, g1, g2] = probitDerivs(s[i], f[i]); grad[i] = g1; w[i] = -g2; }
    sw = Float64Array.from(w, Math.sqrt);
    const b = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * n + j] = (i === j ? 1 : 0) + sw[i] * k[i * n + j] * sw[j];
    l = cholesky(b, n) as Float64Array;
    const bv = Float64Array.from(f, (fi, i) => w[i] * fi + grad[i]);
    // a = b − W½ B⁻¹ W½ K b
    const kb = new Float64Array(n);
    for (let i = 0; i < n; i++) { let t = 0; for (let j = 0; j < n; j++) t += k[i * n + j] * bv[j]; kb[i] = sw[i] * t; }
    forwardSolve(l, kb, n, 1);
    backSolveVec(l, kb, n);
    const aNew = Float64Array.from(bv, (v, i) => v - sw[i] * kb[i]);
    const fNew = new Float64Array(n);
    for (let i = 0; i < n; i++) { let t = 0; for (let j = 0; j < n; j++) t += k[i * n + j] * aNew[j]; fNew[i] = t; }
    let o = 0;
    for (let i = 0; i < n; i++) o += -0.5 * aNew[i] * fNew[i] + probitDerivs(s[i], fNew[i])[0];
    const done = Math.abs(o - obj) < 1e-12;
    f = fNew; a = aNew; obj = o;
    if (done) break;
  }
  // Recompute W, B at the mode for the evidence and predictions.
  for (let i = 0; i < n; i++) { const [, g1, g2] = probitDerivs(s[i], f[i]); grad[i] = g1; sw[i] = Math.sqrt(-g2); }
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i * n + j] = (i === j ? 1 : 0) + sw[i] * k[i * n + j] * sw[j];
  l = cholesky(b, n) as Float64Array;
  let logEvidence = -0.5 * cholLogDet(l, n);
  for (let i = 0; i < n; i++) logEvidence += -0.5 * a[i] * f[i] + probitDerivs(s[i], f[i])[0];
  const m = xs.length;
  const ks = kernel.matrix(flat(xs), m, xf, n, d);
  const kss = kernel.diag(flat(xs), m, d);
  const mean = new Float64Array(m);
  const variance = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    const kr = ks.subarray(r * n, (r + 1) * n);
    let mu = 0;
    for (let i = 0; i < n; i++) mu += kr[i] * grad[i];
    const v = Float64Array.from(kr, (t, i) => sw[i] * t);
    forwardSolve(l, v, n, 1);
    let q = 0;
    for (let i = 0; i < n; i++) q += v[i] * v[i];
    mean[r] = mu;
    variance[r] = Math.max(kss[r] - q, 0);
  }
  return { logEvidence, mean, variance, iterations };
}

function backSolveVec(l: Float64Array, b: Float64Array, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    b[i] /= l[i * n + i];
    for (let k = 0; k < i; k++) b[k] -= l[i * n + k] * b[i];
  }
}

/** E[g′] and E[g″] of g(f) = log Φ(y f) under N(f; m, v), by Simpson's rule over m ± 12√v (one pass for both). */
function expectDerivs(y: number, m: number, v: number): [number, number] {
  const sd = Math.sqrt(v);
  const kmax = 120;
  const step = (24 * sd) / kmax;
  let a1 = 0;
  let a2 = 0;
  for (let j = 0; j <= kmax; j++) {
    const f = m - 12 * sd + j * step;
    const wt = (j === 0 || j === kmax ? 1 : j % 2 === 1 ? 4 : 2) * Math.exp(-0.5 * ((f - m) / sd) ** 2);
    const [, g1, g2] = probitDerivs(y, f);
    a1 += wt * g1;
    a2 += wt * g2;
  }
  const c = step / 3 / (sd * Math.sqrt(2 * Math.PI));
  return [a1 * c, a2 * c];
}

/** E[log Φ(y f)] under N(f; m, v), by the same rule. */
function expectLogLik(y: number, m: number, v: number): number {
  const sd = Math.sqrt(v);
  const kmax = 120;
  const step = (24 * sd) / kmax;
  let acc = 0;
  for (let j = 0; j <= kmax; j++) {
    const f = m - 12 * sd + j * step;
    acc += (j === 0 || j === kmax ? 1 : j % 2 === 1 ? 4 : 2) * Math.exp(-0.5 * ((f - m) / sd) ** 2) * logNormalCdf(y * f);
  }
  return (acc * step) / 3 / (sd * Math.sqrt(2 * Math.PI));
}

/** Gaussian VI: natural-gradient steps λ̃ ← (1−β)λ̃ + β(−E[g″]), ν̃ ← (1−β)ν̃ + β(E[g′] − E[g″]μ) on the same site form as EP. */
export function gaussianViGpc(x: number[][], y: number[], xs: number[][], kernel: Kernel, step = 0.5): Approx {
  const n = x.length;
  const d = x[0].length;
  const xf = flat(x);
  const k = kernel.matrix(xf, n, xf, n, d);
  const s = y.map((v) => (v ? 1 : -1));
  const q = functionSpaceGaussian(k, n);
  const lam = new Float64Array(n);
  const nu = new Float64Array(n);
  let iterations = 0;
  for (; iterations < 2000; iterations++) {
    let change = 0;
    for (let i = 0; i < n; i++) {
      const { mean: m, variance: v } = q.marginal(i);
      const [e1, e2] = expectDerivs(s[i], m, v);
      const l2 = (1 - step) * lam[i] + step * -e2;
      const n2 = (1 - step) * nu[i] + step * (e1 - e2 * m);
      change = Math.max(change, Math.abs(l2 - lam[i]), Math.abs(n2 - nu[i]));
      lam[i] = l2; nu[i] = n2;
    }
    if (!q.rebuild(lam, nu)) throw new Error('gaussianViGpc: q improper');
    if (change < 1e-8) break;
  }
  // ELBO = Σ E[log Φ(yᵢfᵢ)] − KL(q ‖ N(0, K)); with Σ = (K⁻¹ + Λ)⁻¹: tr K⁻¹Σ = n − Σλᵢ Σᵢᵢ, K⁻¹μ = ν̃ − Λμ,
  // log|K| − log|Σ| = log|I + KΛ| = ν̃ᵀμ − 2·logNormalizer.
  let ell = 0;
  let trTerm = 0;
  let quad = 0;
  let nuMu = 0;
  for (let i = 0; i < n; i++) {
    const { mean: m, variance: v } = q.marginal(i);
    ell += expectLogLik(s[i], m, v);
    trTerm += lam[i] * v;
    quad += m * (nu[i] - lam[i] * m);
    nuMu += nu[i] * m;
  }
  const logDet = nuMu - 2 * q.logNormalizer();
  const kl = 0.5 * (-trTerm + quad + logDet);
  const m = xs.length;
  const ks = kernel.matrix(flat(xs), m, xf, n, d);
  const kss = kernel.diag(flat(xs), m, d);
  const alpha = Float64Array.from(nu, (v, i) => v - lam[i] * q.mean[i]);
  const mean = new Float64Array(m);
  const variance = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    const kr = ks.subarray(r * n, (r + 1) * n);
    let mu = 0;
    let quadr = 0;
    for (let i = 0; i < n; i++) {
      mu += kr[i] * alpha[i];
      // k*ᵀ(Λ − ΛΣΛ)k*
      let t = 0;
      for (let j = 0; j < n; j++) t += q.cov[i * n + j] * lam[j] * kr[j];
      quadr += kr[i] * lam[i] * (kr[i] - t);
    }
    mean[r] = mu;
    variance[r] = Math.max(kss[r] - quadr, 0);
  }
  return { logEvidence: ell - kl, mean, variance, iterations };
}
