/**
 * The univariate Gaussian variable: q(x) = N(m, v) per plate element, held by its natural
 * parameters as the precision 1/v and precision × mean (η₁ = m/v, η₂ = −1/(2v)).
 */
import { ValueError } from '../../core/errors.js';
import { VmpVariable } from './node.js';

const LOG_2PIE = Math.log(2 * Math.PI * Math.E);

/** A latent univariate Gaussian over a plate. Read `mean` and `variance` after a run. */
export class GaussianVariable extends VmpVariable {
  /** Always 'gaussian'. */
  readonly family = 'gaussian';
  /** Accumulated precision 1/v per element. */
  readonly prec: Float64Array;
  /** Accumulated precision × mean per element. */
  readonly precMean: Float64Array;
  /** E[x] per element. */
  readonly mean: Float64Array;
  /** Var[x] per element. */
  readonly variance: Float64Array;
  /** E[x²] per element. */
  readonly second: Float64Array;

  /** @internal Made by `FactorGraph.gaussian`. */
  constructor(name: string, size: number, index: number) {
    super(name, size, index);
    this.prec = new Float64Array(size);
    this.precMean = new Float64Array(size);
    this.mean = new Float64Array(size);
    this.variance = new Float64Array(size);
    this.second = new Float64Array(size);
  }

  protected clear(): void {
    this.prec.fill(0);
    this.precMean.fill(0);
  }

  protected finish(): void {
    for (let i = 0; i < this.size; i++) {
      const p = this.prec[i];
      if (!(p > 0 && Number.isFinite(p) && Number.isFinite(this.precMean[i])))
        throw new ValueError(`vmp: Gaussian '${this.name}' element ${i} got precision ${p} and precision·mean ${this.precMean[i]} from its messages; q is not a proper Gaussian`);
      const v = 1 / p;
      this.variance[i] = v;
      this.mean[i] = this.precMean[i] * v;
      this.second[i] = this.mean[i] * this.mean[i] + v;
    }
  }

  /** Σ_i ½ log(2πe vᵢ). */
  entropy(): number {
    let h = 0;
    for (let i = 0; i < this.size; i++) h += 0.5 * (LOG_2PIE + Math.log(this.variance[i]));
    return h;
  }
}
