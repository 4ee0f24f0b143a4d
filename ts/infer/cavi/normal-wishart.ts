/**
 * The Gaussian factor shared by the Bayesian mixture and the VB-HMM's Gaussian emissions: weighted
 * statistics N_k, x̄_k, N_k S_k from soft assignments, and the Normal–Wishart (full covariance) or
 * Normal–Gamma (diagonal) posterior of Bishop (10.58)–(10.63).
 */

import { ENGINE } from '../../core/engine.js';
import type { Backend } from '../../backends/backend.js';
import type { RowDesign } from './design.js';
import { cholesky, cholInverse, cholLogdet, lgamma, lowerInverse, psi } from './dense.js';

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

/** Points per block in the blocked loops: a D × B buffer of a few tens of kB stays in L1/L2 at D ≈ 50. */
const BLOCK = 64;

/** The active backend's native mixture kernels (the cpu addon), or null: the loops below run instead. */
function mixtureKernels(): MixtureKernels | null {
  const b = ENGINE.backend;
  const has = b.mixtureQuad !== undefined && b.mixtureScatter !== undefined && b.mixtureDiagQuad !== undefined && b.mixtureDiagMoments !== undefined;
  return has ? (b as MixtureKernels) : null;
}

type MixtureKernels = Pick<Required<Backend>, 'mixtureQuad' | 'mixtureScatter' | 'mixtureDiagQuad' | 'mixtureDiagMoments'>;

/**
 * Sets `post` to the posterior given data x (N × D row-major) softly assigned by `resp`
 * (N × K rows summing to 1); `stats` receives N_k, x̄_k and N_k S_k. Second moments are centered
 * (two passes), so data far from the origin lose no precision. An empty component keeps x̄_k = m₀.
 * The full N_k S_k = Σ_i r_ik (x_i − x̄_k)(x_i − x̄_k)ᵀ is summed by blocks of points
 * (R_b ∘ (X_b − x̄_k))ᵀ (X_b − x̄_k), so it equals a per-point sum to rounding, not bit for bit.
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
  design?: RowDesign,
): void {
  const { nk, xbar, sk } = stats;
  const dd = full ? d * d : d;
  const native = mixtureKernels();
  if (native !== null) {
    // One pass for N_k and the moments about a shift (the design's column means, or computed here).
    const shift = design?.shift ?? columnMeans(x, n, d);
    const mo = new Float64Array(k * (1 + 2 * d));
    native.mixtureDiagMoments(x, resp, shift, mo, d, k);
    nk.set(mo.subarray(0, k));
    momentsToStats(mo.subarray(k, k + k * d), mo.subarray(k + k * d), shift, d, k, full, prior.m0, stats);
  } else if (design !== undefined) statsByProducts(design, resp, k, full, prior.m0, stats);
  else scatterStats(x, n, d, resp, k, full, prior.m0, stats);
  if (full) {
    if (native !== null) native.mixtureScatter(x, resp, xbar, sk, d, k);
    else scatterFull(x, n, d, resp, k, xbar, sk);
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

/** The column means of x (N × D). */
function columnMeans(x: Float64Array, n: number, d: number): Float64Array {
  const s = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let e = 0; e < d; e++) s[e] += x[i * d + e];
  for (let e = 0; e < d; e++) s[e] /= n;
  return s;
}

/** N_k, x̄_k and (diagonal) N_k S_k by loops over the points, two passes. */
function scatterStats(x: Float64Array, n: number, d: number, resp: Float64Array, k: number, full: boolean, m0: ArrayLike<number>, stats: GaussianStats): void {
  const { nk, xbar, sk } = stats;
  nk.fill(0);
  xbar.fill(0);
  sk.fill(0);
  for (let i = 0; i < n; i++) {
    const xi = i * d;
    for (let j = 0; j < k; j++) {
      const r = resp[i * k + j];
      nk[j] += r;
      if (r === 0) continue;
      const o = j * d;
      for (let e = 0; e < d; e++) xbar[o + e] += r * x[xi + e];
    }
  }
  for (let j = 0; j < k; j++) for (let e = 0; e < d; e++) xbar[j * d + e] = nk[j] > 0 ? xbar[j * d + e] / nk[j] : m0[e];
  if (!full)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) {
        const r = resp[i * k + j];
        if (r === 0) continue;
        const o = j * d;
        for (let a = 0; a < d; a++) {
          const da = x[i * d + a] - xbar[o + a];
          sk[o + a] += r * da * da;
        }
      }
}

