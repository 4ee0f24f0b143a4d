/**
 * The Beta prior and the Bernoulli likelihood.
 * Beta(p | a₀, b₀), constant: sends a += a₀, b += b₀; E[log f] = −log B(a₀, b₀) + (a₀ − 1)E[log p] + (b₀ − 1)E[log(1 − p)].
 * Bernoulli(x | p), x observed in {0, 1}: sends a += x, b += 1 − x (summed over a plate sharing p);
 * E[log f] = Σ x E[log p] + (1 − x) E[log(1 − p)].
 */
import { lgamma } from '../cavi/dense.js';
import type { BetaVariable } from './beta.js';
import type { VmpFactor, VmpVariable } from './node.js';
import { at } from './params.js';

/** @internal Made by `FactorGraph.beta`. */
export class BetaPriorFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];

  constructor(
    readonly name: string,
    private readonly p: BetaVariable,
    private readonly a0: Float64Array,
    private readonly b0: Float64Array,
  ) {
    this.variables = [p];
  }

  sendTo(v: VmpVariable): void {
    if (v !== this.p) return;
    for (let i = 0; i < this.p.size; i++) {
      this.p.a[i] += at(this.a0, i);
      this.p.b[i] += at(this.b0, i);
    }
  }

  expectedLog(): number {
    let s = 0;
    const p = this.p;
    for (let i = 0; i < p.size; i++) {
      const a = at(this.a0, i);
      const b = at(this.b0, i);
      s += lgamma(a + b) - lgamma(a) - lgamma(b) + (a - 1) * p.meanLog[i] + (b - 1) * p.meanLog1m[i];
    }
    return s;
  }
}

/** @internal Made by `FactorGraph.bernoulli`. */
export class BernoulliFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];

  constructor(
    readonly name: string,
    private readonly x: Float64Array,
    /** A Beta variable, or the constant probabilities (1 or N). */
    private readonly p: BetaVariable | Float64Array,
  ) {
    this.variables = p instanceof Float64Array ? [] : [p];
  }

  sendTo(v: VmpVariable): void {
    if (v !== this.p) return;
    const p = v as BetaVariable;
    const shared = p.size === 1;
    for (let i = 0; i < this.x.length; i++) {
      const j = shared ? 0 : i;
      p.a[j] += this.x[i];
      p.b[j] += 1 - this.x[i];
    }
  }

  expectedLog(): number {
    const { x, p } = this;
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      if (p instanceof Float64Array) s += x[i] * Math.log(at(p, i)) + (1 - x[i]) * Math.log1p(-at(p, i));
      else {
        const j = p.size === 1 ? 0 : i;
        s += x[i] * p.meanLog[j] + (1 - x[i]) * p.meanLog1m[j];
      }
    }
    return s;
  }
}
