/**
 * `FactorGraph`: builds a conjugate-exponential model node by node and runs variational message
 * passing on it (Winn & Bishop 2005). Each builder method adds one node — a latent variable with
 * its conditional density (the "prior" factor), or observed data with theirs — and checks at once
 * that each parent is conjugate (else a NonConjugateError naming both nodes), that shapes fit
 * (ShapeError) and that data are finite and in support (ValueError).
 */
import { ValueError } from '../../core/errors.js';
import { type LinearGaussianParams, type VectorGaussianParams, addLinearGaussian, addVectorGaussian, addWishart } from './build-multivariate.js';
import {
  type CategoricalGateParams,
  type CategoricalParams,
  type GaussianGateParams,
  type GaussianMixtureParams,
  type GaussianWishartParams,
  type MarkovChainParams,
  addCategorical,
  addCategoricalGate,
  addDirichlet,
  addGaussianGate,
  addGaussianMixture,
  addGaussianWishart,
  addMarkovChain,
} from './build-mixture.js';
import type { CategoricalVariable } from './categorical.js';
import type { DirichletVariable } from './dirichlet.js';
import type { GaussianWishartVariable } from './gaussian-wishart.js';
import type { MarkovChainVariable } from './markov-chain.js';
import { GammaPriorFactor } from './gamma-factor.js';
import { GammaVariable } from './gamma.js';
import { GaussianFactor } from './gaussian-factor.js';
import { GaussianVariable } from './gaussian.js';
import type { Param, VmpFactor, VmpVariable } from './node.js';
import { BetaVariable } from './beta.js';
import { BernoulliFactor, BetaPriorFactor } from './beta-factors.js';
import { PoissonFactor } from './poisson-factor.js';
import { type FactorAnalysisParams, addFactorAnalysis } from './build-factor-analysis.js';
import { constants, observed, scalarParam } from './params.js';
import { type VmpOptions, type VmpResult, runVmp } from './run.js';
import type { VectorGaussianVariable } from './vector-gaussian.js';
import type { WishartVariable } from './wishart.js';

/** Options shared by the latent builders. */
export interface VmpPlateOptions {
  /** Plate size: how many i.i.d. copies (default 1). */
  size?: number;
}

/** Parameters of `FactorGraph.gaussian`. */
export interface GaussianParams extends VmpPlateOptions {
  /** A constant (one, or one per element) or a Gaussian variable. */
  mean: Param<GaussianVariable>;
  /** A positive constant or a Gamma variable; or give `variance`. */
  precision?: Param<GammaVariable>;
  /** A positive constant variance, instead of `precision`. */
  variance?: number | ArrayLike<number>;
  /** Observed data (the plate size is their length). */
  observed?: ArrayLike<number>;
}

/** A factor graph of conjugate-exponential nodes, solved by VMP. */
export class FactorGraph {
  /** Latent variables in declaration order. */
  readonly variables: VmpVariable[] = [];
  /** Every factor (priors and observations) in declaration order. */
  readonly factors: VmpFactor[] = [];
  private readonly names = new Set<string>();
  private readonly members = new Set<VmpVariable>();

  /** @internal Checks that a node name is free (it is taken when the node is added, so a failed builder leaves nothing behind). */
  claim(name: string): number {
    if (typeof name !== 'string' || name.length === 0) throw new ValueError(`vmp: a node needs a non-empty name, got ${String(name)}`);
    if (this.names.has(name)) throw new ValueError(`vmp: the graph already has a node named '${name}'`);
    return this.variables.length;
  }

  /** @internal Adds a latent variable with its prior factor. */
  addLatent<V extends VmpVariable>(v: V, prior: VmpFactor): V {
    this.checkMembers(prior, v);
    this.variables.push(v);
    this.members.add(v);
    this.addFactor(prior);
    return v;
  }

