/**
 * Probabilistic PCA (Tipping & Bishop 1999; the worked example of the survey, §22) with W, b, σ²
 * known: z ~ N(0, I_k), x | z ~ N(W z + b, σ² I_D). The exact posterior is
 * p(z | x) = N(M⁻¹Wᵀ(x − b), σ² M⁻¹), M = WᵀW + σ² I. Mean-field CAVI fits q(z) = Π_j N(m_j, s_j²)
 * per data point, one factor per latent coordinate; since log p(x) = ELBO(q) + KL(q ‖ p(z | x)) for
 * every q, the gap between the exact evidence and the ELBO is exactly that KL.
 */
import { ShapeError, ValueError } from '../../core/errors.js';
import { type CaviFactor, type CaviOptions, type CaviTrace, type ConjugateModel, runCavi } from './conjugate.js';
import { asMatrix, checkFinite, cholesky, cholInverse, cholLogdet, cholSolve } from './dense.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Options of `ppcaMeanField`. */
export interface PpcaOptions extends CaviOptions {
  /** Columns of X (= D) when X is a flat Float64Array. */
  d?: number;
  /** Latent dimension k when W is a flat D × k Float64Array. */
  k?: number;
}

/** Mean-field q with the exact posterior and the identity's terms, summed over data points. */
export interface PpcaResult {
  /** Means of q, N × k row-major. */
  mean: Float64Array;
  /** Variances s_j² of q (the same for every data point), length k. */
  variance: Float64Array;
  /** Σₙ ELBO of each point. */
  elbo: number;
  /** Σₙ log N(xₙ; b, WWᵀ + σ² I). */
  logEvidence: number;
  /** Σₙ KL(qₙ ‖ p(zₙ | xₙ)), computed from the two Gaussians (not as a difference). */
  kl: number;
  /** Exact posterior means (N × k) and the shared covariance σ² M⁻¹ (k × k). */
  exact: {
    /** Exact posterior means, N × k row-major. */
    mean: Float64Array;
    /** The shared exact covariance σ² M⁻¹, k × k row-major. */
    cov: Float64Array;
  };
  /** The sweeps' ELBO trace and convergence. */
  trace: CaviTrace;
}

/** @internal The mean-field model; q(z_j) held as (precision·mean, precision) per point. */
export class PpcaModel implements ConjugateModel {
  readonly n: number;
  readonly k: number;
  readonly dx: number;
  /** Posterior precision Λ = WᵀW/σ² + I (k × k) and h = Wᵀ(x − b)/σ² (N × k). */
  readonly lam: Float64Array;
  readonly h: Float64Array;
  readonly m: Float64Array;
  readonly s2: Float64Array;
  readonly factors: readonly CaviFactor[];
  private readonly x: Float64Array;
  private readonly w: Float64Array;
  private readonly bias: Float64Array;
  private readonly sigma2: number;

