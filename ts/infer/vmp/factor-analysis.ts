/**
 * The observation factor of factor analysis / probabilistic PCA with known loadings:
 * x_n ~ N(W z_n + b, σ² I_D) for observed rows x_n (N × D), a constant D × k loading matrix W,
 * bias b and noise variance σ², and latent coordinates z_nj, each a Gaussian variable over the
 * plate of N rows (the fully factorized q(z) = Π_j q(z_j) of mean-field PCA). With
 * G = WᵀW/σ² (k × k) and H = Wᵀ(x − b)/σ² (N × k), computed once, the message to z_j is
 *   precision += G_jj,  precision·mean += H_nj − Σ_{i≠j} G_ji E[z_ni],
 * and E[log f] = Σ_n −(D/2) log 2πσ² − ‖x_n − b‖²/(2σ²) + E[z_n]ᵀH_n − ½ E[z_n]ᵀG E[z_n] − ½ Σ_j G_jj Var[z_nj],
 * so a sweep costs O(N k²), whatever D.
 */
import type { GaussianVariable } from './gaussian.js';
import type { VmpFactor, VmpVariable } from './node.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** @internal Made by `FactorGraph.factorAnalysis`. */
export class FactorAnalysisFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly g: Float64Array;
  private readonly h: Float64Array;
  private readonly k: number;
  private readonly constant: number;

  constructor(
    readonly name: string,
    x: Float64Array,
    private readonly n: number,
    dx: number,
    w: Float64Array,
    bias: Float64Array,
    sigma2: number,
    private readonly z: readonly GaussianVariable[],
  ) {
    const k = z.length;
    this.k = k;
    this.variables = z;
    this.g = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let r = 0; r < dx; r++) s += w[r * k + i] * w[r * k + j];
        this.g[i * k + j] = s / sigma2;
      }
    this.h = new Float64Array(n * k);
    let sq = 0;
    for (let p = 0; p < n; p++)
      for (let r = 0; r < dx; r++) {
        const e = x[p * dx + r] - bias[r];
        sq += e * e;
        const c = e / sigma2;
        for (let j = 0; j < k; j++) this.h[p * k + j] += w[r * k + j] * c;
      }
    this.constant = -0.5 * n * dx * (LOG_2PI + Math.log(sigma2)) - sq / (2 * sigma2);
  }

  sendTo(v: VmpVariable): void {
    const j = this.z.indexOf(v as GaussianVariable);
    if (j < 0) return;
    const { n, k, g, h, z } = this;
    const t = z[j];
    const gjj = g[j * k + j];
    for (let p = 0; p < n; p++) {
      let s = h[p * k + j];
      for (let i = 0; i < k; i++) if (i !== j) s -= g[j * k + i] * z[i].mean[p];
      t.prec[p] += gjj;
      t.precMean[p] += s;
    }
  }

  expectedLog(): number {
    const { n, k, g, h, z } = this;
    let s = this.constant;
    for (let p = 0; p < n; p++)
      for (let i = 0; i < k; i++) {
        const mi = z[i].mean[p];
        s += mi * h[p * k + i] - 0.5 * g[i * k + i] * z[i].variance[p];
        let q = 0;
        for (let j = 0; j < k; j++) q += g[i * k + j] * z[j].mean[p];
        s -= 0.5 * mi * q;
      }
    return s;
  }
}
