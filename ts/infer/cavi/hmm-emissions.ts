/**
 * The emission factors q(θ) of the variational Bayesian HMM (Beal 2003, ch. 3): Dirichlet rows for
 * categorical emissions, Normal–Gamma per dimension (diagonal) or Normal–Wishart (full) for
 * Gaussian ones. Each factor turns the state marginals γ_nk into its conjugate update, gives the
 * expected log-likelihood E_q[log p(x_n | θ_k)] (all constants included) that forward–backward
 * exponentiates into the sub-normalized emission "probabilities", and its KL to the prior.
 * @internal
 */
import { RowDesign } from './design.js';
import { expectedGaussianLogLik, normalWishartKl, normalWishartUpdate } from './normal-wishart.js';
import { lgamma, psi } from './dense.js';


/** Observations of all sequences, concatenated: N rows, with sequence s at rows starts[s]..starts[s+1]. */
export interface HmmData {
  n: number;
  d: number;
  /** N × D observations (Gaussian) or null. */
  x: Float64Array | null;
  /** N symbols (categorical) or null. */
  sym: Int32Array | null;
  /** S + 1 row offsets. */
  starts: Int32Array;
}

/** One emission factor q(θ_1..K). */
export interface EmissionFactor {
  /** Fills out[n·K + k] = E_q[log p(x_n | θ_k)] for the factor's data. */
  expectedLogLik(out: Float64Array): void;
  /** q(θ) ∝ p(θ) Π_n Π_k p(x_n | θ_k)^{γ_nk} from the N × K marginals γ. */
  update(gamma: Float64Array): void;
  /** KL(q(θ) ‖ p(θ)). */
  kl(): number;
}

/** KL(Dir(α) ‖ Dir(α₀·1)) for one row of length m starting at `off`. */
export function klDirichlet(alpha: Float64Array, off: number, m: number, alpha0: number): number {
  let sum = 0;
  for (let j = 0; j < m; j++) sum += alpha[off + j];
  const ps = psi(sum);
  let s = lgamma(sum) - lgamma(m * alpha0) + m * lgamma(alpha0);
  for (let j = 0; j < m; j++) s += -lgamma(alpha[off + j]) + (alpha[off + j] - alpha0) * (psi(alpha[off + j]) - ps);
  return s;
}

/** E[log p_j] = ψ(α_j) − ψ(Σα) of a Dirichlet row, into out[off..off+m). */
export function dirichletElog(alpha: Float64Array, off: number, m: number, out: Float64Array): void {
  let sum = 0;
  for (let j = 0; j < m; j++) sum += alpha[off + j];
  const ps = psi(sum);
  for (let j = 0; j < m; j++) out[off + j] = psi(alpha[off + j]) - ps;
}

/** q(B_k) = Dir(α₀ + Σ_n γ_nk [x_n = m]) for each state's symbol distribution. */
export class CategoricalEmission implements EmissionFactor {
  /** K × M Dirichlet parameters. */
  readonly alpha: Float64Array;
  private readonly elog: Float64Array;

  constructor(
    readonly data: HmmData,
    readonly k: number,
    readonly m: number,
    readonly alpha0: number,
  ) {
    this.alpha = new Float64Array(k * m).fill(alpha0);
    this.elog = new Float64Array(k * m);
  }

  update(gamma: Float64Array): void {
    const { k, m, alpha, alpha0 } = this;
    const sym = this.data.sym as Int32Array;
    alpha.fill(alpha0);
    for (let i = 0; i < this.data.n; i++) {
      const s = sym[i];
      for (let j = 0; j < k; j++) alpha[j * m + s] += gamma[i * k + j];
    }
  }

  expectedLogLik(out: Float64Array): void {
    const { k, m, elog } = this;
    const sym = this.data.sym as Int32Array;
    for (let j = 0; j < k; j++) dirichletElog(this.alpha, j * m, m, elog);
    for (let i = 0; i < this.data.n; i++) {
      const s = sym[i];
      for (let j = 0; j < k; j++) out[i * k + j] = elog[j * m + s];
    }
  }

