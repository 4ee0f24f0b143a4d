/**
 * The Wishart variable: q(Λ) = Wishart(ν, W) on D × D precision matrices per plate element
 * (E[Λ] = νW), held by the affine image (ν, W⁻¹) of its natural parameters ((ν − D − 1)/2, −W⁻¹/2).
 */
import { cholesky, cholInverse, cholLogdet, digamma, lgamma } from '../cavi/dense.js';
import { ValueError } from '../../core/errors.js';
import { VmpVariable } from './node.js';

/** log Γ_D(a), the multivariate gamma function. */
export function lmvgamma(d: number, a: number): number {
  let s = (d * (d - 1) * Math.log(Math.PI)) / 4;
  for (let i = 1; i <= d; i++) s += lgamma(a + (1 - i) / 2);
  return s;
}

/** A latent D × D Wishart over a plate. Read `nu`, `winv` and `meanPrec` (= νW) after a run. */
export class WishartVariable extends VmpVariable {
  /** Always 'wishart'. */
  readonly family = 'wishart';
  /** Degrees of freedom ν per element. */
  readonly nu: Float64Array;
  /** W⁻¹ (size × D × D). */
  readonly winv: Float64Array;
  /** E[Λ] = νW (size × D × D). */
  readonly meanPrec: Float64Array;
  /** E[log|Λ|] = Σ_i ψ((ν + 1 − i)/2) + D log 2 − log|W⁻¹| per element. */
  readonly meanLogdet: Float64Array;
  private readonly logdetWinv: Float64Array;

  /** @internal Made by `FactorGraph.wishart`. */
  constructor(
    name: string,
    /** The dimension D. */
    readonly dim: number,
    size: number,
    index: number,
  ) {
    super(name, size, index);
    const dd = dim * dim;
    this.nu = new Float64Array(size);
    this.winv = new Float64Array(size * dd);
    this.meanPrec = new Float64Array(size * dd);
    this.meanLogdet = new Float64Array(size);
    this.logdetWinv = new Float64Array(size);
  }

  protected clear(): void {
    this.nu.fill(0);
    this.winv.fill(0);
  }

  protected finish(): void {
    const d = this.dim;
    const dd = d * d;
    for (let i = 0; i < this.size; i++) {
      const nu = this.nu[i];
      if (!(nu > d - 1)) throw new ValueError(`vmp: Wishart '${this.name}' element ${i} got ν = ${nu} from its messages; it must exceed D − 1 = ${d - 1}`);
      const l = cholesky(this.winv.subarray(i * dd, (i + 1) * dd), d, `vmp: W⁻¹ of q('${this.name}') element ${i}`);
      const w = cholInverse(l, d);
      for (let e = 0; e < dd; e++) this.meanPrec[i * dd + e] = nu * w[e];
      this.logdetWinv[i] = cholLogdet(l, d);
      let s = d * Math.LN2 - this.logdetWinv[i];
      for (let j = 1; j <= d; j++) s += digamma((nu + 1 - j) / 2);
      this.meanLogdet[i] = s;
    }
  }

  /** Σ_i −log B(W, ν) − (ν − D − 1)/2 E[log|Λ|] + νD/2, with log B = (ν/2) log|W⁻¹| − (νD/2) log 2 − log Γ_D(ν/2). */
  entropy(): number {
    const d = this.dim;
    let h = 0;
    for (let i = 0; i < this.size; i++) {
      const nu = this.nu[i];
      const logB = (nu / 2) * this.logdetWinv[i] - ((nu * d) / 2) * Math.LN2 - lmvgamma(d, nu / 2);
      h += -logB - ((nu - d - 1) / 2) * this.meanLogdet[i] + (nu * d) / 2;
    }
    return h;
  }
}