/**
 * Statistics from matrix products on the centered data (see design.ts): N_k x̄_k = (Rᵀ X_c)_k + N_k x̄
 * and, diagonal, N_k S_k = (Rᵀ X_c²)_k − N_k (x̄_k − x̄)², clamped at 0 (full: the caller's).
 */
function statsByProducts(design: RowDesign, resp: Float64Array, k: number, full: boolean, m0: ArrayLike<number>, stats: GaussianStats): void {
  const { nk } = stats;
  const { n, d, shift } = design;
  nk.fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) nk[j] += resp[i * k + j];
  const { first, second } = design.moments(resp, k);
  momentsToStats(first, second, shift, d, k, full, m0, stats);
}

/**
 * x̄_k and (diagonal) N_k S_k from N_k (in `stats`) and the moments about a shift s:
 * first = Σ r (x − s), s2 = Σ r (x − s)² (K × D): x̄_k = first/N_k + s, N_k S_k = s2 − N_k (x̄_k − s)² ≥ 0.
 */
function momentsToStats(first: Float64Array, s2: Float64Array, shift: ArrayLike<number>, d: number, k: number, full: boolean, m0: ArrayLike<number>, stats: GaussianStats): void {
  const { nk, xbar, sk } = stats;
  for (let j = 0; j < k; j++)
    for (let e = 0; e < d; e++) {
      const o = j * d + e;
      if (nk[j] > 0) {
        const c = first[o] / nk[j];
        xbar[o] = c + shift[e];
        if (!full) sk[o] = Math.max(0, s2[o] - nk[j] * c * c);
      } else {
        xbar[o] = m0[e];
        if (!full) sk[o] = 0;
      }
    }
}

/**
 * Lower triangle of sk_k += Σ_i r_ik (x_i − x̄_k)(x_i − x̄_k)ᵀ by blocks of B points: the block is
 * transposed once (D × B), then per component the points with r_ik > 0 are packed into
 * U = R ∘ (X − x̄)ᵀ and V = (X − x̄)ᵀ (both D × B, contiguous rows) and sk[a][b] += ⟨U_a, V_b⟩.
 */
function scatterFull(x: Float64Array, n: number, d: number, resp: Float64Array, k: number, xbar: Float64Array, sk: Float64Array): void {
  const B = BLOCK;
  const xt = new Float64Array(d * B);
  const u = new Float64Array(d * B);
  const v = new Float64Array(d * B);
  const dd = d * d;
  sk.fill(0);
  for (let i0 = 0; i0 < n; i0 += B) {
    const bn = Math.min(B, n - i0);
    for (let c = 0; c < bn; c++) {
      const xi = (i0 + c) * d;
      for (let a = 0; a < d; a++) xt[a * B + c] = x[xi + a];
    }
    for (let j = 0; j < k; j++) {
      // Pack the points this component owns any of (hard assignments leave most columns out).
      let m = 0;
      for (let c = 0; c < bn; c++) {
        const r = resp[(i0 + c) * k + j];
        if (r === 0) continue;
        for (let a = 0; a < d; a++) {
          const da = xt[a * B + c] - xbar[j * d + a];
          v[a * B + m] = da;
          u[a * B + m] = r * da;
        }
        m++;
      }
      if (m > 0) syrkLower(u, v, d, B, m, sk, j * dd);
    }
  }
}

/**
 * s[o + a·D + b] += Σ_{c<m} u[a·B + c]·v[b·B + c] for b ≤ a, two rows × four columns at a time
 * (indices past the edge are clamped, computed and not stored).
 */
