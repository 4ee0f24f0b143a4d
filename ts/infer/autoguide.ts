/**
 * Automatic guides (ADVI): each latent site of the model is moved to ℝ^d with
 * `bijectTo(support)` and given a Gaussian (or point) variational family there.
 * - AutoNormal: mean-field, q(z) = Πᵢ N(zᵢ; μᵢ, σᵢ²) per site (Kucukelbir et al. 2017).
 * - AutoMultivariateNormal: full-rank, one N(μ, L Lᵀ) over all latent coordinates.
 * - AutoLowRankMultivariateNormal: N(μ, W Wᵀ + diag(D)).
 * - AutoDelta: a point mass (MAP); AutoLaplaceApproximation: a point mass while fitting, then
 *   N(MAP, H⁻¹) with H the Hessian of −log p at the MAP.
 * A guide must be set up on the model's arguments once (`setup(key, ...args)`); SVI does this.
 */
import { NotPositiveDefiniteError, ShapeError, ValueError, VarinfError } from '../core/errors.js';
import { grad } from '../core/autodiff.js';
import type { Tensor } from '../core/tensor.js';
import { sizeOf } from '../core/shape.js';
import { bijectTo } from '../bijectors/bijectTo.js';
import { sumRightmost, type Transform } from '../bijectors/transform.js';
import { lowerCholesky, positive, type Constraint } from '../distributions/constraints.js';
import type { Distribution } from '../distributions/distribution.js';
import { Normal } from '../distributions/continuous.js';
import { LowRankMultivariateNormal, MultivariateNormal } from '../distributions/multivariate.js';
import { Delta } from '../distributions/structured.js';
import { TransformedDistribution } from '../distributions/transformed.js';
import { eye, full, tensor, zeros } from '../ops/creation.js';
import { sum } from '../ops/reduce.js';
import { add, mul, neg, sub } from '../ops/elementwise.js';
import { concat, expandDims, reshape, slice } from '../ops/shape.js';
import { foldIn, type Key } from '../random/key.js';
import { param, plate, sample } from '../ppl/primitives.js';
import { seed, substitute, trace, type Trace } from '../ppl/handlers.js';
import { traceLogProb } from '../ppl/logdensity.js';
import { initToMedian, type InitStrategy } from './init.js';
import { particleNesting } from './nesting.js';

/** What the guide knows of one latent site of the model. */
export interface LatentSite {
  /** The site's name in the model. */
  readonly name: string;
  /** The site distribution's batch shape (its plates' sizes). */
  readonly batchShape: number[];
  /** The site distribution's event shape. */
  readonly eventShape: number[];
  /** Shape of the unconstrained value (batch + unconstrained event). */
  readonly uncShape: number[];
  /** Rank of the unconstrained event (uncShape minus the batch axes). */
  readonly uncEventRank: number;
  /** The site's support, from its distribution. */
  readonly support: Constraint;
  /** `bijectTo(support)`: maps ℝ^d onto the support. */
  readonly transform: Transform;
  /** Initial unconstrained value. */
  readonly init: Tensor;
}

/** Options of every autoguide's constructor. */
export interface AutoGuideOptions {
  /** Where the optimizer starts (default: the median of prior draws). */
  init?: InitStrategy;
  /** Initial scale of the Gaussian families in the unconstrained space (default 0.1). */
  initScale?: number;
  /** Prefix of the guide's parameter names (default 'auto'). */
  prefix?: string;
}

/**
 * An automatic guide (ADVI): each latent site of the model is moved to ℝ^d with
 * `bijectTo(support)` and given a Gaussian (or point) variational family there. A guide must be
 * set up on the model's arguments once (`setup(key, ...args)`); `SVI.init` and `fit` do this.
 * After fitting, `samplePosterior` and `summary` take the constrained parameters (`SVI`'s
 * `getParams(state)`, or `result.params`).
 * Subclasses: {@link AutoNormal} (mean-field), {@link AutoMultivariateNormal} (full rank),
 * {@link AutoLowRankMultivariateNormal}, {@link AutoDelta} (MAP), {@link AutoLaplaceApproximation}.
 * @example const guide: AutoGuide<[Tensor]> = new AutoNormal(model);
 * guide.setup(key(0), y); // SVI.init and fit do this
 * guide.sites.map((s) => s.name); // the latent sites found
 */
