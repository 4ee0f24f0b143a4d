/**
 * A gate over univariate Gaussians: x_n ~ N(μ_{z_n}, 1/τ_{z_n}) for observed x (N), a selector z
 * (a categorical variable, or observed labels) and K components whose mean μ_k is a constant or a
 * Gaussian variable and precision τ_k a constant or a Gamma variable (plates of K) — the mixture
 * of Winn & Bishop's §4 with separate mean and precision nodes. With r_nk = q(z_n = k) and
 * ℓ_nk = −½ log 2π + ½E[log τ_k] − ½E[τ_k](x_n² − 2x_nE[μ_k] + E[μ_k²]), the messages are
 *   to z_n: log-probabilities += ℓ_nk;
 *   to μ_k: precision += E[τ_k] N_k, precision·mean += E[τ_k] S_k;
 *   to τ_k: shape += N_k/2, rate += ½(Q_k − 2E[μ_k]S_k + E[μ_k²]N_k),
 * where N_k = Σ_n r_nk, S_k = Σ_n r_nk x_n, Q_k = Σ_n r_nk x_n², and E[log f] = Σ_nk r_nk ℓ_nk,
 * computed from (N_k, S_k, Q_k) in O(K). The statistics are cached per version of q(z).
 */
import type { CategoricalVariable } from './categorical.js';
import type { GammaVariable } from './gamma.js';
import type { GaussianVariable } from './gaussian.js';
import type { VmpFactor, VmpVariable } from './node.js';
import type { Checked } from './params.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** @internal Made by `FactorGraph.gaussianGate`. */
export class GaussianGateFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly nk: Float64Array;
  private readonly sk: Float64Array;
  private readonly qk: Float64Array;
  private statsFor = -1;

  constructor(
    readonly name: string,
    private readonly x: Float64Array,
    private readonly z: CategoricalVariable | Int32Array,
    private readonly k: number,
    private readonly mu: Checked<GaussianVariable>,
    private readonly tau: Checked<GammaVariable>,
  ) {
    const vs: VmpVariable[] = [];
    if (!(z instanceof Int32Array)) vs.push(z);
    if (mu.v) vs.push(mu.v);
    if (tau.v) vs.push(tau.v);
    this.variables = vs;
    this.nk = new Float64Array(k);
    this.sk = new Float64Array(k);
    this.qk = new Float64Array(k);
    if (z instanceof Int32Array) this.accumulate();
  }

  /** N_k, S_k, Q_k from the current q(z) (or the observed labels, once). */
  private stats(): void {
    const z = this.z;
    if (z instanceof Int32Array || this.statsFor === z.version) return;
    this.accumulate();
    this.statsFor = z.version;
  }

  private accumulate(): void {
    const { x, z, k, nk, sk, qk } = this;
    nk.fill(0);
    sk.fill(0);
    qk.fill(0);
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      if (z instanceof Int32Array) {
        const c = z[i];
        nk[c] += 1;
        sk[c] += xi;
        qk[c] += xi * xi;
        continue;
      }
      for (let j = 0; j < k; j++) {
        const r = z.mass[i * k + j];
        nk[j] += r;
        sk[j] += r * xi;
        qk[j] += r * xi * xi;
      }
    }
  }

  private emu(j: number): number {
    const { c, v } = this.mu;
    return c ? c[c.length === 1 ? 0 : j] : v.mean[j];
  }
  private emu2(j: number): number {
    const { c, v } = this.mu;
    return c ? c[c.length === 1 ? 0 : j] ** 2 : v.second[j];
  }
  private etau(j: number): number {
    const { c, v } = this.tau;
    return c ? c[c.length === 1 ? 0 : j] : v.mean[j];
  }
  private elogtau(j: number): number {
    const { c, v } = this.tau;
    return c ? Math.log(c[c.length === 1 ? 0 : j]) : v.meanLog[j];
  }

  sendTo(v: VmpVariable): void {
    const { k, x } = this;
    if (v === this.z) {
      const lg = (v as CategoricalVariable).logits;
      for (let j = 0; j < k; j++) {
        const t = this.etau(j);
        const m = this.emu(j);
        const c0 = -HALF_LOG_2PI + 0.5 * this.elogtau(j) - 0.5 * t * this.emu2(j);
        for (let i = 0; i < x.length; i++) lg[i * k + j] += c0 + t * x[i] * (m - 0.5 * x[i]);
      }
      return;
    }
    this.stats();
    if (v === this.mu.v) {
      const g = v as GaussianVariable;
      for (let j = 0; j < k; j++) {
        const t = this.etau(j);
        g.prec[j] += t * this.nk[j];
        g.precMean[j] += t * this.sk[j];
      }
    } else if (v === this.tau.v) {
      const g = v as GammaVariable;
      for (let j = 0; j < k; j++) {
        g.shape[j] += 0.5 * this.nk[j];
        g.rate[j] += 0.5 * (this.qk[j] - 2 * this.emu(j) * this.sk[j] + this.emu2(j) * this.nk[j]);
      }
    }
  }

  expectedLog(): number {
    this.stats();
    let s = 0;
    for (let j = 0; j < this.k; j++) {
      const t = this.etau(j);
      s += (-HALF_LOG_2PI + 0.5 * this.elogtau(j) - 0.5 * t * this.emu2(j)) * this.nk[j] + t * this.emu(j) * this.sk[j] - 0.5 * t * this.qk[j];
    }
    return s;
  }
}
