/** EP's Gaussian in weight space: a linear model fᵢ = xᵢᵀ w with prior w ~ N(m₀, S₀), Σ_w = (S₀⁻¹ + Xᵀ T̃ X)⁻¹. */
import { NotPositiveDefiniteError } from '../../core/errors.js';
import type { EpGaussian, Marginal } from './gaussian.js';
import { cholesky, cholInverse, cholLogDet, dot, matVec } from './linalg.js';

/** The weight-space Gaussian with the weights' covariance and mean. */
export interface WeightSpaceGaussian extends EpGaussian {
  /** Σ_w, d × d row-major (live). */
  readonly cov: Float64Array;
  /** μ_w = Σ_w (S₀⁻¹ m₀ + Xᵀ ν̃) (live). */
  readonly mean: Float64Array;
}

/**
 * EP's state for n sites on the projections of d weights (x is n × d row-major). Costs O(d²) per
 * site update and O(n d² + d³) per rebuild, so it suits many data points and few weights.
 * @throws NotPositiveDefiniteError if the prior covariance is not positive definite.
 */
export function weightSpaceGaussian(x: Float64Array, n: number, d: number, priorMean: Float64Array, priorCov: Float64Array): WeightSpaceGaussian {
  const l0 = cholesky(priorCov, d);
  if (l0 === null) throw new NotPositiveDefiniteError(`epLinear: the prior covariance (${d} × ${d}) is not positive definite`);
  const prec0 = cholInverse(l0, d);
  const eta0 = matVec(prec0, priorMean, d, d);
  const logNorm0 = 0.5 * dot(eta0, priorMean) + 0.5 * cholLogDet(l0, d);
  const cov = Float64Array.from(priorCov);
  const mean = Float64Array.from(priorMean);
  const eta = Float64Array.from(eta0);
  let logDetCov = cholLogDet(l0, d);
  const u = new Float64Array(d);
  const row = (i: number): Float64Array => x.subarray(i * d, (i + 1) * d);
  return {
    sites: n,
    cov,
    mean,
    marginal(i): Marginal {
      const a = row(i);
      let v = 0;
      for (let r = 0; r < d; r++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += cov[r * d + c] * a[c];
        v += a[r] * s;
      }
      return { mean: dot(a, mean), variance: v };
    },
    rankOne(i, dTau, dNu) {
      const a = row(i);
      for (let r = 0; r < d; r++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += cov[r * d + c] * a[c];
        u[r] = s;
      }
      const c = dTau / (1 + dTau * dot(a, u));
      for (let r = 0; r < d; r++) for (let q = 0; q < d; q++) cov[r * d + q] -= c * u[r] * u[q];
      for (let r = 0; r < d; r++) eta[r] += dNu * a[r];
      mean.set(matVec(cov, eta, d, d));
    },
    rebuild(tau, nu) {
      const prec = Float64Array.from(prec0);
      const e = Float64Array.from(eta0);
      for (let i = 0; i < n; i++) {
        const a = row(i);
        const t = tau[i];
        for (let r = 0; r < d; r++) {
          e[r] += nu[i] * a[r];
          if (t !== 0) for (let c = 0; c < d; c++) prec[r * d + c] += t * a[r] * a[c];
        }
      }
      const l = cholesky(prec, d);
      if (l === null) return false;
      cov.set(cholInverse(l, d));
      eta.set(e);
      mean.set(matVec(cov, eta, d, d));
      logDetCov = -cholLogDet(l, d);
      return true;
    },
    // log ∫ N(w; m₀, S₀) exp(ηᵀw − ½ wᵀ(Λ − Λ₀)w) dw = ½ ηᵀμ + ½ log|Σ_w| − ½ η₀ᵀm₀ − ½ log|S₀|.
    logNormalizer: () => 0.5 * dot(eta, mean) + 0.5 * logDetCov - logNorm0,
  };
}