export abstract class AutoGuide<A extends unknown[] = unknown[]> {
  protected latents: LatentSite[] | null = null;
  /** Largest number of nested plates in the model (particle plates go outside them). */
  maxPlateNesting = 0;
  /** Initial scale σ of the Gaussian families in the unconstrained space. */
  readonly initScale: number;
  /** Prefix of the guide's parameter names, e.g. `auto_mu_loc`. */
  readonly prefix: string;
  protected readonly initStrategy: InitStrategy;

  constructor(
    /** The model the guide approximates the posterior of. */
    readonly model: (...args: A) => unknown,
    opts: AutoGuideOptions = {},
  ) {
    this.initScale = opts.initScale ?? 0.1;
    if (!(this.initScale > 0)) throw new ValueError(`${new.target.name}: initScale must be positive, got ${this.initScale}`);
    this.prefix = opts.prefix ?? 'auto';
    this.initStrategy = opts.init ?? initToMedian();
  }

  /** The guide's class name, for messages. */
  get name(): string {
    return this.constructor.name;
  }

  /** The latent sites found by `setup`. */
  get sites(): readonly LatentSite[] {
    if (this.latents === null) throw new VarinfError(`${this.name}: call setup(key, ...args) (SVI.init does) before using the guide`);
    return this.latents;
  }

  /** Runs the model once to find its latent sites, shapes, supports and initial values. */
  setup(key: Key, ...args: A): void {
    let i = 0;
    const init = (msg: { type: string; name: string; isObserved: boolean; fn: Distribution | null }): Tensor | null => {
      if (msg.type !== 'sample' || msg.isObserved || msg.fn === null) return null;
      return this.initStrategy(msg.name, msg.fn, foldIn(key, 1000 + i++));
    };
    const tr: Trace = trace(seed(substitute(this.model, init), key)).getTrace(...args);
    const latents: LatentSite[] = [];
    for (const s of tr.values()) {
      if (s.type !== 'sample' || s.isObserved) continue;
      const fn = s.fn as Distribution;
      if (fn.support.discrete)
        throw new ValueError(`${this.name}: latent site '${s.name}' is discrete (${fn.support}); autoguides need continuous latents (marginalize it or write a guide)`);
      const t = bijectTo(fn.support);
      const full = fn.shape();
      const uncShape = t.inverseShape(full);
      const value = s.value as Tensor;
      latents.push({
        name: s.name,
        batchShape: fn.batchShape.slice(),
        eventShape: fn.eventShape.slice(),
        uncShape,
        uncEventRank: uncShape.length - fn.batchShape.length,
        support: fn.support,
        transform: t,
        init: t.inverse(value),
      });
    }
    if (latents.length === 0) throw new ValueError(`${this.name}: the model has no latent sample sites`);
    this.latents = latents;
    this.maxPlateNesting = particleNesting(tr);
  }

  /** The guide itself: a model-like function sampling every latent site. */
  abstract readonly guide: (...args: A) => Record<string, Tensor>;

  /**
   * `n` posterior draws per site, in the constrained space, with leading axis n.
   * `params` are the guide's constrained parameters (SVI's `getParams`).
   */
  samplePosterior(key: Key, params: Record<string, Tensor>, n: number, ...args: A): Record<string, Tensor> {
    const dim = -(this.maxPlateNesting + 1);
    const tr = trace(seed(substitute(() => plate('_draws', n, () => this.guide(...args), { dim }), params), key)).getTrace();
    const out: Record<string, Tensor> = {};
    for (const s of this.sites) {
      const v = (tr.get(s.name) as { value: Tensor }).value;
      out[s.name] = reshape(v, [n, ...s.batchShape, ...s.eventShape]);
    }
    return out;
  }

  /** Posterior mean, sd and 5/50/95% quantiles of each scalar coordinate, from `n` draws. */
  summary(key: Key, params: Record<string, Tensor>, n: number, ...args: A): Record<string, SiteSummary> {
    const draws = this.samplePosterior(key, params, n, ...args);
    const out: Record<string, SiteSummary> = {};
    for (const [name, d] of Object.entries(draws)) out[name] = summarize(d, n);
    return out;
  }
}