  kl(): number {
    let s = 0;
    for (let j = 0; j < this.k; j++) s += klDirichlet(this.alpha, j * this.m, this.m, this.alpha0);
    return s;
  }
}

/** The Normal–Gamma / Normal–Wishart prior: μ_k | Λ_k ~ N(m₀, (β₀Λ_k)⁻¹), Λ_k ~ Wishart(W₀, ν₀). */
export interface GaussianPrior {
  beta0: number;
  m0: Float64Array;
  nu0: number;
  /** W₀⁻¹: D × D (full) or D (diag: λ_kd ~ Gamma(ν₀/2, W₀⁻¹_d/2)). */
  w0inv: Float64Array;
  logdetW0inv: number;
}

/**
 * q(μ_k, Λ_k) held as (β_k, m_k, W_k⁻¹, ν_k), Bishop (10.60)–(10.63) with the γ_nk as weights:
 * β = β₀ + N_k, m = (β₀m₀ + N_k x̄_k)/β, ν = ν₀ + N_k, W⁻¹ = W₀⁻¹ + N_k S_k + β₀N_k/(β₀+N_k)(x̄_k − m₀)(x̄_k − m₀)ᵀ.
 */
export class GaussianEmission implements EmissionFactor {
  readonly beta: Float64Array;
  readonly m: Float64Array;
  readonly nu: Float64Array;
  readonly winv: Float64Array;
  private readonly nk: Float64Array;
  private readonly xbar: Float64Array;
  private readonly sk: Float64Array;

  constructor(
    readonly data: HmmData,
    readonly k: number,
    readonly full: boolean,
    readonly prior: GaussianPrior,
  ) {
    const { d } = data;
    const dd = full ? d * d : d;
    this.beta = new Float64Array(k);
    this.m = new Float64Array(k * d);
    this.nu = new Float64Array(k);
    this.winv = new Float64Array(k * dd);
    this.nk = new Float64Array(k);
    this.xbar = new Float64Array(k * d);
    this.sk = new Float64Array(k * dd);
  }

  /** The data as backend tensors for the diagonal case's matrix products (made on first use). */
  private design: RowDesign | undefined;

  private diagDesign(): RowDesign | undefined {
    if (this.full) return undefined;
    this.design ??= new RowDesign(this.data.x as Float64Array, this.data.n, this.data.d);
    return this.design;
  }

  update(gamma: Float64Array): void {
    const { k, full, prior, nk, xbar, sk } = this;
    normalWishartUpdate(this.data.x as Float64Array, this.data.n, this.data.d, gamma, k, full, prior, { nk, xbar, sk }, this, this.diagDesign());
  }

  /**
   * E_q[log N(x | μ_k, Λ_k⁻¹)] = ½E[log|Λ_k|] − (D/2) log 2π − D/(2β_k) − (ν_k/2)(x − m_k)ᵀW_k(x − m_k),
   * with E[log|Λ|] = Σ_i ψ((ν+1−i)/2) + D log 2 + log|W| (full) or Σ_d ψ(ν/2) − log(W⁻¹_d/2) (diag).
   */
  expectedLogLik(out: Float64Array): void {
    const { k, full } = this;
    const { n, d } = this.data;
    const x = this.data.x as Float64Array;
    expectedGaussianLogLik(x, n, d, k, full, this, out, null, 'vbHmm: W_k⁻¹ of a Gaussian emission', this.diagDesign());
  }

  /** Σ_k KL(q(μ_k, Λ_k) ‖ p(μ_k, Λ_k)), Normal–Wishart or Normal–Gamma, closed form. */
  kl(): number {
    return normalWishartKl(this.data.d, this.k, this.full, this.prior, this, 'vbHmm: W_k⁻¹ of a Gaussian emission');
  }

}