  /** Every variable a factor touches must be a node of this graph (or the one being added). */
  private checkMembers(f: VmpFactor, adding?: VmpVariable): void {
    for (const v of f.variables)
      if (v !== adding && !this.members.has(v))
        throw new ValueError(`vmp: '${f.name}' uses ${v.family} variable '${v.name}', which belongs to another factor graph; build every node of a model on one graph`);
  }

  /** @internal Adds a factor and links it to the variables it touches. */
  addFactor(f: VmpFactor): void {
    this.checkMembers(f);
    this.names.add(f.name);
    this.factors.push(f);
    for (const v of f.variables) v.factors.push(f);
  }

  /**
   * A latent Gaussian x ~ N(mean, 1/precision) over a plate, or observed data with that density
   * when `observed` is given (its length is the plate size). `mean` is a constant or a Gaussian
   * variable; `precision` a positive constant or a Gamma variable (or give `variance`, constant).
   * @example const mu = g.gaussian('mu', { mean: 0, variance: 100 })
   */
  gaussian(name: string, p: GaussianParams & { observed: ArrayLike<number> }): null;
  gaussian(name: string, p: GaussianParams & { observed?: undefined }): GaussianVariable;
  gaussian(name: string, p: GaussianParams): GaussianVariable | null {
    const index = this.claim(name);
    const data = p.observed !== undefined ? observed(name, p.observed, 'real') : null;
    const size = data ? data.length : plateSize(name, p.size);
    if (data && p.size !== undefined && p.size !== size) throw new ValueError(`vmp: '${name}' has size ${p.size} but ${size} observations`);
    const mu = scalarParam(name, 'mean', p.mean, size, 'real', GaussianVariable, 'a Gaussian variable');
    let prec: Param<GammaVariable>;
    if (p.variance !== undefined) {
      if (p.precision !== undefined) throw new ValueError(`vmp: give '${name}' a precision or a variance, not both`);
      prec = Array.from(constants(name, 'variance', p.variance, 1, typeof p.variance === 'number' ? 1 : p.variance.length, 'positive'), (v) => 1 / v);
    } else if (p.precision !== undefined) prec = p.precision;
    else throw new ValueError(`vmp: '${name}' needs a precision or a variance`);
    const tau = scalarParam(name, 'precision', prec, size, 'positive', GammaVariable, 'a Gamma variable');
    if (data) {
      this.addFactor(new GaussianFactor(name, data, mu, tau));
      return null;
    }
    const x = new GaussianVariable(name, size, index);
    return this.addLatent(x, new GaussianFactor(name, x, mu, tau));
  }

  /**
   * A latent Gamma(shape, rate) over a plate, with constant shape and rate (give `scale` = 1/rate
   * instead if you prefer, as Infer.NET does).
   * @example const tau = g.gamma('tau', { shape: 1, scale: 1 })
   */
  gamma(name: string, p: { shape: number | ArrayLike<number>; rate?: number | ArrayLike<number>; scale?: number | ArrayLike<number> } & VmpPlateOptions): GammaVariable {
    const index = this.claim(name);
    const size = plateSize(name, p.size);
    const a0 = constants(name, 'shape', p.shape, size, 1, 'positive');
    let b0: Float64Array;
    if (p.scale !== undefined) {
      if (p.rate !== undefined) throw new ValueError(`vmp: give '${name}' a rate or a scale, not both`);
      b0 = constants(name, 'scale', p.scale, size, 1, 'positive').map((s) => 1 / s);
    } else b0 = constants(name, 'rate', p.rate ?? 1, size, 1, 'positive');
    const t = new GammaVariable(name, size, index);
    return this.addLatent(t, new GammaPriorFactor(name, t, a0, b0));
  }

  /**
   * A latent D-dimensional Gaussian x ~ N(mean, (s·precision)⁻¹) over a plate, or observed rows
   * with that density (returns null then). The mean is a constant vector or a vector-Gaussian
   * variable; the precision a constant matrix (optionally scaled by a Gamma variable s) or a
   * Wishart variable.
   * @example const w = g.vectorGaussian('w', { mean: [0, 0], precision: [1, 0, 0, 1], precisionScale: tau })
   */
  vectorGaussian(name: string, p: VectorGaussianParams & { observed: NonNullable<VectorGaussianParams['observed']> }): null;
  vectorGaussian(name: string, p: VectorGaussianParams & { observed?: undefined }): VectorGaussianVariable;
  vectorGaussian(name: string, p: VectorGaussianParams): VectorGaussianVariable | null {
    return addVectorGaussian(this, name, p);
  }

