/**
 * The gated Gaussian factor of a mixture: observed rows x_n (N × D), a categorical selector z_n
 * (the gate's switch) choosing among K Gaussian–Wishart components (μ_k, Λ_k):
 * p(x_n | z_n, μ, Λ) = Π_k N(x_n | μ_k, Λ_k⁻¹)^[z_n = k]. Messages:
 *   to z_n: log-probabilities += E[log N(x_n | μ_k, Λ_k⁻¹)] = ½E[log|Λ_k|] − (D/2) log 2π − D/(2β_k)
 *           − (ν_k/2)(x_n − m_k)ᵀW_k(x_n − m_k);
 *   to (μ_k, Λ_k): the r-weighted statistics (N_k, x̄_k, N_k S_k) as a pooled message, dof N_k;
 * E[log f] = Σ_nk r_nk E[log N(x_n | μ_k, Λ_k⁻¹)]. The O(NKD²) kernels (statistics and expected
 * log-densities, native when the cpu backend is loaded) are the ones the hand-written CAVI uses;
 * the expected log-densities are cached per version of the components.
 */
import { expectedGaussianLogLik, normalWishartUpdate } from '../cavi/normal-wishart.js';
import type { CategoricalVariable } from './categorical.js';
import type { GaussianWishartVariable } from './gaussian-wishart.js';
import type { VmpFactor, VmpVariable } from './node.js';

/** @internal Made by `FactorGraph.gaussianMixture`. */
export class GaussianMixtureFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly k: number;
  private readonly loglik: Float64Array;
  private cachedFor = -1;
  private readonly stats: { nk: Float64Array; xbar: Float64Array; sk: Float64Array };
  private readonly scratch: { beta: Float64Array; m: Float64Array; nu: Float64Array; winv: Float64Array };
  private readonly zeroPrior: { beta0: number; m0: Float64Array; nu0: number; w0inv: Float64Array };

  constructor(
    readonly name: string,
    private readonly x: Float64Array,
    private readonly n: number,
    private readonly d: number,
    private readonly z: CategoricalVariable,
    private readonly theta: GaussianWishartVariable,
  ) {
    this.variables = [z, theta];
    const k = theta.size;
    this.k = k;
    this.loglik = new Float64Array(n * k);
    const dd = theta.diag ? d : d * d;
    this.stats = { nk: new Float64Array(k), xbar: new Float64Array(k * d), sk: new Float64Array(k * dd) };
    this.scratch = { beta: new Float64Array(k), m: new Float64Array(k * d), nu: new Float64Array(k), winv: new Float64Array(k * dd) };
    this.zeroPrior = { beta0: 0, m0: new Float64Array(d), nu0: 0, w0inv: new Float64Array(dd) };
  }

  /** E[log N(x_n | μ_k, Λ_k⁻¹)] for the components' current q. */
  private expected(): Float64Array {
    const th = this.theta;
    if (this.cachedFor !== th.version) {
      expectedGaussianLogLik(this.x, this.n, this.d, this.k, !th.diag, th, this.loglik, null, `vmp: W⁻¹ of q('${th.name}')`);
      this.cachedFor = th.version;
    }
    return this.loglik;
  }

  sendTo(v: VmpVariable): void {
    const { n, k, d } = this;
    if (v === this.z) {
      const ll = this.expected();
      const lg = this.z.logits;
      for (let i = 0; i < n * k; i++) lg[i] += ll[i];
    } else if (v === this.theta) {
      const th = this.theta;
      // The statistics alone (a zero prior): the posterior it also writes goes to scratch.
      normalWishartUpdate(this.x, n, d, this.z.mass, k, !th.diag, this.zeroPrior, this.stats, this.scratch);
      const { nk, xbar, sk } = this.stats;
      const dd = th.diag ? d : d * d;
      for (let j = 0; j < k; j++) if (nk[j] > 0) th.merge(j, nk[j], xbar, j * d, sk, j * dd, nk[j]);
    }
  }

  expectedLog(): number {
    const ll = this.expected();
    const r = this.z.mass;
    let s = 0;
    for (let i = 0; i < ll.length; i++) if (r[i] > 0) s += r[i] * ll[i];
    return s;
  }
}