/** Per-coordinate summaries of a site (flattened, row-major over the site's shape). */
export interface SiteSummary {
  /** The site's shape (batch + event); the arrays below are flattened over it, row-major. */
  shape: number[];
  /** Posterior mean of each coordinate. */
  mean: number[];
  /** Posterior standard deviation of each coordinate (n − 1 denominator). */
  sd: number[];
  /** 5% quantile of each coordinate. */
  q5: number[];
  /** Median of each coordinate. */
  q50: number[];
  /** 95% quantile of each coordinate. */
  q95: number[];
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Mean, sd and quantiles over the leading axis of `draws` [n, ...].
 * @example summarize(r.draws.theta, 4000).mean // one mean per coordinate of theta
 */
export function summarize(draws: Tensor, n: number): SiteSummary {
  const data = draws.dataSync();
  const m = data.length / n;
  const res: SiteSummary = { shape: draws.shape.slice(1), mean: [], sd: [], q5: [], q50: [], q95: [] };
  const col = new Float64Array(n);
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      col[i] = data[i * m + j];
      s += col[i];
    }
    const mu = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (col[i] - mu) ** 2;
    col.sort();
    res.mean.push(mu);
    res.sd.push(Math.sqrt(v / Math.max(1, n - 1)));
    res.q5.push(quantile(col, 0.05));
    res.q50.push(quantile(col, 0.5));
    res.q95.push(quantile(col, 0.95));
  }
  return res;
}

/**
 * Mean-field Gaussian in the unconstrained space, one site at a time (Kucukelbir et al. 2017):
 * q(z) = Πᵢ N(uᵢ; μᵢ, σᵢ²) with z = T(u), T = bijectTo(support). Parameters per site s:
 * `auto_s_loc` and `auto_s_scale` (σ > 0), both of the unconstrained site shape.
 * @example
 * const guide = new AutoNormal(model);
 * const svi = new SVI(model, guide, adam(0.01), new TraceELBO());
 * const r = await svi.run(key(0), 5000, [data]);
 * const draws = guide.samplePosterior(key(1), r.params, 1000, data); // { site: [1000, ...site shape] }
 */
export class AutoNormal<A extends unknown[] = unknown[]> extends AutoGuide<A> {
  readonly guide = (...args: A): Record<string, Tensor> => {
    void args;
    const out: Record<string, Tensor> = {};
    for (const s of this.sites) {
      const loc = param(`${this.prefix}_${s.name}_loc`, s.init);
      const scale = param(`${this.prefix}_${s.name}_scale`, full(s.uncShape, this.initScale, s.init.dtype), { constraint: positive });
      const base = new Normal(loc, scale, { validateArgs: false }).toEvent(s.uncEventRank);
      out[s.name] = sample(s.name, new TransformedDistribution(base, [s.transform], { validateArgs: false }));
    }
    return out;
  };
}

/**
 * A point mass at the (constrained) value: fitting it with the ELBO is maximum a posteriori.
 * Parameters: `auto_s_loc` per site, constrained to the site's support.
 * @example const guide = new AutoDelta(model); // then SVI or fit as with AutoNormal
 */
export class AutoDelta<A extends unknown[] = unknown[]> extends AutoGuide<A> {
  readonly guide = (...args: A): Record<string, Tensor> => {
    void args;
    const out: Record<string, Tensor> = {};
    for (const s of this.sites) {
      const v = param(`${this.prefix}_${s.name}_loc`, s.transform.forward(s.init), { constraint: s.support });
      out[s.name] = sample(s.name, new Delta(v, { eventDim: s.eventShape.length, validateArgs: false }));
    }
    return out;
  };
}

/**
 * Guides over one vector z of all unconstrained latent coordinates: z is drawn as the guide-only
 * site `_auto_latent`, and each model site gets Delta(T(z_site)) with log density −log|det J_T|.
 * @example const guide = new AutoMultivariateNormal(model); guide.setup(key(0), y); guide.latentDim // d
 */
export abstract class AutoContinuous<A extends unknown[] = unknown[]> extends AutoGuide<A> {
  /** Total number of unconstrained coordinates. */
  get latentDim(): number {
    return this.sites.reduce((n, s) => n + sizeOf(s.uncShape), 0);
  }

  /** The initial latent vector (concatenated unconstrained site values). */
  protected initLatent(): Tensor {
    return concat(this.sites.map((s) => reshape(s.init, [sizeOf(s.uncShape)])), 0);
  }