  /**
   * A latent Wishart(dof, W) over D × D precision matrices, given W⁻¹ (`scaleInverse`, row-major);
   * E[Λ] = dof · W.
   * @example const lam = g.wishart('lam', { dof: 3, scaleInverse: [1, 0, 0, 1] })
   */
  wishart(name: string, p: { dof: number; scaleInverse: ArrayLike<number>; size?: number }): WishartVariable {
    return addWishart(this, name, p);
  }

  /**
   * Observed responses y ~ N(X w, 1/τ) of a linear regression on a constant design X (N × D).
   * @example g.linearGaussian('y', { design: X, weights: w, precision: tau, observed: y })
   */
  linearGaussian(name: string, p: LinearGaussianParams): void {
    addLinearGaussian(this, name, p);
  }

  /**
   * A latent Dirichlet(concentration) over K categories (constant concentration, K numbers shared
   * by the plate, or size × K with `k`).
   * @example const pi = g.dirichlet('pi', { concentration: [1, 1, 1] })
   */
  dirichlet(name: string, p: { concentration: ArrayLike<number>; k?: number; size?: number }): DirichletVariable {
    return addDirichlet(this, name, p);
  }

  /**
   * A latent categorical z ~ Categorical(probs) over a plate (a mixture's selector), or observed
   * categories (returns null then). `probs` is a constant vector or a Dirichlet variable; `init`
   * sets the first q (labels or probabilities), without which symmetric mixtures cannot break ties.
   * @example const z = g.categorical('z', { probs: pi, size: n, init: labels })
   */
  categorical(name: string, p: CategoricalParams & { observed: ArrayLike<number> }): null;
  categorical(name: string, p: CategoricalParams & { observed?: undefined }): CategoricalVariable;
  categorical(name: string, p: CategoricalParams): CategoricalVariable | null {
    return addCategorical(this, name, p);
  }

  /**
   * Latent Gaussian–Wishart (μ, Λ) pairs over a plate — a mixture's components: μ | Λ ~ N(mean,
   * (meanPrecision·Λ)⁻¹), Λ ~ Wishart(dof, scaleInverse⁻¹); with `diag`, per-dimension Gaussian–Gamma.
   * @example const th = g.gaussianWishart('theta', { mean: [0, 0], meanPrecision: 1, dof: 2, scaleInverse: [1, 0, 0, 1], size: 3 })
   */
  gaussianWishart(name: string, p: GaussianWishartParams): GaussianWishartVariable {
    return addGaussianWishart(this, name, p);
  }

  /**
   * Observed rows from a mixture: x_n ~ N(μ_{z_n}, Λ_{z_n}⁻¹), the categorical selector z gating
   * the Gaussian–Wishart components.
   * @example g.gaussianMixture('x', { selector: z, components: th, observed: rows })
   */
  gaussianMixture(name: string, p: GaussianMixtureParams): void {
    addGaussianMixture(this, name, p);
  }

  /**
   * A latent Beta(a, b) over a plate, with constant a and b.
   * @example const p = g.beta('p', { a: 1, b: 1 })
   */
  beta(name: string, p: { a: number | ArrayLike<number>; b: number | ArrayLike<number> } & VmpPlateOptions): BetaVariable {
    const index = this.claim(name);
    const size = plateSize(name, p.size);
    const v = new BetaVariable(name, size, index);
    return this.addLatent(v, new BetaPriorFactor(name, v, constants(name, 'a', p.a, size, 1, 'positive'), constants(name, 'b', p.b, size, 1, 'positive')));
  }

