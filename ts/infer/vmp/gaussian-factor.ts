/**
 * The factor N(x | μ, 1/τ) over a plate: x latent (a Gaussian variable) or observed, the mean μ a
 * constant or a Gaussian variable, the precision τ a constant or a Gamma variable. Messages
 * (Winn & Bishop 2005, table 1):
 *   to x: precision += E[τ], precision·mean += E[τ] E[μ];
 *   to μ: precision += E[τ], precision·mean += E[τ] E[x];
 *   to τ: shape += ½, rate += ½ E[(x − μ)²] = ½ (E[x²] − 2 E[x] E[μ] + E[μ²]).
 * A parent with plate size 1 shared by a plate of N receives the sum of the N messages.
 */
import { type Checked, at } from './params.js';
import { GammaVariable } from './gamma.js';
import { GaussianVariable } from './gaussian.js';
import type { VmpFactor, VmpVariable } from './node.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** @internal Made by `FactorGraph.gaussian`. */
export class GaussianFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly n: number;

  constructor(
    readonly name: string,
    private readonly x: GaussianVariable | Float64Array,
    private readonly mu: Checked<GaussianVariable>,
    private readonly tau: Checked<GammaVariable>,
  ) {
    this.n = x instanceof GaussianVariable ? x.size : x.length;
    const vs: VmpVariable[] = [];
    if (x instanceof GaussianVariable) vs.push(x);
    if (mu.v) vs.push(mu.v);
    if (tau.v) vs.push(tau.v);
    this.variables = vs;
  }

  private ex(i: number): number {
    const x = this.x;
    return x instanceof GaussianVariable ? x.mean[i] : x[i];
  }
  private ex2(i: number): number {
    const x = this.x;
    return x instanceof GaussianVariable ? x.second[i] : x[i] * x[i];
  }
  private emu(i: number): number {
    const { c, v } = this.mu;
    return c ? at(c, i) : v.mean[v.size === 1 ? 0 : i];
  }
  private emu2(i: number): number {
    const { c, v } = this.mu;
    if (c) return at(c, i) ** 2;
    return v.second[v.size === 1 ? 0 : i];
  }
  private etau(i: number): number {
    const { c, v } = this.tau;
    return c ? at(c, i) : v.mean[v.size === 1 ? 0 : i];
  }
  private elogtau(i: number): number {
    const { c, v } = this.tau;
    return c ? Math.log(at(c, i)) : v.meanLog[v.size === 1 ? 0 : i];
  }
  /** E[(x − μ)²] at element i. */
  private sq(i: number): number {
    return this.ex2(i) - 2 * this.ex(i) * this.emu(i) + this.emu2(i);
  }

  sendTo(v: VmpVariable): void {
    const { n } = this;
    if (v === this.x) {
      const x = v as GaussianVariable;
      for (let i = 0; i < n; i++) {
        const t = this.etau(i);
        x.prec[i] += t;
        x.precMean[i] += t * this.emu(i);
      }
    } else if (v === this.mu.v) {
      const m = v as GaussianVariable;
      const shared = m.size === 1;
      for (let i = 0; i < n; i++) {
        const t = this.etau(i);
        const j = shared ? 0 : i;
        m.prec[j] += t;
        m.precMean[j] += t * this.ex(i);
      }
    } else if (v === this.tau.v) {
      const g = v as GammaVariable;
      const shared = g.size === 1;
      for (let i = 0; i < n; i++) {
        const j = shared ? 0 : i;
        g.shape[j] += 0.5;
        g.rate[j] += 0.5 * this.sq(i);
      }
    }
  }

  /** Σ_i −½ log 2π + ½ E[log τ] − ½ E[τ] E[(x − μ)²]. */
  expectedLog(): number {
    let s = 0;
    for (let i = 0; i < this.n; i++) s += -HALF_LOG_2PI + 0.5 * this.elogtau(i) - 0.5 * this.etau(i) * this.sq(i);
    return s;
  }
}
