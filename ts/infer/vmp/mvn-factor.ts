/**
 * The factor N(x | μ, (s·Λ)⁻¹) in D dimensions over a plate: x latent (a vector-Gaussian
 * variable) or observed rows; μ a constant or a vector-Gaussian variable; Λ a constant matrix or a
 * Wishart variable; s an optional Gamma variable scaling a constant Λ (the normal–gamma prior of
 * Bayesian regression, w ~ N(m₀, (τΛ₀)⁻¹)). With A = s·Λ and M = E[(x − μ)(x − μ)ᵀ]
 * = E[xxᵀ] − E[x]E[μ]ᵀ − E[μ]E[x]ᵀ + E[μμᵀ], the messages are
 *   to x: Λ += E[A], h += E[A] E[μ];   to μ: Λ += E[A], h += E[A] E[x];
 *   to Λ: ν += 1, W⁻¹ += M;   to s: shape += D/2, rate += ½ tr(Λ M),
 * and E[log f] = −(D/2) log 2π + ½ E[log|A|] − ½ tr(E[A] M). Observed rows sharing every parent
 * are reduced once to Σx and Σxxᵀ, so each sweep costs O(D²) however many rows there are.
 */
import { cholesky, cholLogdet, traceProd } from '../cavi/dense.js';
import type { GammaVariable } from './gamma.js';
import type { VmpFactor, VmpVariable } from './node.js';
import { VectorGaussianVariable } from './vector-gaussian.js';
import type { WishartVariable } from './wishart.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** @internal Made by `FactorGraph.vectorGaussian`. */
export class MvnFactor implements VmpFactor {
  readonly variables: readonly VmpVariable[];
  private readonly d: number;
  /** Elements: x's plate, or the observed rows (one element holding all when every parent is shared). */
  private readonly elems: number;
  private readonly count: number;
  private readonly sumX: Float64Array | null = null;
  private readonly sumXX: Float64Array | null = null;
  private readonly logdetLam0: number;
  // Scratch.
  private readonly m: Float64Array;
  private readonly ea: Float64Array;

  constructor(
    readonly name: string,
    private readonly x: VectorGaussianVariable | { data: Float64Array; n: number },
    private readonly mu: Float64Array | VectorGaussianVariable,
    private readonly lam: Float64Array | WishartVariable,
    private readonly scale: GammaVariable | null,
    d: number,
  ) {
    this.d = d;
    const vs: VmpVariable[] = [];
    for (const p of [x, mu, lam, scale]) if (p !== null && !(p instanceof Float64Array) && 'version' in p) vs.push(p);
    this.variables = vs;
    const parentsShared = vs.every((v) => v === x || v.size === 1);
    if (x instanceof VectorGaussianVariable) {
      this.elems = x.size;
      this.count = 1;
    } else if (parentsShared) {
      this.elems = 1;
      this.count = x.n;
      this.sumX = new Float64Array(d);
      this.sumXX = new Float64Array(d * d);
      for (let r = 0; r < x.n; r++)
        for (let a = 0; a < d; a++) {
          const xa = x.data[r * d + a];
          this.sumX[a] += xa;
          for (let b = 0; b < d; b++) this.sumXX[a * d + b] += xa * x.data[r * d + b];
        }
    } else {
      this.elems = x.n;
      this.count = 1;
    }
    this.logdetLam0 = lam instanceof Float64Array ? cholLogdet(cholesky(lam, d, `vmp: the precision of '${name}'`), d) : 0;
    this.m = new Float64Array(d * d);
    this.ea = new Float64Array(d * d);
  }

  private pick(v: VmpVariable, e: number): number {
    return v.size === 1 ? 0 : e;
  }

  /** Σx over element e (count × E[x] for a latent x). */
  private sx(e: number, out: Float64Array): void {
    const { x, d } = this;
    if (x instanceof VectorGaussianVariable) out.set(x.mean.subarray(e * d, (e + 1) * d));
    else if (this.sumX) out.set(this.sumX);
    else out.set(x.data.subarray(e * d, (e + 1) * d));
  }

  /** E[μ] of element e. */
  private emu(e: number): Float64Array {
    const { mu, d } = this;
    if (mu instanceof Float64Array) return mu;
    const j = this.pick(mu, e);
    return mu.mean.subarray(j * d, (j + 1) * d);
  }

  /** M_e = Σ E[(x − μ)(x − μ)ᵀ] over element e, into this.m. */
  private second(e: number): Float64Array {
    const { x, d, m, mu, count } = this;
    m.fill(0);
    if (x instanceof VectorGaussianVariable) x.addSecond(e, 1, m);
    else if (this.sumXX) m.set(this.sumXX);
    else for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) m[a * d + b] = x.data[e * d + a] * x.data[e * d + b];
    const sx = new Float64Array(d);
    this.sx(e, sx);
    const em = this.emu(e);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) m[a * d + b] -= sx[a] * em[b] + em[a] * sx[b];
    if (mu instanceof Float64Array) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) m[a * d + b] += count * mu[a] * mu[b];
    else {
      const tmp = new Float64Array(d * d);
      mu.addSecond(this.pick(mu, e), count, tmp);
      for (let i = 0; i < d * d; i++) m[i] += tmp[i];
    }
    return m;
  }

  /** E[A] of element e into this.ea, and E[log|A|]. */
  private precision(e: number): number {
    const { lam, scale, d, ea } = this;
    const dd = d * d;
    if (lam instanceof Float64Array) {
      const s = scale ? scale.mean[this.pick(scale, e)] : 1;
      for (let i = 0; i < dd; i++) ea[i] = s * lam[i];
      return this.logdetLam0 + (scale ? d * scale.meanLog[this.pick(scale, e)] : 0);
    }
    const j = this.pick(lam, e);
    ea.set(lam.meanPrec.subarray(j * dd, (j + 1) * dd));
    return lam.meanLogdet[j];
  }

  sendTo(v: VmpVariable): void {
    const { d, count } = this;
    const dd = d * d;
    for (let e = 0; e < this.elems; e++) {
      if (v === this.x || v === this.mu) {
        const g = v as VectorGaussianVariable;
        this.precision(e);
        const j = v === this.x ? e : this.pick(g, e);
        const other = new Float64Array(d);
        if (v === this.x) other.set(this.emu(e));
        else this.sx(e, other);
        const c = v === this.x ? 1 : count;
        for (let a = 0; a < d; a++) {
          let s = 0;
          for (let b = 0; b < d; b++) {
            g.prec[j * dd + a * d + b] += c * this.ea[a * d + b];
            s += this.ea[a * d + b] * other[b];
          }
          g.h[j * d + a] += s;
        }
      } else if (v === this.lam) {
        const w = v as WishartVariable;
        const j = this.pick(w, e);
        const m = this.second(e);
        w.nu[j] += count;
        for (let i = 0; i < dd; i++) w.winv[j * dd + i] += m[i];
      } else if (v === this.scale) {
        const g = v as GammaVariable;
        const j = this.pick(g, e);
        g.shape[j] += (count * d) / 2;
        g.rate[j] += 0.5 * traceProd(this.lam as Float64Array, this.second(e), d);
      }
    }
  }

  expectedLog(): number {
    const { d, count } = this;
    let s = 0;
    for (let e = 0; e < this.elems; e++) {
      const logdet = this.precision(e);
      s += count * (-0.5 * d * LOG_2PI + 0.5 * logdet) - 0.5 * traceProd(this.ea, this.second(e), d);
    }
    return s;
  }
}