  /** The distribution of the latent vector. */
  protected abstract latentDistribution(): Distribution;

  /** Maps a latent vector (with leading particle dims) to constrained site values and log densities. */
  unpack(latent: Tensor): Record<string, {
    /** The site's constrained value T(z_site), [...particles, ...site shape]. */
    value: Tensor;
    /** −log|det J_T(z_site)|, summed over the site's event (and unconstrained) axes. */
    logDensity: Tensor;
  }> {
    const lead = latent.shape.slice(0, -1);
    const out: Record<string, { value: Tensor; logDensity: Tensor }> = {};
    let off = 0;
    for (const s of this.sites) {
      const n = sizeOf(s.uncShape);
      const part = slice(latent, [...lead.map(() => 0), off], [...lead, n]);
      off += n;
      const b = s.batchShape.length;
      if (lead.length > 0 && lead.slice(1).some((d) => d !== 1)) throw new ShapeError(`${this.name}: unexpected particle shape [${lead.join(', ')}]`);
      // Leading particle dims, then ones for plate dims the site does not use, then its own shape.
      const keep = lead.length === 0 ? [] : lead.slice(0, Math.max(1, lead.length - b));
      const z = reshape(part, [...keep, ...s.uncShape]);
      const value = s.transform.forward(z);
      const ladj = s.transform.logAbsDetJacobian(z, value);
      const logDensity = neg(sumRightmost(ladj, ladj.shape.length - (keep.length + b)));
      out[s.name] = { value, logDensity };
    }
    return out;
  }

  readonly guide = (...args: A): Record<string, Tensor> => {
    void args;
    const latent = sample('_auto_latent', this.latentDistribution(), { infer: { guideOnly: true } });
    const out: Record<string, Tensor> = {};
    for (const [name, { value, logDensity }] of Object.entries(this.unpack(latent))) {
      const s = this.sites.find((x) => x.name === name) as LatentSite;
      out[name] = sample(name, new Delta(value, { logDensity, eventDim: s.eventShape.length, validateArgs: false }));
    }
    return out;
  };
}

/**
 * Full-rank Gaussian over all latent coordinates: q(z) = N(μ, L Lᵀ) with L = diag(σ)·T, a
 * positive scale σ per coordinate times a lower-Cholesky factor T (initially the identity). Row i
 * of T is relative to σᵢ, so an optimizer step moves every coordinate in units of its own scale
 * (as NumPyro's scaled unit-lower-Cholesky parameterization), which keeps badly scaled posteriors
 * from stalling. Cost O(d²) parameters for d latent coordinates.
 * @example const guide = new AutoMultivariateNormal(model, { initScale: 0.05 });
 */
export class AutoMultivariateNormal<A extends unknown[] = unknown[]> extends AutoContinuous<A> {
  protected latentDistribution(): Distribution {
    const d = this.latentDim;
    const init = this.initLatent();
    const loc = param(`${this.prefix}_loc`, init);
    const scale = param(`${this.prefix}_scale`, full([d], this.initScale, init.dtype), { constraint: positive });
    const tril = param(`${this.prefix}_scale_tril`, eye(d, init.dtype), { constraint: lowerCholesky });
    return new MultivariateNormal(loc, { scaleTril: mul(expandDims(scale, -1), tril) }, { validateArgs: false });
  }
}

/**
 * Gaussian with low-rank plus diagonal covariance: q(z) = N(μ, (σ∘W)(σ∘W)ᵀ + diag(σ²)), W [d, rank]
 * relative to the scales σ (W starts at zero, so q starts mean-field).
 * @example const guide = new AutoLowRankMultivariateNormal(model, { rank: 5 });
 */
export class AutoLowRankMultivariateNormal<A extends unknown[] = unknown[]> extends AutoContinuous<A> {
  /** The rank of W; null means round(√d) (at least 1) when the guide is built. */
  readonly rank: number | null;
  constructor(model: (...args: A) => unknown, opts: AutoGuideOptions & { rank?: number } = {}) {
    super(model, opts);
    this.rank = opts.rank ?? null;
  }
  protected latentDistribution(): Distribution {
    const d = this.latentDim;
    const r = this.rank ?? Math.max(1, Math.round(Math.sqrt(d)));
    const init = this.initLatent();
    const loc = param(`${this.prefix}_loc`, init);
    const w = param(`${this.prefix}_cov_factor`, zeros([d, r], init.dtype));
    const dg = param(`${this.prefix}_scale`, full([d], this.initScale, init.dtype), { constraint: positive });
    // The factor is relative to the scale (row i of W times σᵢ), as NumPyro does: a step of
    // Adam on W then moves each coordinate in units of its own scale, which keeps badly scaled
    // posteriors from diverging.
    return new LowRankMultivariateNormal(loc, mul(w, expandDims(dg, -1)), mul(dg, dg), { validateArgs: false });
  }
}