  constructor(x: Float64Array, n: number, dx: number, w: Float64Array, k: number, bias: Float64Array, sigma2: number) {
    this.x = x;
    this.w = w;
    this.bias = bias;
    this.sigma2 = sigma2;
    this.n = n;
    this.dx = dx;
    this.k = k;
    this.lam = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let r = 0; r < dx; r++) s += w[r * k + i] * w[r * k + j];
        this.lam[i * k + j] = s / sigma2 + (i === j ? 1 : 0);
      }
    this.h = new Float64Array(n * k);
    for (let p = 0; p < n; p++)
      for (let r = 0; r < dx; r++) {
        const c = (x[p * dx + r] - bias[r]) / sigma2;
        for (let j = 0; j < k; j++) this.h[p * k + j] += w[r * k + j] * c;
      }
    // Start at the prior N(0, I).
    this.m = new Float64Array(n * k);
    this.s2 = new Float64Array(k).fill(1);
    this.factors = Array.from({ length: k }, (_, j) => ({ name: `q(z_${j})`, update: () => this.updateCoord(j) }));
  }

  /** q(z_j) ∝ exp E[log p]: precision Λ_jj, mean (h_j − Σ_{i≠j} Λ_ji m_i) / Λ_jj. */
  private updateCoord(j: number): void {
    const { k, lam, h, m } = this;
    const ljj = lam[j * k + j];
    this.s2[j] = 1 / ljj;
    for (let p = 0; p < this.n; p++) {
      let s = h[p * k + j];
      for (let i = 0; i < k; i++) if (i !== j) s -= lam[j * k + i] * m[p * k + i];
      m[p * k + j] = s / ljj;
    }
  }

  elbo(): number {
    const { n, k, dx, x, w, bias, sigma2, m, s2 } = this;
    let colNorm = 0; // Σ_j s_j² ‖W_:j‖²
    let sumS2 = 0;
    let entropy = 0;
    for (let j = 0; j < k; j++) {
      let c = 0;
      for (let r = 0; r < dx; r++) c += w[r * k + j] * w[r * k + j];
      colNorm += s2[j] * c;
      sumS2 += s2[j];
      entropy += 0.5 * (1 + LOG_2PI + Math.log(s2[j]));
    }
    let total = 0;
    for (let p = 0; p < n; p++) {
      let res = 0;
      for (let r = 0; r < dx; r++) {
        let wm = bias[r];
        for (let j = 0; j < k; j++) wm += w[r * k + j] * m[p * k + j];
        const e = x[p * dx + r] - wm;
        res += e * e;
      }
      let mm = 0;
      for (let j = 0; j < k; j++) mm += m[p * k + j] * m[p * k + j];
      total += -0.5 * dx * (LOG_2PI + Math.log(sigma2)) - (0.5 / sigma2) * (res + colNorm) - 0.5 * k * LOG_2PI - 0.5 * (mm + sumS2) + entropy;
    }
    return total;
  }

  /** Exact posterior, log evidence and KL(q ‖ p(z | x)), each summed over points. */
  exact(): { mean: Float64Array; cov: Float64Array; logEvidence: number; kl: number } {
    const { n, k, dx, x, w, bias, sigma2, lam, h, m, s2 } = this;
    const ll = cholesky(lam, k, 'ppca: posterior precision');
    const cov = cholInverse(ll, k);
    const logdetLam = cholLogdet(ll, k);
    const mean = new Float64Array(n * k);
    for (let p = 0; p < n; p++) mean.set(cholSolve(ll, k, h.slice(p * k, (p + 1) * k)), p * k);
    // Marginal covariance C = WWᵀ + σ² I.
    const c = new Float64Array(dx * dx);
    for (let r = 0; r < dx; r++)
      for (let q = 0; q < dx; q++) {
        let s = r === q ? sigma2 : 0;
        for (let j = 0; j < k; j++) s += w[r * k + j] * w[q * k + j];
        c[r * dx + q] = s;
      }
    const lc = cholesky(c, dx, 'ppca: WWᵀ + σ²I');
    const logdetC = cholLogdet(lc, dx);
    let logEvidence = 0;
    let kl = 0;
    let trLamS = 0;
    let logdetS = 0;
    for (let j = 0; j < k; j++) {
      trLamS += lam[j * k + j] * s2[j];
      logdetS += Math.log(s2[j]);
    }
    const v = new Float64Array(dx);
    for (let p = 0; p < n; p++) {
      for (let r = 0; r < dx; r++) v[r] = x[p * dx + r] - bias[r];
      let quad = 0;
      const u = cholSolve(lc, dx, v.slice());
      for (let r = 0; r < dx; r++) quad += v[r] * u[r];
      logEvidence += -0.5 * (dx * LOG_2PI + logdetC + quad);
      let mq = 0;
      for (let i = 0; i < k; i++) {
        let t = 0;
        for (let j = 0; j < k; j++) t += lam[i * k + j] * (mean[p * k + j] - m[p * k + j]);
        mq += (mean[p * k + i] - m[p * k + i]) * t;
      }
      kl += 0.5 * (trLamS + mq - k - logdetS - logdetLam);
    }
    return { mean, cov, logEvidence, kl };
  }
}

/**
 * Mean-field CAVI for PPCA with known W (D × k), b (length D) and σ² > 0. X is N × D.
 * @example const fit = ppcaMeanField([[1, 2, 0]], [[1, 0.5], [0, 1], [0.3, 0.3]], [0, 0, 0], 0.5); fit.logEvidence - fit.elbo // = fit.kl
 */
export function ppcaMeanField(
  x: Float64Array | readonly (readonly number[])[],
  w: Float64Array | readonly (readonly number[])[],
  b: ArrayLike<number>,
  sigma2: number,
  opts: PpcaOptions = {},
): PpcaResult {
  const xm = asMatrix('ppcaMeanField: X', x, opts.d);
  const wm = asMatrix('ppcaMeanField: W', w, opts.k);
  if (wm.n !== xm.d) throw new ShapeError(`ppcaMeanField: W has ${wm.n} rows but X has ${xm.d} columns`);
  if (b.length !== xm.d) throw new ShapeError(`ppcaMeanField: b has ${b.length} entries but X has ${xm.d} columns`);
  if (!(sigma2 > 0 && Number.isFinite(sigma2))) throw new ValueError(`ppcaMeanField: sigma2 must be positive and finite, got ${sigma2}`);
  const bias = Float64Array.from(b as ArrayLike<number>);
  checkFinite('ppcaMeanField: b', bias);
  const model = new PpcaModel(xm.data, xm.n, xm.d, wm.data, wm.d, bias, sigma2);
  const trace = runCavi(model, { tol: 1e-14, ...opts });
  const ex = model.exact();
  return {
    mean: model.m,
    variance: model.s2,
    elbo: trace.elbo,
    logEvidence: ex.logEvidence,
    kl: ex.kl,
    exact: { mean: ex.mean, cov: ex.cov },
    trace,
  };
}
