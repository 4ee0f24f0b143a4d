/**
 * The Gamma variable: q(τ) = Gamma(a, b) (shape a, rate b) per plate element; its natural
 * parameters are (a − 1, −b), held here as a and b, their affine image.
 */
import { ValueError } from '../../core/errors.js';
import { digamma, lgamma } from '../cavi/dense.js';
import { VmpVariable } from './node.js';

/** A latent Gamma (shape, rate) over a plate. Read `shape`, `rate`, `mean`, `meanLog` after a run. */
export class GammaVariable extends VmpVariable {
  /** Always 'gamma'. */
  readonly family = 'gamma';
  /** Shape a per element. */
  readonly shape: Float64Array;
  /** Rate b per element (scale = 1/b). */
  readonly rate: Float64Array;
  /** E[τ] = a/b. */
  readonly mean: Float64Array;
  /** E[log τ] = ψ(a) − log b. */
  readonly meanLog: Float64Array;

  /** @internal Made by `FactorGraph.gamma`. */
  constructor(name: string, size: number, index: number) {
    super(name, size, index);
    this.shape = new Float64Array(size);
    this.rate = new Float64Array(size);
    this.mean = new Float64Array(size);
    this.meanLog = new Float64Array(size);
  }

  protected clear(): void {
    this.shape.fill(0);
    this.rate.fill(0);
  }

  protected finish(): void {
    for (let i = 0; i < this.size; i++) {
      const a = this.shape[i];
      const b = this.rate[i];
      if (!(a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b)))
        throw new ValueError(`vmp: Gamma '${this.name}' element ${i} got shape ${a} and rate ${b} from its messages; q is not a proper Gamma`);
      this.mean[i] = a / b;
      this.meanLog[i] = digamma(a) - Math.log(b);
    }
  }

  /** Σ_i a − log b + log Γ(a) + (1 − a) ψ(a). */
  entropy(): number {
    let h = 0;
    for (let i = 0; i < this.size; i++) {
      const a = this.shape[i];
      h += a - Math.log(this.rate[i]) + lgamma(a) + (1 - a) * digamma(a);
    }
    return h;
  }
}