/**
 * The latent vector as a point mass while fitting (MAP); afterwards `posterior` is the Laplace
 * approximation N(ẑ, H⁻¹), H the Hessian of −log p(T(z), x) − log|det J_T(z)| at the MAP ẑ
 * (by central differences of the autodiff gradient).
 * @example
 * const guide = new AutoLaplaceApproximation(model);
 * const r = await new SVI(model, guide, adam(0.05), new TraceELBO()).run(key(0), 2000, [data]);
 * const q = guide.posterior(r.params, data); // MultivariateNormal over the unconstrained latents
 */
export class AutoLaplaceApproximation<A extends unknown[] = unknown[]> extends AutoContinuous<A> {
  protected latentDistribution(): Distribution {
    const loc = param(`${this.prefix}_loc`, this.initLatent());
    return new Delta(loc, { eventDim: 1, validateArgs: false });
  }

  /** −log density of the model in the unconstrained latent coordinates z (a scalar). */
  negLogDensity(z: Tensor, ...args: A): Tensor {
    const parts = this.unpack(z);
    const values: Record<string, Tensor> = {};
    let jac: Tensor | null = null;
    for (const [name, { value, logDensity }] of Object.entries(parts)) {
      values[name] = value;
      const l = sum(logDensity);
      jac = jac === null ? l : add(jac, l);
    }
    const lp = traceLogProb(trace(substitute(this.model, values)).getTrace(...args));
    // logDensity is −log|det J|, so log p(z) = log p(T(z)) − Σ logDensity.
    return neg(jac === null ? lp : sub(lp, jac));
  }

  /** The Hessian of `negLogDensity` at z. */
  hessian(z: Tensor, ...args: A): Tensor {
    const d = z.shape[0];
    const g = grad((u: Tensor) => this.negLogDensity(u, ...args));
    const zd = z.dataSync();
    const rows: number[][] = [];
    for (let i = 0; i < d; i++) {
      const h = 1e-5 * (1 + Math.abs(zd[i]));
      const plus = Float64Array.from(zd);
      const minus = Float64Array.from(zd);
      plus[i] += h;
      minus[i] -= h;
      const gp = g(tensor(plus, [d], z.dtype)).dataSync();
      const gm = g(tensor(minus, [d], z.dtype)).dataSync();
      rows.push(Array.from({ length: d }, (_, j) => (gp[j] - gm[j]) / (2 * h)));
    }
    const sym = rows.map((r, i) => r.map((v, j) => 0.5 * (v + rows[j][i])));
    return tensor(sym, [d, d], z.dtype);
  }

  /** The Laplace approximation over the latent vector, given the fitted params. */
  posterior(params: Record<string, Tensor>, ...args: A): MultivariateNormal {
    const loc = params[`${this.prefix}_loc`];
    if (loc === undefined) throw new ValueError(`${this.name}.posterior: params lack '${this.prefix}_loc'; pass SVI's getParams(state)`);
    const h = this.hessian(loc, ...args);
    try {
      return new MultivariateNormal(loc, { precision: h }, { validateArgs: true });
    } catch (e) {
      throw new NotPositiveDefiniteError(`${this.name}.posterior: the Hessian at the MAP is not positive definite (${(e as Error).message}); the mode may be a saddle or on a boundary`);
    }
  }

  override samplePosterior(key: Key, params: Record<string, Tensor>, n: number, ...args: A): Record<string, Tensor> {
    const z = this.posterior(params, ...args).sample(key, [n]);
    const out: Record<string, Tensor> = {};
    for (const [name, { value }] of Object.entries(this.unpack(z))) {
      const s = this.sites.find((x) => x.name === name) as LatentSite;
      out[name] = reshape(value, [n, ...s.batchShape, ...s.eventShape]);
    }
    return out;
  }
}

