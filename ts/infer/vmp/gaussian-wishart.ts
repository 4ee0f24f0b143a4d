/**
 * The joint Gaussian–Wishart variable q(μ, Λ) = N(μ | m, (βΛ)⁻¹) Wishart(Λ | W, ν) per plate
 * element (a mixture's components), or with `diag` its per-dimension Gaussian–Gamma
 * q(μ_d, λ_d) = N(μ_d | m_d, 1/(βλ_d)) Gamma(λ_d | ν/2, W⁻¹_d/2). The joint is conjugate to a
 * Gaussian likelihood with unknown mean and precision, so it stays exact where separate Gaussian
 * and Wishart nodes would be a further mean-field split.
 *
 * Its natural parameters are (β, βm, W⁻¹ + βmmᵀ, ν); messages are added in the equivalent pooled
 * form (count β, mean m, scatter W⁻¹, dof ν), merging two sets as
 * β = β₁ + β₂, m = (β₁m₁ + β₂m₂)/β, W⁻¹ = W⁻¹₁ + W⁻¹₂ + (β₁β₂/β)(m₁ − m₂)(m₁ − m₂)ᵀ, ν = ν₁ + ν₂,
 * which is the same sum without the cancellation of subtracting βmmᵀ.
 */
import { ValueError } from '../../core/errors.js';
import { cholesky, cholInverse, cholLogdet, lgamma, psi } from '../cavi/dense.js';
import { VmpVariable } from './node.js';
import { lmvgamma } from './wishart.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A latent Gaussian–Wishart (or diagonal Gaussian–Gamma) over a plate. Read `beta`, `m`, `nu`, `winv`. */
export class GaussianWishartVariable extends VmpVariable {
  /** Always 'gaussian-wishart'. */
  readonly family = 'gaussian-wishart';
  /** β per element. */
  readonly beta: Float64Array;
  /** m (size × D). */
  readonly m: Float64Array;
  /** ν per element. */
  readonly nu: Float64Array;
  /** W⁻¹: size × D × D (full) or size × D (diag). */
  readonly winv: Float64Array;
  /** W = (W⁻¹)⁻¹ (size × D × D, or size × D). */
  readonly w: Float64Array;
  /** E[log|Λ|] per element. */
  readonly meanLogdet: Float64Array;
  /** log|W⁻¹| per element. */
  readonly logdetWinv: Float64Array;

  /** @internal Made by `FactorGraph.gaussianWishart`. */
  constructor(
    name: string,
    /** The dimension D. */
    readonly dim: number,
    /** Whether Λ is diagonal (Gaussian–Gamma per dimension). */
    readonly diag: boolean,
    size: number,
    index: number,
  ) {
    super(name, size, index);
    const dd = diag ? dim : dim * dim;
    this.beta = new Float64Array(size);
    this.m = new Float64Array(size * dim);
    this.nu = new Float64Array(size);
    this.winv = new Float64Array(size * dd);
    this.w = new Float64Array(size * dd);
    this.meanLogdet = new Float64Array(size);
    this.logdetWinv = new Float64Array(size);
  }

  /**
   * @internal Adds a message in pooled form to element j: count `b` with mean `mean` (at offset
   * `mo`) and scatter `s` (at `so`; full: lower triangle read, D × D), and `dof` to ν.
   */
  merge(j: number, b: number, mean: ArrayLike<number>, mo: number, s: ArrayLike<number>, so: number, dof: number): void {
    const d = this.dim;
    const b1 = this.beta[j];
    const bt = b1 + b;
    const c = bt > 0 ? (b1 * b) / bt : 0;
    const m = this.m;
    const o = j * d;
    if (this.diag) {
      for (let a = 0; a < d; a++) this.winv[j * d + a] += s[so + a] + c * (m[o + a] - mean[mo + a]) ** 2;
    } else {
      const dd = d * d;
      for (let a = 0; a < d; a++)
        for (let e = 0; e <= a; e++) {
          const v = s[so + a * d + e] + c * (m[o + a] - mean[mo + a]) * (m[o + e] - mean[mo + e]);
          this.winv[j * dd + a * d + e] += v;
          if (e !== a) this.winv[j * dd + e * d + a] += v;
        }
    }
    if (bt > 0) for (let a = 0; a < d; a++) m[o + a] = (b1 * m[o + a] + b * mean[mo + a]) / bt;
    this.beta[j] = bt;
    this.nu[j] += dof;
  }

  protected clear(): void {
    this.beta.fill(0);
    this.m.fill(0);
    this.nu.fill(0);
    this.winv.fill(0);
  }

  protected finish(): void {
    const d = this.dim;
    for (let j = 0; j < this.size; j++) {
      const nu = this.nu[j];
      if (!(this.beta[j] > 0 && nu > d - 1))
        throw new ValueError(`vmp: Gaussian–Wishart '${this.name}' element ${j} got β = ${this.beta[j]}, ν = ${nu} from its messages (need β > 0, ν > D − 1)`);
      if (this.diag) {
        let ld = 0;
        let el = 0;
        for (let a = 0; a < d; a++) {
          const wi = this.winv[j * d + a];
          if (!(wi > 0)) throw new ValueError(`vmp: Gaussian–Gamma '${this.name}' element ${j} got W⁻¹ = ${wi} in dimension ${a}; it must be positive`);
          this.w[j * d + a] = 1 / wi;
          ld += Math.log(wi);
          el += psi(nu / 2) - Math.log(wi / 2);
        }
        this.logdetWinv[j] = ld;
        this.meanLogdet[j] = el;
      } else {
        const dd = d * d;
        const l = cholesky(this.winv.subarray(j * dd, (j + 1) * dd), d, `vmp: W⁻¹ of q('${this.name}') element ${j}`);
        this.w.set(cholInverse(l, d), j * dd);
        this.logdetWinv[j] = cholLogdet(l, d);
        let s = d * Math.LN2 - this.logdetWinv[j];
        for (let i = 1; i <= d; i++) s += psi((nu + 1 - i) / 2);
        this.meanLogdet[j] = s;
      }
    }
  }

  /** H[q(μ, Λ)] = H[q(Λ)] + E[H[q(μ | Λ)]], summed over the plate. */
  entropy(): number {
    const d = this.dim;
    let h = 0;
    for (let j = 0; j < this.size; j++) {
      const nu = this.nu[j];
      // E over Λ of the Gaussian's entropy: ½ D (1 + log 2π − log β) − ½ E[log|Λ|].
      h += 0.5 * d * (1 + LOG_2PI - Math.log(this.beta[j])) - 0.5 * this.meanLogdet[j];
      if (this.diag) {
        const a = nu / 2;
        for (let e = 0; e < d; e++) h += a - Math.log(this.winv[j * d + e] / 2) + lgamma(a) + (1 - a) * psi(a);
      } else {
        const logB = (nu / 2) * this.logdetWinv[j] - ((nu * d) / 2) * Math.LN2 - lmvgamma(d, nu / 2);
        h += -logB - ((nu - d - 1) / 2) * this.meanLogdet[j] + (nu * d) / 2;
      }
    }
    return h;
  }
}