  /**
   * Observed outcomes x ∈ {0, 1} ~ Bernoulli(p), p a constant in (0, 1) or a Beta variable (plate 1 or N).
   * @example g.bernoulli('flips', { p, observed: [1, 0, 1, 1] })
   */
  bernoulli(name: string, p: { p: Param<BetaVariable>; observed: ArrayLike<number> }): void {
    this.claim(name);
    const x = observed(name, p.observed, 'binary');
    const q = scalarParam(name, 'p', p.p, x.length, 'unit', BetaVariable, 'a Beta variable');
    this.addFactor(new BernoulliFactor(name, x, q.v ?? q.c));
  }

  /**
   * Observed counts x ~ Poisson(rate), the rate a positive constant or a Gamma variable (plate 1 or N).
   * @example g.poisson('counts', { rate: lam, observed: [3, 1, 4] })
   */
  poisson(name: string, p: { rate: Param<GammaVariable>; observed: ArrayLike<number> }): void {
    this.claim(name);
    const x = observed(name, p.observed, 'count');
    this.addFactor(new PoissonFactor(name, x, scalarParam(name, 'rate', p.rate, x.length, 'positive', GammaVariable, 'a Gamma variable')));
  }

  /**
   * Observed rows x_n ~ N(W z_n + b, σ² I) with constant loadings W (D × k), bias b and noise
   * variance σ², and latent coordinates z_nj (k Gaussian variables, each over the plate of rows):
   * the observation node of factor analysis and probabilistic PCA.
   * @example const z = [0, 1].map((j) => g.gaussian(`z${j}`, { mean: 0, variance: 1, size: n })); g.factorAnalysis('x', { loadings: w, bias: b, noiseVariance: 0.5, factors: z, observed: x })
   */
  factorAnalysis(name: string, p: FactorAnalysisParams): void {
    addFactorAnalysis(this, name, p);
  }

  /**
   * Observed values from a gated mixture of univariate Gaussians: x_n ~ N(μ_{z_n}, 1/τ_{z_n}),
   * the selector a categorical variable (or observed labels), means constants or a Gaussian
   * variable of plate K, precisions constants or a Gamma variable of plate K.
   * @example g.gaussianGate('x', { selector: z, mean: mu, precision: tau, observed: x })
   */
  gaussianGate(name: string, p: GaussianGateParams): void {
    addGaussianGate(this, name, p);
  }

  /**
   * Observed categories from a gated mixture of categoricals: x_n ~ Categorical(β_{z_n}), the
   * selector a categorical variable (or observed labels), β a Dirichlet variable of plate K.
   * @example g.categoricalGate('words', { selector: z, probs: beta, observed: words })
   */
  categoricalGate(name: string, p: CategoricalGateParams): void {
    addCategoricalGate(this, name, p);
  }

  /**
   * A latent Markov chain of K hidden states over sequences laid end to end, with a Dirichlet start
   * distribution and Dirichlet transition rows; q(z) stays structured (forward–backward). Use it
   * as the selector of a gate for the emissions: a variational Bayesian HMM.
   * @example const z = g.markovChain('z', { start: pi, transition: a, lengths: [T], init: labels })
   */
  markovChain(name: string, p: MarkovChainParams): MarkovChainVariable {
    return addMarkovChain(this, name, p);
  }

  /**
   * Runs VMP: gives each variable not yet set a first q (from its prior and from the factors all
   * of whose other variables the user initialized), then sweeps the schedule until the ELBO
   * changes by less than `tol` (relative) or `maxSweeps` is spent; see `VmpOptions`.
   * @example const res = g.run({ maxSweeps: 100 }); res.converged
   */
  run(opts: VmpOptions = {}): VmpResult {
    return runVmp(this.variables, this.factors, opts);
  }
}

/** @internal Checks a plate size option. */
export function plateSize(name: string, size: number | undefined): number {
  const s = size ?? 1;
  if (!(Number.isInteger(s) && s >= 1)) throw new ValueError(`vmp: the plate size of '${name}' must be a positive integer, got ${s}`);
  return s;
}
