/**
 * The factor Gaussian–Wishart(μ, Λ | m₀, β₀, W₀, ν₀) (or per-dimension Gaussian–Gamma with
 * W₀⁻¹ = diag(c), λ_d ~ Gamma(ν₀/2, c_d/2)) with constant parameters. It sends its parameters as
 * a pooled message (count β₀, mean m₀, scatter W₀⁻¹, dof ν₀), and
 * E[log f] = (D/2) log(β₀/2π) + ½E[log|Λ|] − ½β₀(D/β + ν(m − m₀)ᵀW(m − m₀))
 *          + log B(W₀, ν₀) + ((ν₀ − D − 1)/2) E[log|Λ|] − ½ν tr(W₀⁻¹W)  (full; diag per dimension).
 */
import { cholesky, cholLogdet, lgamma, psi } from '../cavi/dense.js';
import type { GaussianWishartVariable } from './gaussian-wishart.js';
import type { VmpFactor, VmpVariable } from './node.js';
import { lmvgamma } from './wishart.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** @internal Made by `FactorGraph.gaussianWishart`. */
export class GaussianWishartPriorFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly logB: number;

  constructor(
    readonly name: string,
    private readonly q: GaussianWishartVariable,
    private readonly beta0: number,
    private readonly m0: Float64Array,
    private readonly nu0: number,
    private readonly w0inv: Float64Array,
  ) {
    this.variables = [q];
    const d = q.dim;
    if (q.diag) this.logB = 0;
    else {
      const ld = cholLogdet(cholesky(w0inv, d, `vmp: the inverse scale W₀⁻¹ of '${name}'`), d);
      this.logB = (nu0 / 2) * ld - ((nu0 * d) / 2) * Math.LN2 - lmvgamma(d, nu0 / 2);
    }
  }

  sendTo(v: VmpVariable): void {
    if (v !== this.q) return;
    for (let j = 0; j < this.q.size; j++) this.q.merge(j, this.beta0, this.m0, 0, this.w0inv, 0, this.nu0);
  }

  expectedLog(): number {
    const { q, beta0, m0, nu0, w0inv } = this;
    const d = q.dim;
    let s = 0;
    for (let j = 0; j < q.size; j++) {
      const nu = q.nu[j];
      const beta = q.beta[j];
      const o = j * d;
      if (q.diag) {
        const a0 = nu0 / 2;
        const el = psi(nu / 2);
        for (let e = 0; e < d; e++) {
          const wi = q.winv[o + e];
          const elog = el - Math.log(wi / 2);
          const elam = nu / wi;
          const b0 = w0inv[e] / 2;
          s += a0 * Math.log(b0) - lgamma(a0) + (a0 - 1) * elog - b0 * elam;
          s += -0.5 * LOG_2PI + 0.5 * Math.log(beta0) + 0.5 * elog - 0.5 * beta0 * (1 / beta + elam * (q.m[o + e] - m0[e]) ** 2);
        }
      } else {
        const dd = d * d;
        const w = q.w.subarray(j * dd, (j + 1) * dd);
        let quad = 0;
        let tr = 0;
        for (let a = 0; a < d; a++)
          for (let b = 0; b < d; b++) {
            quad += (q.m[o + a] - m0[a]) * w[a * d + b] * (q.m[o + b] - m0[b]);
            tr += w0inv[a * d + b] * w[b * d + a];
          }
        const el = q.meanLogdet[j];
        s += 0.5 * d * Math.log(beta0 / (2 * Math.PI)) + 0.5 * el - 0.5 * beta0 * (d / beta + nu * quad);
        s += this.logB + ((nu0 - d - 1) / 2) * el - 0.5 * nu * tr;
      }
    }
    return s;
  }
}
