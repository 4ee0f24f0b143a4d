/** EP's Gaussian in function space: a Gaussian process prior N(0, K) over f = (f₁ … fₙ), Σ = (K⁻¹ + T̃)⁻¹. */
import type { EpGaussian, Marginal } from './gaussian.js';
import { cholesky, cholLogDet, dot, forwardSolve, luFactor, luSolve, matVec } from './linalg.js';

/** Relative jitter for the positive-semi-definiteness check of Σ after an update with negative site precisions. */
const PSD_SLACK = 1e-9;

/** The function-space Gaussian with its covariance Σ and mean μ, for GP classification and regression. */
export interface FunctionSpaceGaussian extends EpGaussian {
  /** Σ, n × n row-major (live: it changes as EP runs). */
  readonly cov: Float64Array;
  /** μ = Σ ν̃ (live). */
  readonly mean: Float64Array;
}

/**
 * EP's state for a zero-mean GP prior with covariance K (n × n row-major): sequential updates
 * are rank-one downdates of Σ (Rasmussen & Williams 2006, Alg. 3.5); `rebuild` recomputes Σ
 * through B = I + T̃^½ K T̃^½ when every τ̃ ≥ 0 (never forming K⁻¹), or through an LU
 * factorization of I + K T̃ when some site has negative precision.
 */
export function functionSpaceGaussian(k: Float64Array, n: number): FunctionSpaceGaussian {
  const cov = Float64Array.from(k);
  const mean = new Float64Array(n);
  const nuNow = new Float64Array(n);
  let logDetTerm = 0; // log |I + K T̃|
  const col = new Float64Array(n);
  return {
    sites: n,
    cov,
    mean,
    marginal: (i: number): Marginal => ({ mean: mean[i], variance: cov[i * n + i] }),
    rankOne(i, dTau, dNu) {
      for (let j = 0; j < n; j++) col[j] = cov[j * n + i];
      const c = dTau / (1 + dTau * col[i]);
      const g = c * (mean[i] + col[i] * dNu) - dNu;
      for (let r = 0; r < n; r++) {
        const cr = c * col[r];
        if (cr !== 0) for (let j = 0; j < n; j++) cov[r * n + j] -= cr * col[j];
        mean[r] -= g * col[r];
      }
      nuNow[i] += dNu;
    },
    rebuild(tau, nu) {
      let next: Float64Array;
      let ld: number;
      if (tau.every((t) => t >= 0)) {
        const s = Float64Array.from(tau, Math.sqrt);
        const b = new Float64Array(n * n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) b[i * n + j] = (i === j ? 1 : 0) + s[i] * k[i * n + j] * s[j];
        const l = cholesky(b, n);
        if (l === null) return false;
        ld = cholLogDet(l, n);
        // V = L⁻¹ S½ K, Σ = K − Vᵀ V.
        const v = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) v[i * n + j] = s[i] * k[i * n + j];
        forwardSolve(l, v, n, n);
        next = Float64Array.from(k);
        for (let r = 0; r < n; r++) {
          const vr = r;
          for (let c = r; c < n; c++) {
            let acc = 0;
            for (let q = 0; q < n; q++) acc += v[q * n + vr] * v[q * n + c];
            next[r * n + c] -= acc;
            if (c !== r) next[c * n + r] = next[r * n + c];
          }
        }
      } else {
        // Σ = (I + K T̃)⁻¹ K, proper only if |I + K T̃| > 0 and Σ is positive definite.
        const m = new Float64Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] = (i === j ? 1 : 0) + k[i * n + j] * tau[j];
        const f = luFactor(m, n);
        if (f.sign <= 0) return false;
        ld = f.logAbsDet;
        next = luSolve(f, k, n, n);
        for (let r = 0; r < n; r++)
          for (let c = r + 1; c < n; c++) {
            const avg = 0.5 * (next[r * n + c] + next[c * n + r]);
            next[r * n + c] = avg;
            next[c * n + r] = avg;
          }
        // Σ must be positive semi-definite (singular where K is): Cholesky with a relative jitter.
        let top = 0;
        for (let i = 0; i < n; i++) top = Math.max(top, Math.abs(next[i * n + i]));
        const probe = Float64Array.from(next);
        for (let i = 0; i < n; i++) probe[i * n + i] += PSD_SLACK * top;
        if (cholesky(probe, n) === null) return false;
      }
      cov.set(next);
      nuNow.set(nu);
      mean.set(matVec(cov, nu, n, n));
      logDetTerm = ld;
      return true;
    },
    // With p₀ = N(0, K): log ∫ N(f; 0, K) exp(ν̃ᵀf − ½ fᵀT̃f) df = ½ ν̃ᵀμ − ½ log |I + K T̃|.
    logNormalizer: () => 0.5 * dot(nuNow, mean) - 0.5 * logDetTerm,
  };
}