function syrkLower(u: Float64Array, v: Float64Array, d: number, B: number, m: number, s: Float64Array, o: number): void {
  for (let a = 0; a < d; a += 2) {
    const a1 = Math.min(a + 1, d - 1);
    const ua = a * B;
    const ub = a1 * B;
    for (let b = 0; b <= a1; b += 4) {
      const v0 = b * B;
      const v1 = Math.min(b + 1, d - 1) * B;
      const v2 = Math.min(b + 2, d - 1) * B;
      const v3 = Math.min(b + 3, d - 1) * B;
      let s00 = 0;
      let s01 = 0;
      let s02 = 0;
      let s03 = 0;
      let s10 = 0;
      let s11 = 0;
      let s12 = 0;
      let s13 = 0;
      for (let c = 0; c < m; c++) {
        const x0 = u[ua + c];
        const x1 = u[ub + c];
        const y0 = v[v0 + c];
        const y1 = v[v1 + c];
        const y2 = v[v2 + c];
        const y3 = v[v3 + c];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const r0 = o + a * d;
      if (b <= a) s[r0 + b] += s00;
      if (b + 1 <= a) s[r0 + b + 1] += s01;
      if (b + 2 <= a) s[r0 + b + 2] += s02;
      if (b + 3 <= a) s[r0 + b + 3] += s03;
      if (a1 !== a) {
        const r1 = o + a1 * d;
        s[r1 + b] += s10;
        if (b + 1 <= a1) s[r1 + b + 1] += s11;
        if (b + 2 <= a1) s[r1 + b + 2] += s12;
        if (b + 3 <= a1) s[r1 + b + 3] += s13;
      }
    }
  }
}

/**
 * E_q[log N(x_i | μ_k, Λ_k⁻¹)] (+ add[k]) into out[i·K + k]:
 * ½E[log|Λ_k|] − (D/2) log 2π − D/(2β_k) − (ν_k/2)(x − m_k)ᵀW_k(x − m_k), with
 * E[log|Λ|] = Σ_i ψ((ν+1−i)/2) + D log 2 + log|W| (full) or Σ_d ψ(ν/2) − log(W⁻¹_d/2) (diagonal).
 * `what` names the caller in the error for a W_k⁻¹ that is not positive definite.
 * Full: the quadratic form is ‖L⁻¹(x − m)‖² (W⁻¹ = L Lᵀ), solved for a block of B points at once
 * on a D × B buffer; the operations per point are those of a per-point forward substitution.
 * Diagonal: multiplies by 1/W⁻¹_k (computed once), so it equals the divide-per-term form to rounding.
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
  design?: RowDesign,
): void {
  const dd = full ? d * d : d;
  const native = mixtureKernels();
  const cst = new Float64Array(k);
  const chol: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const nu = post.nu[j];
    const o = j * dd;
    let elogdet = 0;
    if (full) {
      const l = cholesky(post.winv.subarray(o, o + dd), d, what);
      chol.push(l);
      elogdet = -cholLogdet(l, d) + d * Math.LN2;
      for (let i = 1; i <= d; i++) elogdet += psi((nu + 1 - i) / 2);
    } else {
      for (let e = 0; e < d; e++) elogdet += psi(nu / 2) - Math.log(post.winv[o + e] / 2);
    }
    cst[j] = (add === null ? 0 : add[j]) + 0.5 * elogdet - 0.5 * d * LOG_2PI - (0.5 * d) / post.beta[j];
  }
  if (full) {
    if (native !== null) {
      // The kernel multiplies by A_j = L_j⁻¹ (inverted once here) instead of solving per point.
      const a = new Float64Array(k * d * d);
      for (let j = 0; j < k; j++) a.set(lowerInverse(chol[j], d), j * d * d);
      native.mixtureQuad(x, post.m, a, out, d, k);
      toLogDensity(out, n, k, cst, post.nu);
    } else quadFull(x, n, d, k, post, chol, cst, out);
    return;
  }
  const { m, winv, nu } = post;
  // W_k = 1 / W⁻¹_k elementwise, once: a multiply per term instead of a divide.
  const w = new Float64Array(k * d);
  for (let e = 0; e < k * d; e++) w[e] = 1 / winv[e];
  if (native !== null) {
    native.mixtureDiagQuad(x, m, w, out, d, k);
    toLogDensity(out, n, k, cst, nu);
    return;
  }
  if (design !== undefined) {
    quadDiagByProducts(design, k, m, w, nu, cst, out);
    return;
  }
  for (let i = 0; i < n; i++) {
    const xi = i * d;
    for (let j = 0; j < k; j++) {
      const o = j * d;
      let q0 = 0;
      let q1 = 0;
      let e = 0;
      for (; e + 2 <= d; e += 2) {
        const t0 = x[xi + e] - m[o + e];
        const t1 = x[xi + e + 1] - m[o + e + 1];
        q0 += t0 * t0 * w[o + e];
        q1 += t1 * t1 * w[o + e + 1];
      }
      if (e < d) {
        const t = x[xi + e] - m[o + e];
        q0 += t * t * w[o + e];
      }
      out[i * k + j] = cst[j] - 0.5 * nu[j] * (q0 + q1);
    }
  }
}

/**
 * out[i·K + j] = cst[j] − (ν_j/2) Σ_e w_je (x_ie − m_je)² as one product on the centered data:
 * with m_c = m − x̄, the sum is Σ_e w_je x_c² − 2 Σ_e w_je m_c,je x_c + Σ_e w_je m_c,je².
 */
function quadDiagByProducts(design: RowDesign, k: number, m: Float64Array, w: Float64Array, nu: Float64Array, cst: Float64Array, out: Float64Array): void {
  const { n, d, shift } = design;
  const lin = new Float64Array(d * k);
  const quad = new Float64Array(d * k);
  const c = new Float64Array(k);
  for (let j = 0; j < k; j++)
    for (let e = 0; e < d; e++) {
      const mc = m[j * d + e] - shift[e];
      const we = w[j * d + e];
      lin[e * k + j] = -2 * we * mc;
      quad[e * k + j] = we;
      c[j] += we * mc * mc;
    }
  const q = design.project(lin, quad, k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) out[i * k + j] = cst[j] - 0.5 * nu[j] * Math.max(0, q[i * k + j] + c[j]);
}

/** out[i·K + j] = cst[j] − (ν_j/2)·out[i·K + j]: squared Mahalanobis norms to expected log-densities. */
function toLogDensity(out: Float64Array, n: number, k: number, cst: Float64Array, nu: Float64Array): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[i * k + j] = cst[j] - 0.5 * nu[j] * out[i * k + j];
}

