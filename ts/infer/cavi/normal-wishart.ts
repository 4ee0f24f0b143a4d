/**
 * The Gaussian factor shared by the Bayesian mixture and the VB-HMM's Gaussian emissions: weighted
 * statistics N_k, x̄_k, N_k S_k from soft assignments, and the Normal–Wishart (full covariance) or
 * Normal–Gamma (diagonal) posterior of Bishop (10.58)–(10.63).
 */

import { cholesky, cholLogdet, psi } from './dense.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** The prior: β₀, m₀ (D), ν₀ and W₀⁻¹ (D × D row-major, or D for diagonal). */
export interface NormalWishartPrior {
  readonly beta0: number;
  readonly m0: ArrayLike<number>;
  readonly nu0: number;
  readonly w0inv: ArrayLike<number>;
}

/** Per-component posterior parameters, written in place: β_k, m_k, ν_k, W_k⁻¹. */
export interface NormalWishartPosterior {
  readonly beta: Float64Array;
  readonly m: Float64Array;
  readonly nu: Float64Array;
  readonly winv: Float64Array;
}

/** Scratch for the statistics: N_k (K), x̄_k (K × D), N_k S_k (K × D × D lower triangle, or K × D). */
export interface GaussianStats {
  readonly nk: Float64Array;
  readonly xbar: Float64Array;
  readonly sk: Float64Array;
}

/**
 * Sets `post` to the posterior given data x (N × D row-major) softly assigned by `resp`
 * (N × K rows summing to 1); `stats` receives N_k, x̄_k and N_k S_k. Second moments are centered
 * (two passes), so data far from the origin lose no precision. An empty component keeps x̄_k = m₀.
 */
export function normalWishartUpdate(
  x: Float64Array,
  n: number,
  d: number,
  resp: Float64Array,
  k: number,
  full: boolean,
  prior: NormalWishartPrior,
  stats: GaussianStats,
  post: NormalWishartPosterior,
): void {
  const { nk, xbar, sk } = stats;
  const dd = full ? d * d : d;
  nk.fill(0);
  xbar.fill(0);
  sk.fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      const r = resp[i * k + j];
      nk[j] += r;
      for (let e = 0; e < d; e++) xbar[j * d + e] += r * x[i * d + e];
    }
  for (let j = 0; j < k; j++) for (let e = 0; e < d; e++) xbar[j * d + e] = nk[j] > 0 ? xbar[j * d + e] / nk[j] : prior.m0[e];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      const r = resp[i * k + j];
      if (r === 0) continue;
      const o = j * dd;
      if (full) {
        for (let a = 0; a < d; a++) {
          const da = x[i * d + a] - xbar[j * d + a];
          for (let b = 0; b <= a; b++) sk[o + a * d + b] += r * da * (x[i * d + b] - xbar[j * d + b]);
        }
      } else {
        for (let a = 0; a < d; a++) {
          const da = x[i * d + a] - xbar[j * d + a];
          sk[o + a] += r * da * da;
        }
      }
    }
  // sk now holds N_k S_k (lower triangle for full).
  const { beta0, m0, nu0, w0inv } = prior;
  for (let j = 0; j < k; j++) {
    const nj = nk[j];
    post.beta[j] = beta0 + nj;
    post.nu[j] = nu0 + nj;
    for (let e = 0; e < d; e++) post.m[j * d + e] = (beta0 * m0[e] + nj * xbar[j * d + e]) / post.beta[j];
    const c = (beta0 * nj) / (beta0 + nj);
    const o = j * dd;
    if (full) {
      for (let a = 0; a < d; a++)
        for (let b = 0; b <= a; b++) {
          const v = w0inv[a * d + b] + sk[o + a * d + b] + c * (xbar[j * d + a] - m0[a]) * (xbar[j * d + b] - m0[b]);
          post.winv[o + a * d + b] = v;
          post.winv[o + b * d + a] = v;
        }
    } else {
      for (let a = 0; a < d; a++) post.winv[o + a] = w0inv[a] + sk[o + a] + c * (xbar[j * d + a] - m0[a]) ** 2;
    }
  }
}

/**
 * E_q[log N(x_i | μ_k, Λ_k⁻¹)] (+ add[k]) into out[i·K + k]:
 * ½E[log|Λ_k|] − (D/2) log 2π − D/(2β_k) − (ν_k/2)(x − m_k)ᵀW_k(x − m_k), with
 * E[log|Λ|] = Σ_i ψ((ν+1−i)/2) + D log 2 + log|W| (full) or Σ_d ψ(ν/2) − log(W⁻¹_d/2) (diagonal).
 * `what` names the caller in the error for a W_k⁻¹ that is not positive definite.
 */
export function expectedGaussianLogLik(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  full: boolean,
  post: NormalWishartPosterior,
  out: Float64Array,
  add: Float64Array | null,
  what: string,
): void {
  const dd = full ? d * d : d;
  const y = new Float64Array(d);
  for (let j = 0; j < k; j++) {
    const nu = post.nu[j];
    const o = j * dd;
    if (full) {
      const l = cholesky(post.winv.subarray(o, o + dd), d, what);
      let elogdet = -cholLogdet(l, d) + d * Math.LN2;
      for (let i = 1; i <= d; i++) elogdet += psi((nu + 1 - i) / 2);
      const c = (add === null ? 0 : add[j]) + 0.5 * elogdet - 0.5 * d * LOG_2PI - (0.5 * d) / post.beta[j];
      for (let i = 0; i < n; i++) {
        // (x − m)ᵀ W (x − m) = ‖L⁻¹(x − m)‖² with W⁻¹ = L Lᵀ.
        let q = 0;
        for (let a = 0; a < d; a++) {
          let s = x[i * d + a] - post.m[j * d + a];
          for (let b = 0; b < a; b++) s -= l[a * d + b] * y[b];
          y[a] = s / l[a * d + a];
          q += y[a] * y[a];
        }
        out[i * k + j] = c - 0.5 * nu * q;
      }
    } else {
      let elogdet = 0;
      for (let e = 0; e < d; e++) elogdet += psi(nu / 2) - Math.log(post.winv[o + e] / 2);
      const c = (add === null ? 0 : add[j]) + 0.5 * elogdet - 0.5 * d * LOG_2PI - (0.5 * d) / post.beta[j];
      for (let i = 0; i < n; i++) {
        let q = 0;
        for (let e = 0; e < d; e++) {
          const t = x[i * d + e] - post.m[j * d + e];
          q += (t * t) / post.winv[o + e];
        }
        out[i * k + j] = c - 0.5 * nu * q;
      }
    }
  }
}
