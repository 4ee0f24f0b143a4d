/**
 * The factor Wishart(Λ | ν₀, W₀) with constant ν₀ and W₀⁻¹: it sends ν += ν₀, W⁻¹ += W₀⁻¹, and
 * E[log f] = log B(W₀, ν₀) + (ν₀ − D − 1)/2 E[log|Λ|] − ½ tr(W₀⁻¹ E[Λ]).
 */
import { cholesky, cholLogdet, traceProd } from '../cavi/dense.js';
import type { VmpFactor, VmpVariable } from './node.js';
import { type WishartVariable, lmvgamma } from './wishart.js';

/** @internal Made by `FactorGraph.wishart`. */
export class WishartPriorFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly logB: number;

  constructor(
    readonly name: string,
    private readonly lam: WishartVariable,
    private readonly nu0: number,
    private readonly w0inv: Float64Array,
  ) {
    this.variables = [lam];
    const d = lam.dim;
    const logdetW0inv = cholLogdet(cholesky(w0inv, d, `vmp: the inverse scale W₀⁻¹ of '${name}'`), d);
    this.logB = (nu0 / 2) * logdetW0inv - ((nu0 * d) / 2) * Math.LN2 - lmvgamma(d, nu0 / 2);
  }

  sendTo(v: VmpVariable): void {
    if (v !== this.lam) return;
    const dd = this.lam.dim * this.lam.dim;
    for (let i = 0; i < this.lam.size; i++) {
      this.lam.nu[i] += this.nu0;
      for (let e = 0; e < dd; e++) this.lam.winv[i * dd + e] += this.w0inv[e];
    }
  }

  expectedLog(): number {
    const d = this.lam.dim;
    const dd = d * d;
    let s = 0;
    for (let i = 0; i < this.lam.size; i++)
      s += this.logB + ((this.nu0 - d - 1) / 2) * this.lam.meanLogdet[i] - 0.5 * traceProd(this.w0inv, this.lam.meanPrec.subarray(i * dd, (i + 1) * dd), d);
    return s;
  }
}