/** out[i·K + j] = cst[j] − (ν_j/2)‖L_j⁻¹(x_i − m_j)‖², by blocks of B points (row-oriented forward substitution). */
function quadFull(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  post: NormalWishartPosterior,
  chol: Float64Array[],
  cst: Float64Array,
  out: Float64Array,
): void {
  const B = BLOCK;
  const xt = new Float64Array(d * B);
  const y = new Float64Array(d * B);
  const q = new Float64Array(B);
  for (let i0 = 0; i0 < n; i0 += B) {
    const bn = Math.min(B, n - i0);
    for (let c = 0; c < bn; c++) {
      const xi = (i0 + c) * d;
      for (let a = 0; a < d; a++) xt[a * B + c] = x[xi + a];
    }
    for (let j = 0; j < k; j++) {
      const l = chol[j];
      const mo = j * d;
      q.fill(0);
      // Two rows a, a + 1 per pass: each y_b row loaded once feeds both (same operation order per entry).
      for (let a = 0; a < d; a += 2) {
        const ya = a * B;
        const la = a * d;
        const ma = post.m[mo + a];
        if (a + 1 === d) {
          for (let c = 0; c < bn; c++) y[ya + c] = xt[ya + c] - ma;
          for (let b = 0; b < a; b++) {
            const lb = l[la + b];
            const yb = b * B;
            for (let c = 0; c < bn; c++) y[ya + c] -= lb * y[yb + c];
          }
          const piv = l[la + a];
          for (let c = 0; c < bn; c++) {
            const t = y[ya + c] / piv;
            y[ya + c] = t;
            q[c] += t * t;
          }
          break;
        }
        const yn = ya + B;
        const ln = la + d;
        const mn = post.m[mo + a + 1];
        for (let c = 0; c < bn; c++) {
          y[ya + c] = xt[ya + c] - ma;
          y[yn + c] = xt[yn + c] - mn;
        }
        let b = 0;
        for (; b + 4 <= a; b += 4) {
          const p0 = l[la + b];
          const p1 = l[la + b + 1];
          const p2 = l[la + b + 2];
          const p3 = l[la + b + 3];
          const n0 = l[ln + b];
          const n1 = l[ln + b + 1];
          const n2 = l[ln + b + 2];
          const n3 = l[ln + b + 3];
          const y0 = b * B;
          const y1 = y0 + B;
          const y2 = y1 + B;
          const y3 = y2 + B;
          for (let c = 0; c < bn; c++) {
            const t0 = y[y0 + c];
            const t1 = y[y1 + c];
            const t2 = y[y2 + c];
            const t3 = y[y3 + c];
            let s = y[ya + c];
            let r = y[yn + c];
            s -= p0 * t0;
            r -= n0 * t0;
            s -= p1 * t1;
            r -= n1 * t1;
            s -= p2 * t2;
            r -= n2 * t2;
            s -= p3 * t3;
            r -= n3 * t3;
            y[ya + c] = s;
            y[yn + c] = r;
          }
        }
        for (; b < a; b++) {
          const pb = l[la + b];
          const nb = l[ln + b];
          const yb = b * B;
          for (let c = 0; c < bn; c++) {
            const t = y[yb + c];
            y[ya + c] -= pb * t;
            y[yn + c] -= nb * t;
          }
        }
        const piv = l[la + a];
        const lna = l[ln + a];
        const pivn = l[ln + a + 1];
        for (let c = 0; c < bn; c++) {
          const t = y[ya + c] / piv;
          y[ya + c] = t;
          q[c] += t * t;
          const u = (y[yn + c] - lna * t) / pivn;
          y[yn + c] = u;
          q[c] += u * u;
        }
      }
      const h = 0.5 * post.nu[j];
      for (let c = 0; c < bn; c++) out[(i0 + c) * k + j] = cst[j] - h * q[c];
    }
  }
}

