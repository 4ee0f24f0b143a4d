/**
 * The multivariate Gaussian variable: q(x) = N(m, S) in D dimensions per plate element, held by
 * its natural parameters as the precision Λ = S⁻¹ and h = Λm (η₁ = h, η₂ = −Λ/2).
 */
import { cholesky, cholInverse, cholLogdet, cholSolve } from '../cavi/dense.js';
import { VmpVariable } from './node.js';

const LOG_2PIE = Math.log(2 * Math.PI * Math.E);

/** A latent D-dimensional Gaussian over a plate. Read `mean` (size × D) and `cov` (size × D × D). */
export class VectorGaussianVariable extends VmpVariable {
  /** Always 'vector-gaussian'. */
  readonly family = 'vector-gaussian';
  /** Accumulated precision Λ (size × D × D, row-major). */
  readonly prec: Float64Array;
  /** Accumulated h = Λm (size × D). */
  readonly h: Float64Array;
  /** E[x] (size × D). */
  readonly mean: Float64Array;
  /** Cov[x] (size × D × D). */
  readonly cov: Float64Array;
  /** log|Cov[x]| per element. */
  readonly logdetCov: Float64Array;

  /** @internal Made by `FactorGraph.vectorGaussian`. */
  constructor(
    name: string,
    /** The dimension D. */
    readonly dim: number,
    size: number,
    index: number,
  ) {
    super(name, size, index);
    this.prec = new Float64Array(size * dim * dim);
    this.h = new Float64Array(size * dim);
    this.mean = new Float64Array(size * dim);
    this.cov = new Float64Array(size * dim * dim);
    this.logdetCov = new Float64Array(size);
  }

  protected clear(): void {
    this.prec.fill(0);
    this.h.fill(0);
  }

  protected finish(): void {
    const d = this.dim;
    const dd = d * d;
    for (let i = 0; i < this.size; i++) {
      const l = cholesky(this.prec.subarray(i * dd, (i + 1) * dd), d, `vmp: the precision of q('${this.name}') element ${i}`);
      this.mean.set(cholSolve(l, d, this.h.slice(i * d, (i + 1) * d)), i * d);
      this.cov.set(cholInverse(l, d), i * dd);
      this.logdetCov[i] = -cholLogdet(l, d);
    }
  }

  /** Σ_i ½ D log(2πe) + ½ log|Sᵢ|. */
  entropy(): number {
    let h = 0;
    for (let i = 0; i < this.size; i++) h += 0.5 * this.dim * LOG_2PIE + 0.5 * this.logdetCov[i];
    return h;
  }

  /** @internal E[x xᵀ] of element i, added (times `w`) into out (D × D). */
  addSecond(i: number, w: number, out: Float64Array): void {
    const d = this.dim;
    const o = i * d;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) out[a * d + b] += w * (this.cov[i * d * d + a * d + b] + this.mean[o + a] * this.mean[o + b]);
  }
}
