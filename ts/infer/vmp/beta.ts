/**
 * The Beta variable: q(p) = Beta(a, b) per plate element; natural parameters (a − 1, b − 1), held as (a, b).
 */
import { ValueError } from '../../core/errors.js';
import { digamma, lgamma } from '../cavi/dense.js';
import { VmpVariable } from './node.js';

/** A latent Beta over a plate. Read `a`, `b` after a run. */
export class BetaVariable extends VmpVariable {
  /** Always 'beta'. */
  readonly family = 'beta';
  /** a per element. */
  readonly a: Float64Array;
  /** b per element. */
  readonly b: Float64Array;
  /** E[log p] = ψ(a) − ψ(a + b). */
  readonly meanLog: Float64Array;
  /** E[log(1 − p)] = ψ(b) − ψ(a + b). */
  readonly meanLog1m: Float64Array;

  /** @internal Made by `FactorGraph.beta`. */
  constructor(name: string, size: number, index: number) {
    super(name, size, index);
    this.a = new Float64Array(size);
    this.b = new Float64Array(size);
    this.meanLog = new Float64Array(size);
    this.meanLog1m = new Float64Array(size);
  }

  protected clear(): void {
    this.a.fill(0);
    this.b.fill(0);
  }

  protected finish(): void {
    for (let i = 0; i < this.size; i++) {
      const a = this.a[i];
      const b = this.b[i];
      if (!(a > 0 && b > 0 && Number.isFinite(a + b))) throw new ValueError(`vmp: Beta '${this.name}' element ${i} got a = ${a}, b = ${b} from its messages`);
      const s = digamma(a + b);
      this.meanLog[i] = digamma(a) - s;
      this.meanLog1m[i] = digamma(b) - s;
    }
  }

  /** Σ_i log B(a, b) − (a − 1)ψ(a) − (b − 1)ψ(b) + (a + b − 2)ψ(a + b). */
  entropy(): number {
    let h = 0;
    for (let i = 0; i < this.size; i++) {
      const a = this.a[i];
      const b = this.b[i];
      h += lgamma(a) + lgamma(b) - lgamma(a + b) - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (a + b - 2) * digamma(a + b);
    }
    return h;
  }
}