/** The prior with log|W₀⁻¹| precomputed, as the KL needs it. */
export interface NormalWishartPriorWithLogdet extends NormalWishartPrior {
  readonly logdetW0inv: number;
}

/**
 * Σ_k KL(q(μ_k, Λ_k) ‖ p(μ_k, Λ_k)) in closed form: the conditional Gaussians averaged over q(Λ),
 * plus KL between Wisharts (full) or the per-dimension Gammas (diagonal).
 */
export function normalWishartKl(d: number, k: number, full: boolean, prior: NormalWishartPriorWithLogdet, post: NormalWishartPosterior, what: string): number {
  const { beta0, m0, nu0, w0inv, logdetW0inv } = prior;
  const dd = full ? d * d : d;
  let s = 0;
  for (let j = 0; j < k; j++) {
    const beta = post.beta[j];
    const nu = post.nu[j];
    const o = j * dd;
    // KL of the conditional Gaussians N(m, (βΛ)⁻¹) vs N(m₀, (β₀Λ)⁻¹), averaged over q(Λ).
    const gaussPart = (quad: number): number => 0.5 * ((d * beta0) / beta - d - d * Math.log(beta0 / beta) + beta0 * quad);
    if (full) {
      const l = cholesky(post.winv.subarray(o, o + dd), d, what);
      const w = cholInverse(l, d);
      const logdetW = -cholLogdet(l, d);
      let elogdet = logdetW + d * Math.LN2;
      for (let i = 1; i <= d; i++) elogdet += psi((nu + 1 - i) / 2);
      let quad = 0;
      let tr = 0;
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++) {
          quad += (post.m[j * d + a] - m0[a]) * w[a * d + b] * (post.m[j * d + b] - m0[b]);
          tr += w0inv[a * d + b] * w[b * d + a];
        }
      s += gaussPart(nu * quad);
      // KL(Wishart(W, ν) ‖ Wishart(W₀, ν₀)) = −H[q] − E_q[log p], with log B(W, ν) the normalizer.
      const lnB = (logdet: number, v: number): number => -0.5 * v * logdet - 0.5 * v * d * Math.LN2 - lmvgamma(d, v / 2);
      s += lnB(logdetW, nu) + 0.5 * (nu - d - 1) * elogdet - 0.5 * nu * d - (lnB(-logdetW0inv, nu0) + 0.5 * (nu0 - d - 1) * elogdet - 0.5 * nu * tr);
    } else {
      const a = nu / 2;
      const a0 = nu0 / 2;
      let quad = 0;
      let klg = 0;
      for (let e = 0; e < d; e++) {
        const b = post.winv[o + e] / 2;
        const b0 = w0inv[e] / 2;
        quad += (a / b) * (post.m[j * d + e] - m0[e]) ** 2;
        klg += (a - a0) * psi(a) - lgamma(a) + lgamma(a0) + a0 * (Math.log(b) - Math.log(b0)) + (a * (b0 - b)) / b;
      }
      s += gaussPart(quad) + klg;
    }
  }
  return s;
}

/** ln Γ_D(a) = D(D − 1)/4 ln π + Σ_{i=1..D} ln Γ(a + (1 − i)/2). */
function lmvgamma(d: number, a: number): number {
  let s = ((d * (d - 1)) / 4) * Math.log(Math.PI);
  for (let i = 1; i <= d; i++) s += lgamma(a + (1 - i) / 2);
  return s;
}
